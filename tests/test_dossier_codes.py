"""Dossier codes and check digits typed or said by citizens (bot.dossier_codes)."""

from __future__ import annotations

import ast
import calendar
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import given

from bot import dossier_codes
from bot.dossier_codes import (
    MAX_INPUT_CHARS,
    parse_check_digits,
    parse_code_and_check,
    parse_dossier_code,
    parse_reception,
    spoken_digits,
)

REPO = Path(__file__).resolve().parent.parent

# ---- rendering a code the many ways people write or say it ---------------------------------

WORDS = {
    "0": ["không", "khong", "KHÔNG", "linh", "lẻ", "le"],
    "1": ["một", "mot", "Một"],
    "2": ["hai", "Hai"],
    "3": ["ba"],
    "4": ["bốn", "bon", "tư"],
    "5": ["năm", "nam", "lăm"],
    "6": ["sáu", "sau"],
    "7": ["bảy", "bay", "bẩy"],
    "8": ["tám", "tam"],
    "9": ["chín", "chin"],
}
# The unit after "mươi"/"mười": 1, 4, 5 have their own forms.
UNITS = {**WORDS, "1": ["mốt", "mot", "một"], "4": ["tư", "tu", "bốn"], "5": ["lăm", "lam", "nhăm", "năm"]}
SOFT = [" ", "  "]
HARD = [".", "-", " . ", " - ", ", ", " chấm ", " cham ", " gạch ", " gach ngang ", "/"]


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn").replace("đ", "d").replace("Đ", "D")


@st.composite
def pieces(draw: st.DrawFn, digits: str) -> list[tuple[str, str]]:
    """``digits`` said in pieces: (text, pauses) where pauses holds "before" and/or "after" when a
    pause must separate the piece from its neighbour to keep its meaning ("mười" right after "hai"
    would read as "hai mươi"; "hai mươi" right before "mốt" as 21)."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(digits):
        pair = digits[i : i + 2] if i + 1 < len(digits) and draw(st.booleans()) else ""
        if not pair:
            d = digits[i]
            out.append((d, "") if draw(st.booleans()) else (draw(st.sampled_from(WORDS[d])), ""))
            i += 1
            continue
        a, b = pair
        forms: list[tuple[str, str]] = [(pair, "")]
        if a == b:
            forms.append((f"{draw(st.sampled_from(['hai', 'Hai']))} lần {draw(st.sampled_from(WORDS[a]))}", ""))
        ten = draw(st.sampled_from(["mười", "muoi", "Mười"]))
        tens = draw(st.sampled_from(WORDS[a])) + " " + draw(st.sampled_from(["mươi", "muoi"]))
        unit = draw(st.sampled_from(UNITS[b]))
        if a == "1":
            forms.append((ten, "before after") if b == "0" else (f"{ten} {unit}", "before"))
        elif a >= "2":
            forms.append((tens, "after") if b == "0" else (f"{tens} {unit}", ""))
        out.append(draw(st.sampled_from(forms)))
        i += 2
    return out


@st.composite
def spoken(draw: st.DrawFn, parts: list[tuple[str, str]]) -> str:
    """Pieces joined by separators that keep their meaning."""
    text, pause_next = "", False
    for piece, pauses in parts:
        if text:
            choices = list(HARD)
            if not pause_next and "before" not in pauses:
                choices += SOFT
                if not (text[-1].isalpha() and piece[0].isalpha()):
                    choices.append("")
            text += draw(st.sampled_from(choices))
        text += piece
        pause_next = "after" in pauses
    return text


@st.composite
def codes(draw: st.DrawFn) -> str:
    digits = draw(st.text("0123456789", min_size=9, max_size=9))
    letter = draw(st.sampled_from("ABCDEFGHKLMNPQSTX"))
    year = draw(st.integers(0, 99))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, calendar.monthrange(2000 + year, month)[1]))
    seq = draw(st.text("0123456789", min_size=4, max_size=4))
    return f"{digits[:3]}.{digits[3:5]}.{digits[5:7]}.{letter}{digits[7:]}-{year:02d}{month:02d}{day:02d}-{seq}"


@st.composite
def rendered_code(draw: st.DrawFn, code: str) -> str:
    compact = code.replace(".", "").replace("-", "")
    agency, letter, rest = compact[:7], compact[7], compact[8:]
    letters = [letter, letter.lower(), *(["hát", "hat"] if letter == "H" else [])]
    letter_piece = [(draw(st.sampled_from(letters)), "")]
    parts = [*draw(pieces(agency)), *letter_piece, *draw(pieces(rest))]
    text = draw(spoken(parts))
    styles = [lambda t: t, fold, str.upper, str.lower, lambda t: unicodedata.normalize("NFD", t)]
    return draw(st.sampled_from(styles))(text)


@st.composite
def code_and_rendering(draw: st.DrawFn) -> tuple[str, str]:
    code = draw(codes())
    return code, draw(rendered_code(code))


@st.composite
def check_and_rendering(draw: st.DrawFn) -> tuple[str, str]:
    check = draw(st.text("0123456789", min_size=4, max_size=4))
    text = draw(spoken(draw(pieces(check))))
    return check, draw(st.sampled_from([text, fold(text), text.upper()]))


# ---- properties ------------------------------------------------------------------------


@given(code_and_rendering())
def test_any_rendering_of_a_code_parses_back(case: tuple[str, str]) -> None:
    code, text = case
    assert parse_dossier_code(text) == code, text


@given(code_and_rendering(), st.sampled_from(["", "mã hồ sơ ", "ma ho so ", "Hồ sơ của tôi là: ", "hs "]))
def test_a_code_inside_a_sentence(case: tuple[str, str], prefix: str) -> None:
    code, text = case
    assert parse_dossier_code(f"{prefix}{text} nhé") == code


@given(check_and_rendering())
def test_any_rendering_of_four_check_digits_parses_back(case: tuple[str, str]) -> None:
    check, text = case
    assert parse_check_digits(text) == check, text


@given(
    code_and_rendering(),
    check_and_rendering(),
    st.sampled_from([" số điện thoại cuối ", ", so dt cuoi la ", " - bốn số cuối: ", " sdt ", " cccd cuoi "]),
)
def test_code_and_check_in_one_message(code_case: tuple[str, str], check_case: tuple[str, str], glue: str) -> None:
    (code, code_text), (check, check_text) = code_case, check_case
    assert parse_code_and_check(f"hồ sơ {code_text}{glue}{check_text}") == (code, check)


# Any code point (lone surrogates and control characters included), often digits and separators.
@given(st.text(st.characters(exclude_categories=()) | st.sampled_from(list("0123456789.- H")), max_size=300))
def test_arbitrary_text_never_breaks_the_parser(text: str) -> None:
    code, check = parse_code_and_check(text)
    assert code is None or parse_dossier_code(code) == code
    assert check is None or (len(check) == 4 and check.isdigit())
    assert spoken_digits(text).isdigit() or spoken_digits(text) == ""


# ---- examples ------------------------------------------------------------------------------

CODE = "000.00.21.H48-231005-0012"


@pytest.mark.parametrize(
    "text",
    [
        CODE,
        "000.00.21.h48-231005-0012",
        "0000021H482310050012",
        "000 00 21 H48 231005 0012",
        "000.00.21.H48 - 231005 - 0012",
        "không không không chấm không không chấm hai mốt chấm hát bốn tám gạch hai ba một không không năm gạch "
        "không không mười hai",
        "khong khong khong cham khong khong cham hai muoi mot cham hat bon tam gach hai ba, muoi, linh nam gach "
        "hai lan khong muoi hai",
        "KHÔNG KHÔNG KHÔNG, KHÔNG KHÔNG, HAI MỐT, H BỐN TÁM, HAI BA, MƯỜI, KHÔNG NĂM, KHÔNG KHÔNG, MƯỜI HAI",
        "ba lần không . hai lần không . 21 . H48 . 231005 . 0012",
    ],
)
def test_written_and_spoken_codes(text: str) -> None:
    assert parse_dossier_code(text) == CODE


def test_code_and_check_from_the_brief() -> None:
    assert parse_code_and_check("ho so 000.00.21.H48-231005-0012 so dt cuoi 1234") == (CODE, "1234")
    assert parse_code_and_check(f"{CODE}, 1234") == (CODE, "1234")
    assert parse_code_and_check(f"mã {CODE}") == (CODE, None)
    assert parse_code_and_check("4 số cuối là 5678") == (None, "5678")


@pytest.mark.parametrize(
    "text",
    [
        "000.00.21.H48-231305-0012",  # month 13
        "000.00.21.H48-230230-0012",  # 30 February
        "000.00.21.H48-231005-001",  # sequence too short
        "00.00.21.H48-231005-0012",  # agency code too short
        "000.00.21.48-231005-0012",  # no letter
        "",
        "tôi muốn hỏi hồ sơ của tôi",
    ],
)
def test_what_is_not_a_code(text: str) -> None:
    assert parse_dossier_code(text) is None


@pytest.mark.parametrize(
    ("text", "check"),
    [
        ("1234", "1234"),
        ("12 34", "1234"),
        ("một hai ba bốn", "1234"),
        ("mot hai ba bon", "1234"),
        ("số cuối là không chín tám bảy", "0987"),
        ("hai lần năm sáu bảy", "5567"),
        ("0905 123 456", "3456"),  # a whole phone number: its last 4 digits
        ("+84 905 123 456", "3456"),
        ("051203009876", "9876"),  # a whole citizen ID number
        ("123", None),
        ("12345", None),
        ("1234 hoặc 5678", None),  # two candidates: ask again rather than guess
        ("", None),
        ("không nhớ", None),
    ],
)
def test_check_digits(text: str, check: str | None) -> None:
    assert parse_check_digits(text) == check


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("hai mươi mốt", "21"),
        ("hai mốt", "21"),
        ("mười", "10"),
        ("mười lăm", "15"),
        ("năm mươi", "50"),
        ("năm mười hai", "512"),  # "mười" written with its accent is ten
        ("nam muoi hai", "52"),  # without accents, after a digit 2–9 it is tens
        ("nam, muoi hai", "512"),  # …unless the speaker paused
        ("khong khong muoi hai", "0012"),
        ("hai lần năm", "55"),
        ("hai lan nam", "55"),
        ("ba lần không", "000"),
        ("một linh năm", "105"),
        ("bốn tư bảy bẩy", "4477"),
    ],
)
def test_spoken_digits(text: str, digits: str) -> None:
    assert spoken_digits(text) == digits


def test_over_long_input_is_refused_at_once() -> None:
    huge = (CODE + " 1234 ") * 200_000  # 6 MB
    started = time.perf_counter()
    assert parse_code_and_check(huge) == (None, None)
    assert parse_dossier_code(huge) is None
    assert parse_check_digits(huge) is None
    assert spoken_digits(huge) == ""
    assert time.perf_counter() - started < 0.05
    assert parse_dossier_code(CODE.ljust(MAX_INPUT_CHARS)) == CODE


# ---- importable by the Rasa action server (Python 3.10, standard library only) ---------------


def test_module_imports_only_the_standard_library() -> None:
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import bot.dossier_codes; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] not in sys.stdlib_module_names))"
    )
    # -S: no site-packages, no .pth hooks; only the repository on the path.
    output = subprocess.run([sys.executable, "-S", "-c", script, str(REPO)], capture_output=True, text=True)
    assert output.returncode == 0, output.stderr
    assert output.stdout.strip() == "['__main__', 'bot', 'bot.dossier_codes']"


def test_module_is_python_3_10_syntax() -> None:
    source = Path(dossier_codes.__file__).read_text("utf-8")
    ast.parse(source, feature_version=(3, 10))
    assert "from __future__ import annotations" in source
    for newer in ("StrEnum", "tomllib", "ExceptionGroup", "except*", "datetime.UTC", "from datetime import UTC"):
        assert newer not in source


@pytest.mark.parametrize(
    ("text", "reception"),
    [
        ("hai sáu một một hai hai, không không ba mốt", "261122-0031"),
        ("hai lăm mười hai hai mươi mốt không không mười lăm", "251221-0015"),  # pairs read as numbers
        ("2611220031", "261122-0031"),
        ("261122-0031", "261122-0031"),
        ("hai sáu một một hai hai không ba mốt", None),  # a dropped digit: nine, not ten
        ("hai sáu một ba hai hai không không ba mốt", None),  # month 13
        ("hai sáu không hai ba không không không một một", None),  # 30 February
        ("000.00.21.H48-261122-0031", None),  # a whole code is parse_dossier_code's
        ("xin chào", None),
    ],
)
def test_the_part_of_a_code_that_varies(text: str, reception: str | None) -> None:
    assert parse_reception(text) == reception
