"""The fee engine: amounts per copy, exemptions and reductions as data, online prices and times."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import HELPDESK
from hypothesis import given
from hypothesis import strategies as st

from bot.fees import (
    CountingRule,
    FeeEngine,
    FeePolicies,
    FeePolicy,
    OnlineTimeRule,
    UnitTier,
    asked_quantity,
    expected_online_time,
)
from bot.ingest import load_curated
from bot.procedure import Detail, Fee, Procedure
from bot.settings import LOCAL_TIME, Settings

TODAY = datetime(2026, 11, 23, 9, 0, tzinfo=LOCAL_TIME)


@pytest.fixture(scope="module")
def curated(real_settings: Settings) -> dict[str, Procedure]:
    return {p.code: p for p in load_curated(real_settings.curated_dir)}


@pytest.fixture(scope="module")
def policies(real_settings: Settings) -> FeePolicies:
    return FeePolicies.load(real_settings.fee_policies_file)


def engine_at(policies: FeePolicies, moment: datetime = TODAY) -> FeeEngine:
    return FeeEngine(policies, HELPDESK, lambda: moment)


@pytest.fixture(scope="module")
def engine(policies: FeePolicies) -> FeeEngine:
    return engine_at(policies)


def made_up(fees: list[Fee], **fields: object) -> Procedure:
    """A small record written in the test."""
    values: dict[str, object] = {
        "code": "9.000001",
        "name": "Thủ tục thử nghiệm",
        "detail": Detail.CURATED,
        "channels": ["truc_tiep", "truc_tuyen_toan_trinh"],
        "processing_time": "10 ngày làm việc kể từ ngày nhận đủ hồ sơ",
        "fees": fees,
        "legal_basis": ["Thông tư thử nghiệm số 1/2026/TT-BTC"],
        "sources": {"fees": "Thông tư thử nghiệm số 1/2026/TT-BTC, Điều 2"},
        "last_reviewed": "2026-11-23",
    }
    values.update(fields)
    return Procedure(**values)  # type: ignore[arg-type]


def policy(**fields: object) -> FeePolicy:
    values: dict[str, object] = {
        "id": "thu",
        "kind": "reduction",
        "procedures": frozenset({"9.000001"}),
        "fees": (),
        "percent": 50,
        "legal_basis": "Nghị quyết thử nghiệm",
        "needs_review": True,
    }
    values.update(fields)
    return FeePolicy(**values)  # type: ignore[arg-type]


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


# ---- the policy data -------------------------------------------------------------------------


def test_policy_data_concerns_real_fees_of_curated_procedures(
    policies: FeePolicies, curated: dict[str, Procedure], real_settings: Settings
) -> None:
    raw = json.loads(real_settings.fee_policies_file.read_text("utf-8"))
    for entry, loaded in zip(raw["policies"], policies.policies, strict=True):
        assert "amount_vnd" not in json.dumps(entry), "amounts come from the procedure records only"
        assert loaded.legal_basis or loaded.needs_review, f"{loaded.id}: no legal basis must mean needs_review"
        for code in loaded.procedures:
            assert code in curated, f"{loaded.id}: unknown procedure {code}"
            procedure = curated[code]
            assert any(loaded.concerns(procedure, fee) for fee in procedure.fees), f"{loaded.id}: no fee of {code}"
    for rule in policies.counting:
        assert rule.legal_basis
        for code in rule.procedures:
            names = [f.name for f in curated[code].fees]
            for tier in rule.tiers:
                assert any(rule.tier(fee) == tier for fee in curated[code].fees), (tier, names)


def test_malformed_policies_are_refused(tmp_path: Path) -> None:
    for bad in (
        {"id": "a", "kind": "gift", "procedures": ["1.0"]},
        {"id": "b", "kind": "reduction", "procedures": ["1.0"]},
        {"id": "c", "kind": "reduction", "percent": 150, "procedures": ["1.0"]},
        {"id": "d", "kind": "exemption", "procedures": []},
        {"id": "e", "kind": "exemption", "procedures": ["1.0"], "valid_to": "31/12/2026"},
    ):
        path = tmp_path / "policies.json"
        path.write_text(json.dumps({"policies": [bad]}), "utf-8")
        with pytest.raises(ValueError, match=f"'{bad['id']}'"):
            FeePolicies.load(path)


# ---- amounts ------------------------------------------------------------------------------


def test_three_copies_of_an_extract(engine: FeeEngine, curated: dict[str, Procedure]) -> None:
    procedure = curated["2.000635"]
    text = engine.answer(procedure, "3 bản sao trích lục hết bao nhiêu")
    assert "8.000 đồng/bản sao/sự kiện hộ tịch × 3 = 24.000 đồng" in text
    assert engine.quote(procedure, "3 bản sao trích lục hết bao nhiêu").total() == 24_000
    # The exemption in force for people with a level-2 electronic ID, with its basis.
    assert "định danh điện tử mức độ 2" in text and "Thông tư 117/2026/TT-BTC" in text
    assert last_line(text).startswith(f"Nguồn: thủ tục “{procedure.name}”, mã 2.000635; căn cứ: Thông tư 281/2016")


def test_copies_given_by_the_caller(engine: FeeEngine, curated: dict[str, Procedure]) -> None:
    text = engine.fee_text(curated["1.001193"], "bản sao giấy khai sinh bao nhiêu tiền", copies=2)
    assert "Phí cấp bản sao Giấy khai sinh: 8.000 đồng/bản × 2 = 16.000 đồng." in text


def test_online_is_cheaper_for_temporary_residence(engine: FeeEngine, curated: dict[str, Procedure]) -> None:
    text = engine.answer(curated["1.004194"], "nộp online có rẻ hơn không")
    assert text.startswith("Có, nộp trực tuyến được thu mức thấp hơn.")
    assert "15.000 đồng/lần đăng ký.\n  Nộp trực tuyến: 7.000 đồng/lần đăng ký." in text
    # Said at the counter: no online line.
    counter = engine.fee_text(curated["1.004194"], "đăng ký tạm trú bao nhiêu tiền", online=False)
    assert "Nộp trực tuyến" not in counter and "15.000 đồng" in counter


def test_on_time_birth_registration_is_free(engine: FeeEngine, curated: dict[str, Procedure]) -> None:
    procedure = curated["1.001193"]
    text = engine.answer(procedure, "đăng ký khai sinh cho con mới sinh hết bao nhiêu tiền")
    assert (
        "- Lệ phí đăng ký khai sinh: miễn phí (khi đăng ký khai sinh đúng hạn (trong 60 ngày kể từ ngày sinh); " in text
    )
    assert "Luật Hộ tịch số 60/2014/QH13, Điều 11 khoản 1 điểm b" in text
    (line, *_) = engine.quote(procedure, "khai sinh cho bé mới sinh").lines
    assert (line.amount, line.online_amount) == (0, 0)
    # Without saying it is on time: the amount stays unknown and the exemption is a condition.
    text = engine.answer(procedure, "làm giấy khai sinh mất bao nhiêu tiền")
    assert "- Lệ phí đăng ký khai sinh: chưa có mức thu cụ thể." in text
    assert (
        "- Lệ phí đăng ký khai sinh: miễn khi đăng ký khai sinh đúng hạn (trong 60 ngày kể từ ngày sinh) (Luật" in text
    )
    assert f"bạn vui lòng hỏi {HELPDESK}" in text


def test_unknown_amounts_are_never_made_up(engine: FeeEngine, curated: dict[str, Procedure]) -> None:
    text = engine.answer(curated["1.001612"], "nộp online có rẻ hơn không")
    assert "- Lệ phí đăng ký hộ kinh doanh: chưa có mức thu cụ thể." in text
    assert "chưa xác nhận được văn bản áp dụng" in text
    assert text.startswith("Tỉnh có chủ trương giảm lệ phí cho hồ sơ nộp trực tuyến, nhưng chưa xác nhận")
    assert not re.search(r"\d đồng", text)
    assert HELPDESK in text


QUESTIONS = [
    "hết bao nhiêu tiền",
    "nộp online có rẻ hơn không",
    "3 bản sao hết bao nhiêu",
    "5 trang bao nhiêu",
    "sinh viên có được giảm không",
    "con mới sinh, hộ nghèo, đúng hạn",
    "nộp qua vneid bằng tài khoản định danh mức 2",
]


def test_every_amount_said_comes_from_the_record(engine: FeeEngine, curated: dict[str, Procedure]) -> None:
    """Each 'N đồng' in an answer is in the record's own text or computed from its amounts."""
    for procedure in curated.values():
        record_text = json.dumps(procedure.to_dict(), ensure_ascii=False)
        written = {int(n.replace(".", "")) for n in re.findall(r"\d{1,3}(?:\.\d{3})+|\d+", record_text)}
        for question in QUESTIONS:
            quote = engine.quote(procedure, question)
            computed = {0}
            for line in quote.lines:
                for amount in (line.amount, line.online_amount):
                    if amount is not None:
                        computed |= {amount, amount * line.units}
            total = quote.total()
            computed |= {total} if total is not None else set()
            for fee in procedure.fees:
                for base in (fee.amount_vnd, fee.online_amount_vnd):
                    if base is not None:
                        computed |= {base * (100 - p.percent) // 100 for p in engine.policies.policies}
            text = engine.answer(procedure, question)
            said = {int(n.replace(".", "")) for n in re.findall(r"(\d{1,3}(?:\.\d{3})*) đồng", text)}
            assert said <= written | computed, (procedure.code, question, said - written - computed)
            assert last_line(text).startswith(f"Nguồn: thủ tục “{procedure.name}”, mã {procedure.code}")


def test_reductions_hold_only_while_in_force(policies: FeePolicies, curated: dict[str, Procedure]) -> None:
    id_card = curated["2.001194"]
    assert engine_at(policies).quote(id_card).lines[0].amount == 35_000
    assert engine_at(policies, datetime(2027, 1, 1, 8, tzinfo=LOCAL_TIME)).quote(id_card).lines[0].amount == 70_000
    passport = curated["1.001456"]
    assert engine_at(policies).quote(passport).lines[0].amount == 200_000
    assert engine_at(policies, datetime(2025, 10, 1, tzinfo=LOCAL_TIME)).quote(passport).lines[0].amount == 100_000
    # The local date decides: 31/12/2026 23:30 in Vietnam is still in force.
    late_evening = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert engine_at(policies, late_evening).quote(id_card).lines[0].amount == 35_000
    text = engine_at(policies).answer(id_card, "làm lại căn cước hết bao nhiêu")
    assert "35.000 đồng/thẻ (giảm 50%, đến hết 31/12/2026; Thông tư số 64/2025/TT-BTC)" in text


def test_reduction_for_some_people_applies_when_the_question_says_so(
    engine: FeeEngine, curated: dict[str, Procedure]
) -> None:
    record = curated["3.000333"]
    assert engine.quote(record, "xin phiếu lý lịch tư pháp").lines[0].amount == 200_000
    assert engine.quote(record, "em là sinh viên xin phiếu lý lịch tư pháp").lines[0].amount == 100_000
    assert engine.quote(record, "người cao tuổi xin phiếu lý lịch tư pháp").lines[0].amount == 0
    text = engine.answer(record, "phiếu lý lịch tư pháp bao nhiêu tiền")
    assert (
        "- Phí cung cấp thông tin lý lịch tư pháp: giảm 50% cho sinh viên, người có công với cách mạng, thân nhân "
        "liệt sĩ (Thông tư số 244/2016/TT-BTC)." in text
    )


@pytest.mark.parametrize(
    ("question", "copies", "total"),
    [
        ("chứng thực 1 trang hết bao nhiêu", None, 2_000),
        ("chứng thực 5 trang hết bao nhiêu", None, 2 * 2_000 + 3 * 1_000),
        ("chứng thực bản sao bao nhiêu tiền", 3, 2 * 2_000 + 1_000),
        ("chứng thực một trăm trang", 100, 2 * 2_000 + 98 * 1_000),
    ],
)
def test_page_tiers(engine: FeeEngine, curated: dict[str, Procedure], question: str, copies: int, total: int) -> None:
    record = curated["2.000815"]
    assert engine.quote(record, question, copies).total() == total


def test_cap_and_tiers_in_the_answer(curated: dict[str, Procedure]) -> None:
    record = curated["2.000815"]
    rule = CountingRule(
        frozenset({"2.000815"}),
        "trang",
        (UnitTier("trang thu nhat va thu hai", 1, 2), UnitTier("tu trang thu ba", 3)),
        5_000,
        "Thông tư số 226/2016/TT-BTC, Điều 4 khoản 1",
    )
    capped = FeeEngine(FeePolicies(counting=(rule,)), HELPDESK, lambda: TODAY)
    text = capped.answer(record, "chứng thực 10 trang hết bao nhiêu")
    assert "2.000 đồng/trang × 2 = 4.000 đồng" in text and "1.000 đồng/trang × 8 = 8.000 đồng" in text
    assert "Tổng cộng: 5.000 đồng (mức tối đa)." in text
    one_page = capped.answer(record, "chứng thực 1 trang")
    assert "từ trang thứ ba" not in one_page and "Tổng cộng" not in one_page


def test_extra_criminal_record_copies(engine: FeeEngine, curated: dict[str, Procedure]) -> None:
    record = curated["3.000333"]
    assert "5.000 đồng/Phiếu × 1 = 5.000 đồng" in engine.answer(record, "xin 3 phiếu lý lịch tư pháp bao nhiêu")
    assert "in thêm" not in engine.answer(record, "xin 2 phiếu lý lịch tư pháp bao nhiêu").lower()


def test_unconfirmed_policy_is_said_but_never_applied() -> None:
    record = made_up([Fee("Lệ phí thử", 100_000, None, "lần")])
    unconfirmed = FeeEngine(FeePolicies((policy(online_only=True, legal_basis=""),)), HELPDESK, lambda: TODAY)
    (line,) = unconfirmed.quote(record).lines
    assert (line.amount, line.online_amount) == (100_000, 100_000)
    text = unconfirmed.answer(record, "nộp trực tuyến có rẻ hơn không")
    assert "- Giảm 50% khi nộp trực tuyến (chưa xác nhận được văn bản áp dụng)." in text
    confirmed = FeeEngine(FeePolicies((policy(online_only=True),)), HELPDESK, lambda: TODAY)
    (line,) = confirmed.quote(record).lines
    assert (line.amount, line.online_amount) == (100_000, 50_000)
    text = confirmed.answer(record, "nộp trực tuyến có rẻ hơn không")
    assert text.startswith("Có, nộp trực tuyến được thu mức thấp hơn.")
    assert "Nộp trực tuyến: 50.000 đồng/lần (giảm 50% khi nộp trực tuyến; Nghị quyết thử nghiệm)." in text
    assert "Nghị quyết thử nghiệm" in last_line(text)


def test_record_without_fees_says_so(engine: FeeEngine) -> None:
    text = engine.answer(made_up([]), "hết bao nhiêu tiền")
    assert "chưa có thông tin về phí, lệ phí" in text and HELPDESK in text
    assert last_line(text).startswith("Nguồn: thủ tục “Thủ tục thử nghiệm”, mã 9.000001")


@pytest.mark.parametrize(
    ("question", "quantity"),
    [
        ("3 bản sao trích lục hết bao nhiêu", (3, "ban")),
        ("ba bản sao", (3, "ban")),
        ("mười hai trang", (12, "trang")),
        ("xin 2 phiếu", (2, "phieu")),
        ("hai muoi ban", (20, "ban")),
        ("500 bản", (None, None)),
        ("khai sinh bao nhiêu tiền", (None, None)),
    ],
)
def test_asked_quantity(question: str, quantity: tuple[int | None, str | None]) -> None:
    assert asked_quantity(question) == quantity


# ---- properties of the amounts --------------------------------------------------------------------

amounts = st.none() | st.integers(0, 10**9)


@st.composite
def fees_with_online_price(draw: st.DrawFn) -> Fee:
    amount = draw(amounts)
    online = draw(st.none() | st.integers(0, amount if amount is not None else 10**9))
    per = draw(st.sampled_from(["", "bản", "trang", "lần", "Phiếu"]))
    return Fee(draw(st.sampled_from(["Lệ phí cấp", "Phí bản sao", "Lệ phí đăng ký"])), amount, online, per)


@st.composite
def any_policy(draw: st.DrawFn) -> FeePolicy:
    kind = draw(st.sampled_from(["exemption", "reduction"]))
    valid_from = draw(st.none() | st.dates(date(2025, 1, 1), date(2027, 12, 31)))
    conditional = draw(st.booleans())
    return policy(
        id=f"p{draw(st.integers(0, 10**6))}",
        kind=kind,
        percent=100 if kind == "exemption" else draw(st.integers(1, 100)),
        fees=tuple(draw(st.lists(st.sampled_from(["le phi", "ban sao", "dang ky"]), max_size=2))),
        legal_basis=draw(st.sampled_from(["", "Nghị quyết thử nghiệm"])),
        online_only=draw(st.booleans()),
        condition="cho sinh viên" if conditional else "",
        cues=("sinh viên",) if conditional else (),
        valid_from=valid_from,
        valid_to=draw(st.none() | st.dates(valid_from or date(2025, 1, 1), date(2028, 12, 31))),
    )


@given(
    st.lists(fees_with_online_price(), min_size=1, max_size=4),
    st.lists(any_policy(), max_size=4),
    st.sampled_from(["hết bao nhiêu", "em là sinh viên", "nộp online 3 bản", "5 trang bao nhiêu", ""]),
    st.none() | st.integers(1, 100),
)
def test_amounts_are_never_negative_online_never_dearer_and_policies_never_raise_a_fee(
    fees: list[Fee], rules: list[FeePolicy], question: str, copies: int | None
) -> None:
    record = made_up(fees)
    plain = FeeEngine(FeePolicies(), HELPDESK, lambda: TODAY).quote(record, question, copies)
    quote = FeeEngine(FeePolicies(tuple(rules)), HELPDESK, lambda: TODAY).quote(record, question, copies)
    for line, base in zip(quote.lines, plain.lines, strict=True):
        for amount, without in ((line.amount, base.amount), (line.online_amount, base.online_amount)):
            assert amount is None or amount >= 0
            assert amount is None or without is None or amount <= without  # exemptions, reductions only lower
        if line.amount is not None and line.online_amount is not None:
            assert line.online_amount <= line.amount
    for online in (False, True):
        total, without = quote.total(online), plain.total(online)
        assert total is None or total >= 0
        assert total is None or without is None or total <= without
    if quote.total() is not None and quote.total(online=True) is not None:
        assert quote.total(online=True) <= quote.total()  # type: ignore[operator]


# ---- processing time ----------------------------------------------------------------------------


def test_how_long_for_temporary_residence(engine: FeeEngine, curated: dict[str, Procedure]) -> None:
    text = engine.answer(curated["1.004194"], "bao lâu thì có kết quả")
    assert text.startswith("Thời hạn giải quyết thủ tục “Đăng ký tạm trú”:\n03 ngày làm việc")
    assert "Nộp trực tuyến: dự kiến không quá 02 ngày làm việc (tỉnh rút ngắn ít nhất 20%" in text
    assert "đang chờ cán bộ xác nhận" in text
    assert last_line(text).startswith("Nguồn: thủ tục “Đăng ký tạm trú”, mã 1.004194; căn cứ: Luật Cư trú")


def test_online_time_written_in_the_record_wins(engine: FeeEngine) -> None:
    record = made_up(
        [], processing_time_online="05 ngày làm việc", sources={"processing_time_online": "Quyết định thử"}
    )
    text = engine.time_text(record)
    assert "Nộp trực tuyến: 05 ngày làm việc" in text and "dự kiến" not in text
    assert "Quyết định thử" in last_line(text)


def test_procedure_not_submitted_online(engine: FeeEngine) -> None:
    text = engine.time_text(made_up([], channels=["truc_tiep"]))
    assert "chưa ghi nhận cách nộp trực tuyến" in text and "dự kiến" not in text


def test_missing_time_says_so(engine: FeeEngine) -> None:
    text = engine.answer(made_up([], processing_time=""), "mất bao lâu")
    assert "chưa có thông tin về thời hạn giải quyết" in text and HELPDESK in text


@pytest.mark.parametrize(
    ("statutory", "online"),
    [
        ("03 ngày làm việc kể từ ngày nhận đủ hồ sơ", "không quá 02 ngày làm việc"),
        ("08 ngày làm việc", "không quá 06 ngày làm việc"),
        ("Không quá 10 ngày kể từ ngày nhận được yêu cầu hợp lệ", "không quá 08 ngày"),
        ("01 ngày làm việc", "không quá 06 giờ làm việc"),
        ("Giải quyết ngay trong ngày nhận đủ giấy tờ", None),
        ("Trường hợp (1), (2): 01 ngày làm việc", None),
    ],
)
def test_expected_online_time(statutory: str, online: str | None) -> None:
    assert expected_online_time(statutory, 20) == online


@given(st.integers(1, 400), st.sampled_from(["ngày làm việc", "ngày", "giờ làm việc", "giờ"]), st.integers(20, 60))
def test_online_time_is_at_least_the_reduction_shorter(number: int, unit: str, percent: int) -> None:
    online = expected_online_time(f"{number:02d} {unit} kể từ ngày nhận đủ hồ sơ", percent)
    if online is None:
        return
    shortened = int(re.search(r"\d+", online).group())  # type: ignore[union-attr]
    hours = online.endswith("giờ làm việc") and unit == "ngày làm việc"
    original = number * 8 if hours else number
    assert shortened <= original * (100 - percent) / 100
    assert shortened >= 1


def test_time_rule_without_basis_is_labelled(curated: dict[str, Procedure]) -> None:
    confirmed = FeeEngine(
        FeePolicies(online_time=OnlineTimeRule(30, "Quyết định thử nghiệm", False)), HELPDESK, lambda: TODAY
    )
    text = confirmed.time_text(curated["1.001456"])
    assert "dự kiến không quá 05 ngày làm việc (tỉnh rút ngắn ít nhất 30% thời hạn" in text
    assert "Quyết định thử nghiệm" in text and "chờ cán bộ xác nhận" not in text


def test_policy_validity_dates() -> None:
    window = policy(valid_from=date(2026, 1, 1), valid_to=date(2026, 1, 31))
    assert [window.in_force(date(2026, 1, d)) for d in (1, 31)] == [True, True]
    assert not window.in_force(date(2025, 12, 31)) and not window.in_force(date(2026, 2, 1))
