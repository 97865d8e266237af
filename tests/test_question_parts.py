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
