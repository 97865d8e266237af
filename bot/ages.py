"""Ages: the age a procedure's name is limited to, and the ages a question states.

A few names are for one age only: the birth registration with a health insurance card "cho trẻ em dưới
6 tuổi", the identity card "cho người từ đủ 14 tuổi trở lên". Their other words fit questions about other
ages as well: "làm thẻ bhyt cho người trên 80 tuổi" and "con 8 tuổi làm thẻ bảo hiểm y tế" were answered with
the card for children under 6. A name listing several groups limits the age of one of them only: the
allowance "cho người cao tuổi từ đủ 75 tuổi đến 80 tuổi …; Người mắc bệnh ung thư …" is also for a cancer
patient of 60, but not for a mother of 85 asked about with nothing of the other groups ("mẹ tôi 85 tuổi có
được trợ cấp không" got it before the allowance for the others). Ages are in whole years, as half-open
ranges [from, to); months ("36 tháng tuổi") are not ages here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.dossier_codes import DIGIT_WORDS
from bot.text import bigrams, fold

AgeRange = tuple[int, float]  # [from, to) in years

_NO_LIMIT = float("inf")
# Folded. "người cao tuổi" is 60 and over (Luật Người cao tuổi, Điều 2); "người già" says the same.
_ELDERLY = re.compile(r"\b(?:cao tuoi|nguoi gia)\b")
# Each phrase and the range it allows, widest first: a number is read by the first phrase that holds it
# ("từ đủ 14 tuổi trở lên" is not also 14 exactly).
_PHRASES: list[tuple[re.Pattern[str], Callable[..., AgeRange]]] = [
    (re.compile(r"\btu (?:du )?(\d+) tuoi (?:den|toi) (?:duoi )?(\d+) tuoi\b"), lambda low, high: (low, high)),
    (re.compile(r"\b(?:tu )?(?:du )?(\d+) tuoi tro len\b"), lambda low: (low, _NO_LIMIT)),
    (re.compile(r"\b(?:tren|hon|ngoai) (\d+) tuoi\b"), lambda age: (age + 1, _NO_LIMIT)),
    (re.compile(r"\b(?:duoi|chua du|chua toi|chua den) (\d+) tuoi\b"), lambda age: (0, age)),
    (re.compile(r"\b(\d+) tuoi\b"), lambda age: (age, age + 1)),
]


# Ages said in words, as the callbot hears them ("tám mươi lăm tuổi"), folded: "lăm", "mốt", "tư" only
# after "mươi". The digits' values are those dossier codes are read with.
_ONES = "mot|hai|ba|bon|nam|sau|bay|tam|chin"
_SPOKEN_AGE = re.compile(rf"\b(?:(?:({_ONES}) )?muoi(?: ({_ONES}|tu|lam))?|({_ONES})) tuoi\b")


def _in_digits(spoken: re.Match[str]) -> str:
    tens, ones, alone = spoken.groups()
    if alone:
        return f"{DIGIT_WORDS[alone]} tuoi"
    return f"{DIGIT_WORDS[tens] if tens else 1}{DIGIT_WORDS[ones] if ones else 0} tuoi"


def _ranges(folded_text: str) -> list[AgeRange]:
    """Every age the text states, each as the range it allows."""
    folded_text = _SPOKEN_AGE.sub(_in_digits, folded_text)
    found: list[AgeRange] = []
    taken: list[tuple[int, int]] = []
    for pattern, to_range in _PHRASES:
        for m in pattern.finditer(folded_text):
            if not any(a < m.end() and m.start() < b for a, b in taken):
                found.append(to_range(*map(int, m.groups())))
                taken.append(m.span())
    return found


_SEVERAL_GROUPS = re.compile(r";|\bhoac\b")


@dataclass(frozen=True)
class NameAges:
    """The ages a procedure's name is limited to, unless the question names one of the name's other groups."""

    limit: AgeRange
    other_groups: frozenset[str] = frozenset()  # folded bigrams only the other groups of people say


def name_age_limit(normalized_name: str) -> NameAges | None:
    """The ages a procedure's name is limited to, if it names one range."""
    folded = fold(normalized_name)
    ranges = _ranges(folded)
    if len(ranges) != 1:
        return None
    groups = _SEVERAL_GROUPS.split(folded)
    limited = next(g for g in groups if _ranges(g))
    others = set().union(*(bigrams(g) for g in groups if g is not limited))
    return NameAges(ranges[0], frozenset(others - bigrams(limited)))


def asked_ages(normalized_question: str) -> list[AgeRange]:
    """The ages the question states ("con 8 tuổi", "người trên 80 tuổi", "người cao tuổi")."""
    folded = fold(normalized_question)
    return _ranges(folded) or ([(60, _NO_LIMIT)] if _ELDERLY.search(folded) else [])


def fits_ages(name_ages: NameAges | None, asked: list[AgeRange], asked_bigrams: set[str]) -> bool:
    """Whether a procedure whose name says ``name_ages`` can be for someone of an asked age."""
    if name_ages is None or not asked or name_ages.other_groups & asked_bigrams:
        return True
    low, high = name_ages.limit
    return any(a < high and low < b for a, b in asked)
