"""Ingestion of the real shared data and curated records, and the knowledge store."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from bot.ingest import (
    is_held_out,
    load_aliases,
    load_curated,
    load_faq_codes,
    load_faqs,
    load_procedures,
    merge_aliases,
    parse_national_record,
)
from bot.procedure import Detail, Document, Fee, Procedure, Section
from bot.settings import Settings
from bot.store import Faq, KnowledgeStore

# A copy count or a table header that must never become a document name.
NOT_A_DOCUMENT = re.compile(r"^(Bản chính\s*:|Bản sao\s*:|Số lượng$|Tên giấy tờ$|Bao gồm$|Mẫu đơn, tờ khai$)")


@pytest.fixture(scope="module")
def merged(shared_data: Path, real_settings: Settings) -> dict[str, Procedure]:
    return {p.code: p for p in load_procedures(shared_data, real_settings.curated_dir, real_settings.aliases_file)}


def catalogue_weights(data_dir: Path) -> dict[str, int]:
    weights: dict[str, int] = {}
    for name in ("portal_services_citizen.json", "portal_services_business.json"):
        for row in json.loads((data_dir / "catalog" / name).read_text(encoding="utf-8")):
            code = row["TTHC_MA"].strip()
            weights[code] = max(weights.get(code, 0), int(row.get("WEIGHT") or 0))
    return weights


def catalogue_codes(data_dir: Path) -> set[str]:
    codes = set(catalogue_weights(data_dir))
    with (data_dir / "catalog" / "procedure_names.csv").open(encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            if "ma_thu_tuc=" in row["Link"]:
                codes.add(row["Link"].split("ma_thu_tuc=")[1].split("&")[0])
    return codes


# ---- the real shared data -----------------------------------------------------------


def test_every_catalogue_procedure_is_loaded(merged: dict[str, Procedure], shared_data: Path) -> None:
    assert len(merged) >= 3800
    codes = catalogue_codes(shared_data)
    assert len(codes) >= 3800
    assert sorted(codes - merged.keys()) == []
    assert all(p.name and p.name != p.code for p in merged.values())


def test_names_lose_a_stray_mark_their_own_code_or_capitals(merged: dict[str, Procedure]) -> None:
    assert merged["1.012132"].name == "Thủ tục đăng ký nhãn hiệu"
    assert merged["1.010727"].name == "Cấp giấy phép môi trường (cấp Tỉnh)"
    assert merged["1.014163"].name == "Hưởng trợ cấp ốm đau"
    assert not [p.code for p in merged.values() if re.search(r"[-:;,]$|\(\s*\d\.\d{6}\s*\)$", p.name)]


def test_a_letter_lost_upstream_is_given_back_from_the_words_other_names_use(merged: dict[str, Procedure]) -> None:
    """Ten catalogue names carry U+FFFD where a bad decoding lost a letter; answers quote names."""
    assert merged["1.004363"].name == "Cấp Giấy chứng nhận đủ điều kiện buôn bán thuốc bảo vệ thực vật"
    assert merged["1.013260"].name.startswith("Điều chỉnh thông tin")  # a capital letter stays one
    # "đ\ufffd\ufffdu" fits "đâu", "đầu", "đều" …: the word used between the same neighbours wins.
    assert "(trừ nhà đầu tư nước ngoài" in merged["1.004915"].name
    assert not [p.code for p in merged.values() if "\ufffd" in p.name]


def test_national_record_is_parsed(merged: dict[str, Procedure]) -> None:
    p = merged["1.013124"]
    assert p.detail is Detail.NATIONAL_RECORD
    assert p.name.startswith("Thủ tục thẩm định và phê duyệt kế hoạch ứng phó sự cố tràn dầu")
    assert p.documents == [
        Document("Văn bản đề nghị thẩm định và phê duyệt kế hoạch ứng phó sự cố tràn dầu.", "01 bản chính"),
        Document(
            "Kế hoạch ứng phó sự cố tràn dầu theo mẫu quy định tại Phụ lục II ban hành kèm theo "
            "Quyết định số 12/2021/QĐ-TTg ngày 24/3/2021 của Thủ tướng Chính phủ",
            "01 bản chính",
        ),
    ]
    assert [s[:7] for s in p.steps] == ["Bước 1:", "Bước 2:", "Bước 3:"]
    assert p.legal_basis == [
        "Quyết định số 12/2021/QĐ-TTg ngày 24/3/2021 của Thủ tướng Chính phủ ban hành Quy chế hoạt động "
        "ứng phó với sự cố tràn dầu"
    ]
    assert p.fees == [Fee("Phí", 0)]
    assert p.section_text(Section.FEES) == "- Phí: miễn phí"
    assert p.processing_time == "30 ngày làm việc"
    assert p.channels == ["truc_tiep", "truc_tuyen", "buu_chinh"]
    assert p.where == ""  # "Không có thông tin" is no information
    assert p.level == "bộ"
    assert "6225/QĐ-BQP" in p.source


def test_fee_tiers_are_not_turned_into_a_different_online_fee(shared_data: Path) -> None:
    data = json.loads((shared_data / "procedures/national_records/1.013541.json").read_text(encoding="utf-8"))
    fees = parse_national_record(data).section_text(Section.FEES)
    for amount in ("2.000.000", "3.500.000", "4.000.000", "5.000.000"):
        assert amount in fees
    assert "nộp trực tuyến" not in fees  # both channels list the same four tiers


def test_detail_page_documents_are_names_not_copy_counts(merged: dict[str, Procedure]) -> None:
    p = merged["1.001442"]
    assert p.detail is Detail.DETAIL_PAGE
    assert p.name == "Thủ tục công nhận Doanh nghiệp ưu tiên"  # taken from the catalogue
    names = [d.name for d in p.documents]
    assert len(names) == 8
    assert names[0] == (
        "Báo cáo tình hình, thống kê số liệu xuất khẩu, nhập khẩu của doanh nghiệp trong 02 năm gần nhất"
    )
    assert not [n for n in names if NOT_A_DOCUMENT.match(n) or n.endswith((";", ".doc"))]
    copies = {d.name.split(",")[0].split(" đã")[0]: d.copies for d in p.documents}
    assert copies["Báo cáo tình hình"] == "01 bản chính"
    assert copies["Báo cáo tài chính"] == "01 bản sao"  # a count in a block of its own
    assert [s[:7] for s in p.steps] == ["Bước 1:", "Bước 2:", "Bước 3:", "Bước 4:"]
    assert p.processing_time.startswith("Thời gian xem xét công nhận doanh nghiệp ưu tiên không quá 45")
    assert p.agency == "Tổng cục Hải quan - Bộ tài chính"


def test_no_detail_page_yields_a_copy_count_as_a_document(merged: dict[str, Procedure]) -> None:
    pages = [p for p in merged.values() if p.detail is Detail.DETAIL_PAGE]
    assert len(pages) >= 80
    bad = [(p.code, d.name) for p in pages for d in p.documents if not d.name or NOT_A_DOCUMENT.match(d.name)]
    assert bad == []


def test_curated_records(real_settings: Settings, merged: dict[str, Procedure]) -> None:
    paths = sorted(real_settings.curated_dir.glob("*.json"))
    assert paths, f"no curated record in {real_settings.curated_dir}"
    records = list(load_curated(real_settings.curated_dir))
    assert len(records) == len(paths)
    for path, p in zip(paths, records, strict=True):
        where = path.name
        raw = json.loads(path.read_text(encoding="utf-8"))
        assert p.code == path.stem == raw["code"], where
        assert p.detail is Detail.CURATED, where
        assert raw["needs_review"] is True and p.needs_review, where
        assert date.fromisoformat(p.last_reviewed), where
        filled = [
            name
            for name, value in (
                ("documents", p.documents),
                ("fees", p.fees or p.fee_note),
                ("processing_time", p.processing_time),
            )
            if value
        ]
        unsourced = [name for name in filled if not p.sources.get(name, "").strip()]
        assert unsourced == [], f"{where}: filled without a source"
        assert merged[p.code].detail is Detail.CURATED, where  # the richest record wins the merge


def test_faq_split_is_a_stable_fifth(shared_data: Path) -> None:
    first = list(load_faqs(shared_data))
    assert len(first) >= 1000
    held_out = {f.faq_id for f in first if f.held_out}
    assert 0.15 <= len(held_out) / len(first) <= 0.25
    again = {f.faq_id for f in load_faqs(shared_data) if f.held_out}
    assert again == held_out
    assert all(is_held_out(i) == (i in held_out) for i in (f.faq_id for f in first))


def test_codes_an_faq_question_also_concerns_are_added_but_never_to_held_out_ones(
    shared_data: Path, real_settings: Settings, tmp_path: Path
) -> None:
    """"Nơi nào tiếp nhận hồ sơ làm thủ tục cấp, đổi, cấp lại thẻ Căn cước công dân?" is filed under the
    card's reissue only, and pulled "làm căn cước" to it."""
    extra = load_faq_codes(real_settings.faq_codes_file)
    assert extra[19370] == ["2.000200", "2.001195"]
    faqs = {f.faq_id: f for f in load_faqs(shared_data, extra)}
    portal = next(f for f in load_faqs(shared_data) if f.faq_id == 19370).codes
    assert "2.001194" in portal and "2.000200" not in portal
    assert faqs[19370].codes == [*portal, "2.000200", "2.001195"]  # the portal's first, each once
    assert load_faq_codes(tmp_path / "missing.json") == {}
    held_out = next(f.faq_id for f in faqs.values() if f.held_out)
    labels = tmp_path / "faq_codes.json"
    labels.write_text(json.dumps({str(held_out): ["1.000001"]}), encoding="utf-8")
    with pytest.raises(ValueError, match=str(held_out)):
        load_faq_codes(labels)


def test_richer_records_keep_the_catalogue_popularity(merged: dict[str, Procedure], shared_data: Path) -> None:
    weights = catalogue_weights(shared_data)
    richer = [code for code in weights if merged[code].detail is not Detail.CATALOG]
    assert len(richer) >= 10
    assert {code: merged[code].popularity for code in weights} == weights


def _write_small_data(root: Path) -> None:
    (root / "catalog").mkdir(parents=True)
    (root / "procedures" / "national_records").mkdir(parents=True)
    citizen = [
        {"TTHC_MA": "1.000001", "NAME": "Thủ tục A", "WEIGHT": "500"},
        {"TTHC_MA": "1.000002 ", "NAME": "Thủ tục B", "WEIGHT": "7"},
    ]
    business = [{"TTHC_MA": "1.000001", "NAME": "Thủ tục A", "WEIGHT": "900"}]
    (root / "catalog" / "portal_services_citizen.json").write_text(json.dumps(citizen), encoding="utf-8")
    (root / "catalog" / "portal_services_business.json").write_text(json.dumps(business), encoding="utf-8")
    (root / "catalog" / "procedure_names.csv").write_text(
        "\ufeffTên,Link\nThủ tục C,dvc-chi-tiet-thu-tuc-hanh-chinh.html?ma_thu_tuc=1.000003\n",
        encoding="utf-8",
    )
    page = (
        "link,trinhTuThucHien,cachThucThucHien,thanhPhanHoSo,coQuanThucHien,yeuCauDieuKienThucHien\n"
        '"https://dichvucong.gov.vn/p/home/dvc-chi-tiet-thu-tuc-hanh-chinh.html?ma_thu_tuc=1.000001",'
        '"Bước 1: Nộp. Bước 2: Nhận.","Trực tiếp\n05 ngày",'
        '"Bao gồm\n\nĐơn đề nghị\nBản chính: 1 - Bản sao: 0",'
        '"UBND cấp xã",""\n'
    )
    (root / "procedures" / "detail_pages_raw.csv").write_text(page, encoding="utf-8")


def test_merge_priority_and_popularity(tmp_path: Path) -> None:
    data, curated = tmp_path / "data", tmp_path / "curated"
    _write_small_data(data)
    curated.mkdir()
    (curated / "1.000002.json").write_text(
        json.dumps({"code": "1.000002", "name": "Thủ tục B (biên soạn)", "needs_review": True}),
        encoding="utf-8",
    )
    merged = {p.code: p for p in load_procedures(data, curated, tmp_path / "no-aliases.json")}
    assert sorted(merged) == ["1.000001", "1.000002", "1.000003"]
    a, b, c = merged["1.000001"], merged["1.000002"], merged["1.000003"]
    assert (a.detail, a.name, a.popularity) == (
        Detail.DETAIL_PAGE,
        "Thủ tục A",
        900,
    )  # best weight of both lists
    assert a.documents == [Document("Đơn đề nghị", "01 bản chính")]
    assert a.steps == ["Bước 1: Nộp.", "Bước 2: Nhận."]
    assert (a.processing_time, a.channels, a.agency) == ("05 ngày", ["truc_tiep"], "UBND cấp xã")
    assert (b.detail, b.name, b.popularity) == (Detail.CURATED, "Thủ tục B (biên soạn)", 7)
    assert (c.detail, c.name, c.popularity) == (Detail.CATALOG, "Thủ tục C", 0)

    # A curated record outranks a detail page, and still keeps the catalogue weight.
    (curated / "1.000001.json").write_text(
        json.dumps({"code": "1.000001", "name": "Thủ tục A (biên soạn)"}), encoding="utf-8"
    )
    a = {p.code: p for p in load_procedures(data, curated, tmp_path / "no-aliases.json")}["1.000001"]
    assert (a.detail, a.name, a.popularity) == (Detail.CURATED, "Thủ tục A (biên soạn)", 900)


def test_a_procedure_re_issued_under_a_new_code_retires_its_old_entry(tmp_path: Path) -> None:
    data, curated = tmp_path / "data", tmp_path / "curated"
    _write_small_data(data)
    curated.mkdir()
    (curated / "1.000009.json").write_text(
        json.dumps({"code": "1.000009", "name": "Thủ tục C (mã mới)", "former_codes": ["1.000003"]}),
        encoding="utf-8",
    )
    merged = {p.code: p for p in load_procedures(data, curated, tmp_path / "no-aliases.json")}
    assert merged["1.000003"].retired and not merged["1.000009"].retired
    assert merged["1.000009"].former_codes == ["1.000003"]


def test_the_criminal_record_extract_is_detailed_under_its_current_code(merged: dict[str, Procedure]) -> None:
    """Citizens' questions reach 3.000333 (the portal's most used code), so the hand-written
    record lives there; its former code 2.000488 is no longer served."""
    current = merged["3.000333"]
    assert current.detail is Detail.CURATED and current.former_codes == ["2.000488"]
    assert merged["2.000488"].retired


def test_of_a_name_listed_twice_the_code_used_on_the_portal_is_served_with_the_other_as_its_former_code(
    merged: dict[str, Procedure],
) -> None:
    """The civil cipher licence is listed as 2.001529 (the portal's questions are filed under it) and as
    1.013199 (used on the portal, with the national record): one procedure, re-issued."""
    current = merged["1.013199"]
    assert "2.001529" in current.former_codes and current.detail is Detail.NATIONAL_RECORD
    assert merged["2.001529"].retired and not current.retired
    # The unused entry has a detail page and the used one only its catalogue name: both are kept.
    assert not merged["1.003591"].retired and not merged["1.007651"].retired
    assert "1.003591" not in merged["1.007651"].former_codes


def test_of_a_name_listed_twice_and_used_under_neither_code_the_national_record_is_served(
    merged: dict[str, Procedure],
) -> None:
    """Military service registration on moving away: 1.001763 has only its catalogue name, 1.013134 the
    national database's record. The everyday names filed under the old code follow it."""
    current = merged["1.013134"]
    assert current.former_codes == ["1.001763"] and merged["1.001763"].retired
    assert "chuyển đăng ký nghĩa vụ quân sự đi nơi khác" in current.aliases
    # Two unused entries as detailed as each other (two detail pages): nothing tells which is current.
    assert not merged["1.000011"].retired and not merged["2.001679"].retired


# ---- aliases (knowledge/aliases.json) --------------------------------------------


def test_aliases_are_merged_into_the_procedures(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data, curated, aliases = tmp_path / "data", tmp_path / "curated", tmp_path / "aliases.json"
    _write_small_data(data)
    curated.mkdir()
    (curated / "1.000002.json").write_text(
        json.dumps({"code": "1.000002", "name": "Thủ tục B", "aliases": ["làm giấy B", "lam giay b"]}),
        encoding="utf-8",
    )
    aliases.write_text(
        json.dumps(
            {
                "1.000001": ["làm giấy A", " làm  giấy A ", "Làm Giấy A", "xin giấy A"],
                "1.000002": ["LÀM GIẤY B", "xin giấy B", "thủ tục b"],
                "9.999999": ["thủ tục không có trong danh mục"],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    with caplog.at_level("WARNING", logger="bot.ingest"):
        merged = {p.code: p for p in load_procedures(data, curated, aliases)}
    # The union with the curated aliases, in order; neither a repeat (case, spaces, diacritics aside) nor the name.
    assert merged["1.000001"].aliases == ["làm giấy A", "xin giấy A"]
    assert merged["1.000002"].aliases == ["làm giấy B", "lam giay b", "xin giấy B"]
    assert merged["1.000003"].aliases == []
    # A code naming no procedure is reported, not a crash.
    assert "9.999999" not in merged
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "9.999999" in caplog.text and "1.000001" not in caplog.text


def test_alias_file_is_optional_and_checked(tmp_path: Path) -> None:
    assert load_aliases(tmp_path / "missing.json") == {}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"1.000001": "làm giấy A"}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"1\.000001"):
        load_aliases(bad)
    procedure = Procedure("1.000001", "Thủ tục A", aliases=["làm A"])
    assert merge_aliases([procedure], {"1.000001": ["lam a", "xin A"], "2.000002": ["x"]}) == ["2.000002"]
    assert procedure.aliases == ["làm A", "xin A"]


def test_everyday_names_filed_under_a_former_code_go_to_the_procedure_served_now() -> None:
    old = Procedure("1.000001", "Thủ tục A", retired=True)
    current = Procedure("1.000009", "Thủ tục A", former_codes=["1.000001"])
    assert merge_aliases([old, current], {"1.000001": ["làm giấy A"]}) == []
    assert current.aliases == ["làm giấy A"] and old.aliases == []


def test_real_alias_file_names_procedures_of_the_shared_data(
    real_settings: Settings, merged: dict[str, Procedure]
) -> None:
    """Catalogue procedures and those of the national records (the doctor's licence, 1.013614, is only there)."""
    aliases = load_aliases(real_settings.aliases_file)
    assert aliases, f"no aliases in {real_settings.aliases_file}"
    assert sorted(aliases.keys() - merged.keys()) == []
    assert all(2 <= len(names) <= 8 for names in aliases.values())
    assert all(len(set(names)) == len(names) for names in aliases.values())


def test_ingest_merges_aliases_but_keeps_what_staff_edited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli import main
    from bot.staff.history import ProcedureHistory

    data, curated, aliases = tmp_path / "data", tmp_path / "curated", tmp_path / "aliases.json"
    _write_small_data(data)
    (data / "faq").mkdir()
    (data / "faq" / "portal_faq.jsonl").write_text("", encoding="utf-8")
    curated.mkdir()
    database_url = f"sqlite:///{tmp_path / 'knowledge.db'}"
    for name, value in (
        ("CITIZENBOT_DATABASE_URL", database_url),
        ("CITIZENBOT_SHARED_DATA", str(data)),
        ("CITIZENBOT_CURATED_DIR", str(curated)),
        ("CITIZENBOT_ALIASES", str(aliases)),
    ):
        monkeypatch.setenv(name, value)
    aliases.write_text(json.dumps({"1.000001": ["làm giấy A"], "1.000002": ["làm giấy B"]}), encoding="utf-8")
    assert main(["ingest"]) == 0
    store = KnowledgeStore(database_url)
    assert store.procedure("1.000001").aliases == ["làm giấy A"]
    history = ProcedureHistory(store)
    procedure, etag = history.current("1.000002")
    assert procedure.aliases == ["làm giấy B"]
    history.change(replace(procedure, aliases=["giấy B của phường"]), etag, "can-bo")

    aliases.write_text(
        json.dumps({"1.000001": ["làm giấy A", "xin giấy A"], "1.000002": ["làm giấy B", "xin giấy B"]}),
        encoding="utf-8",
    )
    assert main(["ingest"]) == 0
    store = KnowledgeStore(database_url)
    assert store.procedure("1.000001").aliases == ["làm giấy A", "xin giấy A"]
    assert store.procedure("1.000002").aliases == ["giấy B của phường"]  # as staff left it


# ---- the store ---------------------------------------------------------------------


def test_procedure_round_trip_and_update(store: KnowledgeStore, procedures: dict[str, Procedure]) -> None:
    assert [p.to_dict() for p in store.procedures()] == [procedures[c].to_dict() for c in sorted(procedures)]
    stored = store.procedure("1.004194")
    assert stored == procedures["1.004194"]
    assert isinstance(stored.fees[0], Fee) and isinstance(stored.documents[0], Document)
    assert store.procedure("9.999999") is None

    updated = replace(procedures["1.000894"], detail=Detail.CURATED, processing_time="03 ngày làm việc")
    retired = replace(procedures["1.003650"], retired=True)
    assert store.upsert_procedures([updated, retired]) == 2
    assert store.procedure("1.000894") == updated
    codes = [p.code for p in store.procedures()]
    assert "1.003650" not in codes and len(codes) == len(procedures) - 1
    assert store.procedure("1.003650").retired
    assert len(store.procedures(include_retired=True)) == len(procedures)
    assert store.counts() == {"procedures": {"curated": 4, "catalog": 2}, "faqs": 3}


def test_faq_outdated_mark_survives_a_reimport(store: KnowledgeStore) -> None:
    assert [f.faq_id for f in store.faqs(held_out=True)] == [3]
    assert [f.faq_id for f in store.faqs(held_out=False)] == [1, 2]
    assert store.mark_faq_outdated(2)
    assert not store.mark_faq_outdated(999)

    def reimport() -> list[Faq]:  # fresh entries, as `citizenbot ingest` reads them
        return [
            Faq(1, "Người thuê nhà trọ có phải đăng ký tạm trú không?", "Có (câu trả lời mới).", ["1.004194"]),
            Faq(2, "Đăng ký kết hôn cần mang theo giấy tờ gì?", "Tờ khai.", ["1.000894"]),
            Faq(4, "Câu hỏi mới", "Trả lời mới", ["2.000815"]),
        ]

    assert store.upsert_faqs(reimport()) == 3
    faqs = {f.faq_id: f for f in store.faqs()}
    assert sorted(faqs) == [1, 2, 3, 4]
    assert faqs[1].answer == "Có (câu trả lời mới)."
    assert {i: f.outdated for i, f in faqs.items()} == {1: False, 2: True, 3: False, 4: False}

    assert store.mark_faq_outdated(2, outdated=False)
    store.upsert_faqs(reimport())
    assert not [f for f in store.faqs() if f.outdated]


def test_faq_reimport_leaves_the_callers_entries_alone(store: KnowledgeStore) -> None:
    store.mark_faq_outdated(1)
    entry = Faq(1, "Người thuê nhà trọ có phải đăng ký tạm trú không?", "Có.", ["1.004194"])
    store.upsert_faqs([entry])
    assert store.faqs()[0].outdated
    assert entry.outdated is False
    store.mark_faq_outdated(1, outdated=False)
    store.upsert_faqs([entry])
    assert not store.faqs()[0].outdated


def test_unanswered_questions_are_logged_and_listed(store: KnowledgeStore) -> None:
    assert store.unanswered() == []
    store.log_unanswered("xin giấy phép nuôi chim yến", "low_confidence", 0.12, ["1.003650", "2.000815"])
    store.log_unanswered("thủ tục cấp sổ đỏ", "low_confidence", 0.05, [])
    listed = store.unanswered()
    assert [(q.question, q.reason, q.candidates) for q in listed] == [
        ("thủ tục cấp sổ đỏ", "low_confidence", []),
        ("xin giấy phép nuôi chim yến", "low_confidence", ["1.003650", "2.000815"]),
    ]
    assert listed[1].confidence == pytest.approx(0.12)
    assert listed[0].asked_at >= listed[1].asked_at
    assert [q.question for q in store.unanswered(limit=1)] == ["thủ tục cấp sổ đỏ"]


def test_store_creates_the_folder_of_its_database(tmp_path: Path) -> None:
    database = tmp_path / "nested" / "var" / "kb.db"
    KnowledgeStore(f"sqlite:///{database}").upsert_procedures([Procedure("1.000001", "Thủ tục A")])
    assert database.is_file()
    assert [p.name for p in KnowledgeStore(f"sqlite:///{database}").procedures()] == ["Thủ tục A"]


def test_reingesting_the_sources_keeps_what_staff_edited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli import main
    from bot.staff.history import ProcedureHistory

    database_url = f"sqlite:///{tmp_path / 'knowledge.db'}"
    monkeypatch.setenv("CITIZENBOT_DATABASE_URL", database_url)
    assert main(["ingest"]) == 0
    history = ProcedureHistory(KnowledgeStore(database_url))
    procedure, etag = history.current("1.004194")
    history.change(replace(procedure, fee_note="Mức thu mới theo nghị quyết của tỉnh"), etag, "can-bo")

    assert main(["ingest"]) == 0
    assert KnowledgeStore(database_url).procedure("1.004194").fee_note == "Mức thu mới theo nghị quyết của tỉnh"
    assert KnowledgeStore(database_url).procedure("1.001193").fee_note  # the others are ingested as before
