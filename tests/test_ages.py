"""The ages procedure names are limited to and the ages questions state."""

import math

import pytest

from bot.ages import NameAges, asked_ages, fits_ages, name_age_limit
from bot.text import bigrams, normalize


@pytest.mark.parametrize(
    ("name", "ages"),
    [
        ("Đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi", (0, 6)),
        ("Cấp thẻ căn cước cho người từ đủ 14 tuổi trở lên (thực hiện tại cấp tỉnh)", (14, math.inf)),
        ("Trợ cấp xã hội hàng tháng cho người cao tuổi từ đủ 75 tuổi đến 80 tuổi mà không có lương hưu", (75, 80)),
        ("Đề nghị việc sử dụng người chưa đủ 13 tuổi làm việc", (0, 13)),
        ("Thủ tục đăng ký khai sinh", None),
        ("Đăng ký bản công bố sản phẩm dinh dưỡng cho trẻ đến 36 tháng tuổi", None),  # months are no age here
    ],
)
def test_the_age_a_name_is_limited_to(name: str, ages: tuple[int, float] | None) -> None:
    limit = name_age_limit(normalize(name))
    assert (limit and limit.limit) == ages
    assert not (limit and limit.other_groups)  # one group of people


def test_a_name_listing_several_groups_limits_the_age_of_its_group_unless_another_is_asked_about() -> None:
    name = normalize(
        "Thủ tục thực hiện trợ cấp xã hội hàng tháng cho người cao tuổi từ đủ 75 tuổi đến 80 tuổi mà không có "
        "lương hưu; Người mắc bệnh ung thư, suy thận mãn chạy thận nhân tạo"
    )
    limit = name_age_limit(name)
    assert limit is not None and limit.limit == (75, 80)
    assert {"ung thu", "suy than"} <= limit.other_groups and "cao tuoi" not in limit.other_groups
    assert not fits_ages(limit, [(85, 86)], bigrams(normalize("mẹ tôi 85 tuổi có được trợ cấp không")))
    assert fits_ages(limit, [(85, 86)], bigrams(normalize("bà 85 tuổi bị ung thư có được trợ cấp không")))
    assert fits_ages(limit, [(60, 61)], bigrams(normalize("bo 60 tuoi bi suy than")))


@pytest.mark.parametrize(
    ("question", "ages"),
    [
        ("bà tôi 85 tuổi có được trợ cấp không", [(85, 86)]),
        ("con em du 14 tuoi roi lam can cuoc", [(14, 15)]),
        ("làm thẻ bhyt cho người trên 80 tuổi", [(81, math.inf)]),
        ("căn cước cho trẻ dưới 14 tuổi", [(0, 14)]),
        ("con tôi từ 14 tuổi trở lên", [(14, math.inf)]),
        ("thẻ bhyt cho người cao tuổi", [(60, math.inf)]),
        ("bố 80 tuổi, con 5 tuổi", [(80, 81), (5, 6)]),
        # Said on the phone.
        ("mẹ tôi năm nay tám mươi lăm tuổi", [(85, 86)]),
        ("con tôi mười bốn tuổi", [(14, 15)]),
        ("bé năm tuổi", [(5, 6)]),
        ("ông bảy mươi tuổi", [(70, 71)]),
        ("bé 3 tháng tuổi làm khai sinh", []),
        ("làm căn cước ở đâu", []),
    ],
)
def test_the_ages_a_question_states(question: str, ages: list[tuple[int, float]]) -> None:
    assert asked_ages(normalize(question)) == ages


def test_a_name_fits_an_asked_age_inside_its_range_and_any_age_when_either_says_none() -> None:
    under_six = NameAges((0, 6))
    assert fits_ages(under_six, [(3, 4)], set())
    assert not fits_ages(under_six, [(8, 9)], set())
    assert not fits_ages(under_six, [(60, math.inf)], set())
    assert fits_ages(under_six, [(80, 81), (5, 6)], set())  # one of the people asked about
    assert not fits_ages(NameAges((75, 80)), [(80, 81)], set())
    assert fits_ages(NameAges((14, math.inf)), [(14, 15)], set())
    assert fits_ages(None, [(8, 9)], set()) and fits_ages(under_six, [], set())
