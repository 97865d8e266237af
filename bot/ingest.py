"""Load procedures and FAQ entries from the shared data and the curated records.

Sources, from least to most detailed (a richer record replaces a poorer one
with the same code, keeping the catalogue's usage weight):
- the portal catalogues (code + name + usage weight),
- 80 raw procedure detail pages (parsed here),
- 207 records from the national procedure database's Word exports,
- hand-written records in ``knowledge/procedures/`` (with legal sources).

``knowledge/aliases.json`` then adds the everyday names citizens use for a
procedure (``{"<code>": ["tên gọi khác", ...]}``) to its ``aliases``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

from bot.procedure import Detail, Document, Fee, Procedure, by_national_code
from bot.store import Faq
from bot.text import clean, folded_key

NO_INFO = {"", "không có thông tin", "không", "không quy định"}
CHANNELS = {"trực tiếp": "truc_tiep", "trực tuyến": "truc_tuyen", "dịch vụ bưu chính": "buu_chinh"}
HELD_OUT_PERCENT = 20

log = logging.getLogger(__name__)

_CODE_IN_LINK = re.compile(r"ma_thu_tuc=([\d.]+)")
_STEP_SPLIT = re.compile(r"(?=Bước\s*\d+\s*[:.])")
_FEE_AMOUNT = re.compile(r"^(Lệ phí|Phí)\s*:\s*([\d.]+|không)\s*Đồng\s*(.*)$", re.IGNORECASE | re.DOTALL)
_COPIES = re.compile(r"Bản chính:\s*(\d+)\s*-?\s*Bản sao:\s*(\d+)")


def _value(text: str | None) -> str:
    text = clean(text or "")
    return "" if text.lower().rstrip(".") in NO_INFO else text


def _copies(text: str) -> str:
    match = _COPIES.search(text.replace("\n", " "))
    if not match:
        return ""
    parts = []
    if int(match.group(1)):
        parts.append(f"{int(match.group(1)):02d} bản chính")
    if int(match.group(2)):
        parts.append(f"{int(match.group(2)):02d} bản sao")
    return ", ".join(parts)


def _steps(text: str) -> list[str]:
    text = _value(text)
    if not text:
        return []
    parts = [clean(p) for p in _STEP_SPLIT.split(text)]
    return [p for p in parts if p]


# ---- catalogue --------------------------------------------------------------


PORTAL = "Cổng Dịch vụ công quốc gia"
# A few catalogue names end in a stray mark ("Thủ tục đăng ký nhãn hiệu -") or repeat their own code
# ("Cấp giấy phép môi trường (cấp Tỉnh) ( 1.010727 )"); answers quote the name and cite the code apart.
_TRAILING_MARKS = re.compile(r"[\s:;,\-–]+$")
_TRAILING_CODE = re.compile(r"\s*\(\s*\d\.\d{6}\s*\)$")


def procedure_name(text: str) -> str:
    name = _TRAILING_MARKS.sub("", _TRAILING_CODE.sub("", clean(text)))
    letters = [c for c in name if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) > 0.6 * len(letters):
        # A couple are in capitals ("HƯỞNG TRỢ CẤP ỐM ĐAU"), which an answer should not shout.
        name = name[0] + name[1:].lower()
    return name


def parse_catalog_service(row: dict[str, Any]) -> Procedure:
    """A row of the portal's service catalogue (TTHC_MA, NAME, WEIGHT)."""
    return Procedure(
        code=row["TTHC_MA"].strip(),
        name=procedure_name(row["NAME"]),
        popularity=int(row.get("WEIGHT") or 0),
        source=PORTAL,
    )


def parse_catalog_name(row: dict[str, str]) -> Procedure | None:
    """A row of procedure_names.csv (Tên, Link); None when the link names no procedure code."""
    match = _CODE_IN_LINK.search(row["Link"])
    return Procedure(code=match.group(1), name=procedure_name(row["Tên"]), source=PORTAL) if match else None


def load_catalog(data_dir: Path) -> dict[str, Procedure]:
    procedures: dict[str, Procedure] = {}
    for name in ("portal_services_citizen.json", "portal_services_business.json"):
        for row in json.loads((data_dir / "catalog" / name).read_text(encoding="utf-8")):
            procedure = parse_catalog_service(row)
            if procedure.code in procedures:
                known = procedures[procedure.code]
                known.popularity = max(known.popularity, procedure.popularity)
            else:
                procedures[procedure.code] = procedure
    with (data_dir / "catalog" / "procedure_names.csv").open(encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            named = parse_catalog_name(row)
            if named and named.code not in procedures:
                procedures[named.code] = named
    return procedures


# ---- national procedure database records ------------------------------------


def _national_fees(rows: list[dict[str, str]]) -> tuple[list[Fee], str]:
    by_channel: dict[str, tuple[str, int | None, str]] = {}
    for row in rows:
        text = clean(row.get("phi_le_phi", ""))
        if not text:
            continue
        match = _FEE_AMOUNT.match(text)
        # A cell listing several amounts (tiers, cases) is prose: quote it, never pick one.
        if match and text.lower().count("đồng") == 1:
            amount = 0 if match.group(2).lower() == "không" else int(match.group(2).replace(".", ""))
            by_channel[row["hinh_thuc"].lower()] = (match.group(1), amount, clean(match.group(3)))
        else:
            by_channel[row["hinh_thuc"].lower()] = ("Phí, lệ phí", None, text)
    if not by_channel:
        return [], ""
    kind, amount, note = by_channel.get("trực tiếp") or next(iter(by_channel.values()))
    online = by_channel.get("trực tuyến")
    if amount is None:
        return [], note  # amounts written as prose: quote them rather than parse them
    if note.startswith("(") and note.endswith(")"):
        note = note[1:-1]
    fee = Fee(name=kind, amount_vnd=amount, note=note.strip())
    if online and online[1] is not None and online[1] != amount:
        fee.online_amount_vnd = online[1]
    return [fee], ""


def _channel_time(rows: list[dict[str, str]], channel: str) -> str:
    for row in rows:
        if row["hinh_thuc"].lower() == channel:
            return _value(row.get("thoi_han_giai_quyet")).replace(" Ngày", " ngày").replace(" Giờ", " giờ")
    return ""


def parse_national_record(data: dict[str, Any]) -> Procedure:
    meta, content, tables = data["metadata"], data["content"], data["tables"]
    ways = tables.get("hinh_thuc_nop", [])
    fees, fee_note = _national_fees(ways)
    direct_time = _channel_time(ways, "trực tiếp")
    online_time = _channel_time(ways, "trực tuyến")
    return Procedure(
        code=data["thu_tuc_id"],
        name=procedure_name(meta["tên_thủ_tục"]),
        detail=Detail.NATIONAL_RECORD,
        field=_value(meta.get("lĩnh_vực")),
        agency=_value(content.get("cơ_quan_thực_hiện")),
        level=_value(meta.get("cấp_thực_hiện")).replace("Cấp ", "").lower(),
        who=_value(content.get("đối_tượng_thực_hiện")),
        channels=[CHANNELS[w["hinh_thuc"].lower()] for w in ways if w["hinh_thuc"].lower() in CHANNELS],
        where=_value(content.get("địa_chỉ_tiếp_nhận_hs")),
        processing_time=direct_time or online_time,
        processing_time_online=online_time if online_time != direct_time else "",
        fees=fees,
        fee_note=fee_note,
        documents=[
            Document(name=clean(d["ten_giay_to"]), copies=_copies(d.get("ghi_chu", "")))
            for d in tables.get("thanh_phan_ho_so", [])
            if clean(d.get("ten_giay_to", ""))
        ],
        steps=_steps(content.get("trình_tự_thực_hiện", "")),
        result=_value(content.get("kết_quả_thực_hiện")),
        conditions=_value(content.get("yêu_cầu_điều_kiện_thực_hiện")),
        legal_basis=[clean(b["trich_yeu"]) for b in tables.get("can_cu_phap_ly", []) if clean(b["trich_yeu"])],
        source=f"CSDL quốc gia về thủ tục hành chính ({_value(meta.get('số_quyết_định')) or data['source_file']})",
    )


def load_national_records(data_dir: Path) -> Iterator[Procedure]:
    for path in sorted((data_dir / "procedures" / "national_records").glob("*.json")):
        yield parse_national_record(json.loads(path.read_text(encoding="utf-8")))


# ---- raw detail pages -------------------------------------------------------


def _blocks(text: str) -> list[list[str]]:
    """Split a flattened HTML table into blocks of non-empty lines."""
    blocks, current = [], []
    for line in text.splitlines():
        line = line.strip()
        if line:
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _page_documents(text: str) -> list[Document]:
    documents: list[Document] = []
    for block in _blocks(text):
        if block[0] in {"Bao gồm", "Tên giấy tờ"} or block[-1] == "Số lượng":
            continue
        if _COPIES.fullmatch(block[0]):
            # A document without a form file puts its copy count in a block of its own.
            if documents and not documents[-1].copies:
                documents[-1].copies = _copies(block[0])
            continue
        copies = _copies(block[-1]) if _COPIES.search(block[-1]) else ""
        documents.append(Document(name=clean(block[0]).rstrip(";"), copies=copies))
    return documents


def _page_ways(text: str) -> tuple[list[str], str, str]:
    """Channels, processing time and fee text from the 'cách thức thực hiện' table."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    channels, time, fee = [], "", ""
    for i, line in enumerate(lines):
        key = line.lower()
        if key in CHANNELS:
            if CHANNELS[key] not in channels:
                channels.append(CHANNELS[key])
            following = lines[i + 1 : i + 3]
            if not time and following and following[0].lower() not in CHANNELS:
                time = clean(following[0])
            for candidate in following[1:]:
                if not fee and ("phí" in candidate.lower() or "đồng" in candidate.lower()):
                    fee = clean(candidate)
    return channels, time, fee


def parse_detail_page(row: dict[str, str], names: dict[str, Procedure]) -> Procedure | None:
    match = _CODE_IN_LINK.search(row["link"])
    if not match:
        return None
    code = match.group(1)
    channels, time, fee = _page_ways(row.get("cachThucThucHien", ""))
    base = names.get(code)
    return Procedure(
        code=code,
        name=base.name if base else code,
        detail=Detail.DETAIL_PAGE,
        agency=_value(row.get("coQuanThucHien")),
        channels=channels,
        processing_time=time,
        fee_note=fee,
        documents=_page_documents(row.get("thanhPhanHoSo", "")),
        steps=_steps(row.get("trinhTuThucHien", "")) or [_value(row.get("trinhTuThucHien"))],
        conditions=_value(row.get("yeuCauDieuKienThucHien")),
        source="Trang chi tiết thủ tục trên Cổng Dịch vụ công quốc gia",
    )


def load_detail_pages(data_dir: Path, names: dict[str, Procedure]) -> Iterator[Procedure]:
    with (data_dir / "procedures" / "detail_pages_raw.csv").open(encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            procedure = parse_detail_page(row, names)
            if procedure:
                yield procedure


# ---- curated records --------------------------------------------------------


def parse_curated(data: dict[str, Any]) -> Procedure:
    """A hand-written record (the format of knowledge/procedures/)."""
    return Procedure.from_dict({**data, "detail": Detail.CURATED})


def load_curated(curated_dir: Path) -> Iterator[Procedure]:
    for path in sorted(curated_dir.glob("*.json")):
        yield parse_curated(json.loads(path.read_text(encoding="utf-8")))


# ---- aliases ---------------------------------------------------------------


def load_aliases(path: Path) -> dict[str, list[str]]:
    """The alias file: national code -> everyday names; no file means no aliases."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected an object mapping procedure codes to lists of aliases")
    aliases: dict[str, list[str]] = {}
    for code, names in data.items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"{path}: the aliases of {code} must be a list of strings")
        aliases[code.strip()] = [clean(n) for n in names if clean(n)]
    return aliases


def merge_aliases(procedures: Iterable[Procedure], aliases: dict[str, list[str]]) -> list[str]:
    """Add the aliases to the procedures they name, in place: the union with the procedure's own
    aliases, in order, without one already there (or equal to the name). Those filed under a code since
    re-issued go to the procedure served under the new one (``by_national_code``, as the FAQ's do).
    Returns the codes that name no procedure served."""
    by_code = by_national_code([p for p in procedures if not p.retired])
    unknown = []
    for code, names in aliases.items():
        procedure = by_code.get(code)
        if procedure is None:
            unknown.append(code)
            continue
        seen = {folded_key(procedure.name), *map(folded_key, procedure.aliases)}
        added = []
        for name in names:
            key = folded_key(name)
            if key and key not in seen:
                seen.add(key)
                added.append(name)
        procedure.aliases = [*procedure.aliases, *added]
    return unknown


# ---- FAQ --------------------------------------------------------------------


def is_held_out(faq_id: int) -> bool:
    """A stable 20 % split: held-out questions are for evaluation, never indexed."""
    digest = hashlib.sha256(str(faq_id).encode()).digest()
    return digest[0] * 100 // 256 < HELD_OUT_PERCENT


def load_faq_codes(path: Path) -> dict[int, list[str]]:
    """Codes an FAQ question also concerns that the portal did not list ({"<faq_id>": ["<code>", …]}); no file
    means none. A held-out question's codes are the evaluation's labels: they stay as the portal gave them."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(
        isinstance(codes, list) and all(isinstance(c, str) for c in codes) for codes in data.values()
    ):
        raise ValueError(f"{path}: expected an object mapping FAQ ids to lists of procedure codes")
    extra = {int(faq_id): [c.strip() for c in codes] for faq_id, codes in data.items()}
    held_out = sorted(faq_id for faq_id in extra if is_held_out(faq_id))
    if held_out:
        raise ValueError(f"{path}: held-out FAQ questions keep the portal's codes: {held_out}")
    return extra


def load_faqs(data_dir: Path, extra_codes: dict[int, list[str]] | None = None) -> Iterator[Faq]:
    """The portal's FAQ, each question with its codes and the ``extra_codes`` listed for it."""
    with (data_dir / "faq" / "portal_faq.jsonl").open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            faq_id = int(row["faq_id"])
            yield Faq(
                faq_id=faq_id,
                question=clean(row["question"]),
                answer=clean(row["official_answer"]),
                codes=list(dict.fromkeys([*row["tthc_codes"], *(extra_codes or {}).get(faq_id, [])])),
                ministry=clean(row.get("ministry", "")),
                url=row.get("url", ""),
                held_out=is_held_out(faq_id),
            )


# ---- everything -------------------------------------------------------------


# A few catalogue names lost a letter to a bad decoding upstream: "Cấp Giấy chứng nhận \ufffd\ufffdủ điều kiện …"
# (U+FFFD, one or more for the one letter). Answers quote names, so each such word is given back the letter
# that makes it a word the other names use, the one used most between the same neighbours if several do.
_LOST_LETTER = "\ufffd"


def _repair_lost_letters(procedures: Iterable[Procedure]) -> None:
    procedures = list(procedures)
    damaged = [p for p in procedures if _LOST_LETTER in p.name]
    if not damaged:
        return
    sound = [p.name.split() for p in procedures if _LOST_LETTER not in p.name]
    used = Counter(w.lower() for name in sound for w in name)
    pairs = Counter((a.lower(), b.lower()) for name in sound for a, b in pairwise(name))
    for procedure in damaged:
        name = procedure.name.split()
        for i, word in enumerate(name):
            if _LOST_LETTER not in word:
                continue
            pattern = re.compile(re.sub(f"{_LOST_LETTER}+", ".", re.escape(word.lower())))
            fits = [w for w in used if pattern.fullmatch(w)]
            if fits:
                before = name[i - 1].lower() if i else ""
                after = name[i + 1].lower() if i + 1 < len(name) else ""
                best = max(fits, key=lambda w: (pairs[before, w] + pairs[w, after], used[w]))
                name[i] = best[0].upper() + best[1:] if word[0].isupper() else best
        procedure.name = " ".join(name)
        log.info("%s: a letter lost upstream given back: %s", procedure.code, procedure.name)


def _link_reissued_twins(merged: dict[str, Procedure]) -> None:
    """A name the catalogue lists under several codes is one procedure re-issued under a new code, while the
    portal's questions are still filed under the old ones. Its current code (``_current_twin``) is served,
    the others become its former codes (not served, their questions count for it)."""
    by_name: defaultdict[str, list[Procedure]] = defaultdict(list)
    for procedure in merged.values():
        if not procedure.retired:
            by_name[procedure.name.casefold().strip()].append(procedure)
    for twins in by_name.values():
        current = _current_twin(twins) if len(twins) > 1 else None
        if current is not None:
            others = [p.code for p in twins if p is not current]
            current.former_codes = list(dict.fromkeys([*current.former_codes, *others]))


def _current_twin(twins: list[Procedure]) -> Procedure | None:
    """The one code of a name used on the portal ("1.013199" of "2.001529", the civil cipher licence) or,
    when none is used, the one with the most detailed record: the national database's where the others
    have only their catalogue name ("1.013134" of "1.001763", military service registration on moving away).
    None when nothing tells: several used, an unused one with the more detailed record, or none used and
    several as detailed."""
    used = [p for p in twins if p.popularity > 0]
    most_detailed = max(p.detail.rank for p in twins)
    if len(used) == 1:
        return used[0] if used[0].detail.rank == most_detailed else None
    richest = [p for p in twins if p.detail.rank == most_detailed]
    return richest[0] if not used and len(richest) == 1 else None


def _retire_former_codes(merged: dict[str, Procedure]) -> None:
    """The sources' entry under a code a procedure no longer has is kept, retired, not dropped: a
    database filled by an earlier release holds that code too, and must stop serving it."""
    for procedure in merged.values():
        for former in procedure.former_codes:
            old = merged.get(former)
            if old is not None and old is not procedure:
                old.retired = True


def load_procedures(data_dir: Path, curated_dir: Path, aliases_file: Path) -> list[Procedure]:
    """All procedures, the most detailed record winning for each code and the entries under a
    procedure's former codes retired, with the everyday names of ``aliases_file`` (none if it does
    not exist) added to their aliases. A code of that file naming
    no procedure is reported as a warning.

    Staff edits are not this function's business: ``citizenbot ingest`` leaves the procedures staff
    changed as they are, aliases included."""
    merged = load_catalog(data_dir)
    richer = [
        *load_detail_pages(data_dir, merged),
        *load_national_records(data_dir),
        *load_curated(curated_dir),
    ]
    for procedure in richer:
        current = merged.get(procedure.code)
        if current and current.detail.rank > procedure.detail.rank:
            continue
        if current:
            procedure.popularity = max(procedure.popularity, current.popularity)
        merged[procedure.code] = procedure
    _repair_lost_letters(merged.values())
    _link_reissued_twins(merged)
    _retire_former_codes(merged)
    unknown = merge_aliases(merged.values(), load_aliases(aliases_file))
    if unknown:
        log.warning(
            "%s: %d code(s) name no known procedure, their aliases are ignored: %s",
            aliases_file,
            len(unknown),
            ", ".join(sorted(unknown)),
        )
    return sorted(merged.values(), key=lambda p: p.code)
