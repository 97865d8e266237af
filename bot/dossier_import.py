"""Reading the one-stop system's dossier exports (JSON or CSV) into dossiers.

JSON: a list of dossiers (or ``{"dossiers": [...]}``), each::

    {
      "code": "000.00.21.H48-261110-0012",      # dossier code (any spelling the parser reads)
      "procedure_code": "1.004194",             # national procedure code
      "procedure_name": "Đăng ký tạm trú",
      "applicant_name": "Nguyễn Văn An",
      "phone": "0905 123 456",                  # registered phone: its last 4 digits are the check
      "id_number": "",                          # optional ID number, its last 4 digits also accepted
      "channel": "online",                      # online | counter | post | phone
      "received_at": "2026-11-10T08:30:00+07:00",
      "due_at": "2026-11-13T17:00:00+07:00",    # statutory due date
      "history": [                              # status changes, any order
        {"at": "2026-11-10T08:30:00+07:00", "status": "received",
         "system": "Hệ thống thông tin giải quyết TTHC tỉnh Quảng Ngãi", "note": ""}
      ],
      "supplement_request": "",                 # what to add (supplement_requested)
      "pause_reason": "",                       # why it is paused (paused)
      "extension": null,                        # {"new_due_at": "…", "apology_letter": "…"} (extended)
      "result": null,                           # {"delivery": "pickup" | "post", "place": "…"} (result_ready)
      "returned_reason": ""                     # why it was returned or refused (returned)
    }

A status is a key of :class:`bot.dossiers.Status` (not ``overdue``: that one is
computed from the due date), a Vietnamese name with or without diacritics
("Đang xử lý", "cho bo sung", "Đã xử lý xong"…) or a national portal code 1–10.
A channel is a key or "Trực tuyến", "Trực tiếp", "Qua bưu chính công ích", 1–3.
Times are ISO 8601 or ``dd/mm/yyyy [HH:MM]``; without a UTC offset they are
Vietnam time, and a date alone means the end of that day. Instead of
``history`` a record may give one event as ``status``, ``status_at``,
``status_note`` and ``system``.

CSV: one row per status event, with the flat columns above (``status``,
``status_at``, ``status_note``, ``system``) and ``extended_due_at``,
``apology_letter``, ``result_delivery``, ``result_place`` for the nested ones;
rows sharing a code make up one dossier's history. UTF-8 (a BOM is fine),
comma- or semicolon-separated.

Import is an upsert by code (:meth:`bot.dossiers.DossierStore.upsert`): a
re-import adds to the status history and updates the values it carries. A bad
row is reported with its reason and skipped; the rest is imported.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any

from bot.dossier_codes import parse_dossier_code
from bot.dossiers import (
    NATIONAL_STATUS,
    STATUS_NAMES,
    Channel,
    Delivery,
    Dossier,
    Extension,
    Result,
    Status,
    StatusEvent,
    merge,
)
from bot.settings import LOCAL_TIME
from bot.text import fold

MAX_TEXT_CHARS = 2000

_STATUS_ALIASES: dict[Status, list[str]] = {
    Status.RECEIVED: ["được tiếp nhận", "đã tiếp nhận", "tiếp nhận"],
    Status.PROCESSING: ["đang giải quyết"],
    Status.SUPPLEMENT_REQUESTED: ["yêu cầu bổ sung giấy tờ", "yêu cầu bổ sung", "bổ sung hồ sơ"],
    Status.PAYMENT_REQUESTED: ["yêu cầu thực hiện nghĩa vụ tài chính"],
    Status.PAUSED: ["dừng xử lý", "tạm dừng xử lý"],
    Status.EXTENDED: ["đã gia hạn"],
    Status.RESULT_READY: ["đã xử lý xong", "đã có kết quả", "chờ trả kết quả", "chờ trả"],
    Status.RETURNED: ["không được tiếp nhận", "trả lại", "không giải quyết", "từ chối"],
    Status.WITHDRAWN: ["công dân yêu cầu rút hồ sơ", "rút hồ sơ", "rút"],
}
_CHANNEL_ALIASES: dict[Channel, list[str]] = {
    Channel.ONLINE: ["2", "trực tuyến", "nộp trực tuyến", "qua mạng"],
    Channel.COUNTER: ["1", "trực tiếp", "nhận trực tiếp", "tại quầy", "một cửa"],
    Channel.POST: ["3", "bưu chính", "qua bưu chính", "qua bưu chính công ích", "bưu điện"],
    Channel.PHONE: ["điện thoại", "qua điện thoại"],
}
_DELIVERY_ALIASES: dict[Delivery, list[str]] = {
    Delivery.PICKUP: ["nhận trực tiếp", "trực tiếp", "tại bộ phận một cửa"],
    Delivery.POST: ["bưu chính", "qua bưu chính", "bưu điện"],
}


def _key(label: str) -> str:
    return " ".join(re.findall(r"\w+", fold(label.lower())))


def _lookup(aliases: dict[Any, list[str]], extra: dict[Any, str] | None = None) -> dict[str, Any]:
    table = {_key(value.value): value for value in aliases}
    for value, names in aliases.items():
        table.update({_key(name): value for name in names})
    table.update({_key(name): value for value, name in (extra or {}).items()})
    return table


_STATUSES = _lookup(_STATUS_ALIASES, STATUS_NAMES) | {str(code): status for code, status in NATIONAL_STATUS.items()}
_STATUSES.update({_key(status.value): status for status in Status})
_CHANNELS = _lookup(_CHANNEL_ALIASES)
_DELIVERIES = _lookup(_DELIVERY_ALIASES)


class BadRecord(ValueError):
    """A record the importer cannot take, with the reason in the message."""


@dataclass(frozen=True)
class RowError:
    where: str  # "record 3", "line 7"
    code: str  # as written in the record ('' when missing)
    reason: str


@dataclass
class ImportResult:
    dossiers: list[Dossier] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    records: int = 0


# ---- values ------------------------------------------------------------------------


def _text(record: dict[str, Any], name: str, required: bool = False) -> str:
    value = record.get(name)
    if value is None:
        value = ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadRecord(f"{name} must be text")
    text = str(value).strip()
    if required and not text:
        raise BadRecord(f"{name} is missing")
    if len(text) > MAX_TEXT_CHARS:
        raise BadRecord(f"{name} is longer than {MAX_TEXT_CHARS} characters")
    return text


def _choice(table: dict[str, Any], record: dict[str, Any], name: str) -> Any:
    text = _text(record, name, required=True)
    if _key(text) == Status.OVERDUE.value or _key(text) in {"tre han", "qua han"}:
        raise BadRecord(f"{name} {text!r}: overdue is computed from due_at; give the dossier's actual status")
    try:
        return table[_key(text)]
    except KeyError:
        raise BadRecord(f"unknown {name} {text!r}") from None


_VN_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def _moment(record: dict[str, Any], name: str) -> datetime:
    text = _text(record, name, required=True)
    try:
        match = _VN_DATE.fullmatch(text)
        if match:
            day, month, year, hour, minute, second = match.groups()
            date = datetime(int(year), int(month), int(day)).date()
            clock = time(int(hour), int(minute), int(second or 0)) if hour else None
        else:
            parsed = datetime.fromisoformat(text)
            date, clock = parsed.date(), (parsed.timetz() if len(text) > 10 else None)
    except ValueError:
        raise BadRecord(f"{name} {text!r} is not a date (ISO 8601 or dd/mm/yyyy [HH:MM])") from None
    moment = datetime.combine(date, clock or time(23, 59, 59))
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TIME)


# ---- records -----------------------------------------------------------------------


def dossier_from_record(record: Any) -> Dossier:
    """One export record as a dossier; raises :class:`BadRecord` with the reason."""
    if not isinstance(record, dict):
        raise BadRecord("not an object")
    written = _text(record, "code", required=True)
    code = parse_dossier_code(written)
    if code is None:
        raise BadRecord(f"code {written!r} is not a dossier code like 000.00.21.H48-231005-0012")
    phone, id_number = _text(record, "phone"), _text(record, "id_number")
    if sum(ch.isdigit() for ch in phone) < 4 and sum(ch.isdigit() for ch in id_number) < 4:
        raise BadRecord("neither phone nor id_number has 4 digits to check ownership against")
    received_at, due_at = _moment(record, "received_at"), _moment(record, "due_at")
    if due_at < received_at:
        raise BadRecord("due_at is before received_at")
    history = _history(record)
    extension = _extension(record)
    if extension is None and any(e.status is Status.EXTENDED for e in history):
        raise BadRecord("an extended dossier needs the extension's new due date")
    return Dossier(
        code=code,
        procedure_code=_text(record, "procedure_code", required=True),
        procedure_name=_text(record, "procedure_name", required=True),
        applicant_name=_text(record, "applicant_name", required=True),
        phone=phone,
        id_number=id_number,
        channel=_choice(_CHANNELS, record, "channel"),
        received_at=received_at,
        due_at=due_at,
        history=history,
        supplement_request=_text(record, "supplement_request"),
        pause_reason=_text(record, "pause_reason"),
        extension=extension,
        result=_result(record),
        returned_reason=_text(record, "returned_reason"),
    )


def _history(record: dict[str, Any]) -> list[StatusEvent]:
    events = record.get("history") or []
    if not isinstance(events, list):
        raise BadRecord("history must be a list")
    if record.get("status"):
        events = [
            *events,
            {
                "at": record.get("status_at"),
                "status": record["status"],
                "system": record.get("system"),
                "note": record.get("status_note"),
            },
        ]
    if not events:
        raise BadRecord("no status: give history or status")
    parsed = []
    for i, event in enumerate(events, 1):
        if not isinstance(event, dict):
            raise BadRecord(f"history event {i} is not an object")
        try:
            parsed.append(
                StatusEvent(
                    _moment(event, "at"),
                    _choice(_STATUSES, event, "status"),
                    _text(event, "system", required=True),
                    _text(event, "note"),
                )
            )
        except BadRecord as error:
            raise BadRecord(f"history event {i}: {error}") from None
    return sorted(parsed, key=lambda e: e.at)


def _extension(record: dict[str, Any]) -> Extension | None:
    nested = record.get("extension")
    if nested is None and record.get("extended_due_at"):
        nested = {"new_due_at": record["extended_due_at"], "apology_letter": record.get("apology_letter")}
    if not nested:
        return None
    if not isinstance(nested, dict):
        raise BadRecord("extension must be an object")
    return Extension(_moment(nested, "new_due_at"), _text(nested, "apology_letter"))


def _result(record: dict[str, Any]) -> Result | None:
    nested = record.get("result")
    if nested is None and (record.get("result_delivery") or record.get("result_place")):
        nested = {"delivery": record.get("result_delivery"), "place": record.get("result_place")}
    if not nested:
        return None
    if not isinstance(nested, dict):
        raise BadRecord("result must be an object")
    return Result(_choice(_DELIVERIES, nested, "delivery"), _text(nested, "place", required=True))


# ---- files -------------------------------------------------------------------------


def parse_records(records: list[tuple[str, Any]]) -> ImportResult:
    """Records (with where each was read) as dossiers; records sharing a code merge in order."""
    result = ImportResult(records=len(records))
    by_code: dict[str, Dossier] = {}
    for where, record in records:
        try:
            dossier = dossier_from_record(record)
        except BadRecord as error:
            code = str(record.get("code") or "") if isinstance(record, dict) else ""
            result.errors.append(RowError(where, code[:40], str(error)))
            continue
        previous = by_code.get(dossier.code)
        by_code[dossier.code] = merge(previous, dossier) if previous else dossier
    result.dossiers = list(by_code.values())
    return result


def read_export(path: Path) -> ImportResult:
    """Dossiers from a JSON or CSV export; OSError and ValueError when the file itself is unreadable."""
    text = path.read_text("utf-8-sig")
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("[", "{")):
        return parse_records(_json_records(text))
    return parse_records(_csv_records(text))


def _json_records(text: str) -> list[tuple[str, Any]]:
    data = json.loads(text)
    if isinstance(data, dict):
        data = data.get("dossiers")
    if not isinstance(data, list):
        raise ValueError("a JSON export is a list of dossiers (or an object with a 'dossiers' list)")
    return [(f"record {i}", record) for i, record in enumerate(data, 1)]


def _csv_records(text: str) -> list[tuple[str, Any]]:
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    if not reader.fieldnames or "code" not in [name.strip() for name in reader.fieldnames]:
        raise ValueError("a CSV export needs a header row with at least a 'code' column")
    return [
        (f"line {reader.line_num}", {(k or "").strip(): v for k, v in row.items() if k is not None}) for row in reader
    ]
