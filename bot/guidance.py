"""General guidance: how to submit a dossier online or by post, asked without naming a procedure;
and the common questions whose procedure the catalogue lacks.

"làm sao nộp hồ sơ trực tuyến" names no procedure, and the retrieval would pick
one that merely says "trực tuyến". Such a question is answered from
``knowledge/guidance.json`` when each of its words is a word that only asks, a
linking word, a word for whom it is submitted, or part of a topic's phrases. A question that also names a
procedure ("đăng ký tạm trú online") is left to that procedure's answer, which
says how it can be submitted.

Some common questions need a procedure the catalogue does not hold (a first land-use
certificate for a household, an identity card for a child under 14, a land or vehicle
transfer); the retrieval would answer them with the nearest sibling, which is wrong
("cấp đổi", "từ đủ 14 tuổi trở lên"). Their guide says so and where to ask, and the
question is logged for staff. Its phrases say what sets the case apart ("lần đầu",
"dưới 14 tuổi"), its subject what the case is about ("sổ đỏ", "căn cước"): the guide
needs one of each, since "làm căn cước" alone is the ordinary procedure and "cho trẻ
em" alone is about anything. Its context words ("tuổi", "thửa") may stand beside them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from bot.answers import source_line
from bot.text import ASKING_WORDS, fold, normalize, words

# Words that name nothing in such a question ("làm sao để … trên …", "gửi … qua …", "hỏi về (việc) …", "… cái
# nào nhanh hơn", "không biết …"), folded.
_LINKING_WORDS = frozenset(
    "sao de tren qua bang vao ve viec cach huong dan giup hay hoac gui cai nhanh hon biet".split()
)
# Whom the citizen submits for ("… cho người già", "… giúp bố mẹ"; "cho", "giúp" are counted already) or
# speaks to ("chú ơi cho hỏi …"): still a question of how, not of which procedure.
_PEOPLE_WORDS = frozenset("nguoi gia cao tuoi lon than khac bo cha me ong ba con chau chu bac cau oi".split())
_NAMING_NOTHING = ASKING_WORDS | _LINKING_WORDS | _PEOPLE_WORDS


@dataclass(frozen=True)
class Guide:
    id: str
    title: str
    phrases: tuple[str, ...]
    answer: str
    sources: tuple[str, ...]
    last_reviewed: str
    needs_review: bool
    subject: tuple[str, ...] = ()  # when given, one of these phrases must be asked too
    context: tuple[str, ...] = ()  # words that may stand beside the phrases
    not_in_catalogue: bool = False  # the case's procedure is missing: staff see these questions as unanswered
    retired: bool = False  # switched off by staff: never matched

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Guide:
        """A guide as written in knowledge/guidance.json or stored (lists for the tuples; optional
        fields may be left out)."""
        values = {f.name: row[f.name] for f in fields(cls) if f.name in row}
        return cls(**{name: tuple(v) if isinstance(v, list) else v for name, v in values.items()})

    def to_dict(self) -> dict[str, Any]:
        return {name: list(v) if isinstance(v, tuple) else v for name, v in asdict(self).items()}

    def text(self) -> str:
        """The answer, ending with where it comes from, like a procedure's."""
        sources = [f"Nguồn: {'; '.join(self.sources)}", f"ngày rà soát: {self.last_reviewed}"]
        return f"{self.answer}\n{source_line(sources, self.needs_review)}"


class GuideBook:
    def __init__(self, guides: list[Guide]) -> None:
        self.guides = [guide for guide in guides if not guide.retired]
        self._phrases = [_syllables(g.phrases) for g in self.guides]
        self._subjects = [_syllables(g.subject) for g in self.guides]
        self._context = [_as_written_and_folded(g.context) for g in self.guides]

    @classmethod
    def load(cls, path: Path) -> GuideBook:
        """The guides as shipped in ``knowledge/guidance.json``; the assistant serves the staff's copy in
        the database (bot.guide_store), which is seeded from this file."""
        return cls([Guide.from_dict(row) for row in json.loads(path.read_text(encoding="utf-8"))])

    def match(self, normalized_question: str) -> list[Guide]:
        """The topics a question asks about when it asks about nothing else ("nộp trực tuyến hay qua
        bưu điện": both), else none."""
        asked = words(normalized_question)
        folded = [fold(w) for w in asked]
        covered = {i for i, w in enumerate(folded) if w in _NAMING_NOTHING} | _codes(asked) | _durations(folded)
        matched: list[tuple[Guide, list[range]]] = []
        for guide, phrases, subjects, context in zip(
            self.guides, self._phrases, self._subjects, self._context, strict=True
        ):
            spans = _spans(asked, phrases)
            subject_spans = _spans(asked, subjects)
            if spans and (subject_spans or not subjects):
                matched.append((guide, spans + subject_spans))
                covered.update(i for span in spans + subject_spans for i in span)
                covered.update(i for i, w in enumerate(asked) if w in context)
        if len(covered) < len(asked):
            return []
        # A guide whose every phrase lies inside a longer phrase of another is not asked about: "bán hàng online"
        # is the tax guide's, not the online submission's "online".
        return [
            guide
            for guide, spans in matched
            if not any(other is not guide and _within_longer(spans, others) for other, others in matched)
        ]


def _as_written_and_folded(context: tuple[str, ...]) -> frozenset[str]:
    """A guide's context words, each as written and folded: an asked word is one of them by the phrases' rule
    (``_syllables``), as written when typed with diacritics ("hộ chiếu" is not the afternoon, "chiều", of the
    contact guide), any accented form when typed without."""
    written = {w for c in context for w in words(normalize(c))}
    return frozenset(written | {fold(w) for w in written})


# The digits and separators of a code as a caller says them, as written: folded, "làm", "tạm", "sau" would be
# read as "lăm", "tám", "sáu".
_SPOKEN_CODE_WORDS = frozenset("không một hai ba bốn tư năm lăm sáu bảy tám chín mười mươi linh lẻ chấm gạch".split())


def _codes(asked: list[str]) -> set[int]:
    """Where the words are a code, a phone number or a date: three or more numbers in a row, in digits or
    spoken ("hồ sơ mã 000.00.12.H48-241205-0001 đến đâu rồi", "mã hồ sơ không không không chấm năm ba"). They
    name nothing; a number alone may ("trẻ em 3 tuổi" is a guide's context, "15 tuổi" is not)."""
    numbers = [any(c.isdigit() for c in w) or w.lower() in _SPOKEN_CODE_WORDS for w in asked] + [False]
    found: set[int] = set()
    start = 0
    for i, number in enumerate(numbers):
        if not number:
            if i - start >= 3:
                found.update(range(start, i))
            start = i + 1
    return found


_TIME_UNITS = frozenset("ngay tuan thang nam".split())


def _durations(folded: list[str]) -> set[int]:
    """Where the words are a length of time ("chồng bị mất tích 3 năm", "nộp 2 tuần rồi"): they name nothing."""
    return {j for i, w in enumerate(folded[:-1]) if w.isdigit() and folded[i + 1] in _TIME_UNITS for j in (i, i + 1)}


def _syllables(phrases: tuple[str, ...]) -> list[list[tuple[str, str]]]:
    """Each phrase as its syllables, each as written and folded (folded once here, not per question). An
    asked syllable matches one when it is either: typed with diacritics, it must be as written ("khai báo"
    is not the storm, "bão", of the disaster guide); typed without them, any accented form ("khai bao")."""
    return [[(w, fold(w)) for w in words(normalize(p))] for p in phrases]


def _within_longer(spans: list[range], others: list[range]) -> bool:
    """Whether each span lies inside a longer one of ``others``."""
    return all(
        any(o.start <= s.start and s.stop <= o.stop and s != o for o in others) for s in spans
    )


def _spans(asked: list[str], phrases: list[list[tuple[str, str]]]) -> list[range]:
    """Where each phrase occurs in the asked words (the first syllable is checked first: most positions
    fail there)."""
    return [
        range(start, start + len(phrase))
        for phrase in phrases
        for start in range(len(asked) - len(phrase) + 1)
        if asked[start] in phrase[0]
        and all(a in syllable for a, syllable in zip(asked[start + 1 : start + len(phrase)], phrase[1:], strict=True))
    ]
