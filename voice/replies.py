"""What a caller's words mean to the call: yes or no to a read-back, a request for a person, "say it
again", "send it by text message".

The text is what the recogniser heard. Words are compared with their diacritics (the recogniser writes
them: "cô" is not "có", "dùng" is not "đúng"); a word written without any ("dung") is compared folded.
"""

from __future__ import annotations

import re
from functools import cache

from bot.gateway import asks_for_a_person as asks_for_a_person_in_chat
from bot.text import clean, fold, words

YES_WORDS = frozenset({"có", "đúng", "vâng", "dạ", "phải", "ừ", "rồi", "chính", "ok", "yes"})
NEGATORS = frozenset({"không", "chưa", "no"})
WRONG = frozenset({"sai"})
# A yes word right before a final "không"/"chưa" makes it a question tag: "đúng không", "có đúng không",
# "phải không", "đúng chưa" echo the bot's "Đúng không?" and mean yes. After "dạ", "không" is a plain no.
TAG_HEADS = frozenset({"đúng", "phải", "có", "xác"})
FILLERS = frozenset({"ạ", "à", "ơi", "nhé", "nha", "nhỉ", "hả", "ha", "đó", "thế", "vậy"})

# "Cho tôi <…> nhân viên" ending the utterance: the recogniser often loses or garbles the verb ("cho tôi gặp
# nhân viên" → "cho tui nhân viên", "cho tôi nhặt nhân viên") and at times "nhân" too ("nhặt nho viên"; the
# south says "nhơn viên"). A bare "nhân viên" is not enough ("nhân viên y tế cần giấy tờ gì" is a question),
# nor one inside a longer sentence ("cho tôi hỏi về nhân viên y tế").
PERSON_REQUEST = re.compile(
    r"\b(?:nguoi that|tong dai vien"
    r"|(?:cho (?:toi|tui|em|minh|con)|gap)(?: \w+){0,3} (?:nh\w{0,3} vien|can bo)$)"
)
REPEAT_PHRASES = ("nhac lai", "lap lai", "noi lai", "nghe lai")
SMS_PHRASES = ("tin nhan", "nhan tin", "sms", "gui chi tiet")


def spoken_words(text: str) -> list[str]:
    return words(clean(text).lower())


def folded(text: str) -> str:
    return " ".join(fold(word) for word in spoken_words(text))


@cache
def _without_diacritics(words: frozenset[str]) -> frozenset[str]:
    return frozenset(fold(w) for w in words)


def _is(word: str, words: frozenset[str]) -> bool:
    return word in words or (word.isascii() and word in _without_diacritics(words))


def yes_or_no(text: str) -> bool | None:
    """True for a yes ("đúng rồi", "vâng", "đúng không"), False for a no ("không", "không phải", "sai",
    "chưa đúng"), None when the words say neither."""
    words = [w for w in spoken_words(text) if not _is(w, FILLERS)]
    for i, word in enumerate(words):
        if _is(word, WRONG):
            return False
        if _is(word, NEGATORS):
            if i == len(words) - 1 and i > 0 and _is(words[i - 1], TAG_HEADS):
                continue  # the question echoed: "đúng không"
            return False  # "không", "không phải", "không đúng", "chưa đúng", "dạ không"
    return True if any(_is(w, YES_WORDS) for w in words) else None


def asks_for_a_person(text: str) -> bool:
    """"Cho tôi gặp nhân viên", "gặp tổng đài viên", "nói chuyện với người thật" and the chat's phrases."""
    words = " ".join(fold(w) for w in spoken_words(text) if not _is(w, FILLERS))
    return asks_for_a_person_in_chat(text) or PERSON_REQUEST.search(words) is not None


def asks_to_repeat(text: str) -> bool:
    return any(p in folded(text) for p in REPEAT_PHRASES)


def asks_for_a_text_message(text: str) -> bool:
    return any(p in folded(text) for p in SMS_PHRASES)
