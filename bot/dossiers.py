"""Dossiers (hồ sơ): what the one-stop system knows, who may hear it, and how each status is said.

The store keeps the dossiers staff import from the one-stop system's exports
(format and import rules in :mod:`bot.dossier_import`) in the same database as
the knowledge base, in its own tables. This module is the one place that words
a dossier status for citizens: every reply names the system the status comes
from and when it was last updated, masks the applicant's name, and never calls
an extended or paused dossier done.

Ownership: a status is told only after the citizen gives the last 4 digits of
the phone (or ID number) registered with the dossier. An unknown code and a
wrong check get the same reply. Failed checks are counted per code and per
conversation in the database (several workers share them); 5 failures lock the
code, or the conversation, for 15 minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from bot.database import open_database, utc_now
from bot.dossier_codes import parse_check_digits, parse_code_and_check
from bot.settings import LOCAL_TIME

MAX_FAILURES = 5
LOCK_DURATION = timedelta(minutes=15)
# Failed checks older than this no longer count towards a lock.
FAILURE_WINDOW = timedelta(hours=24)

EXAMPLE_CODE = "000.00.21.H48-231005-0012"
UNKNOWN_AGENCY = "000.00.00.H00"  # no one-stop agency has this code


class Status(StrEnum):
    REGISTERED = "registered"
    RECEIVED = "received"
    PROCESSING = "processing"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    PAYMENT_REQUESTED = "payment_requested"
    PAUSED = "paused"
    EXTENDED = "extended"
    RESULT_READY = "result_ready"
    DELIVERED = "delivered"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"
    # Never stored: a dossier the agency still holds after its due date.
    OVERDUE = "overdue"


STATUS_NAMES: dict[Status, str] = {
    Status.REGISTERED: "Mới đăng ký",
    Status.RECEIVED: "Mới tiếp nhận",
    Status.PROCESSING: "Đang xử lý",
    Status.SUPPLEMENT_REQUESTED: "Chờ bổ sung",
    Status.PAYMENT_REQUESTED: "Chờ thực hiện nghĩa vụ tài chính",
    Status.PAUSED: "Tạm dừng",
    Status.EXTENDED: "Gia hạn",
    Status.RESULT_READY: "Đã có kết quả, chờ trả",
    Status.DELIVERED: "Đã trả kết quả",
    Status.RETURNED: "Trả lại, không giải quyết",
    Status.WITHDRAWN: "Đã rút hồ sơ",
    Status.OVERDUE: "Trễ hạn",
}

# The national portal's status codes (TrangThaiHoSo, ../shared/data/dossier_status_vocab.json).
NATIONAL_STATUS: dict[int, Status] = {
    1: Status.REGISTERED,  # Mới đăng ký
    2: Status.RECEIVED,  # Được tiếp nhận
    3: Status.RETURNED,  # Không được tiếp nhận
    4: Status.PROCESSING,  # Đang xử lý
    5: Status.SUPPLEMENT_REQUESTED,  # Yêu cầu bổ sung giấy tờ
    6: Status.PAYMENT_REQUESTED,  # Yêu cầu thực hiện nghĩa vụ tài chính
    7: Status.WITHDRAWN,  # Công dân yêu cầu rút hồ sơ
    8: Status.PAUSED,  # Dừng xử lý
    9: Status.RESULT_READY,  # Đã xử lý xong
    10: Status.DELIVERED,  # Đã trả kết quả
}

# While the agency holds the dossier its due date runs; waiting on the citizen or a pause stops it.
_DEADLINE_RUNS = frozenset({Status.RECEIVED, Status.PROCESSING, Status.EXTENDED})


class Channel(StrEnum):
    ONLINE = "online"
    COUNTER = "counter"
    POST = "post"
    PHONE = "phone"


class Delivery(StrEnum):
    PICKUP = "pickup"
    POST = "post"


@dataclass(frozen=True)
class StatusEvent:
    at: datetime
    status: Status
    system: str  # the system the status comes from
    note: str = ""


@dataclass(frozen=True)
class Extension:
    new_due_at: datetime
    apology_letter: str = ""


@dataclass(frozen=True)
class Result:
    delivery: Delivery
    place: str  # where to pick it up, or the postal address


@dataclass
class Dossier:
    code: str
    procedure_code: str
    procedure_name: str
    applicant_name: str
    phone: str
    channel: Channel
    received_at: datetime
    due_at: datetime  # statutory due date
    history: list[StatusEvent]  # oldest first, never empty
    id_number: str = ""
    supplement_request: str = ""
    pause_reason: str = ""
    extension: Extension | None = None
    result: Result | None = None
    returned_reason: str = ""

    @property
    def last_event(self) -> StatusEvent:
        return self.history[-1]

    @property
    def status(self) -> Status:
        return self.last_event.status

    @property
    def effective_due_at(self) -> datetime:
        return self.extension.new_due_at if self.extension else self.due_at

    def state(self, now: datetime) -> Status:
        """The status as of ``now``: a dossier still held after its due date is overdue."""
        if self.status in _DEADLINE_RUNS and now > self.effective_due_at:
            return Status.OVERDUE
        return self.status

    def owned_by(self, check: str) -> bool:
        """Whether ``check`` is the last 4 digits of the registered phone or ID number."""
        matches = [hmac.compare_digest(last4, check) for last4 in (_last4(self.phone), _last4(self.id_number))]
        return any(matches)

    def to_dict(self) -> dict[str, Any]:
        """The JSON import format (see :mod:`bot.dossier_import`)."""
        return {
            "code": self.code,
            "procedure_code": self.procedure_code,
            "procedure_name": self.procedure_name,
            "applicant_name": self.applicant_name,
            "phone": self.phone,
            "id_number": self.id_number,
            "channel": self.channel.value,
            "received_at": self.received_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "history": [
                {"at": e.at.isoformat(), "status": e.status.value, "system": e.system, "note": e.note}
                for e in self.history
            ],
            "supplement_request": self.supplement_request,
            "pause_reason": self.pause_reason,
            "extension": (
                {"new_due_at": self.extension.new_due_at.isoformat(), "apology_letter": self.extension.apology_letter}
                if self.extension
                else None
            ),
            "result": {"delivery": self.result.delivery.value, "place": self.result.place} if self.result else None,
            "returned_reason": self.returned_reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Dossier:
        """A dossier from :meth:`to_dict`'s output (canonical values; the importer normalises exports)."""
        extension, result = data.get("extension"), data.get("result")
        return cls(
            code=data["code"],
            procedure_code=data["procedure_code"],
            procedure_name=data["procedure_name"],
            applicant_name=data["applicant_name"],
            phone=data["phone"],
            id_number=data.get("id_number", ""),
            channel=Channel(data["channel"]),
            received_at=datetime.fromisoformat(data["received_at"]),
            due_at=datetime.fromisoformat(data["due_at"]),
            history=sorted(
                (
                    StatusEvent(datetime.fromisoformat(e["at"]), Status(e["status"]), e["system"], e.get("note", ""))
                    for e in data["history"]
                ),
                key=lambda e: e.at,
            ),
            supplement_request=data.get("supplement_request", ""),
            pause_reason=data.get("pause_reason", ""),
            extension=(
                Extension(datetime.fromisoformat(extension["new_due_at"]), extension.get("apology_letter", ""))
                if extension
                else None
            ),
            result=Result(Delivery(result["delivery"]), result["place"]) if result else None,
            returned_reason=data.get("returned_reason", ""),
        )


def _last4(number: str) -> str:
    digits = "".join(ch for ch in number if ch.isdigit())
    return digits[-4:] if len(digits) >= 4 else "----"  # never equal to 4 digits


def merge(stored: Dossier, incoming: Dossier) -> Dossier:
    """A newer export of a stored dossier: its values win, but nothing stored is lost.

    Status history is the union of both; a value the export leaves empty keeps
    the stored one.
    """
    events = {(e.at, e.status): e for e in stored.history}
    events.update({(e.at, e.status): e for e in incoming.history})
    kept = {
        name: getattr(stored, name)
        for name in ("id_number", "supplement_request", "pause_reason", "extension", "result", "returned_reason")
        if not getattr(incoming, name)
    }
    return replace(incoming, history=sorted(events.values(), key=lambda e: e.at), **kept)


# ---- wording ---------------------------------------------------------------------


def mask_name(name: str) -> str:
    """'Nguyễn Văn An' → 'Nguyễn V. A.': enough to recognise one's own dossier."""
    parts = name.split()
    if not parts:
        return "(không rõ)"
    if len(parts) == 1:
        return parts[0][0] + "."
    return " ".join([parts[0], *(p[0] + "." for p in parts[1:])])


def _day(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TIME).strftime("%d/%m/%Y")


def _time(moment: datetime) -> str:
    local = moment.astimezone(LOCAL_TIME)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _state_text(d: Dossier, state: Status, now: datetime, helpdesk: str) -> str:
    ask = f"Bạn vui lòng liên hệ {helpdesk}"
    match state:
        case Status.REGISTERED:
            return f"đã được gửi ngày {_day(d.received_at)}, đang chờ cán bộ kiểm tra và tiếp nhận."
        case Status.RECEIVED:
            return f"đã được tiếp nhận ngày {_day(d.received_at)}, hẹn trả kết quả ngày {_day(d.effective_due_at)}."
        case Status.PROCESSING:
            return f"đang được xử lý, hẹn trả kết quả ngày {_day(d.effective_due_at)}."
        case Status.SUPPLEMENT_REQUESTED:
            if d.supplement_request:
                return (
                    f"đang chờ bạn bổ sung giấy tờ: {_sentence(d.supplement_request)} "
                    "Hồ sơ được xử lý tiếp khi bạn bổ sung đủ."
                )
            return f"đang chờ bạn bổ sung giấy tờ. {ask} để biết cần bổ sung gì."
        case Status.PAYMENT_REQUESTED:
            detail = f" {_sentence(d.last_event.note)}" if d.last_event.note else ""
            return (
                f"đang chờ bạn thực hiện nghĩa vụ tài chính (nộp thuế, phí, lệ phí).{detail} "
                "Hồ sơ được xử lý tiếp sau khi bạn nộp."
            )
        case Status.PAUSED:
            reason = f"Lý do: {_sentence(d.pause_reason)}" if d.pause_reason else f"{ask} để biết lý do."
            return f"đang tạm dừng xử lý, chưa có kết quả. {reason}"
        case Status.EXTENDED:
            new_due = _day(d.effective_due_at)
            letter = d.extension.apology_letter if d.extension else ""
            apology = f"Thư xin lỗi của cơ quan giải quyết: “{letter.strip()}”" if letter else "Thành thật xin lỗi bạn."
            return (
                f"được gia hạn thời gian xử lý, chưa có kết quả. Ngày hẹn trả mới: {new_due} "
                f"(hẹn ban đầu: {_day(d.due_at)}). {apology}"
            )
        case Status.RESULT_READY:
            if d.result and d.result.delivery is Delivery.POST:
                return f"đã có kết quả, đang chờ trả; kết quả sẽ được gửi qua bưu chính đến {_sentence(d.result.place)}"
            if d.result:
                return f"đã có kết quả, đang chờ trả. Bạn nhận kết quả tại {_sentence(d.result.place)}"
            return f"đã có kết quả, đang chờ trả. {ask} để biết nơi nhận."
        case Status.DELIVERED:
            return f"đã trả kết quả ngày {_day(d.last_event.at)}."
        case Status.RETURNED:
            reason = f"Lý do: {_sentence(d.returned_reason)}" if d.returned_reason else f"{ask} để biết lý do."
            return f"đã bị trả lại, không được giải quyết. {reason}"
        case Status.WITHDRAWN:
            return f"đã được rút theo yêu cầu của người nộp ngày {_day(d.last_event.at)}."
        case Status.OVERDUE:
            late = (now.astimezone(LOCAL_TIME).date() - d.effective_due_at.astimezone(LOCAL_TIME).date()).days
            by = f" {late} ngày" if late > 0 else ""
            return (
                f"đang được xử lý và đã quá hạn trả kết quả{by} (hẹn ngày {_day(d.effective_due_at)}), "
                f"chưa có kết quả. Thành thật xin lỗi bạn vì sự chậm trễ này. {ask} để được hỗ trợ."
            )
    raise ValueError(state)


def status_text(dossier: Dossier, now: datetime, helpdesk: str) -> str:
    """The citizen's reply for a verified dossier: status, where it comes from, when it was updated."""
    event = dossier.last_event
    masked = mask_name(dossier.applicant_name)
    state = _state_text(dossier, dossier.state(now), now, helpdesk)
    if dossier.applicant_name.strip():  # staff's free text (reasons, letters) may name the applicant
        state = re.sub(re.escape(dossier.applicant_name.strip()), masked, state, flags=re.IGNORECASE)
    return (
        f"Hồ sơ {dossier.code} ({dossier.procedure_name}), người nộp {masked}: {state}\n"
        f"Nguồn: {event.system}, cập nhật lúc {_time(event.at)}."
    )


def invalid_code_text() -> str:
    return (
        "Tôi chưa nhận ra mã hồ sơ. Mã hồ sơ in trên giấy tiếp nhận và hẹn trả kết quả, "
        f"có dạng {EXAMPLE_CODE}. Bạn vui lòng nhập lại mã hồ sơ."
    )


def invalid_check_text() -> str:
    return (
        "Để bảo vệ thông tin hồ sơ, bạn vui lòng cho biết 4 số cuối của số điện thoại "
        "(hoặc của số căn cước) đã đăng ký khi nộp hồ sơ."
    )


def not_verified_text(attempts_left: int) -> str:
    return (
        "Không tìm thấy hồ sơ khớp với mã hồ sơ và 4 số cuối bạn cung cấp. Bạn vui lòng kiểm tra lại mã trên "
        "giấy tiếp nhận và 4 số cuối của số điện thoại (hoặc số căn cước) đã đăng ký. "
        f"Bạn còn {attempts_left} lần thử."
    )


def locked_text(seconds_left: float, helpdesk: str) -> str:
    minutes = max(1, math.ceil(seconds_left / 60))
    return (
        "Để bảo vệ thông tin hồ sơ, việc tra cứu tạm khóa do thông tin xác minh chưa khớp nhiều lần. "
        f"Bạn vui lòng thử lại sau {minutes} phút hoặc liên hệ {helpdesk} để được hỗ trợ."
    )


# ---- the store ---------------------------------------------------------------------

metadata = sa.MetaData()

dossiers_table = sa.Table(
    "dossiers",
    metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("procedure_code", sa.String(64), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
)

# Failed ownership checks per key ("code:…", "conversation:…"); times in epoch seconds.
check_guard_table = sa.Table(
    "dossier_check_guard",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("window_start", sa.Float, nullable=False),
    sa.Column("locked_until", sa.Float, nullable=False),
)


@dataclass(frozen=True)
class UpsertCounts:
    created: int
    updated: int


class DossierStore:
    def __init__(self, database_url: str, clock: Callable[[], datetime] = utc_now) -> None:
        self.engine = open_database(database_url, metadata)
        self.now = clock

    # ---- dossiers -------------------------------------------------------

    def upsert(self, dossiers: Iterable[Dossier]) -> UpsertCounts:
        """Insert new dossiers and merge known ones (see :func:`merge`), in one transaction."""
        incoming = list(dossiers)
        created = updated = 0
        with self.engine.begin() as conn:
            stored = self._read(conn, [d.code for d in incoming])
            for dossier in incoming:
                previous = stored.get(dossier.code)
                if previous is not None:
                    dossier = merge(previous, dossier)
                row = {
                    "code": dossier.code,
                    "procedure_code": dossier.procedure_code,
                    "status": dossier.status.value,
                    "data": dossier.to_dict(),
                    "imported_at": self.now(),
                }
                if previous is None:
                    conn.execute(dossiers_table.insert(), row)
                    created += 1
                else:
                    conn.execute(dossiers_table.update().where(dossiers_table.c.code == dossier.code), row)
                    updated += 1
                stored[dossier.code] = dossier
        return UpsertCounts(created, updated)

    @staticmethod
    def _read(conn: sa.Connection, codes: list[str]) -> dict[str, Dossier]:
        found: dict[str, Dossier] = {}
        for start in range(0, len(codes), 500):
            query = sa.select(dossiers_table.c.data).where(dossiers_table.c.code.in_(codes[start : start + 500]))
            for (data,) in conn.execute(query):
                found[data["code"]] = Dossier.from_dict(data)
        return found

    def get(self, code: str) -> Dossier | None:
        with self.engine.connect() as conn:
            return self._read(conn, [code]).get(code)

    def codes_received(self, reception: str) -> list[str]:
        """The codes whose date and sequence part is ``reception`` ('261122-0031'), one per agency."""
        if not re.fullmatch(r"\d{6}-\d{4}", reception):
            return []
        query = sa.select(dossiers_table.c.code).where(dossiers_table.c.code.endswith("-" + reception))
        with self.engine.connect() as conn:
            return sorted(code for (code,) in conn.execute(query))

    def existing(self, codes: Iterable[str]) -> set[str]:
        with self.engine.connect() as conn:
            return set(self._read(conn, list(codes)))

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(dossiers_table)).scalar_one()

    # ---- failed ownership checks -------------------------------------------

    def seconds_locked(self, keys: list[str]) -> float:
        """How long the longest lock among ``keys`` still lasts (0 when none is locked)."""
        table = check_guard_table
        with self.engine.connect() as conn:
            until = conn.execute(sa.select(sa.func.max(table.c.locked_until)).where(table.c.key.in_(keys))).scalar()
        return max(0.0, (until or 0.0) - self.now().timestamp())

    def record_failure(self, keys: list[str]) -> int:
        """Count one failed check against each key; returns the fewest attempts left (0: now locked)."""
        for _ in range(3):
            try:
                with self.engine.begin() as conn:
                    return min(self._count_failure(conn, key, self.now().timestamp()) for key in keys)
            except sa.exc.IntegrityError:  # another worker created the same key first: count again
                continue
        raise RuntimeError("could not record a failed dossier check")

    @staticmethod
    def _count_failure(conn: sa.Connection, key: str, now: float) -> int:
        table = check_guard_table
        stale = table.c.window_start < now - FAILURE_WINDOW.total_seconds()
        # One UPDATE counts atomically, whichever worker gets there first.
        counted = conn.execute(
            table.update()
            .where(table.c.key == key)
            .values(
                failures=sa.case((stale, 1), else_=table.c.failures + 1),
                window_start=sa.case((stale, now), else_=table.c.window_start),
            )
        )
        if counted.rowcount == 0:
            conn.execute(table.insert(), {"key": key, "failures": 1, "window_start": now, "locked_until": 0.0})
            failures = 1
        else:
            failures = conn.execute(sa.select(table.c.failures).where(table.c.key == key)).scalar_one()
        if failures >= MAX_FAILURES:
            lock = {"failures": 0, "locked_until": now + LOCK_DURATION.total_seconds()}
            conn.execute(table.update().where(table.c.key == key).values(**lock))
            return 0
        return MAX_FAILURES - failures

    def clear_failures(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(check_guard_table.delete().where(check_guard_table.c.key == key))


# ---- the ownership-checked status lookup ---------------------------------------------


@dataclass(frozen=True)
class StatusReply:
    outcome: str  # "verified" | "not_verified" | "locked" | "invalid_code" | "invalid_check"
    text: str
    dossier_code: str | None = None
    status: str | None = None
    source: str | None = None
    updated_at: datetime | None = None
    attempts_left: int | None = None


class StatusLookup:
    def __init__(self, store: DossierStore, helpdesk: str) -> None:
        self.store = store
        self.helpdesk = helpdesk

    def lookup(self, code_text: str, check_text: str, conversation_id: str) -> StatusReply:
        """The status of a dossier for whoever proves they own it.

        ``code_text`` may also hold the check ("000.00.21.H48-231005-0012, số cuối 1234")
        when ``check_text`` is empty.
        """
        # Hashed: any text a client sends stays a short, printable key.
        conversation_key = "conversation:" + hashlib.sha256(conversation_id.encode("utf-8", "replace")).hexdigest()
        seconds = self.store.seconds_locked([conversation_key])
        if seconds:
            return StatusReply("locked", locked_text(seconds, self.helpdesk))
        code, check_in_code = parse_code_and_check(code_text)
        if code is None:
            return StatusReply("invalid_code", invalid_code_text())
        code_key = f"code:{code}"
        seconds = self.store.seconds_locked([code_key])
        if seconds:
            return StatusReply("locked", locked_text(seconds, self.helpdesk), code)
        check = parse_check_digits(check_text) if check_text.strip() else check_in_code
        if check is None:
            return StatusReply("invalid_check", invalid_check_text(), code)
        dossier = self.store.get(code)
        if dossier is not None and dossier.owned_by(check):
            self.store.clear_failures(code_key)
            event = dossier.last_event
            return StatusReply(
                "verified",
                status_text(dossier, self.store.now(), self.helpdesk),
                code,
                dossier.state(self.store.now()).value,
                event.system,
                event.at,
            )
        # Unknown code or wrong check: the same reply and the same counting.
        attempts_left = self.store.record_failure([code_key, conversation_key])
        if attempts_left == 0:
            return StatusReply(
                "locked", locked_text(LOCK_DURATION.total_seconds(), self.helpdesk), code, attempts_left=0
            )
        return StatusReply("not_verified", not_verified_text(attempts_left), code, attempts_left=attempts_left)

    def lookup_received(self, reception: str, check_text: str, conversation_id: str) -> StatusReply:
        """:meth:`lookup` for a code given by its date and sequence part only ('261122-0031').

        The dossier is the one received under that part whose registered phone (or ID number)
        ends in the check; failing that, the reply and the counting are exactly those of a wrong
        check or an unknown code, so that the part cannot be probed either.
        """
        candidates = self.store.codes_received(reception)
        check = parse_check_digits(check_text)
        owned = [c for c in candidates if check and (d := self.store.get(c)) is not None and d.owned_by(check)]
        if len(owned) == 1:
            code = owned[0]
        elif candidates:
            code = candidates[0]
        else:
            code = f"{UNKNOWN_AGENCY}-{reception}"  # well-formed, never stored: counted like any unknown code
        return self.lookup(code, check_text, conversation_id)
