"""Putting mistyped syllables right from the index's vocabulary."""

from __future__ import annotations

from bot.lexical import LexicalIndex
from bot.spelling import Speller
from bot.text import normalize

TEXTS = [
    "làm giấy khai sinh",
    "đăng ký khai sinh",
    "đăng ký khai sinh có yếu tố nước ngoài",
    "đăng ký kết hôn",
    "đăng ký tạm trú",
    "cấp hộ chiếu",
    "sinh hoạt đoàn",
    "bản đồ địa chính",
    "hợp đồng lao động",
]


def speller() -> Speller:
    return Speller.of(LexicalIndex.build([normalize(t) for t in TEXTS]))


def test_a_swapped_or_dropped_letter_is_put_right() -> None:
    assert speller().correct(normalize("lam giay khai sihn")) == "lam giay khai sinh"
    assert speller().correct(normalize("dag ky tam tru")) == "dang ky tam tru"


def test_a_syllable_is_only_put_right_beside_a_neighbour_it_is_known_with() -> None:
    # "alo" is one edit from "lao", but "lao cho" is no bigram of the index: a caller's greeting stays.
    assert speller().correct(normalize("alo cho hoi dang ky tam tru")) == normalize("alo cho hoi dang ky tam tru")
    assert speller().correct(normalize("dang kyy ket hon")) == "dang ky ket hon"


def test_known_short_and_unfixable_words_are_left_as_typed() -> None:
    s = speller()
    # "cho" is one edit from "có" of "khai sinh có …", but it asks: words that ask are Vietnamese as typed.
    for text in ("đăng ký tạm trú, nhé!", "ko", "bitcoin la gi", "hộ chiếu 2024", "khai sinh cho con"):
        assert s.correct(normalize(text)) == normalize(text)


def test_a_syllable_typed_in_telex_without_the_vietnamese_keyboard_is_read() -> None:
    # "lamf cawn cuowcs" was called off-topic: tone keys at the end, vowel keys doubled or with "w".
    assert speller().correct(normalize("ddawng kys taamj truws")) == "dang ky tam tru"
    assert speller().correct(normalize("lamf giaays khai sinh")) == "lam giay khai sinh"
    # Read that way, a word must become a known syllable: an English word stays as typed.
    for text in ("facebook", "thanks"):
        assert speller().correct(normalize(text)) == text
