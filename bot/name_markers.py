"""Words in a procedure's name that set it apart from its siblings, and how citizens say them.

"Đăng ký tàu cá" and "Xóa đăng ký tàu cá" share almost every word; what decides
between them is whether the question asks to remove. Each marker is an action
or a special case that changes which procedure is meant ("cấp lại", "gia hạn",
"xóa", "có yếu tố nước ngoài" …), written once as it appears in names and once
as citizens ask for it ("làm lại", "hết hạn", "cắt khẩu", "lấy chồng Hàn
Quốc"). A name without any marker is the ordinary case of its family.

Matching is by syllables: a syllable typed with diacritics must match exactly,
one typed without them matches any accented form ("het han" meets "hết hạn"),
so "đổi" is not confused with "đợi" when the question is accented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.text import NOT_A_LOSS, fold, words


@dataclass(frozen=True)
class Marker:
    name: str
    in_names: tuple[str, ...]  # how procedure names say it
    in_questions: tuple[str, ...]  # how citizens ask for it (the name's wording counts too)


# "mất" alone is not a loss: "mất bao lâu" is how long it takes, "bố mất" is a death.
_LOSS_OF_A_PAPER = tuple(
    "mất giấy, mất thẻ, mất sổ, mất bằng, mất hộ chiếu, mất căn cước, mất cccd, mất chứng minh".split(", ")
)
_LOSS_PHRASES = (
    *"bị mất, làm mất, đánh mất, thất lạc, mất cắp, bị trộm, mất ví, mất bóp, đánh rơi, móc túi".split(", "),
    *_LOSS_OF_A_PAPER,
)
_FOREIGN_PHRASES = tuple(
    "ngoại quốc, việt kiều, quốc tịch, hàn quốc, trung quốc, nhật bản, đài loan, người lào, nước lào, campuchia, "
    "thái lan, singapore, người mỹ, nước mỹ, người úc, người pháp, người đức, người nga, người anh, nước anh, "
    "người tây".split(", ")
)

MARKERS = (
    # A lost civil status paper is registered again: "làm lại giấy khai sinh bị mất" is "đăng ký lại khai sinh".
    Marker("reissue", ("cấp lại", "đăng ký lại"), ("làm lại", "xin lại", "cấp lại do", *_LOSS_PHRASES)),
    Marker(
        "exchange",
        ("cấp đổi", "đổi giấy", "đổi thẻ", "đổi bằng"),
        (
            *("đổi", "bị hỏng", "hư hỏng", "bị lỗi", "rách", "hết hạn"),
            *("mối ăn", "mối mọt", "ẩm mốc", "bị mốc", "bị ướt", "nhòe"),
        ),
    ),
    Marker("extend", ("gia hạn",), ("hết hạn", "sắp hết hạn", "kéo dài")),
    Marker("remove", ("xóa", "hủy"), ("cắt khẩu", "cắt hộ khẩu", "bỏ tên", "rút tên")),
    Marker("withdraw", ("thu hồi",), ()),
    Marker("pause", ("tạm dừng", "tạm ngừng", "tạm ngưng"), ("tạm nghỉ", "nghỉ tạm")),
    Marker("end", ("chấm dứt", "giải thể"), ("dừng hẳn", "nghỉ hẳn", "đóng cửa", "không nhận nữa", "có việc làm")),
    Marker("resume", ("tiếp tục", "khôi phục"), ("nhận tiếp", "hưởng tiếp", "mở lại", "dùng lại", "tìm thấy")),
    Marker(
        "correct",
        ("điều chỉnh", "sửa đổi", "đính chính", "cải chính", "chỉnh sửa", "hiệu đính", "thay đổi"),
        ("sai", "sửa", "nhầm", "đổi tên", "cập nhật", "đổi thông tin"),
    ),
    # Not a bare "nước ngoài": "giấy tờ … của nước ngoài" in a list of cases is no special case.
    Marker(
        "foreign",
        ("có yếu tố nước ngoài", "người nước ngoài", "ở nước ngoài", "tại nước ngoài", "ra nước ngoài"),
        ("nước ngoài", *_FOREIGN_PHRASES),
    ),
    Marker("border", ("biên giới",), ()),
    Marker("temporary", ("tạm thời", "có thời hạn"), ("nhà tạm", "công trình tạm", "xây tạm")),
    Marker("first_time", ("lần đầu",), ("mới mua", "đầu tiên")),
    Marker("central", ("trung ương", "cấp bộ"), ("cục", "bộ công an", "bộ ngoại giao")),
    Marker("recurrence", ("tái phát",), ()),
    Marker("lump_sum", ("một lần",), ("1 lần",)),
    Marker("monthly", ("hàng tháng", "hằng tháng"), ("mỗi tháng",)),
    Marker("combined", ("kết hợp", "liên thông"), ("cùng lúc", "đồng thời", "cùng một lúc")),
    # A home bought in a developer's project: "làm giấy tờ đất ở đâu" and "sổ đỏ đứng tên vợ chồng muốn tách" got its
    # certificate, taken for the ordinary one of the land certificate's exchange.
    Marker(
        "project",
        ("dự án bất động sản",),
        ("chung cư", "căn hộ", "đất nền", "nhà dự án", "trong dự án", "chủ đầu tư"),
    ),
    # The birth registration of a grown-up who already has papers: "tôi đã nộp hồ sơ khai sinh bao giờ có kết
    # quả" got it, its "đã … hồ sơ" the question's words. Not "chưa có giấy khai sinh": a baby has none yet.
    Marker(
        "grown_up",
        ("đã có hồ sơ giấy tờ cá nhân",),
        (
            *("khai sinh cho người lớn", "khai sinh cho người già", "đã có hồ sơ"),
            *("chưa bao giờ có giấy khai sinh", "chưa từng có giấy khai sinh", "chưa từng đăng ký khai sinh"),
        ),
    ),
    Marker("report_loss", ("trình báo mất", "báo mất"), _LOSS_PHRASES),
)


def _pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """Matches any of the phrases, syllable by syllable: each as written, or typed without diacritics."""

    def syllable(s: str) -> str:
        return f"(?:{re.escape(s)}|{re.escape(fold(s))})" if fold(s) != s else re.escape(s)

    alternatives = ["\\s+".join(map(syllable, words(p.lower()))) for p in phrases]
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)")


# Phrases that hold a marker's word but ask for no case: "Công an tỉnh, thành phố trực thuộc trung ương" names a
# provincial agency, not the centre; "xin thôi quốc tịch Việt Nam" is no foreigner's case (it got the renunciation
# at an embassy abroad over the one in the country).
_NO_CASE = _pattern(("thành phố trực thuộc trung ương", "quốc tịch việt nam", *NOT_A_LOSS))
_IN_NAMES = [(m.name, _pattern(m.in_names)) for m in MARKERS]
_IN_QUESTIONS = [(m.name, _pattern((*m.in_names, *m.in_questions))) for m in MARKERS]


def _markers(normalized_text: str, patterns: list[tuple[str, re.Pattern[str]]]) -> frozenset[str]:
    text = " ".join(words(normalized_text))  # punctuation between words is not part of a phrase
    text = _NO_CASE.sub(" ", text)
    return frozenset(name for name, pattern in patterns if pattern.search(text))


# A bracket naming the cases a procedure also covers is no special case: "cấp chứng chỉ hành nghề dược
# (bao gồm cả trường hợp … bị thu hồi …)" is the ordinary certificate, not one for a withdrawal.
_ALSO_COVERS = re.compile(r"\((?:bao gồm|gồm cả|kể cả|áp dụng cho cả)[^)]*\)")


def name_markers(normalized_name: str) -> frozenset[str]:
    """The markers a (normalised) procedure name carries."""
    return _markers(_ALSO_COVERS.sub(" ", normalized_name), _IN_NAMES)


def question_markers(normalized_question: str) -> frozenset[str]:
    """The markers a (normalised) question asks for."""
    return _markers(normalized_question, _IN_QUESTIONS)


def without_markers(normalized_name: str) -> str:
    """The name without its markers' phrases: "cấp lại thẻ căn cước" → "thẻ căn cước"."""
    text = " ".join(words(normalized_name))
    for _, pattern in _IN_NAMES:
        text = pattern.sub(" ", text)
    return text


# The ways to ask for a paper's reissue, exchange or extension, but not which paper: "mất, làm lại ở đâu" was
# answered with the driving licence's reissue at 0.78. A loss naming the paper ("mất hộ chiếu") is not one.
_CASE_WITHOUT_PAPER = _pattern(
    tuple(
        phrase
        for m in MARKERS
        if m.name in {"reissue", "exchange", "extend"}
        for phrase in (*m.in_names, *m.in_questions)
        if phrase not in _LOSS_OF_A_PAPER
    )
)


def without_case_words(normalized_question: str) -> str:
    """The question without the words that only say which case is asked for: "bị mất, làm lại ở đâu" → "ở đâu"."""
    return _CASE_WITHOUT_PAPER.sub(" ", " ".join(words(normalized_question)))
