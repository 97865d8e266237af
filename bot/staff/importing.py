"""Import procedures from JSON or CSV files in the shared data's formats, with a
dry-run report of what would change.

Accepted, each parsed by :mod:`bot.ingest`:
- JSON (one record or a list): national procedure database records
  (``thu_tuc_id``, ``metadata``…), portal catalogue rows (``TTHC_MA``, ``NAME``,
  ``WEIGHT``) or hand-written records (the format of ``knowledge/procedures/``);
- CSV: the raw detail pages (``link``, ``thanhPhanHoSo``…) or the procedure
  name list (``Tên``, ``Link``).

As in ingestion, a record never replaces a more detailed one; the usage weight
and staff-added aliases are kept.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from bot.ingest import (
    parse_catalog_name,
    parse_catalog_service,
    parse_curated,
    parse_detail_page,
    parse_national_record,
)
from bot.procedure import Detail, Procedure
from bot.staff.history import AlreadyExists, Conflict, ProcedureHistory, diff, etag
from bot.staff.record_input import ProcedureIn

MAX_IMPORT_BYTES = 5 * 2**20


class ImportFileError(ValueError):
    """The file as a whole cannot be read; the message is for the staff member."""


class RecordRejected(ValueError):
    """One record refused; the message is the whole reason shown for its row."""


MISSING_CODE_OR_NAME = "Bản ghi thiếu mã hoặc tên thủ tục (mã tối đa 64 ký tự)."


@dataclass
class ImportRow:
    row: int  # 1-based position in the file (CSV: line of the record after the header)
    code: str
    name: str
    outcome: str  # new | changed | unchanged | rejected
    fields: list[str] = field(default_factory=list)
    reason: str = ""
    record: Procedure | None = None  # what would be written (new and changed rows)
    base_etag: str = ""  # the stored record the change was planned from


@dataclass
class ImportReport:
    rows: list[ImportRow]
    applied: bool = False

    def count(self, outcome: str) -> int:
        return sum(r.outcome == outcome for r in self.rows)

    @property
    def counts(self) -> dict[str, int]:
        return {o: self.count(o) for o in ("new", "changed", "unchanged", "rejected")}


def _parse_json_item(item: Any) -> Procedure:
    if not isinstance(item, dict):
        raise ValueError("không phải một bản ghi (đối tượng JSON)")
    if "thu_tuc_id" in item:
        return parse_national_record(item)
    if "TTHC_MA" in item:
        return parse_catalog_service(item)
    if "code" in item:
        try:  # checked as an edit is, so no field of the wrong type is stored
            checked = ProcedureIn.model_validate({**item, "detail": Detail.CURATED.value})
        except ValidationError as error:
            fields = sorted({str(e["loc"][0]) for e in error.errors() if e["loc"]})
            if {"code", "name"} & set(fields):
                raise RecordRejected(MISSING_CODE_OR_NAME) from None
            raise ValueError(f"trường không hợp lệ: {', '.join(fields)}") from None
        return parse_curated(checked.model_dump())
    raise ValueError("không nhận ra định dạng bản ghi (cần thu_tuc_id, TTHC_MA hoặc code)")


def parse_file(content: bytes, kind: str) -> list[tuple[int, Procedure | None, str]]:
    """(row, record or None, reason) for each record of a JSON or CSV file."""
    if len(content) > MAX_IMPORT_BYTES:
        raise ImportFileError(f"Tệp quá lớn (tối đa {MAX_IMPORT_BYTES // 2**20} MB).")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError("Tệp phải được mã hóa UTF-8.") from None
    parsed: list[tuple[int, Procedure | None, str]] = []
    if kind == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ImportFileError(f"JSON không hợp lệ (dòng {error.lineno}, cột {error.colno}).") from None
        for i, item in enumerate(data if isinstance(data, list) else [data], start=1):
            parsed.append(_parse_row(i, _parse_json_item, item))
    elif kind == "csv":
        reader = csv.DictReader(io.StringIO(text))
        columns = set(reader.fieldnames or [])
        if {"link", "thanhPhanHoSo"} <= columns:
            parsed = [_parse_row(i, _detail_page, row) for i, row in enumerate(reader, start=1)]
        elif {"Tên", "Link"} <= columns:
            parsed = [_parse_row(i, _catalog_name, row) for i, row in enumerate(reader, start=1)]
        else:
            raise ImportFileError(
                "Không nhận ra các cột của tệp CSV (cần các cột của trang chi tiết thủ tục, "
                "hoặc hai cột “Tên”, “Link”)."
            )
    else:
        raise ImportFileError("Định dạng tệp phải là JSON hoặc CSV.")
    if not parsed:
        raise ImportFileError("Tệp không có bản ghi nào.")
    return parsed


def _detail_page(row: dict[str, str]) -> Procedure:
    procedure = parse_detail_page(row, {})  # named after the stored record in plan()
    if procedure is None:
        raise ValueError("đường dẫn không chứa mã thủ tục (ma_thu_tuc=…)")
    return procedure


def _catalog_name(row: dict[str, str]) -> Procedure:
    procedure = parse_catalog_name(row)
    if procedure is None:
        raise ValueError("đường dẫn không chứa mã thủ tục (ma_thu_tuc=…)")
    return procedure


def _parse_row(i: int, parse: Any, raw: Any) -> tuple[int, Procedure | None, str]:
    try:
        procedure = parse(raw)
    except RecordRejected as error:
        return i, None, str(error)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        missing = f"thiếu trường {error}" if isinstance(error, KeyError) else str(error)
        return i, None, f"Không đọc được bản ghi: {missing}"
    if not procedure.code.strip() or len(procedure.code) > 64 or not procedure.name.strip():
        return i, None, MISSING_CODE_OR_NAME
    return i, procedure, ""


def plan(history: ProcedureHistory, content: bytes, kind: str) -> ImportReport:
    """What importing the file would change (nothing is written)."""
    rows: list[ImportRow] = []
    seen: dict[str, int] = {}
    for i, incoming, reason in parse_file(content, kind):
        if incoming is None:
            rows.append(ImportRow(i, "", "", "rejected", reason=reason))
            continue
        code, name = incoming.code, incoming.name
        if code in seen:
            rows.append(ImportRow(i, code, name, "rejected", reason=f"Trùng mã với bản ghi thứ {seen[code]} của tệp."))
            continue
        seen[code] = i
        existing = history.store.procedure(code)
        if existing is None and name == code:
            reason = "Trang chi tiết của một thủ tục chưa có trong kho: thiếu tên thủ tục."
            rows.append(ImportRow(i, code, name, "rejected", reason=reason))
            continue
        if existing is None:
            rows.append(ImportRow(i, code, name, "new", record=incoming))
            continue
        if name == code:  # a detail page takes the stored record's name
            incoming = replace(incoming, name=existing.name)
        if incoming.detail.rank < existing.detail.rank:
            reason = f"Bản ghi ít chi tiết hơn bản đang có ({incoming.detail.value} < {existing.detail.value})."
            rows.append(ImportRow(i, code, name, "rejected", reason=reason))
            continue
        merged = replace(
            incoming,
            popularity=max(incoming.popularity, existing.popularity),
            aliases=list(dict.fromkeys([*incoming.aliases, *existing.aliases])),
            retired=existing.retired,
        )
        changes = [c["field"] for c in diff(existing.to_dict(), merged.to_dict())]
        outcome = "changed" if changes else "unchanged"
        record = merged if changes else None
        rows.append(ImportRow(i, code, name, outcome, changes, record=record, base_etag=etag(existing.to_dict())))
    return ImportReport(rows)


def apply(history: ProcedureHistory, report: ImportReport, username: str) -> ImportReport:
    """Write the new and changed records of a plan, each as a version of its own."""
    for row in report.rows:
        if row.record is None:
            continue
        try:
            if row.outcome == "new":
                history.create(row.record, username, action="import")
            else:
                history.change(row.record, row.base_etag, username, action="import")
        except (AlreadyExists, Conflict):
            row.outcome, row.record = "rejected", None
            row.reason = "Thủ tục vừa được người khác thay đổi; hãy chạy lại bản xem trước."
    report.applied = True
    return report
