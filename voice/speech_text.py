"""Vietnamese text made speakable: numbers, amounts, dates, codes and abbreviations in words.

:func:`for_speech` is applied to every text before synthesis; :func:`shorten_for_voice`
cuts a written answer down to what a caller can take in (two short sentences).
Reading what the caller said back into digits is ``bot.dossier_codes.spoken_digits``.
"""

from __future__ import annotations

import re
import unicodedata

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

MONTHS = ("", "một", "hai", "ba", "tư", "năm", "sáu", "bảy", "tám", "chín", "mười", "mười một", "mười hai")

# Letters as read out in codes and licence plates.
LETTERS = {
    "A": "a", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e", "F": "ép", "G": "giê", "H": "hát",
    "I": "i", "J": "gi", "K": "ca", "L": "e lờ", "M": "em mờ", "N": "en nờ", "O": "o", "P": "pê",
    "Q": "quy", "R": "e rờ", "S": "ét", "T": "tê", "U": "u", "V": "vê", "W": "vê kép", "X": "ích",
    "Y": "i dài", "Z": "dét",
}  # fmt: skip

SEPARATORS = {".": "chấm", "-": "gạch", "/": "gạch chéo", "_": "gạch dưới", " ": ""}

# Written forms the assistant uses, case-sensitive (lower-case "tp" or "ca" are ordinary syllables).
ABBREVIATIONS: dict[str, str] = {
    "UBND": "Ủy ban nhân dân",
    "HĐND": "Hội đồng nhân dân",
    "CCCD": "căn cước công dân",
    "CMND": "chứng minh nhân dân",
    "BHXH": "bảo hiểm xã hội",
    "BHYT": "bảo hiểm y tế",
    "BHTN": "bảo hiểm thất nghiệp",
    "GPLX": "giấy phép lái xe",
    "GPXD": "giấy phép xây dựng",
    "GCN": "giấy chứng nhận",
    "QSDĐ": "quyền sử dụng đất",
    "QSDD": "quyền sử dụng đất",
    "TTHC": "thủ tục hành chính",
    "DVC": "dịch vụ công",
    "DVCTT": "dịch vụ công trực tuyến",
    "ĐKKD": "đăng ký kinh doanh",
    "HKD": "hộ kinh doanh",
    "TNHH": "trách nhiệm hữu hạn",
    "MST": "mã số thuế",
    "SĐT": "số điện thoại",
    "STT": "số thứ tự",
    "THPT": "trung học phổ thông",
    "THCS": "trung học cơ sở",
    "CSGT": "cảnh sát giao thông",
    "LLTP": "lý lịch tư pháp",
    "VNeID": "vê en e ai đi",
    "TP.HCM": "thành phố Hồ Chí Minh",
    "TP. HCM": "thành phố Hồ Chí Minh",
    "TPHCM": "thành phố Hồ Chí Minh",
    "HCM": "Hồ Chí Minh",
    "TP.": "thành phố",
    "Tp.": "thành phố",
    "TP": "thành phố",
    "VN": "Việt Nam",
    "v.v.": "vân vân",
    "NĐ-CP": "nghị định của Chính phủ",
}

# Issuers at the end of a legal document number ("123/2015/NĐ-CP").
ISSUERS = {
    "CP": "Chính phủ",
    "QH": "Quốc hội",
    "TTG": "Thủ tướng Chính phủ",
    "UBND": "Ủy ban nhân dân",
    "HĐND": "Hội đồng nhân dân",
    "BTC": "Bộ Tài chính",
    "BCA": "Bộ Công an",
    "BTP": "Bộ Tư pháp",
    "BYT": "Bộ Y tế",
    "BXD": "Bộ Xây dựng",
    "BGTVT": "Bộ Giao thông vận tải",
    "BTNMT": "Bộ Tài nguyên và Môi trường",
    "BNNMT": "Bộ Nông nghiệp và Môi trường",
    "BLĐTBXH": "Bộ Lao động Thương binh và Xã hội",
    "BGDĐT": "Bộ Giáo dục và Đào tạo",
    "BNV": "Bộ Nội vụ",
    "NHNN": "Ngân hàng Nhà nước",
}

DOMAIN_LABELS = {"dichvucong": "dịch vụ công", "gov": "gốp", "vn": "vê en", "www": "vê kép vê kép vê kép"}

UNITS = {"%": "phần trăm", "m2": "mét vuông", "m²": "mét vuông", "km": "ki lô mét", "kg": "ki lô gam"}


# ---------------------------------------------------------------- numbers


def _hundreds(n: int, full: bool) -> list[str]:
    """0 < n < 1000; ``full`` for a group after a higher one, which says "không trăm … linh"."""
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units and words:
            words.append("linh")
        if units:
            words.append(DIGITS[units])
    elif tens == 1:
        words.append("mười")
        if units:
            words.append("lăm" if units == 5 else DIGITS[units])
    else:
        words += [DIGITS[tens], "mươi"]
        if units:
            words.append({1: "mốt", 5: "lăm"}.get(units, DIGITS[units]))
    return words


def _below_billion(n: int, leading: bool) -> list[str]:
    words: list[str] = []
    for group, name in (((n // 1_000_000) % 1000, "triệu"), ((n // 1000) % 1000, "nghìn"), (n % 1000, "")):
        if group:
            words += _hundreds(group, full=not leading or bool(words))
            if name:
                words.append(name)
    return words


def _number_words(n: int, leading: bool = True) -> list[str]:
    if n >= 1_000_000_000:
        high, low = divmod(n, 1_000_000_000)
        return [*_number_words(high, leading), "tỷ", *_below_billion(low, leading=False)]
    return _below_billion(n, leading)


def number_to_words(n: int) -> str:
    """Vietnamese reading of an integer: 21 → "hai mươi mốt", 105 → "một trăm linh năm",
    2026 → "hai nghìn không trăm hai mươi sáu"."""
    if n == 0:
        return "không"
    if n < 0:
        return "âm " + number_to_words(-n)
    return " ".join(_number_words(n))


def digits_to_words(digits: str) -> str:
    return " ".join(DIGITS[int(d)] for d in digits if d.isdigit())


def read_code(code: str) -> str:
    """A code read character by character: "1.004194" → "một chấm không không bốn một chín bốn"."""
    words = []
    for ch in unicodedata.normalize("NFC", code):
        if ch.isdigit():
            words.append(DIGITS[int(ch)])
        elif ch.upper() in LETTERS:
            words.append(LETTERS[ch.upper()])
        elif SEPARATORS.get(ch):
            words.append(SEPARATORS[ch])
    return " ".join(words)


def _plain_number(text: str) -> str:
    """A written number ("150.000", "1,5", "0012") in words."""
    whole, _, decimals = text.partition(",")
    whole = whole.replace(".", "").replace(" ", "")
    # Leading zeros ("0012") mark a code, read digit by digit; "05 ngày" is still five days.
    spoken = digits_to_words(whole) if len(whole) > 2 and whole.startswith("0") else number_to_words(int(whole))
    if decimals:
        spoken += " phẩy " + (digits_to_words(decimals) if decimals.startswith("0") else number_to_words(int(decimals)))
    return spoken


# ---------------------------------------------------------------- patterns, applied in this order

_NUMBER = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?"
_B = r"(?<![\w.,/-])"  # start of a token
_E = r"(?![\w/]|[.,-]\w)"  # end of a token (a following sentence full stop is fine)

_URL = re.compile(r"\b(?:https?://)?((?:[a-z0-9-]+\.)+(?:vn|com|org|net|gov))\b(/\S*)?", re.IGNORECASE)
_LEGAL = re.compile(_B + r"(\d+(?:\.\d+)?)/(\d{4})/([A-ZĐ]+\d*(?:-[A-ZĐa-zđ]+\d*)*)" + _E)
_DATE = re.compile(r"(?:\b([Nn]gày)\s+)?" + _B + r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})" + _E)
_ISO_DATE = re.compile(_B + r"(\d{4})-(\d{2})-(\d{2})" + _E)
_DAY_MONTH = re.compile(r"\b([Nn]gày)\s+(\d{1,2})/(\d{1,2})" + _E)
_MONTH_YEAR = re.compile(r"\b([Tt]háng)\s+(\d{1,2})/(\d{4})" + _E)
_DOSSIER = re.compile(_B + r"[0-9A-ZĐ]+(?:[.\-][0-9A-ZĐ]+){2,}" + _E)
_PROCEDURE = re.compile(_B + r"\d\.\d{6}(?:\.\d+)*" + _E)
_PHONE = re.compile(_B + r"(?:0\d{2,3}[ .]?\d{3}[ .]?\d{3,4}|1[89]00[ .]?\d{3,4}(?:[ .]?\d{2,3})?)" + _E)
_TIME = re.compile(_B + r"(\d{1,2})(?:(?:h|giờ)(\d{2})?|:(\d{2}))(?![\w:])")
_AMOUNT = re.compile(_B + r"(" + _NUMBER + r")\s?(?:đồng|đ|VNĐ|VND|vnđ|vnd)(?!\w)(?:\s?/\s?(\w+))?")
_PERCENT = re.compile(_B + r"(" + _NUMBER + r")\s?%")
_UNIT = re.compile(_B + r"(" + _NUMBER + r")\s?(m2|m²|km|kg)(?!\w)")
_RANGE = re.compile(_B + r"(" + _NUMBER + r")\s?[-–]\s?(" + _NUMBER + r")" + _E)
_LONG_DIGITS = re.compile(_B + r"\d{7,}" + _E)
_NUMBER_TOKEN = re.compile(_B + r"(" + _NUMBER + r")" + _E)
_ABBREVIATION = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(k) for k in sorted(ABBREVIATIONS, key=len, reverse=True)) + r")(?![\w])"
)


def _date(day: int, month: int, year: int | None, prefix: str | None) -> str | None:
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None
    spoken = f"{prefix or 'ngày'} {'mùng ' if day <= 10 else ''}{number_to_words(day)} tháng {MONTHS[month]}"
    return spoken + (f" năm {number_to_words(year)}" if year is not None else "")


def _legal(match: re.Match[str]) -> str:
    number, year, suffix = match.groups()
    spoken_number = " chấm ".join(number_to_words(int(part)) for part in number.split("."))
    issuer = suffix.split("-")[-1]
    issuer = ISSUERS.get(issuer.upper(), ISSUERS.get(re.sub(r"\d+$", "", issuer).upper(), ""))
    return f"{spoken_number} năm {number_to_words(int(year))}" + (f" của {issuer}" if issuer else "")


def _time(match: re.Match[str]) -> str:
    hour, minute = int(match.group(1)), match.group(2) or match.group(3)
    if hour > 24 or (minute and int(minute) > 59):
        return match.group(0)
    spoken = f"{number_to_words(hour)} giờ"
    return spoken + (f" {number_to_words(int(minute))}" if minute and int(minute) else "")


def _is_dossier_code(token: str) -> bool:
    """Enough digits to be a code, and not a number with thousands separators ("1.000.000")."""
    return sum(c.isdigit() for c in token) >= 4 and not re.fullmatch(r"\d{1,3}(?:\.\d{3})+", token)


def _keep_if_none(value: str | None, match: re.Match[str]) -> str:
    return match.group(0) if value is None else value


def for_speech(text: str) -> str:
    """Text as it should be spoken: every number, date, code, amount and abbreviation in words."""
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"[“”\"‘’«»*•#]", "", text)
    text = re.sub(r"(?m)^\s*[-–+]\s+", "", text)  # list bullets
    text = _URL.sub(lambda m: " chấm ".join(DOMAIN_LABELS.get(p.lower(), p) for p in m[1].split(".")), text)
    text = _LEGAL.sub(_legal, text)
    text = _DATE.sub(lambda m: _keep_if_none(_date(int(m[2]), int(m[3]), int(m[4]), m[1]), m), text)
    text = _ISO_DATE.sub(lambda m: _keep_if_none(_date(int(m[3]), int(m[2]), int(m[1]), None), m), text)
    text = _DAY_MONTH.sub(lambda m: _keep_if_none(_date(int(m[2]), int(m[3]), None, m[1]), m), text)
    text = _MONTH_YEAR.sub(
        lambda m: f"{m[1]} {MONTHS[int(m[2])]} năm {number_to_words(int(m[3]))}" if 1 <= int(m[2]) <= 12 else m[0],
        text,
    )
    text = _PROCEDURE.sub(lambda m: read_code(m.group(0)), text)
    text = _DOSSIER.sub(lambda m: read_code(m[0]) if _is_dossier_code(m[0]) else m[0], text)
    text = _PHONE.sub(lambda m: digits_to_words(m.group(0)), text)
    text = _TIME.sub(_time, text)
    text = _AMOUNT.sub(lambda m: f"{_plain_number(m[1])} đồng" + (f" một {m[2]}" if m[2] else ""), text)
    text = _PERCENT.sub(lambda m: f"{_plain_number(m[1])} phần trăm", text)
    text = _UNIT.sub(lambda m: f"{_plain_number(m[1])} {UNITS[m[2]]}", text)
    text = _RANGE.sub(lambda m: f"{_plain_number(m[1])} đến {_plain_number(m[2])}", text)
    text = _LONG_DIGITS.sub(lambda m: digits_to_words(m.group(0)), text)
    text = _NUMBER_TOKEN.sub(lambda m: _plain_number(m[1]), text)
    text = _ABBREVIATION.sub(lambda m: ABBREVIATIONS[m.group(1)], text)
    text = text.replace("&", " và ").replace("%", " phần trăm")
    text = re.sub(r"\s*[()\[\]]\s*", ", ", text)
    text = re.sub(r"\s*;\s*", ", ", text)
    text = re.sub(r"\s*/\s*", " ", text)
    text = re.sub(r"\.{2,}|…", ".", text)
    text = re.sub(r"\s+([,.!?:])", r"\1", text)
    text = re.sub(r",(\s*,)+", ",", text)
    text = re.sub(r"^[,\s]+|[,\s]+$", "", text)
    return re.sub(r"\s+", " ", text)


# ---------------------------------------------------------------- shortening

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_NO_BREAK_BEFORE = re.compile(r"(?:\b(?:TP|Tp|v\.v|St|Th|ThS|TS|PGS|GS|Q|P|X)\.)$")
_PARENTHESES = re.compile(r"\s*\([^()]*\)")


def sentences(text: str) -> list[str]:
    """Sentences of a written answer: each line is at least one, list bullets and headings included."""
    pieces: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = re.sub(r"^\s*(?:[-–•*+]|\d+[.)])\s+", "", raw).strip()
        if not line:
            continue
        if pending:
            line = f"{pending} {line}"
            pending = ""
        if line.endswith(":"):  # a heading belongs with what follows
            pending = line
            continue
        pieces.append(line)
    if pending:
        pieces.append(pending)
    out: list[str] = []
    for piece in pieces:
        current = ""
        for part in _SENTENCE_END.split(piece):
            current = f"{current} {part}" if current else part
            if not _NO_BREAK_BEFORE.search(current):
                out.append(current)
                current = ""
        if current:
            out.append(current)
    return out


def _cut_words(sentence: str, max_words: int) -> str:
    words = sentence.split()
    if len(words) <= max_words:
        return sentence
    head = words[:max_words]
    # Prefer the last clause boundary that keeps at least half of the allowance. Not a colon: its label
    # would be said without what it introduces ("…, thời hạn giải quyết." with no time).
    for i in range(len(head) - 1, max_words // 2 - 1, -1):
        if head[i].endswith((",", ";")):
            return " ".join(head[: i + 1])
    return " ".join(head)


def shorten_for_voice(
    text: str,
    max_sentences: int = 2,
    max_words: int = 25,
    drop_prefixes: tuple[str, ...] = ("Nguồn:",),
) -> str:
    """At most ``max_sentences`` sentences of at most ``max_words`` words each, cut at sentence
    or clause boundaries; parenthetical asides and citation lines are dropped."""
    kept_lines = [line for line in text.splitlines() if not line.strip().startswith(drop_prefixes)]
    plain = _PARENTHESES.sub("", _PARENTHESES.sub("", "\n".join(kept_lines)))  # twice: one level of nesting
    chosen: list[str] = []
    for sentence in sentences(plain):
        sentence = _cut_words(sentence.strip(), max_words).rstrip(",;: ")
        if not sentence:
            continue
        if sentence[-1] not in ".!?":
            sentence += "."
        chosen.append(sentence)
        if len(chosen) == max_sentences:
            break
    return " ".join(chosen)
