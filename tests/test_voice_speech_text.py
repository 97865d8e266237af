"""Text made speakable: Vietnamese number reading, dates, codes, abbreviations, shortening."""

from __future__ import annotations

import pytest

from bot.dossier_codes import parse_dossier_code, spoken_digits
from voice.asr import DIGIT_GRAMMAR, GrammarFilter
from voice.speech_text import for_speech, number_to_words, read_code, sentences, shorten_for_voice


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "không"),
        (5, "năm"),
        (10, "mười"),
        (11, "mười một"),
        (15, "mười lăm"),
        (21, "hai mươi mốt"),
        (25, "hai mươi lăm"),
        (44, "bốn mươi bốn"),
        (100, "một trăm"),
        (101, "một trăm linh một"),
        (105, "một trăm linh năm"),
        (115, "một trăm mười lăm"),
        (151, "một trăm năm mươi mốt"),
        (1005, "một nghìn không trăm linh năm"),
        (2026, "hai nghìn không trăm hai mươi sáu"),
        (15_000, "mười lăm nghìn"),
        (150_000, "một trăm năm mươi nghìn"),
        (1_000_000, "một triệu"),
        (1_000_500, "một triệu năm trăm"),
        (1_005_000, "một triệu không trăm linh năm nghìn"),
        (2_500_000_000, "hai tỷ năm trăm triệu"),
        (1_000_000_000_000, "một nghìn tỷ"),
    ],
)
def test_vietnamese_number_reading(number: int, words: str) -> None:
    assert number_to_words(number) == words


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Lệ phí là 150.000 đồng.", "Lệ phí là một trăm năm mươi nghìn đồng."),
        ("Phí 8.000đ/bản", "Phí tám nghìn đồng một bản"),
        ("Khoảng 1,5 triệu đồng", "Khoảng một phẩy năm triệu đồng"),
        ("Giảm 50% lệ phí", "Giảm năm mươi phần trăm lệ phí"),
        ("Hạn 15/8/2026.", "Hạn ngày mười lăm tháng tám năm hai nghìn không trăm hai mươi sáu."),
        ("từ ngày 1/4/2025", "từ ngày mùng một tháng tư năm hai nghìn không trăm hai mươi lăm"),
        ("rà soát 2026-11-23", "rà soát ngày hai mươi ba tháng mười một năm hai nghìn không trăm hai mươi sáu"),
        ("Mã thủ tục 1.004194.", "Mã thủ tục một chấm không không bốn một chín bốn."),
        (
            "Hồ sơ 000.00.21.H48-231005-0012 đã xong.",
            "Hồ sơ không không không chấm không không chấm hai một chấm hát bốn tám gạch "
            "hai ba một không không năm gạch không không một hai đã xong.",
        ),
        ("Nộp tại UBND xã, mang CCCD.", "Nộp tại Ủy ban nhân dân xã, mang căn cước công dân."),
        ("Gọi 1800 1096 (miễn phí)", "Gọi một tám không không một không chín sáu, miễn phí"),
        ("Làm việc từ 7h30 đến 17h", "Làm việc từ bảy giờ ba mươi đến mười bảy giờ"),
        ("trong 3-5 ngày làm việc", "trong ba đến năm ngày làm việc"),
        (
            "Nghị định số 123/2015/NĐ-CP",
            "Nghị định số một trăm hai mươi ba năm hai nghìn không trăm mười lăm của Chính phủ",
        ),
        ("tại khoản 1 Điều 5: được miễn", "tại khoản một Điều năm: được miễn"),
        ("Tổng 1.000.000 đồng", "Tổng một triệu đồng"),
        ("xem dichvucong.gov.vn", "xem dịch vụ công chấm gốp chấm vê en"),
        ("thủ tục “đăng ký khai sinh”", "thủ tục đăng ký khai sinh"),
    ],
)
def test_for_speech(written: str, spoken: str) -> None:
    assert for_speech(written) == spoken


def test_plain_text_is_left_alone() -> None:
    text = "Bạn muốn hỏi về thủ tục nào?"
    assert for_speech(text) == text
    assert for_speech(for_speech("Lệ phí 150.000 đồng")) == for_speech("Lệ phí 150.000 đồng")


def test_codes_are_read_character_by_character() -> None:
    assert read_code("1.004194") == "một chấm không không bốn một chín bốn"
    assert read_code("H48-0012") == "hát bốn tám gạch không không một hai"


def test_a_code_read_back_is_understood_by_the_caller_side_parser() -> None:
    code = "000.00.21.H48-231005-0012"
    said = for_speech(f"Mã hồ sơ {code}.")
    assert parse_dossier_code(said) == code
    assert GrammarFilter(DIGIT_GRAMMAR)(read_code(code)) == read_code(code)  # the digit grammar covers it
    assert for_speech("0912") == "không chín một hai" and spoken_digits(for_speech("0912")) == "0912"


ANSWER = """Phí, lệ phí của thủ tục “Thủ tục đăng ký khai sinh”:
- Lệ phí đăng ký khai sinh: chưa có mức thu cụ thể (Miễn khi đăng ký đúng hạn (trong 60 ngày kể từ ngày sinh)).
- Phí cấp bản sao Giấy khai sinh: 8.000 đồng/bản (Chỉ nộp khi có yêu cầu cấp bản sao.)
Mức lệ phí hộ tịch do Hội đồng nhân dân cấp tỉnh quyết định.
Nguồn: thủ tục “Thủ tục đăng ký khai sinh”, mã 1.001193; căn cứ: Luật Hộ tịch số 60/2014/QH13."""


def test_shorten_for_voice_keeps_two_short_sentences() -> None:
    short = shorten_for_voice(ANSWER)
    assert short == (
        "Phí, lệ phí của thủ tục “Thủ tục đăng ký khai sinh”: Lệ phí đăng ký khai sinh: chưa có mức thu cụ thể. "
        "Phí cấp bản sao Giấy khai sinh: 8.000 đồng/bản."
    )
    assert "Nguồn" not in shorten_for_voice(ANSWER, max_sentences=5)


def test_a_long_sentence_is_cut_at_a_clause() -> None:
    long = (
        "Hồ sơ gồm tờ khai theo mẫu, giấy chứng sinh, giấy tờ tùy thân của người đi đăng ký, "
        "giấy chứng nhận kết hôn nếu cha mẹ đã đăng ký kết hôn, và văn bản ủy quyền nếu nhờ người khác đi nộp thay."
    )
    short = shorten_for_voice(long, max_words=25)
    assert short.endswith("tùy thân của người đi đăng ký.")
    assert len(short.split()) <= 25


def test_a_long_sentence_is_not_cut_after_a_label() -> None:
    """The birth registration's overview was said as "…, thời hạn giải quyết." with no time after it."""
    overview = (
        "Thủ tục “Thủ tục đăng ký khai sinh”, do Ủy ban nhân dân cấp xã giải quyết, thời hạn giải quyết: "
        "Giải quyết ngay trong ngày nhận đủ giấy tờ; nếu nhận hồ sơ sau 15 giờ thì trả kết quả ngày hôm sau."
    )
    assert shorten_for_voice(overview, max_sentences=1) == (
        "Thủ tục “Thủ tục đăng ký khai sinh”, do Ủy ban nhân dân cấp xã giải quyết."
    )


def test_sentences_do_not_break_after_abbreviations() -> None:
    assert sentences("Xin chào. Tôi ở TP. Hồ Chí Minh. Mã 1.004194 nhé!") == [
        "Xin chào.",
        "Tôi ở TP. Hồ Chí Minh.",
        "Mã 1.004194 nhé!",
    ]
