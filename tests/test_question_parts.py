"""Cutting a question about several procedures into the parts that name one each."""

from bot.question_parts import question_parts
from bot.text import normalize


def test_a_question_naming_two_procedures_is_cut_in_two() -> None:
    assert question_parts(normalize("lam giay khai sinh va dang ky thuong tru cho con can giay to gi")) == [
        normalize("lam giay khai sinh"),
        normalize("dang ky thuong tru cho con can giay to gi"),
    ]
    assert len(question_parts(normalize("Làm hộ chiếu, đăng ký tạm trú; xin lý lịch tư pháp mất bao lâu?"))) == 3


def test_a_question_naming_one_thing_is_not_cut() -> None:
    assert question_parts(normalize("đăng ký kết hôn cần giấy tờ gì")) == []
    assert question_parts(normalize("đăng ký kết hôn với người nước ngoài")) == []  # "với" is not "với cả"
    # "cần giấy tờ gì" names nothing: the question still names one procedure.
    assert question_parts(normalize("đăng ký tạm trú, cần giấy tờ gì")) == []
    assert question_parts("") == []


def test_papers_named_one_after_another_are_one_part_each_with_what_happened_to_them() -> None:
    # Only the driving licence's reissue was answered.
    assert question_parts(normalize("em bi mat vi mat het giay to can cuoc bang lai the bao hiem")) == [
        normalize("em bi mat vi mat het giay to can cuoc"),
        normalize("em bi mat vi mat het giay to bang lai"),
        normalize("em bi mat vi mat het giay to the bao hiem"),
    ]
    assert question_parts(normalize("căn cước bằng lái bị mất thì làm lại thế nào")) == [
        normalize("căn cước bị mất thì làm lại thế nào"),
        normalize("bằng lái bị mất thì làm lại thế nào"),
    ]
    assert len(question_parts(normalize("mat cccd bhyt gplx"))) == 3  # abbreviations are written out first


def test_papers_with_other_words_between_them_are_not_a_row() -> None:
    assert question_parts(normalize("làm căn cước cần giấy khai sinh không")) == []
    assert question_parts(normalize("mất căn cước thì bằng lái có bị gì không")) == []


def test_papers_listed_with_and_or_commas_share_what_happened_to_them() -> None:
    # Cut at "và", the licence was only "bằng lái xe" and got a new licence's answer.
    assert question_parts(normalize("mất ví có căn cước và bằng lái xe")) == [
        normalize("mất ví có căn cước"),
        normalize("mất ví có bằng lái xe"),
    ]
    assert question_parts(normalize("lam ho chieu, can cuoc va bang lai mat bao lau")) == [
        normalize("lam ho chieu mat bao lau"),
        normalize("lam can cuoc mat bao lau"),
        normalize("lam bang lai mat bao lau"),
    ]
    # A paper beside a procedure that is not a paper is cut as before.
    assert question_parts(normalize("làm giấy khai sinh và nhập hộ khẩu cho con")) == [
        normalize("làm giấy khai sinh"),
        normalize("nhập hộ khẩu cho con"),
    ]
