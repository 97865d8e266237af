"""Dossier codes and ownership check digits in what citizens type or say.

NOTE: pure standard library and Python 3.10 compatible. The Rasa action server
(its own Python 3.10 venv) imports this module directly with the repository root
on PYTHONPATH: import nothing from the rest of ``bot`` and use no 3.11-only API.

A Quảng Ngãi iGate dossier code is ``000.00.21.H48-231005-0012``: the agency
code (``ddd.dd.dd`` + a letter and two digits), the reception date ``yymmdd``
and a 4-digit sequence number. Citizens write it with or without the dots and
dashes, with spaces anywhere, in any case, or read digits aloud as words
("không không không chấm … hát bốn tám gạch hai ba một không không năm …"),
with or without diacritics. Spoken forms understood: không, một/mốt, hai, ba,
bốn/tư, năm/lăm/nhăm, sáu, bảy/bẩy, tám, chín, linh/lẻ (0); "hai mươi mốt" and
"hai mốt" (21), "mười hai" (12), "năm mươi" (50); "hai lần năm" (55: a digit
said twice). "muoi" typed without diacritics is "mươi" (tens) right after a
digit 2–9 and "mười" elsewhere: "khong khong muoi hai" is 0012, "nam muoi hai"
52, "nam, muoi hai" 512.
"""

from __future__ import annotations

import calendar
import re
import unicodedata

# Longer input is not a code or a check typed by a person: refuse it before any work.
MAX_INPUT_CHARS = 500

# Folded (no diacritics, lower case) spoken digits.
DIGIT_WORDS = {
    "khong": "0",
    "linh": "0",
    "le": "0",
    "mot": "1",
    "hai": "2",
    "ba": "3",
    "bon": "4",
    "tu": "4",
    "nam": "5",
    "lam": "5",
    "nham": "5",
    "sau": "6",
    "bay": "7",
    "tam": "8",
    "chin": "9",
}
_TENS = "muoi"  # mười (10) and mươi (tens) fold alike
_TEN = "mười"
_REPEAT = "lan"  # "hai lần năm" = 55
_COUNTS = frozenset("23456789")
# Read aloud between the parts of a code, like the punctuation they stand for.
_SEPARATOR_WORDS = frozenset({"cham", "gach", "ngang", "noi", "duoi", "tru", "cach", "dau", "xuyet"})
_LETTER_WORDS = {"hat": "h", "hac": "h"}  # the letter H said aloud ("hát", "hắt")
_PUNCTUATION = frozenset(".-_/,:;+")

_TOKEN = re.compile(r"[^\W\d_]+|\d+|\S")
_CODE = re.compile(r"(\d{3})(\d{2})(\d{2})([A-Z]\d{2})(\d{2})(\d{2})(\d{2})(\d{4})")
_LETTERS = re.compile(r"[A-Z]+")
CHECK_DIGITS = 4
RECEPTION_DIGITS = 10  # yymmdd + the 4-digit sequence number
_ID_LENGTHS = range(9, 13)  # a whole phone number (10), old ID card (9), citizen ID (12)


def fold(text: str) -> str:
    """Lower case without Vietnamese diacritics: 'Hai Mốt' → 'hai mot'."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn").replace("đ", "d")


def _runs(text: str) -> list[str]:
    """Stretches of digits and letters said or written together, separators dropped.

    Any other word ends a stretch: in "hồ sơ 000…0012 số cuối 1234" the code and
    the check land in different stretches.
    """
    written = _TOKEN.findall(unicodedata.normalize("NFC", text.lower()))
    tokens = [fold(token) for token in written]
    runs: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        # The digits said right before and after: a pause (comma, "chấm") ends "hai mươi mốt".
        previous = _digit(tokens[i - 1]) if i else ""
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token.isdigit():
            current.append(token)
        elif token in DIGIT_WORDS:
            current.append(DIGIT_WORDS[token])
        elif token == _TENS:
            tens = written[i] != _TEN and previous in _COUNTS
            unit_follows = following in DIGIT_WORDS and following not in {"khong", "linh", "le"}
            if not tens:
                current.append("1")  # mười
            if not unit_follows:
                current.append("0")  # mười, hai mươi: nothing after
        elif token == _REPEAT and previous in _COUNTS and _digit(following):
            times = int(current.pop())
            current.append(_digit(following) * times)
            i += 1
        elif token in _SEPARATOR_WORDS or token in _PUNCTUATION:
            pass
        elif token in _LETTER_WORDS:
            current.append(_LETTER_WORDS[token].upper())
        elif len(token) == 1 and "a" <= token <= "z":
            current.append(token.upper())
        else:
            if current:
                runs.append("".join(current))
            current = []
        i += 1
    if current:
        runs.append("".join(current))
    return runs


def _digit(token: str) -> str:
    """One digit, said or written, else ''."""
    if len(token) == 1 and token.isdigit():
        return token
    return DIGIT_WORDS.get(token, "")


def _valid_date(yy: str, mm: str, dd: str) -> bool:
    month, day = int(mm), int(dd)
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(2000 + int(yy), month)[1]


def _find_code(run: str) -> re.Match[str] | None:
    for start in range(len(run)):
        match = _CODE.match(run, start)
        if match and _valid_date(match.group(5), match.group(6), match.group(7)):
            return match
    return None


def _canonical(match: re.Match[str]) -> str:
    a, b, c, province, yy, mm, dd, seq = match.groups()
    return f"{a}.{b}.{c}.{province}-{yy}{mm}{dd}-{seq}"


def spoken_digits(text: str) -> str:
    """Every digit of the text, written or said, in order: 'một hai 3 4' → '1234'."""
    if len(text) > MAX_INPUT_CHARS:
        return ""
    return "".join(ch for run in _runs(text) for ch in run if ch.isdigit())


def parse_dossier_code(text: str) -> str | None:
    """The first dossier code in the text, canonical ('000.00.21.H48-231005-0012'), or None."""
    return parse_code_and_check(text)[0]


def parse_reception(text: str) -> str | None:
    """The part of a code that varies, said alone: reception date and sequence number ('261122-0031'), or None.

    Callers read the ten digits after the agency code ("hai sáu một một hai hai, không không ba mốt"):
    exactly ten digits whose first six are a valid yymmdd date. The agency part is found from them
    by the dossier store (:meth:`bot.dossiers.StatusLookup.lookup_received`).
    """
    digits = spoken_digits(text)
    if len(digits) != RECEPTION_DIGITS or not _valid_date(digits[0:2], digits[2:4], digits[4:6]):
        return None
    return f"{digits[:6]}-{digits[6:]}"


def parse_check_digits(text: str) -> str | None:
    """The 4 check digits (last 4 of the registered phone or ID number), or None.

    A group of exactly 4 digits is the check; failing that, a whole phone or ID
    number (9–12 digits) gives its last 4. Two different candidates: None.
    """
    if len(text) > MAX_INPUT_CHARS:
        return None
    return _check_in(_runs(text))


def parse_code_and_check(text: str) -> tuple[str | None, str | None]:
    """A dossier code and check digits given in one message, each None when absent."""
    if len(text) > MAX_INPUT_CHARS:
        return None, None
    runs = _runs(text)
    for i, run in enumerate(runs):
        match = _find_code(run)
        if match:
            rest = [*runs[:i], run[: match.start()], run[match.end() :], *runs[i + 1 :]]
            return _canonical(match), _check_in(rest)
    return None, _check_in(runs)


def _check_in(runs: list[str]) -> str | None:
    groups = [group for run in runs for group in _LETTERS.split(run) if group]
    exact = {g for g in groups if len(g) == CHECK_DIGITS}
    if not exact:
        exact = {g[-CHECK_DIGITS:] for g in groups if len(g) in _ID_LENGTHS}
    return exact.pop() if len(exact) == 1 else None
