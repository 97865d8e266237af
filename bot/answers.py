"""Turning a retrieved procedure into a short Vietnamese answer with its citation.

The answer quotes the section the question asks about ("cần giấy tờ gì" →
documents), never more than a screen, and always ends with where it comes
from. Missing information is said to be missing, with where to ask.
"""

from __future__ import annotations

import re

from bot.procedure import SECTION_TITLES, Detail, Procedure, Section
from bot.province import local_note
from bot.text import fold, has_diacritics, normalize

MAX_LINES = 10
MAX_CHARS = 900

# Cues in Vietnamese. A question typed with diacritics is matched against them
# as written ("phi chính phủ" is not about fees); one typed without, against
# their diacritic-free forms too. The first section whose cue matches wins, so
# the more specific sections come first. "mai táng phí", "học phí", "kinh phí" name a benefit, not a fee.
_CUES: list[tuple[Section, str]] = [
    (
        Section.FEES,
        r"lệ phí|(?<!mai táng )(?<!học )(?<!viện )(?<!kinh )phí|bao nhiêu tiền|mất tiền|tốn tiền|hết bao nhiêu|chi phí|"
        r"miễn phí|rẻ hơn|giá bao nhiêu|nộp bao nhiêu|tiền làm|tiền nộp|đóng tiền|trả tiền|nộp tiền",
    ),
    (
        Section.TIME,
        r"bao lâu|mấy ngày|bao nhiêu ngày|thời gian|thời hạn|khi nào (thì )?(có|nhận|lấy)|"
        r"bao giờ (thì )?(có|nhận|lấy)|mất bao lâu|lâu không|nhanh",
    ),
    (
        Section.DOCUMENTS,
        r"giấy tờ|hồ sơ gồm|hồ sơ cần|thành phần|cần (những |cái )?gì|mang (theo )?(những |cái )?gì|"
        r"chuẩn bị (những |cái )?gì|cần mang|cần chuẩn bị|những giấy|tờ khai|mẫu đơn",
    ),
    (
        Section.WHERE,
        r"ở đâu|nơi nào|chỗ nào|cơ quan nào|nộp (ở )?đâu|đến đâu|trực tuyến|online|qua mạng|"
        r"bưu chính|bưu điện|dịch vụ công|nộp qua",
    ),
    # Whether the procedure is needed at all ("xây nhà ở quê có phải xin phép không"): who is exempt.
    (
        Section.CONDITIONS,
        r"điều kiện|ai được|có được không|được không|đối tượng|(cần|phải) xin (giấy )?phép|"
        r"có (cần|phải có) giấy phép|có cần không|có bắt buộc|bắt buộc phải",
    ),
    (
        Section.STEPS,
        r"các bước|trình tự|quy trình|cách làm|làm thế nào|làm sao|như thế nào|thế nào|"
        r"hướng dẫn|thủ tục ra sao",
    ),
    (Section.RESULT, r"kết quả|nhận được gì|được cấp gì"),
    (Section.LEGAL, r"căn cứ|luật nào|quy định nào|văn bản nào|nghị định|thông tư"),
]
# Cues only as written: typed without diacritics, "tien" is also "tiên", "tiến", "tiện" ("ưu tiên", "tiến độ").
# Money received ("rút tiền bảo hiểm", "được hỗ trợ tiền") is no fee.
_RECEIVED = "".join(f"(?<!{word} )" for word in "rút nhận lĩnh lãnh trợ được cấp vay".split())
_ACCENTED_ONLY_CUES = {Section.FEES: f"|{_RECEIVED}tiền"}
SECTION_CUES = [(section, re.compile(rf"\b({cue}{_ACCENTED_ONLY_CUES.get(section, '')})\b")) for section, cue in _CUES]
UNACCENTED_SECTION_CUES = [(section, re.compile(rf"\b({cue}|{fold(cue)})\b")) for section, cue in _CUES]

SECTION_LEADS: dict[Section, str] = {
    Section.DOCUMENTS: "Hồ sơ cần chuẩn bị cho thủ tục “{name}”:",
    Section.FEES: "Phí, lệ phí của thủ tục “{name}”:",
    Section.TIME: "Thời hạn giải quyết thủ tục “{name}”:",
    Section.WHERE: "Nơi nộp và cách nộp hồ sơ thủ tục “{name}”:",
    Section.STEPS: "Các bước thực hiện thủ tục “{name}”:",
    Section.CONDITIONS: "Điều kiện thực hiện thủ tục “{name}”:",
    Section.RESULT: "Kết quả của thủ tục “{name}”:",
    Section.LEGAL: "Căn cứ pháp lý của thủ tục “{name}”:",
}


def detect_section(question: str) -> Section | None:
    """The aspect a question asks about; the typing style is judged before
    abbreviations are expanded (``dk`` → ``đăng ký`` adds diacritics)."""
    cues = SECTION_CUES if has_diacritics(question) else UNACCENTED_SECTION_CUES
    normalized = normalize(question)
    for section, cue in cues:
        if cue.search(normalized):
            return section
    return None


def _shorten(text: str, url: str) -> str:
    lines = text.splitlines()
    shortened = "\n".join(lines[:MAX_LINES])
    if len(shortened) > MAX_CHARS:
        shortened = shortened[:MAX_CHARS].rsplit(" ", 1)[0] + "…"
    if shortened != text:
        shortened += f"\n(Xem đầy đủ: {url})"
    return shortened


def citation(procedure: Procedure, basis: list[str] | None = None) -> str:
    """Where an answer comes from; ``basis`` replaces the procedure's first legal documents."""
    parts = [f"Nguồn: thủ tục “{procedure.name}”, mã {procedure.code}"]
    basis = procedure.legal_basis[:2] if basis is None else basis
    if basis:
        parts.append("căn cứ: " + "; ".join(basis))
    parts.append(f"ngày rà soát: {procedure.last_reviewed}" if procedure.last_reviewed else procedure.source)
    return source_line(parts, procedure.needs_review)


def source_line(parts: list[str], needs_review: bool) -> str:
    """The closing line of every answer: its sources joined, and whether staff still have to review them."""
    text = "; ".join(parts) + "."
    return f"{text} Thông tin đang chờ cán bộ rà soát." if needs_review else text


def _overview(procedure: Procedure) -> str:
    facts = [f"Thủ tục “{procedure.name}”"]
    if procedure.agency:
        facts.append(f"do {procedure.agency} giải quyết")
    if procedure.processing_time:
        facts.append(f"thời hạn giải quyết: {procedure.processing_time}")
    text = ", ".join(facts) + "."
    fees = procedure.section_text(Section.FEES)
    if fees:
        text += "\n" + SECTION_TITLES[Section.FEES] + ":\n" + fees
    others = [SECTION_TITLES[s].lower() for s in procedure.available_sections() if s is not Section.FEES]
    if others:
        text += "\nBạn có thể hỏi thêm về: " + ", ".join(others) + "."
    return text


def answer_text(procedure: Procedure, section: Section | None, helpdesk: str) -> str:
    """The answer for one procedure, ending with its citation (a name-only record: with where to read more)."""
    note = local_note(procedure.name)
    if procedure.detail is Detail.CATALOG:
        body = (
            f"Thủ tục “{procedure.name}” (mã {procedure.code}) chưa có hướng dẫn chi tiết trong cơ sở dữ liệu "
            f"của trợ lý. Bạn xem hướng dẫn đầy đủ tại {procedure.portal_url} hoặc hỏi {helpdesk}."
        )
        return body + (" " + note if note else "")
    if section is None or section is Section.OVERVIEW:
        body = _overview(procedure)
    else:
        content = procedure.section_text(section)
        if content:
            body = SECTION_LEADS[section].format(name=procedure.name) + "\n" + _shorten(content, procedure.portal_url)
        elif section is Section.DOCUMENTS and (steps := procedure.section_text(Section.STEPS)):
            # A record without a list of papers may still say in its steps what to bring (the identity
            # card's: the citizen's data come from the population database).
            body = (
                f"Cơ sở dữ liệu chưa có danh sách giấy tờ của thủ tục “{procedure.name}”; các bước thực hiện "
                f"cho biết cần cung cấp gì:\n{_shorten(steps, procedure.portal_url)}\n"
                f"Bạn xem thêm tại {procedure.portal_url} hoặc hỏi {helpdesk}."
            )
        else:
            body = (
                f"Cơ sở dữ liệu chưa có thông tin về {SECTION_TITLES[section].lower()} của thủ tục "
                f"“{procedure.name}”. Bạn xem tại {procedure.portal_url} hoặc hỏi {helpdesk}."
            )
    return body + "\n" + (note + "\n" if note else "") + citation(procedure)


def clarify_text(names: list[str]) -> str:
    options = "\n".join(f"{i}. {name}" for i, name in enumerate(names, 1))
    return f"Bạn muốn hỏi về thủ tục nào? Vui lòng chọn một trong các thủ tục sau:\n{options}"


def which_procedure_text(section: Section | None) -> str:
    aspect = f"“{SECTION_TITLES[section].lower()}”" if section is not None else "thông tin"
    return (
        f"Bạn muốn hỏi {aspect} của thủ tục nào? Vui lòng cho biết tên thủ tục, "
        "ví dụ: đăng ký tạm trú, làm căn cước, đăng ký khai sinh."
    )


def abstain_text(helpdesk: str) -> str:
    return (
        "Xin lỗi, tôi chưa tìm được thông tin đủ chắc chắn để trả lời câu hỏi này. "
        f"Bạn vui lòng liên hệ {helpdesk} để được hướng dẫn. "
        "Câu hỏi của bạn đã được ghi lại để cán bộ bổ sung thông tin."
    )


def out_of_scope_text() -> str:
    return (
        "Xin lỗi, tôi là trợ lý hướng dẫn thủ tục hành chính nên chưa thể giúp về nội dung này. "
        "Bạn có thể hỏi tôi về giấy tờ, phí, thời hạn, nơi nộp hồ sơ của các thủ tục như "
        "đăng ký tạm trú, làm căn cước, đăng ký khai sinh…"
    )


def invalid_text() -> str:
    return (
        "Xin lỗi, tôi chưa đọc được câu hỏi. Bạn vui lòng nhập câu hỏi bằng chữ, ví dụ: “làm căn cước cần giấy tờ gì?”"
    )


def not_vietnamese_text() -> str:
    return (
        "Xin lỗi, tôi chỉ trả lời câu hỏi bằng tiếng Việt về thủ tục hành chính. Bạn vui lòng hỏi bằng tiếng Việt, "
        "ví dụ: “làm hộ chiếu cần giấy tờ gì?” (Sorry, I can only answer questions in Vietnamese about "
        "administrative procedures.)"
    )
