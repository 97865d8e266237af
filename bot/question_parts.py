"""Questions about several procedures at once: "làm giấy khai sinh và đăng ký thường trú cho con cần gì".

The retriever ranks procedures for a whole question, so only one of those named gets answered. The
question is cut at "và", "với cả", commas and semicolons; each part that names something (a word that
is not an asking word) is searched on its own by the assistant, which keeps only the parts it can answer
with confidence.

Personal papers named one after another with nothing but "và" or a comma between them ("mất ví, mất hết căn
cước bằng lái thẻ bảo hiểm") are several procedures too: each paper becomes a part, with the words around the
list ("mất hết … thì làm lại thế nào") that say what happened to it.
"""

from __future__ import annotations

import re

from bot.text import fold, naming_words, normalize, words

MAX_PARTS = 3
SEPARATORS = re.compile(r"\s*(?:[,;]|\b(?:và|va|với cả|voi ca|cùng với|cung voi)\b)\s*")

# As normalize() writes them ("cccd" is "căn cước công dân"), folded; the longest is taken where several start.
_PAPERS = [
    fold(paper).split()
    for paper in normalize(
        "căn cước công dân|căn cước|chứng minh nhân dân|chứng minh thư|bằng lái xe máy|bằng lái xe|bằng lái|"
        "giấy phép lái xe|thẻ bảo hiểm y tế|thẻ bảo hiểm|bảo hiểm y tế|sổ bảo hiểm xã hội|sổ bảo hiểm|hộ chiếu|"
        "cà vẹt xe|cà vẹt|giấy đăng ký xe|sổ đỏ|sổ hồng|giấy khai sinh|khai sinh"
    ).split("|")
]


def question_parts(normalized_question: str) -> list[str]:
    """The parts of a question that each name something, or [] when it names at most one thing."""
    pieces = _rows_rejoined([piece for piece in SEPARATORS.split(normalized_question) if piece])
    parts = [paper for piece in pieces for paper in _each_paper(piece)]
    naming = [p for p in parts if naming_words(p)]
    return naming[:MAX_PARTS] if len(naming) >= 2 else []


def _rows_rejoined(pieces: list[str]) -> list[str]:
    """Pieces cut between two papers put back together: in "mất ví có căn cước và bằng lái xe" the licence
    was lost too, and cut at "và" it was only a licence (answered with a new one)."""
    rejoined: list[str] = []
    for piece in pieces:
        if rejoined and _has_paper(rejoined[-1], at_end=True) and _has_paper(piece, at_end=False):
            rejoined[-1] = f"{rejoined[-1]} {piece}"
        else:
            rejoined.append(piece)
    return rejoined


def _has_paper(piece: str, at_end: bool) -> bool:
    """Whether a piece ends (``at_end``) or begins with a paper."""
    folded = [fold(s) for s in words(piece)]
    if at_end:
        return any(folded[-len(p) :] == p for p in _PAPERS)
    return _paper_at(folded, 0) is not None


def _paper_at(folded: list[str], start: int) -> list[str] | None:
    """The longest paper whose syllables begin at ``start``, if any."""
    return max((p for p in _PAPERS if folded[start : start + len(p)] == p), key=len, default=None)


def _each_paper(part: str) -> list[str]:
    """A part naming two or more papers in a row, as one part per paper with the words before and after the
    row; any other part as it is."""
    syllables = words(part)
    folded = [fold(s) for s in syllables]
    row: list[tuple[int, int]] = []  # (start, end) of the papers named one after another
    start = 0
    while start < len(folded):
        paper = _paper_at(folded, start)
        if paper is None:
            if len(row) >= 2:
                break
            row = []
            start += 1
            continue
        row.append((start, start + len(paper)))
        start += len(paper)
    if len(row) < 2:
        return [part]
    before, after = syllables[: row[0][0]], syllables[row[-1][1] :]
    return [" ".join(before + syllables[begin:end] + after) for begin, end in row]
