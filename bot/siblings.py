"""Sibling procedures among a question's candidates.

Many procedures share most of their name with a sibling: the same procedure at
another level ("thực hiện tại cấp tỉnh" / "cấp trung ương"), another action
("cấp" / "cấp lại" / "gia hạn") or a special case ("đăng ký khai sinh" / "…
có yếu tố nước ngoài"). Their retrieval scores are close, so what decides
between them is whether the question mentions the words that set one apart,
and otherwise which of them citizens use most.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

OVERLAP = 0.5  # shared share of the two names' syllables (Jaccard) that makes two candidates siblings


@dataclass(frozen=True)
class SiblingSignals:
    found: float  # best share (idf-weighted) of the name's distinguishing syllables found in the question
    missed: float  # worst share of them the question leaves out
    popularity: float  # own popularity minus the most used sibling's (≤ 0)


def sibling_signals(
    names: Sequence[frozenset[str]],
    popularity: Sequence[float],
    question_words: set[str],
    weight: Callable[[str], float],
) -> list[SiblingSignals]:
    """For each candidate (folded name syllables, scaled popularity), compared with its siblings."""
    signals = []
    sizes = [len(name) for name in names]
    for i, name in enumerate(names):
        found = missed = 0.0
        most_used = popularity[i]
        for j, other in enumerate(names):
            # Jaccard ≤ min/max of the sizes: most pairs are told apart without a set operation.
            if i == j or not name or not other or min(sizes[i], sizes[j]) < OVERLAP * max(sizes[i], sizes[j]):
                continue
            shared = len(name & other)
            if shared < OVERLAP * (sizes[i] + sizes[j] - shared):
                continue
            most_used = max(most_used, popularity[j])
            extra = name - other
            if extra:
                total = sum(weight(t) for t in extra)
                share = sum(weight(t) for t in extra & question_words) / total if total else 0.0
                found = max(found, share)
                missed = max(missed, 1.0 - share)
        signals.append(SiblingSignals(found, missed, popularity[i] - most_used))
    return signals
