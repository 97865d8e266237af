"""Procedures that only some provinces run: recognising them, and the deployment's province setting."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.province import local_note, parse_provinces, provinces_named, runs_here
from bot.settings import Settings

# Names as the national catalogue writes them.
DYKE_PERMIT = "Cấp Giấy phép để vật liệu, đào ao, giếng ở bãi sông trên địa bàn tỉnh Thanh Hóa."
FOREST_USE = (
    "Quyết định chủ trương chuyển mục đích sử dụng rừng sang mục đích khác của Hội đồng nhân dân các tỉnh: "
    "Thanh Hóa, Nghệ An và Khánh Hoà theo ủy quyền của Thủ tướng Chính phủ"
)


@pytest.mark.parametrize(
    ("name", "provinces"),
    [
        (DYKE_PERMIT, ["Thanh Hóa"]),
        ("Công nhận sáng kiến có tác dụng, ảnh hưởng đối với thành phố Đà Nẵng (Sở KHCN)", ["Đà Nẵng"]),
        ("Hỗ trợ chi phí hỏa táng trên địa bàn tỉnh Thừa Thiên Huế", ["Thừa Thiên Huế"]),
        ("Thủ tục điều chỉnh giấy phép thành lập Hiệp hội doanh nghiệp nước ngoài tại Thành phố Hồ Chí Minh",
         ["Hồ Chí Minh"]),
        (FOREST_USE, ["Thanh Hóa", "Nghệ An", "Khánh Hòa"]),
        # National procedures that only look local.
        ("Cấp lại chứng chỉ hành nghề bác sỹ gia đình đối với người Việt Nam định cư ở nước ngoài", []),
        ("Yêu cầu định giá lại tài sản thi hành án (cấp huyện)", []),
        ("Thủ tục giải quyết khiếu nại lần đầu cấp Cục, Sư đoàn, Bộ Tư lệnh thành phố Hồ Chí Minh", []),
        ("Thủ tục khen thưởng Huân chương Hồ Chí Minh cho tập thể, cá nhân", []),
        ("Cấp Giấy phép hoạt động in (cấp tỉnh)", []),
        ("Cấp, cấp lại Giấy phép vận tải đường bộ quốc tế giữa Việt Nam và Campuchia", []),
    ],
)  # fmt: skip
def test_the_provinces_a_name_confines_a_procedure_to(name: str, provinces: list[str]) -> None:
    assert provinces_named(name) == provinces


def test_the_note_names_the_provinces() -> None:
    assert local_note(DYKE_PERMIT) == "Thủ tục này chỉ áp dụng ở Thanh Hóa."
    assert local_note(FOREST_USE) == "Thủ tục này chỉ áp dụng ở Thanh Hóa, Nghệ An và Khánh Hòa."
    assert local_note("Thủ tục đăng ký khai sinh") == ""


def test_a_deployment_runs_its_own_province_procedures_and_the_national_ones() -> None:
    thanh_hoa, nghe_an = frozenset({"Thanh Hóa"}), frozenset({"Nghệ An"})
    assert runs_here(DYKE_PERMIT, thanh_hoa)
    assert not runs_here(DYKE_PERMIT, nghe_an)
    assert runs_here(FOREST_USE, nghe_an)
    assert runs_here("Thủ tục đăng ký khai sinh", nghe_an)
    assert runs_here(DYKE_PERMIT, frozenset())  # no province named: any


def test_the_province_setting_is_read_without_diacritics_and_checked() -> None:
    assert parse_provinces("") == frozenset()
    assert parse_provinces("Tuyên Quang, ha giang ") == {"Tuyên Quang", "Hà Giang"}
    assert parse_provinces("KHANH HOA") == {"Khánh Hòa"}
    with pytest.raises(ValueError, match="Sài Gòn"):
        parse_provinces("Sài Gòn")
    assert Settings.from_env({"CITIZENBOT_PROVINCE": "Thanh Hoa"}).provinces == {"Thanh Hóa"}
    assert Settings.from_env({}).provinces == frozenset()


def test_a_wrong_province_stops_the_command_with_its_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CITIZENBOT_PROVINCE", "Sài Gòn")
    assert main(["ask", "làm hộ chiếu"]) == 2
    assert "CITIZENBOT_PROVINCE: not a province: Sài Gòn" in capsys.readouterr().err
