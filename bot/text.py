"""Vietnamese text normalisation shared by indexing and questions.

Citizens type without diacritics, with teen-code and abbreviations, sometimes in
decomposed Unicode. Every text goes through :func:`normalize` before it is
indexed or searched, and :func:`fold` gives the diacritic-free form that lets
"lam cccd o dau" meet "làm căn cước công dân ở đâu".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from itertools import pairwise

# Whole-token expansions (keys are lower-case). Ambiguous short forms that are
# also ordinary words ("a", "t", "bh", "dt") are deliberately left out.
ABBREVIATIONS: dict[str, str] = {
    "k": "không",
    "ko": "không",
    "kg": "không",
    "khg": "không",
    "hok": "không",
    "hông": "không",
    "hong": "không",
    "kô": "không",
    "khum": "không",
    "hem": "không",
    "đc": "được",
    "dc": "được",
    "dk": "đăng ký",
    "dkkh": "đăng ký kết hôn",
    "đkkh": "đăng ký kết hôn",
    "dkks": "đăng ký khai sinh",
    "đkks": "đăng ký khai sinh",
    "đk": "đăng ký",
    "dky": "đăng ký",
    "đky": "đăng ký",
    "hs": "hồ sơ",
    "hso": "hồ sơ",
    "kq": "kết quả",
    "gp": "giấy phép",
    "gks": "giấy khai sinh",
    "cccd": "căn cước công dân",
    "cc": "căn cước",
    "cmnd": "chứng minh nhân dân",
    "cmt": "chứng minh nhân dân",
    "gplx": "giấy phép lái xe",
    "gpxd": "giấy phép xây dựng",
    "gcn": "giấy chứng nhận",
    "qsdd": "quyền sử dụng đất",
    "qsdđ": "quyền sử dụng đất",
    "bhxh": "bảo hiểm xã hội",
    "bhyt": "bảo hiểm y tế",
    "bhtn": "bảo hiểm thất nghiệp",
    "hkd": "hộ kinh doanh",
    "dkkd": "đăng ký kinh doanh",
    "đkkd": "đăng ký kinh doanh",
    "ubnd": "ủy ban nhân dân",
    "tthc": "thủ tục hành chính",
    "dvc": "dịch vụ công",
    "sdt": "số điện thoại",
    "sđt": "số điện thoại",
    "bn": "bao nhiêu",
    "bnhiu": "bao nhiêu",
    "j": "gì",
    "ji": "gì",
    "z": "vậy",
    "v": "vậy",
    "ntn": "như thế nào",
    "ng": "người",
    "mk": "mình",
    "mik": "mình",
    "mn": "mọi người",
    "r": "rồi",
    "vs": "với",
    "trc": "trước",
    "tg": "thời gian",
    "lltp": "lý lịch tư pháp",
    "xn": "xác nhận",
    "hk": "hộ khẩu",
    "kt3": "tạm trú",
    "ck": "chồng",
    "vk": "vợ",
    "cty": "công ty",
    "tnhh": "trách nhiệm hữu hạn",
    "đkx": "đăng ký xe",
    "oto": "ô tô",
    "ôtô": "ô tô",
    "oke": "được",
    "ok": "được",
    "pải": "phải",
    "fải": "phải",
    "lm": "làm",
    "bik": "biết",
    "bít": "biết",
    "thui": "thôi",
    "nhiu": "nhiêu",
    # Only after some words (see _EXPANDED_ONLY_AFTER):
    "e": "em",
    "ks": "khai sinh",
    # Central and southern speech.
    "mần": "làm",
    "rứa": "thế",
    "tui": "tôi",
    "hổng": "không",
}

# Acronyms of official terms, as businesses and the portal's own questions write
# them ("cấp GCN ATTP", "thẩm duyệt PCCC"); procedure names spell them out. Each
# also matches typed without diacritics ("dtnd").
OFFICIAL_ACRONYMS: dict[str, str] = {
    "attp": "an toàn thực phẩm",
    "atdb": "an toàn dịch bệnh",
    "atlđ": "an toàn lao động",
    "atvslđ": "an toàn vệ sinh lao động",
    "bca": "bộ công an",
    "bgtvt": "bộ giao thông vận tải",
    "bnnptnt": "bộ nông nghiệp và phát triển nông thôn",
    "bqp": "bộ quốc phòng",
    "btnmt": "bộ tài nguyên và môi trường",
    "cand": "công an nhân dân",
    "cnch": "cứu nạn cứu hộ",
    "cqđd": "cơ quan đại diện",
    "dvmtr": "dịch vụ môi trường rừng",
    "đmc": "đánh giá môi trường chiến lược",
    "đsq": "đại sứ quán",
    "đtm": "đánh giá tác động môi trường",
    "đtnđ": "đường thủy nội địa",
    "gpkd": "giấy phép kinh doanh",
    "gtgt": "giá trị gia tăng",
    "gtvt": "giao thông vận tải",
    "kbnn": "kho bạc nhà nước",
    "kcb": "khám bệnh chữa bệnh",
    "khcn": "khoa học và công nghệ",
    "kttv": "khí tượng thủy văn",
    "lđtbxh": "lao động thương binh và xã hội",
    "lptb": "lệ phí trước bạ",
    "nhnn": "ngân hàng nhà nước",
    "nvqs": "nghĩa vụ quân sự",
    "pccc": "phòng cháy chữa cháy",
    "ptnt": "phát triển nông thôn",
    "qcvn": "quy chuẩn kỹ thuật quốc gia",
    "tbkt": "tiến bộ kỹ thuật",
    "tbyt": "thiết bị y tế",
    "tctd": "tổ chức tín dụng",
    "thcs": "trung học cơ sở",
    "thpt": "trung học phổ thông",
    "tncn": "thu nhập cá nhân",
    "tnmt": "tài nguyên và môi trường",
    "ttbyt": "trang thiết bị y tế",
    "ubcknn": "ủy ban chứng khoán nhà nước",
    "vlncn": "vật liệu nổ công nghiệp",
    "xklđ": "xuất khẩu lao động",
    "xnk": "xuất nhập khẩu",
    "yhct": "y học cổ truyền",
}

# Everyday words → the official terms procedure names use. For searching, the
# official terms are appended to a text that uses the everyday words (never
# replacing them), for questions and indexed texts alike. Keys are written
# with diacritics and also match when typed without, so none may fold into an
# everyday word ("đò" would catch "do", "because").
COLLOQUIAL_TERMS: dict[str, str] = {
    "sổ đỏ": "giấy chứng nhận quyền sử dụng đất",
    "sổ hồng": "giấy chứng nhận quyền sử dụng đất quyền sở hữu nhà ở",
    "bìa đỏ": "giấy chứng nhận quyền sử dụng đất",
    "giấy tờ đất": "giấy chứng nhận quyền sử dụng đất",
    "giấy tờ nhà đất": "giấy chứng nhận quyền sử dụng đất",
    "sang tên": "chuyển nhượng đăng ký biến động",
    "tách sổ": "tách thửa",
    "tách bìa": "tách thửa",
    "gộp sổ": "hợp thửa",
    "gộp bìa": "hợp thửa",
    "gộp thửa": "hợp thửa",
    "công chứng": "chứng thực",
    "photo công chứng": "chứng thực bản sao từ bản chính",
    "bằng lái": "giấy phép lái xe",
    "passport": "hộ chiếu",
    "pasport": "hộ chiếu",
    "hộ khẩu": "thường trú",
    "nhập hộ khẩu": "đăng ký thường trú",
    "chuyển khẩu": "đăng ký thường trú",
    "cắt khẩu": "xóa đăng ký thường trú",
    "chứng tử": "khai tử",
    "giấy báo tử": "khai tử",
    # Not "báo tử" alone: typed without diacritics it is "bao tử", the stomach.
    "làm báo tử": "khai tử",
    "khai báo tử": "khai tử",
    "đăng ký báo tử": "khai tử",
    "khai sanh": "khai sinh",  # the southern spelling
    "visa": "thị thực",
    "độc thân": "xác nhận tình trạng hôn nhân",
    "kéo điện": "cấp điện mới",
    "lắp điện": "cấp điện mới",
    "xin điện": "cấp điện mới",
    "công tơ": "thiết bị đo đếm điện",
    "hợp đồng điện": "hợp đồng mua bán điện",
    "ghe đò": "phương tiện thủy nội địa",
    "đò ngang": "phương tiện thủy nội địa",
    "ghe thuyền": "phương tiện thủy nội địa",
    "thuyền máy": "phương tiện thủy nội địa",
    "bản quyền": "quyền tác giả",
    "mã số thuế": "đăng ký thuế",
    "mst": "mã số thuế đăng ký thuế",
    "mở quán": "đăng ký hộ kinh doanh",
    "giấy phép kinh doanh": "đăng ký kinh doanh",
    "làm lại": "cấp lại",
    "bị mất": "cấp lại",
    "bị hỏng": "cấp đổi",
    "căn cước": "thẻ căn cước",
    "chứng minh nhân dân": "thẻ căn cước",
    "ct07": "xác nhận thông tin về cư trú",
    "xác nhận cư trú": "xác nhận thông tin về cư trú",
    "giấy xác nhận nơi ở": "xác nhận thông tin về cư trú",
    "xác nhận hộ khẩu": "xác nhận thông tin về cư trú",
    "giấy chứng sinh": "khai sinh",
    "biển số": "đăng ký xe",
    "lương hưu": "hưởng lương hưu",
    "rút bảo hiểm": "hưởng bảo hiểm xã hội một lần",
    "lãnh thất nghiệp": "hưởng trợ cấp thất nghiệp",
    "mất việc": "hưởng trợ cấp thất nghiệp",
    "tiền tuất": "chế độ tử tuất",
    "qua đời": "khai tử",
    "từ trần": "khai tử",
    "bệnh binh": "người có công",
    "người già": "người cao tuổi",
    "thương binh": "người có công",
    "liệt sĩ": "người có công",
    "nước ngầm": "nước dưới đất",
    "giếng khoan": "nước dưới đất",
    "khoan giếng": "nước dưới đất",
    "xây nhà": "giấy phép xây dựng nhà ở riêng lẻ",
    "lấn chiếm đất": "tranh chấp đất đai",
    "sửa nhà": "giấy phép xây dựng sửa chữa cải tạo",
}

_WORD = re.compile(r"\w+", re.UNICODE)
_SPACE = re.compile(r"\s+")
_CONTROL = dict.fromkeys([*(c for c in range(32) if chr(c) not in "\t\n\r"), *range(0x7F, 0xA0)])

MAX_QUESTION_CHARS = 2000


def fold(text: str) -> str:
    """Strip Vietnamese diacritics: 'Đăng ký' → 'Dang ky'."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped).replace("đ", "d").replace("Đ", "D")


def folded_key(text: str) -> str:
    """A text's words, normalised and without diacritics: equal keys say the same thing (a question
    asked again, an everyday name given twice)."""
    return " ".join(fold(w) for w in words(normalize(text)))


def has_diacritics(text: str) -> bool:
    return fold(text) != text


def clean(text: str) -> str:
    """NFC, no control characters, single spaces; keeps case and punctuation."""
    text = unicodedata.normalize("NFC", text).translate(_CONTROL)
    return _SPACE.sub(" ", text).strip()


# The colloquial abbreviations win where a folded acronym meets one.
_EXPANSIONS = {
    **{key: term for acronym, term in OFFICIAL_ACRONYMS.items() for key in (acronym, fold(acronym))},
    **ABBREVIATIONS,
}


# Short forms that are an ordinary word after some words: "so hong" is "sổ hồng" and "bi hong" "bị hỏng"
# typed without diacritics, not "sổ không", "bị không"; "C/O mẫu VK" is a certificate of origin, not "mẫu vợ".
_KEPT_AFTER: dict[str, frozenset[str]] = {
    "hong": frozenset({"so", "sổ", "bia", "bìa", "bi", "bị", "hu", "hư"}),
    "vk": frozenset({"mẫu", "mau"}),
}
# Short forms that mean something only after some words ("" is the start of the text): "cho e hỏi",
# "e muốn" are "em", not "mẫu E", "hạng E" or "điểm e"; "giấy ks" is a birth certificate, "ks" alone
# may be a hotel.
_EXPANDED_ONLY_AFTER: dict[str, frozenset[str]] = {
    "e": frozenset({"", "cho", "giúp", "giup", "của", "cua", "với", "voi", "vs", "dạ", "da", "ạ", "a", "ơi", "oi"}),
    "ks": frozenset({"giấy", "giay", "ký", "ky", "dk", "đk", "làm", "lam", "lm", "trích", "trich"}),
}
# "con 14t", "bé 3t": an age after a word for a person ("5t" alone may be five million or five tonnes).
_AGE = re.compile(r"(\d{1,3})t")
_PERSON_WORDS = frozenset({"con", "bé", "be", "cháu", "chau", "trẻ", "tre", "em", "người", "nguoi"})


def expand_abbreviations(text: str) -> str:
    previous = ""

    def expand(match: re.Match[str]) -> str:
        nonlocal previous
        expanded = _expanded(match.group(0), previous)
        previous = expanded.rsplit(" ", 1)[-1]  # as a second pass would see it: normalising stays idempotent
        return expanded

    return _WORD.sub(expand, text)


def _expanded(word: str, before: str) -> str:
    only_after = _EXPANDED_ONLY_AFTER.get(word)
    if before in _KEPT_AFTER.get(word, ()) or (only_after is not None and before not in only_after):
        return word
    age = _AGE.fullmatch(word)
    if age and before in _PERSON_WORDS:
        return f"{age.group(1)} tuổi"
    return _EXPANSIONS.get(word, word)


# "hoà"/"hòa", "thuỷ"/"thủy", "khoẻ"/"khỏe": two spellings of one syllable, the tone
# mark on the second or on the first vowel of an open "oa", "oe", "uy"; both are common
# in names and questions. It is moved to the first vowel, as most names write it. In
# decomposed text the tone follows its vowel; "quý" keeps its mark ("qu" is a consonant).
_SECOND_VOWEL_TONE = re.compile(r"(?<!q)(oa|oe|uy)([\u0300\u0301\u0303\u0309\u0323])(?![\w\u0300-\u036f])")


# "đăng kí"/"đăng ký", "lí lịch"/"lý lịch", "hi sinh"/"hy sinh", "qui định"/"quy định", "liệt sỹ"/"liệt sĩ": a
# syllable of one consonant and the vowel i is written with i or y. After k, l, m, h and qu it is y, after s
# it is i, as names write them; other consonants keep theirs ("đi", "vi phạm", "ty" are one spelling each).
_I_OR_Y = re.compile(
    r"(?<![\w\u0300-\u036f])(k|l|m|h|qu|s)(?:i|y)([\u0300\u0301\u0303\u0309\u0323]?)(?![\w\u0300-\u036f])"
)


def _one_i_or_y(m: re.Match[str]) -> str:
    return m[1] + ("i" if m[1] == "s" else "y") + m[2]


def one_spelling(lowercase_text: str) -> str:
    """One spelling of a syllable written two ways: the tone's vowel, then i or y."""
    decomposed = unicodedata.normalize("NFD", lowercase_text)
    moved = _SECOND_VOWEL_TONE.sub(lambda m: m[1][0] + m[2] + m[1][1], decomposed)
    return unicodedata.normalize("NFC", _I_OR_Y.sub(_one_i_or_y, moved))


# "alo tổng đài ơi, cho tôi hỏi …": the caller speaks to the line, and "tổng đài" names no topic there ("tổng đài
# ơi làm hộ chiếu" got the contact guide, whose phrase it is; it drew "tổng đại lý" names too). Asking for a person
# ("tổng đài viên") is not this.
_ADDRESSING_THE_LINE = re.compile(r"\b(?:alo |a lô |a lo )?(?:tổng đài|tong dai) (?:ơi|oi)\b")
# "dạ, cho tôi hỏi …", "à vâng …", "ừ thì …": how a caller starts to speak, as written (typed without diacritics
# they are other words: "da", "vang"). Left in, they named something, so a question of how to submit by post was
# asked back with quarantine certificates instead of getting its guide. "dạ dày" is the stomach.
_FILLERS_AT_THE_START = re.compile(r"^(?:(?:à|ừ|ừm|ờ|ờm|vâng|thưa|dạ(?! dày))(?!\w)[\s,.!…]*)+")


def normalize(text: str) -> str:
    """The canonical form of a question or passage: NFC, lower case, expanded, one spelling, without the
    words addressing the phone line or the fillers a caller starts with."""
    # One spelling after the expansions, as it composes again: an expansion can meet a combining mark the
    # question left after it.
    lowered = one_spelling(expand_abbreviations(clean(text).lower()))
    return _SPACE.sub(" ", _ADDRESSING_THE_LINE.sub(" ", _FILLERS_AT_THE_START.sub("", lowered))).strip()


def _written_or_folded_alternatives(phrases: Iterable[str]) -> str:
    """A regex alternation of the phrases, each as written or typed without diacritics."""
    return "|".join(f"{re.escape(p)}|{re.escape(fold(p))}" for p in phrases)


def _written_or_folded(phrases: Iterable[str]) -> re.Pattern[str]:
    """Matches any of the phrases, as written or typed without diacritics."""
    return re.compile(rf"\b(?:{_written_or_folded_alternatives(phrases)})\b")


_COLLOQUIAL = [(term, _written_or_folded([term]), official) for term, official in COLLOQUIAL_TERMS.items()]


# "tại / ở / lên … ủy ban nhân dân (cấp) xã": where the citizen goes, not which procedure. Left in,
# its four syllables matched the few names that say which UBND decides ("Thẩm định dự án … do UBND tỉnh"), and
# "chứng thực chữ ký tại ubnd xã" was asked back with those. The preposition and the level stay.
_PLACE_PREPOSITIONS = frozenset("tai o len ra den toi".split())
_PEOPLES_COMMITTEE = ["uy", "ban", "nhan", "dan"]


def without_peoples_committee(normalized_text: str) -> str:
    """The text without "ủy ban nhân dân (cấp)" where it follows a preposition of place."""
    asked = words(normalized_text)
    folded = [fold(w) for w in asked]
    keep = []
    i = 0
    while i < len(asked):
        after = i + len(_PEOPLES_COMMITTEE)
        if i and folded[i - 1] in _PLACE_PREPOSITIONS and folded[i:after] == _PEOPLES_COMMITTEE:
            i = after + (after < len(asked) and folded[after] == "cap")
            continue
        keep.append(asked[i])
        i += 1
    return normalized_text if len(keep) == len(asked) else " ".join(keep)


# "làm căn cước ở huyện Lý Sơn", "khai tử tại phường Nghĩa Chánh": the place's name says where the citizen lives,
# not which procedure, and its syllables only lowered how much of the question a procedure's name covers ("làm
# căn cước ở huyện lý sơn" was declined, "ở huyện" favoured the district-level reissue of the card). The name is
# the one or two syllables after a preposition and a unit of local government; a unit without a name stays, as it
# may say the level ("nộp ở huyện").
_LOCAL_UNITS = [
    unit.split() for unit in ("thanh pho", "thi tran", "thi xa", "tinh", "huyen", "quan", "xa", "phuong", "thon", "xom")
]
_NOT_A_PLACE_NAME = frozenset(
    "khac nay do kia minh nha noi dang hien dia ban cap tren duoi cua va hay hoac thi ma la de vi ve tu sang".split()
)
_PLACE_NAME_WORDS = 2


def _place_name_word(folded_word: str) -> bool:
    return folded_word not in ASKING_WORDS and folded_word not in _NOT_A_PLACE_NAME


def without_place_names(normalized_text: str) -> str:
    """The text without the places it names, unit and name ("làm căn cước ở huyện Lý Sơn" → "làm căn cước ở")."""
    spans = [m.span() for m in _WORD.finditer(normalized_text)]
    folded = [fold(normalized_text[a:b]) for a, b in spans]
    dropped: list[tuple[int, int]] = []
    i = 1
    while i < len(spans):
        unit = next((u for u in _LOCAL_UNITS if folded[i : i + len(u)] == u), None)
        if unit is None or folded[i - 1] not in _PLACE_PREPOSITIONS:
            i += 1
            continue
        start = i
        i += len(unit)
        # The first word must not be a unit ("ở xã, phường"); the second may ("Sơn Tịnh" folds to "son tinh").
        named = 0
        while named < _PLACE_NAME_WORDS and i < len(spans) and _place_name_word(folded[i]):
            if named == 0 and [folded[i]] in _LOCAL_UNITS:
                break
            named += 1
            i += 1
        if named:  # the unit and its name, with the space before them
            dropped.append((spans[start - 1][1], spans[i - 1][1]))
    for a, b in reversed(dropped):
        normalized_text = normalized_text[:a] + normalized_text[b:]
    return normalized_text


# "làm căn cước có cần mang sổ hộ khẩu không": the papers to bring are not the procedure asked about, and
# "sổ hộ khẩu" pulled the household registration's procedures (a document's name named a procedure).
_THINGS_TO_BRING = re.compile(
    r" ?\b(?:có |co )?(?:cần|can|phải|phai) (?:mang|đem|dem|cầm|cam)(?: theo)?(?: \w+){1,5}? (?:không|khong)\b"
)


def without_things_to_bring(normalized_text: str) -> str:
    """The text without "có cần mang … không" when something else in it names a procedure."""
    rest = _THINGS_TO_BRING.sub("", normalized_text).strip()
    return rest if naming_words(rest) else normalized_text


# How long or how much something takes, said after "mất" ("mất bao lâu", "mất mấy ngày"): no loss (NOT_A_LOSS).
HOW_LONG = ("bao lâu", "bao nhiêu", "mấy ngày", "mấy tuần", "mấy tháng", "khoảng")
# "mất" that loses no paper: how long or how much it takes ("hộ chiếu làm mất bao nhiêu ngày" got the lost
# passport's report), a lost job, strength or person ("chồng bị mất tích" got a marriage registered again), the
# hospital's birth notice lost before the birth is registered ("giấy chứng sinh bị mất làm sao khai sinh" got the
# birth registered again), or a cut in the power or water ("nhà bị mất điện" was asked back with reissues). Read
# by the markers (bot.name_markers) and beside the everyday term of a loss (LOSS_TERM).
NOT_A_LOSS = (
    *(f"mất {phrase}" for phrase in HOW_LONG),
    *("mất việc", "mất sức", "mất khả năng", "mất năng lực", "mất tích"),
    *("mất giấy chứng sinh", "chứng sinh bị mất", "mất điện", "mất nước"),
)
_NOT_A_LOSS = _written_or_folded(NOT_A_LOSS)
LOSS_TERM = "bị mất"  # the everyday term that asks for a reissue (COLLOQUIAL_TERMS)
# "làm hộ chiếu mất mấy ngày": "mất" before how long or how much it takes loses nothing, yet it drew the lost
# passport's report to the top and the question was asked back. A loss ("bị mất bao lâu") or a death some time
# ago ("bố tôi mất mấy ngày rồi") keeps it. Each phrase as written or typed without diacritics.
_HOW_LONG_IT_TAKES = re.compile(
    r"(?<!bị )(?<!bi )\b(?:mất|mat) (?=(?:"
    + _written_or_folded_alternatives(HOW_LONG)
    + r")\b(?! (?:\w+ ){0,2}(?:rồi|roi|trước|truoc|nay)\b))"
)


def asked_text(question: str) -> str:
    """The question normalised, without the places and the papers to bring it names, and without "mất" where it
    says how long it takes."""
    return without_things_to_bring(_HOW_LONG_IT_TAKES.sub("", without_place_names(normalize(question))))


# "bà nội tôi mất rồi thì làm giấy tờ gì" is a death to register (it was called off-topic). "mất" after a
# relative (or two: "bố mẹ") is a death unless what follows is lost ("mẹ mất giấy khai sinh") or an amount ("còn
# mất phí", "chỉ mất 3 ngày"; "có", "đi", "còn", "chỉ" are left out of the relatives for that reason; "mất 3 tháng
# rồi" is a death), folded. Only a death the question names alone asks for its registration: "bà mất rồi mà hợp
# đồng tiền điện vẫn đứng tên bà" is about the contract.
_DEATH_OF_A_RELATIVE = re.compile(
    r"\b(?:ba|ong|bo|cha|me|ma|chong|vo|anh|chi|em|bac|chu|cau|thim|nguoi than|nguoi nha)"
    r"(?: (?:noi|ngoai|ruot|toi|tui|em|minh|con|chau|bo|me|cha|ma|ong|ba))*(?: (?:moi|vua|da|bi))? (?:mat|chet)\b"
    r"(?! (?:giay|the|so|bang|ho (?:chieu|so|khau)|can cuoc|cccd|chung|vi|bop|dien|xe|tien|phi|le|viec|suc|tich"
    r"|kha|nang|tri|ngu|bao|may|khoang|het|thoi|nhieu|\d(?!\d* (?:ngay|tuan|thang|nam) (?:roi|truoc|nay))))"
)

# Words that only say when ("bố tôi mất năm ngoái giờ mới làm giấy tờ", "mất ba ngày rồi"): beside them the
# death is named alone.
_WHEN_WORDS = frozenset(
    "roi nam ngoai thang tuan ngay hom qua truoc nay moi gio lau sang mot hai ba bon sau bay tam chin muoi".split()
)


def _names_a_death_alone(folded_text: str) -> bool:
    death = _DEATH_OF_A_RELATIVE.search(folded_text)
    if death is None:
        return False
    rest = naming_words(folded_text[: death.start()] + folded_text[death.end() :])
    return all(word in _WHEN_WORDS or word.isdigit() for word in rest)


# Someone of 60 or more is "người cao tuổi" (Luật Người cao tuổi, Điều 2): "ông tôi 90 tuổi được tiền gì không"
# was called off-topic, "ông ngoại 78 tuổi có được trợ cấp không" got the unemployment benefit. Only a question
# with no other everyday term gains it: "bố tôi 62 tuổi lãnh lương hưu ở đâu" is about the pension. Folded; the
# ages the callbot hears in words are those of sixty and over.
_ELDERLY_AGE = re.compile(r"\b(?:[6-9]\d|1[01]\d|(?:sau|bay|tam|chin) muoi(?: \w+)?) tuoi\b")
# Old age said in words ("ông bà già rồi được hưởng chế độ gì" was called off-topic, "bà tôi già yếu không ai
# nuôi" asked back with the identity card), as written or typed without any diacritics: "giá rồi" is no age.
_ELDERLY_WORDS = re.compile(r"\b(?:già (?:yếu|rồi|cả)|gia (?:yeu|roi))\b")


def with_official_terms(normalized_text: str) -> str:
    """The text plus the official terms of the everyday words it uses."""
    losses = _NOT_A_LOSS.sub(" ", normalized_text)
    extra = [
        official
        for term, pattern, official in _COLLOQUIAL
        if pattern.search(losses if term == LOSS_TERM else normalized_text)
    ]
    folded = fold(normalized_text).lower()
    if _names_a_death_alone(folded):
        extra.append("khai tử")
    if not extra and (_ELDERLY_AGE.search(folded) or _ELDERLY_WORDS.search(normalized_text)):
        extra.append("người cao tuổi")
    return " ".join([normalized_text, *dict.fromkeys(extra)])


# Words that say what is asked but not about which procedure ("cần giấy tờ gì", "mất bao lâu"). Typed with
# diacritics, a word only asks as written: "thẻ", "căn", "hộ", "sổ", "ô tô" name something although they fold into
# asking words ("thế", "cần", "hồ sơ", "ở", "tờ"); typed without, it asks when it folds into one (ASKING_WORDS).
_ASKING_WORDS_WRITTEN = frozenset(
    (
        "cho tôi hỏi xin muốn cần phải làm thế thể nào như gì những giấy tờ hồ sơ gồm có không được bao "
        "nhiêu tiền lâu mấy ngày ở đâu nơi nộp thủ tục phí lệ thời gian mất hết các bước và với a à ạ ah "
        "nhé nhe vậy rồi đi em anh chị bạn mình ad admin thì khi giờ nhận lấy kết quả ơi alo cái cháu"
    ).split()
)
ASKING_WORDS = frozenset(map(fold, _ASKING_WORDS_WRITTEN))


# English words that are no Vietnamese syllable typed without diacritics ("the", "can", "do", "to", "my" are).
_ENGLISH_WORDS = frozenset(
    (
        "how what where when which who why is are does did i you your need get with for of please want "
        "documents document apply much should this hello hi register passport card marriage birth certificate"
    ).split()
)


def looks_english(text: str) -> bool:
    """'how to get a passport in vietnam': two or more English words and no Vietnamese letter."""
    if has_diacritics(text):
        return False
    return len(_ENGLISH_WORDS & set(re.findall(r"[a-z]+", text.lower()))) >= 2


def is_asking_word(word: str) -> bool:
    if has_diacritics(word):
        return word.lower() in _ASKING_WORDS_WRITTEN
    return word.lower() in ASKING_WORDS


def naming_words(normalized_text: str) -> list[str]:
    """The syllables that can name a procedure: not those that only ask ("cần", "giấy tờ", "ở đâu")."""
    return [w for w in words(normalized_text) if not is_asking_word(w)]


def words(text: str) -> list[str]:
    """Syllables of an already normalised text."""
    return _WORD.findall(text)


def bigrams(normalized_text: str) -> set[str]:
    """Folded pairs of neighbouring syllables (the syllables themselves for a one-word text)."""
    folded = words(fold(normalized_text))  # folding keeps the syllables apart: one call, not one per syllable
    return {f"{a} {b}" for a, b in pairwise(folded)} or set(folded)
