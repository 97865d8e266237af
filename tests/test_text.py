"""bot.text: the normalisation every question and passage goes through."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.text import (
    ABBREVIATIONS,
    OFFICIAL_ACRONYMS,
    asked_text,
    fold,
    has_diacritics,
    is_asking_word,
    looks_english,
    normalize,
    with_official_terms,
    without_peoples_committee,
    without_place_names,
    without_things_to_bring,
)

# Every Vietnamese vowel with every tone, in both cases, plus đ and the consonants.
_BASES = "aăâeêioôơuưy"
_TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]  # huyền, sắc, hỏi, ngã, nặng
VOWELS = [unicodedata.normalize("NFC", base + tone) for base in _BASES for tone in _TONES]
VIETNAMESE_LETTERS = sorted(
    {*VOWELS, *(v.upper() for v in VOWELS), *"bcdđghklmnpqrstvx", *"BCDĐGHKLMNPQRSTVX", *"fjwzFJWZ"}
)
assert len(VOWELS) == 72

# What citizens send: Vietnamese letters, digits, punctuation, every kind of
# spacing and the C0 control characters that copy-paste drags along.
_ALPHABET = [
    *VIETNAMESE_LETTERS,
    *"0123456789.,?!:;-/()\"'",
    *" \t\n\r\u00a0\u2003",
    *(chr(c) for c in range(32)),
]
_ABBREVIATED = [*ABBREVIATIONS, *OFFICIAL_ACRONYMS]
_WORDS = [*_ABBREVIATED, *(k.upper() for k in _ABBREVIATED), "làm", "căn", "cước", "ở", "đâu", "hoà", "thuỷ", "?", "  "]


def _in_form(pair: tuple[str, str]) -> str:
    return unicodedata.normalize(pair[1], pair[0])


# Free text and abbreviation-heavy sentences, composed (NFC) or decomposed (NFD).
citizen_text = st.tuples(
    st.text(alphabet=_ALPHABET, max_size=60) | st.lists(st.sampled_from(_WORDS), max_size=12).map(" ".join),
    st.sampled_from(["NFC", "NFD"]),
).map(_in_form)
vietnamese_text = st.text(alphabet=[*VIETNAMESE_LETTERS, *" 0123456789.,?!"], max_size=60)


# ---- normalize -----------------------------------------------------------------


def test_decomposed_input_is_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "Đăng ký tạm trú ở Huế")
    assert decomposed != unicodedata.normalize("NFC", decomposed)  # the input really is decomposed
    result = normalize(decomposed)
    assert result == "đăng ký tạm trú ở huế"
    assert unicodedata.is_normalized("NFC", result)


def test_lower_case() -> None:
    assert normalize("ĐĂNG KÝ THƯỜNG TRÚ") == "đăng ký thường trú"


def test_whitespace_is_collapsed_and_stripped() -> None:
    assert normalize("  làm\t\tcăn \u00a0 cước\r\n\nở   đâu  ") == "làm căn cước ở đâu"


def test_control_characters_are_removed() -> None:
    assert normalize("làm\x00 căn\x07 cước\x1b\x08 ở đâu") == "làm căn cước ở đâu"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Alo tổng đài ơi, cho tôi hỏi làm hộ chiếu", ", cho tôi hỏi làm hộ chiếu"),
        ("tong dai oi lam ho chieu", "lam ho chieu"),
        # Asking for a person, or about the line itself, is kept.
        ("cho tôi gặp tổng đài viên ơi", "cho tôi gặp tổng đài viên ơi"),
        ("số tổng đài hỗ trợ", "số tổng đài hỗ trợ"),
    ],
)
def test_words_addressing_the_phone_line_are_left_out(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dạ, cho tôi hỏi nộp hồ sơ qua bưu điện", "cho tôi hỏi nộp hồ sơ qua bưu điện"),
        ("à vâng tôi muốn hỏi", "tôi muốn hỏi"),
        ("ừ thì làm căn cước", "thì làm căn cước"),
        ("dạ thưa cô cho cháu hỏi", "cô cho cháu hỏi"),
        # Only at the start, only as written: the stomach, Agent Orange and a temporary absence stay.
        ("dạ dày đau có được bảo hiểm không", "dạ dày đau có được bảo hiểm không"),
        ("da cam", "da cam"),
        ("vang mat", "vang mat"),
        ("làm hộ chiếu à", "làm hộ chiếu à"),
    ],
)
def test_the_fillers_a_caller_starts_with_are_left_out(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ko", "không"),
        ("dc", "được"),
        ("hs", "hồ sơ"),
        ("cccd", "căn cước công dân"),
        ("gks", "giấy khai sinh"),
        ("dkkh bn ngay", "đăng ký kết hôn bao nhiêu ngay"),
        ("ĐKKS cho con", "đăng ký khai sinh cho con"),
        ("lam cccd ko dc a", "lam căn cước công dân không được a"),
        ("Hs làm GKS gồm j", "hồ sơ làm giấy khai sinh gồm gì"),
        ("hs nộp rồi bao giờ có kq", "hồ sơ nộp rồi bao giờ có kết quả"),
        ("đổi CCCD, ko có gks thì sao?", "đổi căn cước công dân, không có giấy khai sinh thì sao?"),
        ("hong biet lam sao", "không biet lam sao"),
        # After "sổ" it is "sổ hồng" typed without diacritics (it read "sổ không").
        ("so hong chung cu", "so hong chung cu"),
        # After "bị", "hư" it is "hỏng" typed without diacritics (it read "thẻ bị không").
        ("doi the thuong binh bi hong", "doi the thuong binh bi hong"),
        ("giay to hu hong", "giay to hu hong"),
        ("chuyen truong THCS", "chuyen truong trung học cơ sở"),
        ("mần giấy tờ ở mô, tui hổng biết", "làm giấy tờ ở mô, tôi không biết"),
        # After "mẫu" it names a certificate of origin (it read "mẫu vợ").
        ("cấp C/O mẫu VK", "cấp c/o mẫu vk"),
        # "e" is "em" where one speaks of oneself, not a form or a class; "ks" a birth certificate after "giấy".
        ("cho e hoi lam so do", "cho em hoi lam so do"),
        ("e muon lam cccd", "em muon lam căn cước công dân"),
        ("C/O mẫu E", "c/o mẫu e"),
        ("bằng lái hạng E", "bằng lái hạng e"),
        ("điểm e khoản 1", "điểm e khoản 1"),
        ("lm giay ks cho be bn tien", "làm giay khai sinh cho be bao nhiêu tien"),
        ("dk ks cho con", "đăng ký khai sinh cho con"),
        ("ks gần ủy ban", "ks gần ủy ban"),
        # An age after a word for a person; "5t" alone may be money or weight.
        ("làm căn cước cho con 14t", "làm căn cước cho con 14 tuổi"),
        ("cho be 3t", "cho be 3 tuổi"),
        ("nộp 5t", "nộp 5t"),
        ("e 14t", "em 14 tuổi"),
        ("cải tạo xe oto", "cải tạo xe ô tô"),
    ],
)
def test_teen_code_and_abbreviations_are_expanded(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thẩm duyệt PCCC", "thẩm duyệt phòng cháy chữa cháy"),
        ("cấp GCN ATTP", "cấp giấy chứng nhận an toàn thực phẩm"),
        ("dang kiem phuong tien DTND", "dang kiem phuong tien đường thủy nội địa"),  # typed without diacritics
        ("khai thuế GTGT", "khai thuế giá trị gia tăng"),
    ],
)
def test_official_acronyms_are_spelled_out(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thuỷ sản", "thủy sản"),
        ("hoà giải", "hòa giải"),
        ("HUỶ đăng ký", "hủy đăng ký"),
        ("sức khoẻ", "sức khỏe"),
        ("uỷ quyền", "ủy quyền"),
        ("tuỳ", "tùy"),
    ],
)
def test_the_two_tone_spellings_of_a_syllable_become_one(text: str, expected: str) -> None:
    assert normalize(text) == expected
    assert normalize(expected) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("đăng kí tạm trú", "đăng ký tạm trú"),
        ("dang ki ket hon", "dang ky ket hon"),  # typed without diacritics
        ("Lí lịch tư pháp", "lý lịch tư pháp"),
        ("hi sinh", "hy sinh"),
        ("qui định", "quy định"),
        ("mĩ phẩm", "mỹ phẩm"),
        ("liệt sỹ", "liệt sĩ"),
        # One spelling only: other consonants, or more than one vowel.
        ("đi vi phạm", "đi vi phạm"),
        ("công ty", "công ty"),
        ("khi nào", "khi nào"),
    ],
)
def test_the_i_and_y_spellings_of_a_syllable_become_one(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize("text", ["quý", "quả", "hoàn thành", "hoặc", "thuyết phục", "khuyến", "của", "thuế"])
def test_syllables_with_one_spelling_keep_their_tone_mark(text: str) -> None:
    assert normalize(text) == text


@pytest.mark.parametrize("text", ["koala", "hsbc", "15k", "dcom", "cccd1", "ngân"])
def test_abbreviations_only_expand_as_whole_words(text: str) -> None:
    assert normalize(text) == text


@given(citizen_text)
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@given(citizen_text)
def test_normalize_output_is_nfc_lower_case_single_spaced(text: str) -> None:
    result = normalize(text)
    assert unicodedata.is_normalized("NFC", result)
    assert result == result.lower()
    assert result == result.strip()
    assert "  " not in result


@given(citizen_text)
def test_normalize_output_has_no_control_characters(text: str) -> None:
    result = normalize(text)
    assert not [ch for ch in result if unicodedata.category(ch) == "Cc"]


# Any code point at all, lone surrogates included, with the letters whose case mapping or
# composition is unusual (İ lower-cases to two code points, ς, ǅ, ﬁ, combining marks alone).
any_text = st.lists(
    st.characters(exclude_categories=()) | st.sampled_from(["İ", "ß", "ς", "ǅ", "ﬁ", "\u0301", "\u0323", "\ud800"]),
    max_size=40,
).map("".join)


@given(any_text)
def test_normalize_takes_any_text_and_stays_idempotent(text: str) -> None:
    result = normalize(text)
    assert normalize(result) == result
    assert unicodedata.is_normalized("NFC", result)
    assert not [ch for ch in result if unicodedata.category(ch) == "Cc"]


@pytest.mark.parametrize("control", ["\x7f", "\x86", "\x9f"])
def test_normalize_removes_del_and_c1_controls(control: str) -> None:
    assert normalize(f"làm{control} căn cước") == "làm căn cước"


def test_normalize_is_nfc_after_expansion() -> None:
    result = normalize("v\u0301")  # 'v' → 'vậy', then U+0301 meets the final 'y'
    assert unicodedata.is_normalized("NFC", result)


# ---- fold ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Đăng ký", "Dang ky"),
        ("đường Nguyễn Thị Minh Khai", "duong Nguyen Thi Minh Khai"),
        ("Hộ chiếu, căn cước, thường trú", "Ho chieu, can cuoc, thuong tru"),
        (
            unicodedata.normalize("NFD", "Giấy chứng nhận quyền sử dụng đất"),
            "Giay chung nhan quyen su dung dat",
        ),
        ("lam cccd o dau", "lam cccd o dau"),
    ],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


def test_every_vietnamese_letter_folds_to_one_ascii_letter() -> None:
    for letter in VIETNAMESE_LETTERS:
        folded = fold(letter)
        assert len(folded) == 1 and folded.isascii() and folded.isalpha(), (letter, folded)


def test_has_diacritics() -> None:
    assert has_diacritics("đăng ký")
    assert has_diacritics("dang ky tạm tru")
    assert not has_diacritics("dang ky tam tru")


@given(st.text())
@example(unicodedata.normalize("NFD", "Đặng Đức Ưng"))
@example("Đ\u0301đ\u0323")
def test_fold_leaves_no_combining_mark_and_no_d_with_stroke(text: str) -> None:
    folded = fold(text)
    assert not [ch for ch in folded if unicodedata.category(ch) == "Mn"]
    assert "đ" not in folded and "Đ" not in folded
    assert unicodedata.is_normalized("NFC", folded)
    assert fold(folded) == folded


@given(vietnamese_text)
def test_fold_of_vietnamese_text_is_ascii_of_the_same_length(text: str) -> None:
    folded = fold(text)
    assert folded.isascii()
    assert len(folded) == len(text)
    assert fold(unicodedata.normalize("NFD", text)) == folded


@pytest.mark.parametrize(
    ("question", "official"),
    [
        ("làm sổ đỏ ở đâu", "giấy chứng nhận quyền sử dụng đất"),
        ("lam so do o dau", "giấy chứng nhận quyền sử dụng đất"),
        ("photo công chứng bằng tốt nghiệp", "chứng thực"),
        ("chuyen khau ve que", "đăng ký thường trú"),
        ("xin giấy độc thân", "xác nhận tình trạng hôn nhân"),
        ("lam giay khai sanh o dau", "khai sinh"),  # the southern spelling
        ("ông mất rồi làm báo tử ở đâu", "khai tử"),
        ("ho tro nguoi lao dong mat viec", "trợ cấp thất nghiệp"),
        ("xin giấy phép khai thác nước ngầm", "nước dưới đất"),
        ("nhà tôi khoan giếng có phải đăng ký không", "nước dưới đất"),  # declined
        # Answered with a certificate's exchange.
        ("gộp sổ đỏ", "hợp thửa"),
        ("tách bìa đỏ", "tách thửa"),
        ("thuyền máy chở khách qua sông", "phương tiện thủy nội địa"),  # called off-topic
        # A relative's death: called off-topic.
        ("ba noi toi mat roi thi lam giay to gi", "khai tử"),
        ("ông tôi mới mất cần làm thủ tục gì", "khai tử"),
        ("bố tôi qua đời năm ngoái", "khai tử"),
        ("bố mẹ mất làm giấy tờ gì", "khai tử"),  # two relatives
        ("bo toi mat ba ngay roi", "khai tử"),
        ("bà tôi mất 3 tháng rồi giờ mới làm giấy tờ", "khai tử"),  # a number that says when
        # Someone of 60 or more: called off-topic, or given the unemployment benefit.
        ("ông tôi 90 tuổi được tiền gì không", "người cao tuổi"),
        ("ông ngoại 78 tuổi có được trợ cấp không", "người cao tuổi"),
        # A birth without the hospital's paper (called off-topic), the household's residence confirmed (asked back
        # with the permanent residence first).
        ("con sinh ra ở nhà không có giấy chứng sinh", "khai sinh"),
        ("giay xac nhan ho khau de nop cho truong hoc", "xác nhận thông tin về cư trú"),
        ("bà nội chín mươi tuổi", "người cao tuổi"),  # as the callbot hears it
        # Old age in words: called off-topic, or asked back with the identity card.
        ("ông bà già rồi được hưởng chế độ gì", "người cao tuổi"),
        ("bà tôi già yếu không ai nuôi xin trợ cấp", "người cao tuổi"),
        ("ong nha toi gia roi co duoc nhan tien tro cap khong", "người cao tuổi"),
    ],
)
def test_everyday_words_gain_their_official_terms(question: str, official: str) -> None:
    expanded = with_official_terms(normalize(question))
    assert expanded.startswith(normalize(question))  # the citizen's own words stay
    assert official in expanded


def test_official_terms_are_not_added_to_unrelated_text() -> None:
    assert with_official_terms("đăng ký tạm trú") == "đăng ký tạm trú"
    assert with_official_terms("con 16 tuổi làm căn cước") == "con 16 tuổi làm căn cước thẻ căn cước"
    # An age beside another everyday term is only the citizen's: the pension, not the elderly's allowance.
    assert "người cao tuổi" not in with_official_terms(normalize("bố tôi 62 tuổi lãnh lương hưu ở đâu"))
    assert "người cao tuổi" not in with_official_terms(normalize("đất tăng giá rồi thuế có tăng không"))
    # Whole words only, and no key folds into an everyday word ("do", "because").
    assert with_official_terms("mua do dung vi do troi mua") == "mua do dung vi do troi mua"
    # "bị mất" asks for a reissue only where it loses a paper: not a missing husband, a power cut or the
    # hospital's birth notice lost before the birth is registered (that got the birth registered again).
    assert "cấp lại" in with_official_terms(normalize("căn cước bị mất"))
    for question in ("chồng bị mất tích", "nhà bị mất điện", "giấy chứng sinh bị mất làm sao khai sinh"):
        assert "cấp lại" not in with_official_terms(normalize(question)), question


@pytest.mark.parametrize(
    "question",
    [
        "mẹ tôi mất căn cước",  # a lost paper
        "anh toi mat ho chieu",
        "dang ky ket hon co mat tien khong",  # an amount
        "lam the bao hiem con mat phi khong",
        "chi mat 3 ngay",
        "em lam ho chieu mat 3 ngay",
        # A death beside what the question is about: the electricity contract, not the death's registration.
        "bà mất rồi mà hợp đồng tiền điện vẫn đứng tên bà",
    ],
)
def test_a_loss_an_amount_or_a_death_beside_a_procedure_asks_for_no_death_registration(question: str) -> None:
    assert "khai tử" not in with_official_terms(normalize(question))


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("how to get a passport in vietnam", True),
        ("What documents do I need?", True),
        # Vietnamese typed without diacritics shares "the", "can", "to", "do", "my" with English.
        ("lam the can cuoc o dau", False),
        ("can giay to gi do ubnd cap", False),
        ("visa di my can gi", False),
        ("đăng ký passport card", False),  # Vietnamese letters
    ],
)
def test_a_question_in_english_is_told_from_vietnamese_without_diacritics(text: str, english: bool) -> None:
    assert looks_english(text) is english


@pytest.mark.parametrize(
    ("question", "kept"),
    [
        ("chung thuc chu ky tai ubnd xa", "chung thuc chu ky tai xa"),
        ("nộp ở Ủy ban nhân dân cấp huyện", "nộp ở huyện"),
        ("lên uỷ ban nhân dân phường", "lên phường"),
    ],
)
def test_the_peoples_committee_where_one_goes_is_left_out(question: str, kept: str) -> None:
    assert without_peoples_committee(normalize(question)) == kept


def test_the_peoples_committee_as_a_subject_stays() -> None:
    text = normalize("ubnd xã có chứng thực hợp đồng không")
    assert without_peoples_committee(text) == text


@pytest.mark.parametrize(
    ("question", "kept"),
    [
        ("làm căn cước ở huyện Lý Sơn, cần gì?", "làm căn cước ở, cần gì?"),
        ("cap so do o huyen son tinh mat bao lau", "cap so do o mat bao lau"),  # "tinh" is a unit and a name
        ("khai tử tại phường Nghĩa Chánh", "khai tử tại"),
        ("chứng thực ở phường 3 cần gì", "chứng thực ở cần gì"),
        ("dang ky tam tru o thi xa duc pho", "dang ky tam tru o"),
    ],
)
def test_the_place_a_citizen_names_is_left_out(question: str, kept: str) -> None:
    assert without_place_names(normalize(question)) == kept


@pytest.mark.parametrize(
    "question",
    [
        "nộp ở huyện",  # the level, named by no place
        "làm căn cước ở tỉnh khác được không",
        "đăng ký tại xã, phường",
        "làm ở xã của vợ hay xã của chồng",
        "ra xã hỏi",
        "phường xã nào cũng được",
    ],
)
def test_a_unit_without_a_place_name_stays(question: str) -> None:
    assert without_place_names(normalize(question)) == normalize(question)


@pytest.mark.parametrize(
    ("word", "asks"),
    [("thế", True), ("thẻ", False), ("cần", True), ("căn", False), ("hồ", True), ("hộ", False), ("ở", True),
     ("ô", False), ("the", True), ("can", True), ("Thế", True)],
)
def test_a_word_asks_as_written_or_folded_when_typed_without_diacritics(word: str, asks: bool) -> None:
    assert is_asking_word(word) is asks


@pytest.mark.parametrize(
    ("question", "kept"),
    [
        ("lan dau lam can cuoc co can mang so ho khau khong", "lan dau lam can cuoc"),
        ("làm hộ chiếu có cần mang giấy khai sinh không", "làm hộ chiếu"),
        ("đăng ký xe có phải mang theo hóa đơn không, mất bao lâu", "đăng ký xe, mất bao lâu"),
    ],
)
def test_the_papers_to_bring_are_left_out(question: str, kept: str) -> None:
    assert without_things_to_bring(normalize(question)) == kept


@pytest.mark.parametrize(
    "question",
    [
        "có cần mang căn cước không",  # nothing else names a procedure
        "cần mang gì khi đi làm căn cước",
        "đi đăng ký kết hôn phải mang theo giấy xác nhận tình trạng hôn nhân độc thân không",  # too long a thing
    ],
)
def test_papers_to_bring_stay_when_nothing_else_is_asked(question: str) -> None:
    assert without_things_to_bring(normalize(question)) == normalize(question)


@pytest.mark.parametrize(
    ("question", "asked"),
    [
        # How long or how much it takes: the lost passport's report came first and the question was asked back.
        ("làm cái hộ chiếu mất mấy ngày", "làm cái hộ chiếu mấy ngày"),
        ("lam ho chieu mat may ngay", "lam ho chieu may ngay"),
        ("làm sổ đỏ mất bao nhiêu tiền", "làm sổ đỏ bao nhiêu tiền"),
        # A loss, a death some time ago, a lost machine: kept.
        ("hộ chiếu bị mất bao lâu thì phải báo", "hộ chiếu bị mất bao lâu thì phải báo"),
        ("bố tôi mất mấy ngày rồi làm giấy tờ gì", "bố tôi mất mấy ngày rồi làm giấy tờ gì"),
        ("bo toi mat khoang 3 ngay roi", "bo toi mat khoang 3 ngay roi"),
        ("mất máy tính", "mất máy tính"),
    ],
)
def test_mat_saying_how_long_it_takes_is_left_out_of_the_question(question: str, asked: str) -> None:
    assert asked_text(question) == asked
