"""What a caller's words mean to the call (voice.replies): yes/no to a read-back, asking for a person."""

from __future__ import annotations

import pytest

from voice.replies import asks_for_a_person, asks_for_a_text_message, asks_to_repeat, yes_or_no


@pytest.mark.parametrize(
    "said",
    ["đúng", "phải", "vâng", "dạ", "ừ", "có", "đúng rồi", "rồi", "dạ vâng", "vâng ạ", "chính xác",
     # The bot's "Đúng không?" echoed back is a confirmation, not a refusal.
     "đúng không", "phải không", "có đúng không", "đúng không ạ", "đúng chưa",
     "dung roi"],  # typed or heard without diacritics
)  # fmt: skip
def test_yes(said: str) -> None:
    assert yes_or_no(said) is True


@pytest.mark.parametrize(
    "said",
    ["không", "không phải", "sai", "sai rồi", "không đúng", "chưa đúng", "chưa", "dạ không", "không không",
     "không phải đâu", "không, sai rồi", "khong"],
)  # fmt: skip
def test_no(said: str) -> None:
    assert yes_or_no(said) is False


@pytest.mark.parametrize("said", ["", "xin chào", "cô", "dùng", "để tôi xem"])  # "cô" is not "có", "dùng" not "đúng"
def test_neither(said: str) -> None:
    assert yes_or_no(said) is None


@pytest.mark.parametrize(
    "said",
    ["cho tôi gặp nhân viên", "gặp tổng đài viên", "nói chuyện với người thật", "tôi muốn gặp cán bộ",
     "cho tôi nói chuyện với nhân viên ạ",
     # How viet-asr heard espeak-ng's "cho tôi gặp nhân viên" on the line: the verb lost or garbled.
     "cho tui nhân viên", "cho tôi nhặt nhân nhân viên", "cho tôi nhặt nho viên", "cho tui gặp nhơn viên"],
)  # fmt: skip
def test_asking_for_a_person(said: str) -> None:
    assert asks_for_a_person(said)


@pytest.mark.parametrize(
    "said",
    [
        "nhân viên y tế cần giấy tờ gì",
        "cho tôi hỏi về nhân viên y tế",
        "đăng ký khai sinh",
        "đúng rồi",
        "cho tôi hỏi thủ tục cho sinh viên",
    ],
)
def test_a_question_that_names_staff_is_not_a_request_for_a_person(said: str) -> None:
    assert not asks_for_a_person(said)


def test_repeat_and_text_message_requests() -> None:
    assert asks_to_repeat("bạn nhắc lại được không") and not asks_to_repeat("đúng rồi")
    assert asks_for_a_text_message("gửi tin nhắn cho tôi") and not asks_for_a_text_message("nhắc lại")
