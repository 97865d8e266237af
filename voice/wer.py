"""Word error rate: word-level Levenshtein distance on normalised text."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^\w\s]")


def wer_words(text: str) -> list[str]:
    """NFC, lower case, punctuation removed, split on whitespace."""
    return _NOT_WORD.sub(" ", unicodedata.normalize("NFC", text).lower()).split()


def word_edits(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, number of reference words)."""
    ref, hyp = wer_words(reference), wer_words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, 1):
        current = [i]
        for j, hyp_word in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word)))
        previous = current
    return previous[-1], len(ref)


def word_error_rate(reference: str, hypothesis: str) -> float:
    edits, words = word_edits(reference, hypothesis)
    return edits / words if words else float(bool(wer_words(hypothesis)))
