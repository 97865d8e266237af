"""The procedure record and how each of its sections reads to a citizen.

A record holds what citizens ask about a procedure. Sources differ in how much
they know: a catalogue entry has only a code and a name; a curated record has
everything with its legal source. Empty fields stay empty: the answer says the
information is missing instead of inventing it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any

# "(thực hiện tại cấp tỉnh)", "(cấp trung ương)" … ending a name: the same procedure at another level.
_LEVEL_SUFFIX = re.compile(
    r"\s*\((?:tthc\s+)?(?:thực hiện\s+)?(?:tại\s+)?(?:cấp\s+)?(?:tỉnh|huyện|xã|trung ương|tw|bộ|địa phương)\)\W*$",
    re.IGNORECASE,
)


class Detail(StrEnum):
    """How complete a record is, from least to most (also the merge priority)."""

    CATALOG = "catalog"
    DETAIL_PAGE = "detail_page"
    NATIONAL_RECORD = "national_record"
    CURATED = "curated"

    @property
    def rank(self) -> int:
        """Its place from least to most complete: a record of higher rank wins a merge."""
        return list(Detail).index(self)


class Section(StrEnum):
    OVERVIEW = "overview"
    DOCUMENTS = "documents"
    FEES = "fees"
    TIME = "time"
    WHERE = "where"
    STEPS = "steps"
    CONDITIONS = "conditions"
    RESULT = "result"
    LEGAL = "legal"


SECTION_TITLES: dict[Section, str] = {
    Section.OVERVIEW: "Thông tin chung",
    Section.DOCUMENTS: "Thành phần hồ sơ",
    Section.FEES: "Phí, lệ phí",
    Section.TIME: "Thời hạn giải quyết",
    Section.WHERE: "Nơi nộp và cách thức nộp",
    Section.STEPS: "Trình tự thực hiện",
    Section.CONDITIONS: "Điều kiện thực hiện",
    Section.RESULT: "Kết quả",
    Section.LEGAL: "Căn cứ pháp lý",
}

CHANNEL_NAMES: dict[str, str] = {
    "truc_tiep": "nộp trực tiếp tại cơ quan",
    "truc_tuyen_toan_trinh": "nộp trực tuyến toàn trình",
    "truc_tuyen_mot_phan": "nộp trực tuyến một phần",
    "truc_tuyen": "nộp trực tuyến",
    "buu_chinh": "qua dịch vụ bưu chính",
    "dien_thoai": "qua điện thoại",
}

PORTAL_DETAIL_URL = "https://dichvucong.gov.vn/p/home/dvc-chi-tiet-thu-tuc-hanh-chinh.html?ma_thu_tuc={code}"


@dataclass
class Fee:
    name: str
    amount_vnd: int | None = None
    online_amount_vnd: int | None = None
    per: str = ""
    note: str = ""

    def describe(self) -> str:
        if self.amount_vnd is None:
            text = f"{self.name}: chưa có mức thu cụ thể"
        elif self.amount_vnd == 0:
            text = f"{self.name}: miễn phí"
        else:
            text = f"{self.name}: {format_vnd(self.amount_vnd)}"
            if self.per:
                text += f"/{self.per}"
        if self.online_amount_vnd is not None and self.online_amount_vnd != self.amount_vnd:
            text += f"; nộp trực tuyến: {format_vnd(self.online_amount_vnd)}"
        if self.note:
            text += f" ({self.note})"
        return text


@dataclass
class Document:
    name: str
    copies: str = ""
    note: str = ""

    def describe(self) -> str:
        parts = [self.name.rstrip(".;")]
        if self.copies:
            parts.append(f"({self.copies})")
        if self.note:
            parts.append(f"– {self.note}")
        return " ".join(parts)


@dataclass
class Procedure:
    code: str
    name: str
    detail: Detail = Detail.CATALOG
    field: str = ""
    agency: str = ""
    level: str = ""
    who: str = ""
    channels: list[str] = dataclasses.field(default_factory=list)
    where: str = ""
    processing_time: str = ""
    processing_time_online: str = ""
    fees: list[Fee] = dataclasses.field(default_factory=list)
    fee_note: str = ""
    documents: list[Document] = dataclasses.field(default_factory=list)
    steps: list[str] = dataclasses.field(default_factory=list)
    result: str = ""
    conditions: str = ""
    legal_basis: list[str] = dataclasses.field(default_factory=list)
    sources: dict[str, str] = dataclasses.field(default_factory=dict)
    aliases: list[str] = dataclasses.field(default_factory=list)
    # Codes the national database gave this procedure before re-issuing it (2.000488 → 3.000333):
    # portal FAQ entries and dossiers filed under an old code still mean this procedure.
    former_codes: list[str] = dataclasses.field(default_factory=list)
    popularity: int = 0
    last_reviewed: str = ""
    source: str = ""
    needs_review: bool = False
    retired: bool = False

    @property
    def national_code(self) -> str:
        """The portal's short code ('1.004194' of '1.004194.000.00.00.H48')."""
        return ".".join(self.code.split(".")[:2])

    @property
    def name_without_level(self) -> str:
        """The name, casefolded, without a level suffix: the same for a procedure's level variants."""
        return _LEVEL_SUFFIX.sub("", self.name).casefold()

    @property
    def portal_url(self) -> str:
        return PORTAL_DETAIL_URL.format(code=self.national_code)

    def joins(self, other: Procedure) -> bool:
        """Whether this procedure's name lists the other among those it joins in one dossier: "Đăng ký khai
        sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi" joins "Thủ tục đăng ký khai
        sinh" and "Đăng ký thường trú" (not "Xóa đăng ký thường trú")."""
        listed = [item.strip() for item in self.name_without_level.split(",")]
        return len(listed) > 1 and other.name_without_level.removeprefix("thủ tục ").strip() in listed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Procedure:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["detail"] = Detail(values.get("detail", Detail.CATALOG))
        values["fees"] = [Fee(**f) if isinstance(f, dict) else f for f in values.get("fees", [])]
        values["documents"] = [Document(**d) if isinstance(d, dict) else d for d in values.get("documents", [])]
        return cls(**values)

    # ---- sections -------------------------------------------------------

    def section_text(self, section: Section) -> str:
        """The section as plain Vietnamese text, or '' when the source has nothing."""
        match section:
            case Section.OVERVIEW:
                return self._overview()
            case Section.DOCUMENTS:
                return "\n".join(f"- {d.describe()}" for d in self.documents)
            case Section.FEES:
                lines = [f"- {f.describe()}" for f in self.fees]
                if self.fee_note:
                    lines.append(self.fee_note)
                return "\n".join(lines)
            case Section.TIME:
                if not self.processing_time:
                    return ""
                text = self.processing_time
                if self.processing_time_online:
                    text += f"; nộp trực tuyến: {self.processing_time_online}"
                return text
            case Section.WHERE:
                parts = []
                if self.where:
                    parts.append(f"Nơi nộp: {self.where}")
                elif self.agency:
                    parts.append(f"Cơ quan thực hiện: {self.agency}")
                if self.channels:
                    ways = ", ".join(CHANNEL_NAMES.get(c, c) for c in self.channels)
                    parts.append(f"Cách thức: {ways}")
                return "\n".join(parts)
            case Section.STEPS:
                return "\n".join(self.steps)
            case Section.CONDITIONS:
                return self.conditions
            case Section.RESULT:
                return self.result
            case Section.LEGAL:
                return "\n".join(f"- {b}" for b in self.legal_basis)

    def _overview(self) -> str:
        parts = []
        if self.field:
            parts.append(f"Lĩnh vực: {self.field}")
        if self.agency:
            parts.append(f"Cơ quan thực hiện: {self.agency}")
        if self.level:
            parts.append(f"Cấp thực hiện: {self.level}")
        if self.who:
            parts.append(f"Đối tượng: {self.who}")
        return "\n".join(parts)

    def available_sections(self) -> list[Section]:
        return [s for s in Section if s is not Section.OVERVIEW and self.section_text(s)]


def by_national_code(procedures: Iterable[Procedure]) -> dict[str, Procedure]:
    """Each procedure under its national code and under the codes it had before being re-issued; a
    code still served as a procedure's own keeps that procedure."""
    known = {former: p for p in procedures for former in p.former_codes}
    known.update({p.national_code: p for p in procedures})
    return known


def format_vnd(amount: int) -> str:
    """150000 → '150.000 đồng' (Vietnamese thousands separator)."""
    return f"{amount:,}".replace(",", ".") + " đồng"
