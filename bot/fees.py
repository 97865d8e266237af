"""Fees (phí, lệ phí) and processing time of a procedure, from its record and the policy data.

The procedure record gives the amounts (per unit where the fee is per copy or
page, and the online amount where a document sets one) and the statutory
processing time. ``knowledge/fee_policies.json`` adds what changes them, each
with its legal basis: exemptions (on-time birth registration is free…),
reductions (for a period, for some people, or for online dossiers), how units
are counted (page tiers, a cap) and how much shorter online processing is.

Never made up: an amount the sources do not give is said to be unknown, with
where to ask; a policy whose legal basis is not confirmed yet is mentioned as
such and never changes an amount.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import answers
from bot.dossier_codes import spoken_digits
from bot.procedure import Fee, Procedure, Section, format_vnd
from bot.settings import LOCAL_TIME
from bot.text import fold, normalize

if TYPE_CHECKING:
    from bot.assistant import Assistant, Choice

MAX_UNITS = 100
# Units a fee can be charged per, several at a time (folded first word of Fee.per).
COUNTABLE_UNITS = frozenset({"ban", "trang", "phieu", "to"})
_ONLINE_CUES = ("trực tuyến", "online", "onl", "qua mạng", "trên mạng", "nộp mạng", "dịch vụ công", "vneid", "internet")
_NUMBER_WORDS = "mot|hai|ba|bon|tu|nam|lam|sau|bay|tam|chin|muoi|linh|le"
_QUANTITY = re.compile(rf"\b(\d{{1,3}}|(?:(?:{_NUMBER_WORDS})\s+)*(?:{_NUMBER_WORDS}))\s+(ban|trang|phieu|to)\b")
_DURATION = re.compile(
    r"^\s*(?:không quá|tối đa|trong(?: thời hạn)?)?\s*(\d+)\s*(ngày làm việc|giờ làm việc|ngày|giờ)", re.IGNORECASE
)
WORKING_HOURS_PER_DAY = 8


def _folded(text: str) -> str:
    return " ".join(re.findall(r"\w+", fold(text.lower())))


def _mentions(folded_question: str, phrase: str) -> bool:
    return re.search(rf"\b{re.escape(_folded(phrase))}\b", folded_question) is not None


def _date(value: Any, where: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {value!r} is not an ISO date") from None


# ---- the policy data ---------------------------------------------------------------


@dataclass(frozen=True)
class FeePolicy:
    id: str
    kind: str  # "exemption" | "reduction"
    procedures: frozenset[str]
    fees: tuple[str, ...]  # folded fragments of the fee names it concerns; () = every fee
    percent: int  # 100 for an exemption
    legal_basis: str  # "" = not confirmed: mentioned, never applied
    needs_review: bool
    online_only: bool = False
    condition: str = ""  # "cho <who>" or "khi <when>"; "" = everyone
    cues: tuple[str, ...] = ()  # words of a question saying the condition holds
    valid_from: date | None = None
    valid_to: date | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeePolicy:
        where = f"fee policy {data.get('id')!r}"
        kind = data.get("kind")
        if kind not in {"exemption", "reduction"}:
            raise ValueError(f"{where}: kind must be 'exemption' or 'reduction'")
        percent = 100 if kind == "exemption" else data.get("percent")
        if not isinstance(percent, int) or not 0 < percent <= 100:
            raise ValueError(f"{where}: a reduction needs a percent between 1 and 100")
        if not data.get("procedures"):
            raise ValueError(f"{where}: no procedures")
        return cls(
            id=str(data["id"]),
            kind=kind,
            procedures=frozenset(data["procedures"]),
            fees=tuple(_folded(f) for f in data.get("fees", [])),
            percent=percent,
            legal_basis=data.get("legal_basis", ""),
            needs_review=bool(data.get("needs_review", True)),
            online_only=bool(data.get("online_only", False)),
            condition=data.get("condition", ""),
            cues=tuple(data.get("cues", [])),
            valid_from=_date(data.get("valid_from"), where),
            valid_to=_date(data.get("valid_to"), where),
        )

    def concerns(self, procedure: Procedure, fee: Fee) -> bool:
        name = _folded(fee.name)
        in_scope = procedure.code in self.procedures or procedure.national_code in self.procedures
        return in_scope and (not self.fees or any(fragment in name for fragment in self.fees))

    def in_force(self, today: date) -> bool:
        return (self.valid_from is None or self.valid_from <= today) and (
            self.valid_to is None or today <= self.valid_to
        )

    def holds_for(self, folded_question: str) -> bool:
        return not self.condition or any(_mentions(folded_question, cue) for cue in self.cues)

    def describe(self) -> str:
        """'Miễn khi nộp trực tuyến cho …, đến hết 28/02/2027'."""
        text = "Miễn" if self.kind == "exemption" else f"Giảm {self.percent}%"
        if self.online_only:
            text += " khi nộp trực tuyến"
        if self.condition:
            text += f" {self.condition}"
        if self.valid_to:
            text += f", đến hết {self.valid_to:%d/%m/%Y}"
        return text


@dataclass(frozen=True)
class UnitTier:
    fee: str  # folded fragment of the fee name
    first: int
    last: int | None = None

    def units(self, quantity: int) -> int:
        last = quantity if self.last is None else min(quantity, self.last)
        return max(0, last - self.first + 1)


@dataclass(frozen=True)
class CountingRule:
    """How units are charged when a procedure's fees differ by unit number (pages 1–2, 3 onwards…)."""

    procedures: frozenset[str]
    unit: str  # folded
    tiers: tuple[UnitTier, ...]
    max_total_vnd: int | None
    legal_basis: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CountingRule:
        tiers = tuple(UnitTier(_folded(t["fee"]), int(t["first"]), t.get("last")) for t in data["tiers"])
        return cls(
            frozenset(data["procedures"]), _folded(data["unit"]), tiers, data.get("max_total_vnd"), data["legal_basis"]
        )

    def tier(self, fee: Fee) -> UnitTier | None:
        name = _folded(fee.name)
        return next((t for t in self.tiers if t.fee in name), None)


@dataclass(frozen=True)
class OnlineTimeRule:
    reduction_percent: int
    legal_basis: str  # "" = not confirmed: the time is given as expected, saying so
    needs_review: bool


@dataclass(frozen=True)
class FeePolicies:
    policies: tuple[FeePolicy, ...] = ()
    counting: tuple[CountingRule, ...] = ()
    online_time: OnlineTimeRule | None = None

    @classmethod
    def load(cls, path: Path) -> FeePolicies:
        data = json.loads(path.read_text("utf-8"))
        online = data.get("online_processing_time")
        return cls(
            tuple(FeePolicy.from_dict(p) for p in data.get("policies", [])),
            tuple(CountingRule.from_dict(c) for c in data.get("counting", [])),
            OnlineTimeRule(int(online["reduction_percent"]), online.get("legal_basis", ""), online["needs_review"])
            if online
            else None,
        )


# ---- computing -----------------------------------------------------------------------


@dataclass
class FeeLine:
    fee: Fee
    amount: int | None  # per unit, now, submitted in person
    online_amount: int | None  # per unit, now, submitted online
    units: int = 1
    counted: bool = False  # charged per unit for the quantity asked
    applied: list[FeePolicy] = field(default_factory=list)  # lower both amounts
    online_applied: list[FeePolicy] = field(default_factory=list)  # lower the online amount
    conditional: list[FeePolicy] = field(default_factory=list)  # apply to some people: said
    unconfirmed: list[FeePolicy] = field(default_factory=list)  # no legal basis yet: said

    def total(self, online: bool = False) -> int | None:
        amount = self.online_amount if online else self.amount
        return None if amount is None else amount * self.units

    @property
    def policies(self) -> list[FeePolicy]:
        return [*self.applied, *self.online_applied, *self.conditional, *self.unconfirmed]


@dataclass
class FeeQuote:
    procedure: Procedure
    lines: list[FeeLine]
    quantity: int | None
    rule: CountingRule | None  # how the quantity was counted, when tiers apply

    def total(self, online: bool = False) -> int | None:
        counted = [line for line in self.lines if line.counted and line.units]
        totals = [line.total(online) for line in counted]
        if not counted or None in totals:
            return None
        total = sum(t for t in totals if t is not None)
        if self.rule and self.rule.max_total_vnd is not None:
            total = min(total, self.rule.max_total_vnd)
        return total


def _reduce(amount: int | None, policies: list[FeePolicy]) -> int | None:
    for policy in policies:
        if policy.kind == "exemption":
            return 0
        if amount is not None:
            amount = amount * (100 - policy.percent) // 100
    return amount


def _applied(policy: FeePolicy) -> str:
    """How an applied policy is noted after the amount: '(giảm 50%, đến hết …; Thông tư …)'."""
    if policy.kind == "exemption":
        said = policy.condition or ("miễn khi nộp trực tuyến" if policy.online_only else "")
    else:
        said = policy.describe().lower()
    return f"{said}; {policy.legal_basis}" if said else policy.legal_basis


def _distinct(basis: list[str]) -> list[str]:
    """Legal bases without repeats ('Thông tư số 117/2026/TT-BTC, Điều 1' is in 'Thông tư 117/2026/…, Điều 1 và…')."""
    kept: list[str] = []
    for text in basis:
        key = _folded(re.sub(r"\bsố\s+", "", text))
        if text and not any(key in _folded(re.sub(r"\bsố\s+", "", k)) for k in kept):
            kept.append(text)
    return kept


def asked_quantity(question: str) -> tuple[int | None, str | None]:
    """'3 bản sao' → (3, 'ban'); 'ba trang' → (3, 'trang'); nothing → (None, None)."""
    match = _QUANTITY.search(_folded(question))
    if not match:
        return None, None
    digits = spoken_digits(match.group(1))
    number = int(digits) if digits else 0
    return (number, match.group(2)) if 1 <= number <= MAX_UNITS else (None, None)


def asks_about_online(question: str) -> bool:
    folded = _folded(question)
    return any(_mentions(folded, cue) for cue in _ONLINE_CUES)


def expected_online_time(statutory: str, percent: int) -> str | None:
    """'03 ngày làm việc…' shortened by at least ``percent`` % → 'không quá 02 ngày làm việc'."""
    match = _DURATION.match(statutory)
    if not match:
        return None
    number, unit = int(match.group(1)), match.group(2).lower()
    shortened = math.floor(number * (100 - percent) / 100)
    if shortened < 1 and unit == "ngày làm việc":
        shortened, unit = math.floor(number * WORKING_HOURS_PER_DAY * (100 - percent) / 100), "giờ làm việc"
    if shortened < 1:
        return None
    return f"không quá {shortened:02d} {unit}"


class FeeEngine:
    def __init__(self, policies: FeePolicies, helpdesk: str, clock: Callable[[], datetime]) -> None:
        self.policies = policies
        self.helpdesk = helpdesk
        self.clock = clock

    def today(self) -> date:
        return self.clock().astimezone(LOCAL_TIME).date()

    def quote(self, procedure: Procedure, question: str = "", copies: int | None = None) -> FeeQuote:
        """Every fee of the procedure as of today, for the quantity asked (``copies`` or read from the question)."""
        quantity, unit = (copies, None) if copies else asked_quantity(question)
        folded = _folded(question)
        rule = next(
            (
                r
                for r in self.policies.counting
                if procedure.code in r.procedures or procedure.national_code in r.procedures
            ),
            None,
        )
        if rule and unit and unit != rule.unit:
            rule = None
        lines = [self._line(procedure, fee, folded, quantity, unit, rule) for fee in procedure.fees]
        return FeeQuote(procedure, lines, quantity, rule if quantity else None)

    def _line(
        self,
        procedure: Procedure,
        fee: Fee,
        folded_question: str,
        quantity: int | None,
        unit: str | None,
        rule: CountingRule | None,
    ) -> FeeLine:
        line = FeeLine(fee, None, None)
        today = self.today()
        for policy in self.policies.policies:
            if not policy.concerns(procedure, fee) or not policy.in_force(today):
                continue
            if not policy.legal_basis:
                line.unconfirmed.append(policy)
            elif not policy.holds_for(folded_question):
                line.conditional.append(policy)
            else:
                (line.online_applied if policy.online_only else line.applied).append(policy)
        line.amount = _reduce(fee.amount_vnd, line.applied)
        online_base = fee.amount_vnd if fee.online_amount_vnd is None else fee.online_amount_vnd
        line.online_amount = _reduce(online_base, line.applied + line.online_applied)
        fee_unit = _folded(fee.per).split(" ")[0] if fee.per else ""
        if quantity and fee_unit in COUNTABLE_UNITS and unit in (None, fee_unit):
            tier = rule.tier(fee) if rule else None
            line.counted = True
            line.units = tier.units(quantity) if tier else quantity
        return line

    # ---- answers ---------------------------------------------------------------------

    def answer(self, procedure: Procedure, question: str, copies: int | None = None, online: bool | None = None) -> str:
        """The reply to a fee or processing-time question about one procedure."""
        if answers.detect_section(question) is Section.TIME:
            return self.time_text(procedure)
        return self.fee_text(procedure, question, copies, online)

    def fee_text(
        self, procedure: Procedure, question: str = "", copies: int | None = None, online: bool | None = None
    ) -> str:
        if not procedure.fees:  # nothing to compute: the usual section answer, with its citation
            return answers.answer_text(procedure, Section.FEES, self.helpdesk)
        if online is None and asks_about_online(question):
            online = True
        quote = self.quote(procedure, question, copies)
        shown = [line for line in quote.lines if not (quote.quantity and line.counted and not line.units)]
        lines = [self._online_verdict(quote)] if online else []
        lines.append(answers.SECTION_LEADS[Section.FEES].format(name=procedure.name))
        for line in shown:
            lines.extend(self._line_text(line, quote, online))
        total = quote.total()
        if total is not None and sum(line.counted for line in shown) > 1:
            capped = quote.rule is not None and quote.rule.max_total_vnd == total
            lines.append(f"Tổng cộng: {format_vnd(total)}" + (" (mức tối đa)." if capped else "."))
        lines.extend(self._policy_text(shown, online))
        if procedure.fee_note:
            lines.append(procedure.fee_note)
        if any(line.amount is None or line.unconfirmed for line in shown):
            lines.append(f"Khoản chưa có mức thu cụ thể hoặc chưa xác nhận: bạn vui lòng hỏi {self.helpdesk}.")
        basis = [procedure.sources["fees"]] if procedure.sources.get("fees") else procedure.legal_basis[:2]
        basis += [p.legal_basis for line in shown for p in line.policies]
        if quote.rule:
            basis.append(quote.rule.legal_basis)
        return "\n".join([*lines, answers.citation(procedure, _distinct(basis))])

    @staticmethod
    def _amount(amount: int | None, line: FeeLine, quote: FeeQuote) -> str:
        if amount is None:
            return "chưa có mức thu cụ thể"
        if amount == 0:
            return "miễn phí"
        text = format_vnd(amount) + (f"/{line.fee.per}" if line.fee.per else "")
        if quote.quantity and line.counted:
            text += f" × {line.units} = {format_vnd(amount * line.units)}"
        return text

    def _line_text(self, line: FeeLine, quote: FeeQuote, online: bool | None) -> list[str]:
        head = f"- {line.fee.name}: {self._amount(line.amount, line, quote)}"
        if line.applied:
            head += " (" + "; ".join(_applied(p) for p in line.applied) + ")"
        text = [head + "."]
        if online is not False:
            if line.online_amount != line.amount or line.online_applied:
                online_text = self._amount(line.online_amount, line, quote)
                if line.online_applied:
                    online_text += " (" + "; ".join(_applied(p) for p in line.online_applied) + ")"
                text.append(f"  Nộp trực tuyến: {online_text}.")
            elif online and line.amount is not None and not any(p.online_only for p in line.policies):
                text.append("  Nộp trực tuyến: cơ sở dữ liệu chưa ghi nhận mức thu riêng.")
        if not line.policies and line.fee.note:
            text.append(f"  {line.fee.note.rstrip('.')}.")
        return text

    @staticmethod
    def _policy_text(shown: list[FeeLine], online: bool | None) -> list[str]:
        """Exemptions and reductions for some people, and unconfirmed ones: each once, naming its fees
        when it does not concern them all."""
        concerned: dict[str, tuple[FeePolicy, list[FeeLine]]] = {}
        for line in shown:
            for policy in [*line.conditional, *line.unconfirmed]:
                if online is False and policy.online_only:
                    continue
                concerned.setdefault(policy.id, (policy, []))[1].append(line)
        text = []
        for policy, fee_lines in concerned.values():
            said = policy.describe()
            if len(fee_lines) < len(shown):
                said = "; ".join(line.fee.name for line in fee_lines) + ": " + said[0].lower() + said[1:]
            source = policy.legal_basis or "chưa xác nhận được văn bản áp dụng"
            text.append(f"- {said} ({source}).")
        return ["Miễn, giảm:", *text] if text else []

    @staticmethod
    def _online_verdict(quote: FeeQuote) -> str:
        known = [line for line in quote.lines if line.amount is not None and line.online_amount is not None]
        if any(line.online_amount < line.amount for line in known):  # type: ignore[operator]
            return "Có, nộp trực tuyến được thu mức thấp hơn."
        if any(p.online_only for line in quote.lines for p in line.conditional):
            return "Nộp trực tuyến có thể được miễn hoặc giảm nếu đáp ứng điều kiện nêu dưới đây."
        if any(p.online_only for line in quote.lines for p in line.unconfirmed):
            return (
                "Tỉnh có chủ trương giảm lệ phí cho hồ sơ nộp trực tuyến, nhưng chưa xác nhận được văn bản "
                "áp dụng cho thủ tục này."
            )
        if len(known) < len(quote.lines):
            return "Chưa có đủ mức thu cụ thể để so sánh nộp trực tuyến với nộp trực tiếp."
        return "Cơ sở dữ liệu chưa ghi nhận mức thu thấp hơn khi nộp trực tuyến cho thủ tục này."

    def time_text(self, procedure: Procedure) -> str:
        if not procedure.processing_time:
            return answers.answer_text(procedure, Section.TIME, self.helpdesk)
        basis = [procedure.sources["processing_time"]] if procedure.sources.get("processing_time") else []
        lines = [answers.SECTION_LEADS[Section.TIME].format(name=procedure.name), procedure.processing_time]
        rule = self.policies.online_time
        online_channel = any(c.startswith("truc_tuyen") for c in procedure.channels)
        expected = expected_online_time(procedure.processing_time, rule.reduction_percent) if rule else None
        if procedure.processing_time_online:
            lines.append(f"Nộp trực tuyến: {procedure.processing_time_online}")
            basis += [procedure.sources.get("processing_time_online", "")]
        elif not online_channel:
            lines.append("Cơ sở dữ liệu chưa ghi nhận cách nộp trực tuyến cho thủ tục này.")
        elif rule and expected:
            caveat = rule.legal_basis or "văn bản áp dụng đang chờ cán bộ xác nhận"
            lines.append(
                f"Nộp trực tuyến: dự kiến {expected} (tỉnh rút ngắn ít nhất {rule.reduction_percent}% thời hạn "
                f"cho hồ sơ nộp trực tuyến; {caveat})."
            )
        else:
            lines.append("Chưa có thời hạn riêng cho hồ sơ nộp trực tuyến.")
        lines.append(answers.citation(procedure, [b for b in basis if b] or None))
        return "\n".join(lines)


# ---- the /api/fees question --------------------------------------------------------


def which_procedure_text() -> str:
    return (
        "Bạn muốn hỏi phí, lệ phí hoặc thời hạn của thủ tục nào? Vui lòng cho biết tên thủ tục, "
        "ví dụ: đăng ký tạm trú, đăng ký khai sinh, cấp bản sao trích lục hộ tịch."
    )


@dataclass
class FeeReply:
    outcome: str  # "answer" | "clarify" | "guide" (a case the catalogue lacks, see bot.guidance) | "unknown"
    text: str
    procedure_code: str | None = None
    procedure_name: str | None = None
    choices: list[Choice] = field(default_factory=list)


def answer_fee_question(
    assistant: Assistant,
    engine: FeeEngine,
    question: str,
    procedure_code: str | None = None,
    copies: int | None = None,
    online: bool | None = None,
) -> FeeReply:
    """Find the procedure the way the Q&A does (answer, ask back, or admit not knowing), then compute."""
    from bot.assistant import names_no_procedure  # the assistant loads the model stack: only when asked

    procedure = assistant.procedure(procedure_code) if procedure_code else None
    if procedure is None:
        reply = assistant.ask(question)
        if reply.kind == "guide":
            return FeeReply("guide", reply.text)
        if reply.kind == "clarify":
            return FeeReply("clarify", reply.text if reply.choices else which_procedure_text(), choices=reply.choices)
        if reply.kind in {"abstain", "out_of_scope"} and names_no_procedure(normalize(question)):
            return FeeReply("clarify", which_procedure_text())
        procedure = (
            assistant.procedure(reply.procedure_code) if reply.kind == "answer" and reply.procedure_code else None
        )
        if procedure is None:
            return FeeReply("unknown", reply.text)
    return FeeReply("answer", engine.answer(procedure, question, copies, online), procedure.code, procedure.name)
