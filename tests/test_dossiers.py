"""The dossier store: import, status wording, and the ownership check with its lockout."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import DOSSIER_FIXTURE, DOSSIER_NOW, HELPDESK, Clock

from bot import cli
from bot.dossier_import import parse_records, read_export
from bot.dossiers import (
    LOCK_DURATION,
    MAX_FAILURES,
    NATIONAL_STATUS,
    Dossier,
    DossierStore,
    Status,
    StatusLookup,
    mask_name,
    status_text,
)
from bot.settings import LOCAL_TIME

IGATE = "Hệ thống thông tin giải quyết thủ tục hành chính tỉnh Quảng Ngãi"

# code, check (last 4 of the phone), state on DOSSIER_NOW, words the reply must carry
FIXTURE_DOSSIERS = [
    ("000.00.21.H48-261122-0031", "1201", Status.REGISTERED, ["chờ cán bộ kiểm tra và tiếp nhận"]),
    ("000.00.53.H48-261120-0008", "2302", Status.RECEIVED, ["đã được tiếp nhận ngày 20/11/2026", "04/12/2026"]),
    ("000.00.21.H48-261116-0012", "3403", Status.PROCESSING, ["đang được xử lý", "14/12/2026"]),
    ("000.00.21.H48-261118-0020", "4504", Status.SUPPLEMENT_REQUESTED, ["bổ sung", "hợp đồng thuê nhà"]),
    ("000.20.53.H48-261119-0045", "5605", Status.PAYMENT_REQUESTED, ["nghĩa vụ tài chính", "Nộp lệ phí"]),
    ("000.00.21.H48-261110-0033", "6706", Status.PAUSED, ["tạm dừng", "chưa có kết quả", "cơ quan thuế"]),
    ("000.00.53.H48-261105-0017", "7807", Status.EXTENDED, ["gia hạn", "chưa có kết quả", "27/11/2026", "xin lỗi"]),
    ("000.00.21.H48-261117-0005", "8908", Status.RESULT_READY, ["đã có kết quả", "nhận kết quả tại", "Công an"]),
    ("000.00.00.H48-261112-0026", "9009", Status.RESULT_READY, ["đã có kết quả", "bưu chính", "Hùng Vương"]),
    ("000.00.21.H48-261103-0040", "0110", Status.DELIVERED, ["đã trả kết quả ngày 04/11/2026"]),
    ("000.00.53.H48-261102-0011", "1211", Status.RETURNED, ["trả lại", "không được giải quyết", "ủy quyền"]),
    ("000.00.21.H48-261109-0015", "1312", Status.WITHDRAWN, ["đã được rút theo yêu cầu"]),
    ("000.00.21.H48-261106-0009", "1413", Status.OVERDUE, ["quá hạn", "18/11/2026", "xin lỗi", HELPDESK]),
]
# Said of a finished dossier only.
DONE_WORDS = ["đã có kết quả", "đã trả kết quả", "đã xử lý xong", "hoàn thành", "hoàn tất", "xong"]


@pytest.fixture
def lookup(dossier_store: DossierStore) -> StatusLookup:
    return StatusLookup(dossier_store, HELPDESK)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL_TIME)


# ---- the fixture and the format ----------------------------------------------------------


def test_fixture_has_a_dossier_in_every_status(dossier_store: DossierStore) -> None:
    states = {dossier_store.get(code).state(DOSSIER_NOW) for code, *_ in FIXTURE_DOSSIERS}  # type: ignore[union-attr]
    assert states == set(Status)
    assert dossier_store.count() == len(FIXTURE_DOSSIERS)


def test_fixture_is_written_in_the_canonical_import_format(dossier_store: DossierStore) -> None:
    for record in json.loads(DOSSIER_FIXTURE.read_text("utf-8")):
        stored = dossier_store.get(record["code"])
        assert stored is not None
        assert stored.to_dict() == record
        assert Dossier.from_dict(stored.to_dict()) == stored


def test_national_portal_status_codes_and_names_map(shared_data: Path) -> None:
    vocab = json.loads((shared_data / "dossier_status_vocab.json").read_text("utf-8"))[
        "national_dvcqg_sync_TrangThaiHoSo"
    ]
    codes = {int(k): v for k, v in vocab.items() if k.isdigit()}
    assert set(codes) == set(NATIONAL_STATUS) == set(range(1, 11))
    base = json.loads(DOSSIER_FIXTURE.read_text("utf-8"))[2]
    for number, name in codes.items():
        for written in (str(number), name, name.upper()):
            record = {**base, "history": [{**base["history"][0], "status": written}]}
            parsed = parse_records([("test", record)])
            assert parsed.errors == [], (written, parsed.errors)
            assert parsed.dossiers[0].status is NATIONAL_STATUS[number], written


# ---- wording -----------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "check", "state", "words"), FIXTURE_DOSSIERS, ids=[c[2] for c in FIXTURE_DOSSIERS])
def test_each_status_is_worded_with_source_time_and_masked_name(
    dossier_store: DossierStore, code: str, check: str, state: Status, words: list[str]
) -> None:
    dossier = dossier_store.get(code)
    assert dossier is not None and dossier.state(DOSSIER_NOW) is state
    text = status_text(dossier, DOSSIER_NOW, HELPDESK)
    for word in words:
        assert word in text, word
    event = dossier.last_event
    local = event.at.astimezone(LOCAL_TIME)
    assert text.endswith(f"Nguồn: {event.system}, cập nhật lúc {local:%H:%M} ngày {local:%d/%m/%Y}.")
    assert dossier.applicant_name not in text
    assert f"người nộp {mask_name(dossier.applicant_name)}:" in text
    assert len(text) < 700


def test_exact_wording_of_a_dossier_in_progress(dossier_store: DossierStore) -> None:
    dossier = dossier_store.get("000.00.21.H48-261116-0012")
    assert dossier is not None
    assert status_text(dossier, DOSSIER_NOW, HELPDESK) == (
        "Hồ sơ 000.00.21.H48-261116-0012 (Cấp đổi Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn "
        "liền với đất), người nộp Phạm M. Đ.: đang được xử lý, hẹn trả kết quả ngày 14/12/2026.\n"
        f"Nguồn: {IGATE}, cập nhật lúc 14:30 ngày 17/11/2026."
    )


@pytest.mark.parametrize("code", ["000.00.21.H48-261110-0033", "000.00.53.H48-261105-0017"], ids=["paused", "extended"])
def test_paused_or_extended_dossier_is_never_called_done(dossier_store: DossierStore, code: str) -> None:
    dossier = dossier_store.get(code)
    assert dossier is not None
    for now in (DOSSIER_NOW, DOSSIER_NOW + timedelta(days=60)):  # before and after every due date
        text = status_text(dossier, now, HELPDESK).lower()
        assert "chưa có kết quả" in text
        for word in DONE_WORDS:
            assert word not in text.replace("chưa có kết quả", ""), word


def test_overdue_is_computed_against_now(dossier_store: DossierStore) -> None:
    processing = dossier_store.get("000.00.21.H48-261116-0012")
    extended = dossier_store.get("000.00.53.H48-261105-0017")
    paused = dossier_store.get("000.00.21.H48-261110-0033")
    delivered = dossier_store.get("000.00.21.H48-261103-0040")
    assert processing and extended and paused and delivered
    assert processing.state(at("2026-12-14T16:59")) is Status.PROCESSING
    assert processing.state(at("2026-12-14T17:01")) is Status.OVERDUE
    # An extended dossier is late only after its new date, and then apologises again.
    assert extended.state(at("2026-11-27T12:00")) is Status.EXTENDED
    late = at("2026-11-30T09:00")
    assert extended.state(late) is Status.OVERDUE
    text = status_text(extended, late, HELPDESK)
    assert "quá hạn trả kết quả 3 ngày (hẹn ngày 27/11/2026)" in text and "xin lỗi" in text
    # Waiting on the citizen, paused or finished dossiers are never "late".
    assert paused.state(late) is Status.PAUSED
    assert delivered.state(late) is Status.DELIVERED


def test_name_is_masked_also_in_staff_free_text(dossier_store: DossierStore) -> None:
    dossier = dossier_store.get("000.00.53.H48-261102-0011")
    assert dossier is not None
    dossier = replace(dossier, returned_reason=f"Ông {dossier.applicant_name.upper()} không có văn bản ủy quyền")
    text = status_text(dossier, DOSSIER_NOW, HELPDESK)
    assert "Huỳnh" in text and "HUỲNH VĂN TÀI" not in text and "Ông Huỳnh V. T. không có văn bản ủy quyền" in text


@pytest.mark.parametrize(
    ("name", "masked"),
    [("Nguyễn Văn An", "Nguyễn V. A."), ("Trần  Thị   Bích Ngọc", "Trần T. B. N."), ("Ánh", "Á."), ("", "(không rõ)")],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


# ---- import --------------------------------------------------------------------------------

CSV_HEADER = (
    "code,procedure_code,procedure_name,applicant_name,phone,id_number,channel,received_at,due_at,"
    "status,status_at,status_note,system,supplement_request,pause_reason,extended_due_at,apology_letter,"
    "result_delivery,result_place,returned_reason\n"
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


def test_csv_rows_of_one_code_make_its_history(tmp_path: Path) -> None:
    rows = (
        "000 00 21 H48 261120 0101,1.004194,Đăng ký tạm trú,Nguyễn Văn An,0905000101,,Trực tuyến,"
        "20/11/2026 08:00,25/11/2026,Được tiếp nhận,20/11/2026 08:00,,iGate,,,,,,,\n"
        "000.00.21.H48-261120-0101,1.004194,Đăng ký tạm trú,Nguyễn Văn An,0905000101,,Trực tuyến,"
        "20/11/2026 08:00,25/11/2026,5,21/11/2026 09:00,Thiếu giấy tờ,iGate,Hợp đồng thuê nhà,,,,,,\n"
    )
    result = read_export(write(tmp_path / "export.csv", "\ufeff" + CSV_HEADER + rows))
    assert result.errors == [] and result.records == 2
    (dossier,) = result.dossiers
    assert dossier.code == "000.00.21.H48-261120-0101"
    assert [e.status for e in dossier.history] == [Status.RECEIVED, Status.SUPPLEMENT_REQUESTED]
    assert dossier.supplement_request == "Hợp đồng thuê nhà"
    assert dossier.due_at == at("2026-11-25T23:59:59")  # a date alone: the end of that day
    assert dossier.channel.value == "online"


def test_semicolon_separated_csv(tmp_path: Path) -> None:
    header = CSV_HEADER.replace(",", ";")
    row = (
        "000.00.21.H48-261120-0102;1.004194;Đăng ký tạm trú;Lê Thị B;0905000102;;1;2026-11-20T08:00;"
        "2026-11-25T17:00;dang xu ly;2026-11-21T08:00;;iGate;;;;;;;\n"
    )
    result = read_export(write(tmp_path / "export.csv", header + row))
    assert result.errors == []
    assert result.dossiers[0].status is Status.PROCESSING


def test_bad_records_are_reported_and_the_rest_imported(tmp_path: Path) -> None:
    good = json.loads(DOSSIER_FIXTURE.read_text("utf-8"))[2]
    bad = [
        ({**good, "code": "HS-12345"}, "is not a dossier code"),
        ({**good, "code": "000.00.21.H48-261120-0201", "due_at": "31/02/2026"}, "due_at"),
        (
            {**good, "code": "000.00.21.H48-261120-0202", "history": [{**good["history"][0], "status": "xong rồi"}]},
            "unknown status",
        ),
        (
            {**good, "code": "000.00.21.H48-261120-0203", "history": [{**good["history"][0], "status": "Trễ hạn"}]},
            "computed",
        ),
        ({**good, "code": "000.00.21.H48-261120-0204", "phone": "12", "id_number": ""}, "4 digits"),
        (
            {**good, "code": "000.00.21.H48-261120-0205", "history": [{**good["history"][0], "status": "extended"}]},
            "extension",
        ),
        ({**good, "code": "000.00.21.H48-261120-0206", "due_at": "2026-01-01T00:00:00+07:00"}, "before received_at"),
        (
            {**good, "code": "000.00.21.H48-261120-0207", "history": [{**good["history"][0], "system": ""}]},
            "system is missing",
        ),
        ({**good, "code": "000.00.21.H48-261120-0208", "applicant_name": {"x": 1}}, "must be text"),
        ("not a dossier", "not an object"),
    ]
    export = write(tmp_path / "export.json", json.dumps([good, *(record for record, _ in bad)], ensure_ascii=False))
    result = read_export(export)
    assert [d.code for d in result.dossiers] == [good["code"]]
    assert len(result.errors) == len(bad)
    for error, (_, reason) in zip(result.errors, bad, strict=True):
        assert reason in error.reason, (error, reason)
    assert [e.where for e in result.errors] == [f"record {i}" for i in range(2, len(bad) + 2)]


def test_reimport_adds_history_and_loses_nothing(dossier_store: DossierStore, clock: Clock) -> None:
    code = "000.00.21.H48-261118-0020"  # waiting for a supplement
    record = json.loads(DOSSIER_FIXTURE.read_text("utf-8"))[3]
    assert record["code"] == code
    newer = {
        **record,
        "phone": "0983 444 504",
        "supplement_request": "",  # the newer export leaves it empty
        "history": [{"at": "2026-11-24T08:00:00+07:00", "status": "processing", "system": IGATE, "note": ""}],
    }
    counts = dossier_store.upsert(parse_records([("x", newer)]).dossiers)
    assert (counts.created, counts.updated) == (0, 1)
    dossier = dossier_store.get(code)
    assert dossier is not None
    assert [e.status for e in dossier.history] == [
        Status.RECEIVED,
        Status.PROCESSING,
        Status.SUPPLEMENT_REQUESTED,
        Status.PROCESSING,
    ]
    assert dossier.status is Status.PROCESSING
    assert dossier.supplement_request.startswith("Bản sao giấy tờ chứng minh chỗ ở hợp pháp")
    # Importing an older export again changes nothing: the newest event stays the status.
    dossier_store.upsert(read_export(DOSSIER_FIXTURE).dossiers)
    assert dossier_store.get(code) == dossier


# ---- ownership check and lockout --------------------------------------------------------------


def test_right_check_tells_the_status(lookup: StatusLookup) -> None:
    reply = lookup.lookup("000.00.53.H48-261105-0017", "7807", "conv-1")
    assert reply.outcome == "verified"
    assert reply.status == "extended"
    assert reply.source == IGATE
    assert reply.updated_at == at("2026-11-10T16:00")
    assert reply.text.startswith("Hồ sơ 000.00.53.H48-261105-0017")


def test_id_number_digits_also_prove_ownership(lookup: StatusLookup) -> None:
    assert lookup.lookup("000.00.53.H48-261120-0008", "số căn cước đuôi 9876", "c").outcome == "verified"


def test_code_and_check_in_one_message(lookup: StatusLookup) -> None:
    reply = lookup.lookup("ho so 000.00.21.H48-261116-0012 so dt cuoi ba bốn không ba", "", "c")
    assert (reply.outcome, reply.status) == ("verified", "processing")


def test_spoken_code_without_diacritics(lookup: StatusLookup) -> None:
    code = (
        "khong khong khong cham khong khong cham hai mot cham hat bon tam gach hai sau, muoi mot, muoi bay "
        "gach khong khong khong nam"
    )
    assert lookup.lookup(code, "tam chin khong tam", "c").outcome == "verified"


def test_a_code_said_by_its_date_and_sequence_part(lookup: StatusLookup, dossier_store: DossierStore) -> None:
    assert dossier_store.codes_received("261116-0012") == ["000.00.21.H48-261116-0012"]
    assert dossier_store.codes_received("261116-9999") == []
    assert dossier_store.codes_received("%") == []
    reply = lookup.lookup_received("261116-0012", "3403", "conv-r")
    assert (reply.outcome, reply.dossier_code) == ("verified", "000.00.21.H48-261116-0012")
    # A wrong check and an unknown part get the reply and the counting of a wrong check.
    wrong = lookup.lookup_received("261116-0012", "0000", "conv-r1")
    unknown = lookup.lookup_received("261116-9999", "3403", "conv-r2")
    assert wrong.outcome == unknown.outcome == "not_verified"
    assert wrong.text == unknown.text and wrong.attempts_left == unknown.attempts_left == MAX_FAILURES - 1


def test_the_same_part_at_two_agencies_goes_to_the_owner(lookup: StatusLookup, dossier_store: DossierStore) -> None:
    original = dossier_store.get("000.00.21.H48-261116-0012")
    twin = replace(original, code="000.00.53.H48-261116-0012", phone="0911 000 777")
    dossier_store.upsert([twin])
    assert lookup.lookup_received("261116-0012", "0777", "c1").dossier_code == twin.code
    assert lookup.lookup_received("261116-0012", "3403", "c2").dossier_code == original.code


def test_unknown_code_and_wrong_check_get_the_same_answer(lookup: StatusLookup) -> None:
    wrong_check = lookup.lookup("000.00.21.H48-261116-0012", "0000", "conversation-a")
    unknown_code = lookup.lookup("000.00.21.H48-261116-9999", "3403", "conversation-b")
    assert wrong_check.outcome == unknown_code.outcome == "not_verified"
    assert wrong_check.text == unknown_code.text
    assert wrong_check.attempts_left == unknown_code.attempts_left == MAX_FAILURES - 1
    assert wrong_check.status is wrong_check.source is wrong_check.updated_at is None


def test_five_wrong_checks_lock_the_code_for_fifteen_minutes(lookup: StatusLookup, clock: Clock) -> None:
    code = "000.00.21.H48-261116-0012"
    lefts = [lookup.lookup(code, "0000", f"conversation-{i}").attempts_left for i in range(MAX_FAILURES)]
    assert lefts == [4, 3, 2, 1, 0]
    # Locked for everyone, even with the right check, whatever the conversation.
    reply = lookup.lookup(code, "3403", "someone-else")
    assert reply.outcome == "locked"
    assert "15 phút" in reply.text and HELPDESK in reply.text
    clock.advance(minutes=10)
    assert "5 phút" in lookup.lookup(code, "3403", "someone-else").text
    # Other codes are not locked.
    assert lookup.lookup("000.00.21.H48-261118-0020", "4504", "someone-else").outcome == "verified"
    clock.advance(minutes=5, seconds=1)
    assert lookup.lookup(code, "3403", "someone-else").outcome == "verified"


def test_five_failures_in_one_conversation_lock_the_conversation(lookup: StatusLookup, clock: Clock) -> None:
    for i in range(MAX_FAILURES - 1):
        assert lookup.lookup(f"000.00.21.H48-2611{10 + i}-7777", "1234", "probing").outcome == "not_verified"
    last = lookup.lookup("000.00.21.H48-261115-7777", "1234", "probing")
    assert (last.outcome, last.attempts_left) == ("locked", 0)
    # The conversation is locked, for any code and before any parsing.
    assert lookup.lookup("000.00.21.H48-261116-0012", "3403", "probing").outcome == "locked"
    assert lookup.lookup("not a code", "", "probing").outcome == "locked"
    # Another conversation may still ask about those codes.
    assert lookup.lookup("000.00.21.H48-261116-0012", "3403", "honest").outcome == "verified"
    clock.advance(seconds=LOCK_DURATION.total_seconds() + 1)
    assert lookup.lookup("000.00.21.H48-261116-0012", "3403", "probing").outcome == "verified"


def test_lockout_state_is_shared_through_the_database(dossier_store: DossierStore, clock: Clock) -> None:
    # Two workers: two stores, two lookups, one database.
    worker_a = StatusLookup(dossier_store, HELPDESK)
    worker_b = StatusLookup(DossierStore(str(dossier_store.engine.url), clock), HELPDESK)
    code = "000.00.21.H48-261116-0012"
    for i in range(MAX_FAILURES):
        worker = worker_a if i % 2 else worker_b
        worker.lookup(code, "0000", f"c{i}")
    assert worker_a.lookup(code, "3403", "x").outcome == "locked"
    assert worker_b.lookup(code, "3403", "y").outcome == "locked"


def test_success_clears_the_code_failures_and_old_failures_expire(lookup: StatusLookup, clock: Clock) -> None:
    code = "000.00.21.H48-261116-0012"
    for _ in range(MAX_FAILURES - 1):
        lookup.lookup(code, "0000", "a")
    assert lookup.lookup(code, "3403", "b").outcome == "verified"
    assert lookup.lookup(code, "0000", "c").attempts_left == MAX_FAILURES - 1
    clock.advance(hours=25)  # failures from yesterday no longer count
    assert lookup.lookup(code, "0000", "c").attempts_left == MAX_FAILURES - 1


@pytest.mark.parametrize("code_text", ["", "hồ sơ của tôi", "000.00.21.H48-261332-0012", "x" * 200])
def test_invalid_code_asks_again_without_counting(lookup: StatusLookup, code_text: str) -> None:
    for _ in range(MAX_FAILURES + 1):
        reply = lookup.lookup(code_text, "1234", "conv")
        assert reply.outcome == "invalid_code"
        assert "000.00.21.H48-231005-0012" in reply.text
    assert lookup.lookup("000.00.21.H48-261116-0012", "3403", "conv").outcome == "verified"


@pytest.mark.parametrize("check_text", ["", "không nhớ", "12", "1234 hay 5678"])
def test_invalid_check_asks_for_the_four_digits(lookup: StatusLookup, check_text: str) -> None:
    reply = lookup.lookup("000.00.21.H48-261116-0012", check_text, "conv")
    assert reply.outcome == "invalid_check"
    assert reply.dossier_code == "000.00.21.H48-261116-0012"
    assert "4 số cuối" in reply.text


# ---- the staff commands ---------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CITIZENBOT_DATABASE_URL", url)
    monkeypatch.setenv("CITIZENBOT_NOW", DOSSIER_NOW.isoformat())
    return url


def test_cli_import_dry_run_then_import(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["dossiers", "import", str(DOSSIER_FIXTURE), "--dry-run"]) == 0
    assert "Would import 13 dossiers" in capsys.readouterr().out
    assert DossierStore(cli_env).count() == 0
    assert cli.main(["dossiers", "import", str(DOSSIER_FIXTURE)]) == 0
    assert "Imported 13 dossiers from 13 records" in capsys.readouterr().out
    assert DossierStore(cli_env).count() == 13
    assert cli.main(["dossiers", "import", str(DOSSIER_FIXTURE)]) == 0
    assert "(0 new, 13 updated)" in capsys.readouterr().out


def test_cli_reports_bad_rows_and_unreadable_files(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = json.loads(DOSSIER_FIXTURE.read_text("utf-8"))
    records[1]["channel"] = "fax"
    export = write(tmp_path / "export.json", json.dumps(records, ensure_ascii=False))
    assert cli.main(["dossiers", "import", str(export)]) == 1
    out, err = capsys.readouterr()
    assert "Imported 12 dossiers" in out and "1 records rejected" in out
    assert "record 2 (000.00.53.H48-261120-0008): unknown channel 'fax'" in err
    assert cli.main(["dossiers", "import", str(write(tmp_path / "broken.json", "[{"))]) == 2
    assert cli.main(["dossiers", "import", str(tmp_path / "missing.csv")]) == 2


def test_cli_show_is_the_staff_view(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["dossiers", "import", str(DOSSIER_FIXTURE)])
    capsys.readouterr()
    assert cli.main(["dossiers", "show", "000 00 53 H48 261105 0017"]) == 0
    out = capsys.readouterr().out
    assert "Bùi Văn Nam" in out and "0399 777 807" in out  # staff see everything
    assert "extended (Gia hạn)" in out and "2026-11-27 17:00" in out
    assert "người nộp Bùi V. N.: được gia hạn" in out  # and what citizens are told
    assert cli.main(["dossiers", "show", "000.00.21.H48-261231-9999"]) == 2
