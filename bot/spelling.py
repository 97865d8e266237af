"""Mistyped syllables, put right from the index's own vocabulary.

"lam giay khai sihn" was called off-topic: no entry holds "sihn", and BM25 and
the folded bigrams match whole syllables. A question's syllable that no entry
holds is replaced by a known one a single edit away (a letter dropped, added,
changed, or two swapped), typed without diacritics, that makes a bigram the
index knows with a neighbour ("khai sinh"); of several, the most common. Without
that bigram a word is left alone: "alo" is a caller's greeting, not "Lào".
Known syllables are never touched, so a rare but real word stays.

A syllable typed in Telex with the keyboard's Vietnamese input switched off ("lamf cawn cuowcs", called
off-topic) is read first: without its tone key and with its vowel keys as plain letters it is "lam can cuoc";
a known syllable so read is taken as is.
"""

from __future__ import annotations

from string import ascii_lowercase

from bot.lexical import LexicalIndex
from bot.text import fold, is_asking_word, words

MIN_LENGTH = 3  # "ko", "dc" are abbreviations (bot.text), and a two-letter word is one edit from too many


_TELEX_TONES = "sfrxj"
_TELEX_LETTERS = (("dd", "d"), ("aa", "a"), ("aw", "a"), ("ee", "e"), ("oo", "o"), ("ow", "o"), ("uw", "u"), ("w", "u"))


def _read_as_telex(word: str) -> str:
    """The folded syllable a word typed in Telex stands for ("cuowcs" → "cuoc"), or the word if it has no key."""
    if word[-1] in _TELEX_TONES and any(v in word[:-1] for v in "aeiouyw"):
        word = word[:-1]
    for keys, letter in _TELEX_LETTERS:
        word = word.replace(keys, letter)
    return word


def _edits(word: str) -> set[str]:
    """Every string one edit away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in ascii_lowercase}
    inserts = {a + c + b for a, b in splits for c in ascii_lowercase}
    return (deletes | swaps | replaces | inserts) - {word}


class Speller:
    def __init__(self, syllables: dict[str, float], bigrams: set[str]) -> None:
        self.syllables = syllables  # folded syllable → idf (lower: more common)
        self.bigrams = bigrams  # "khai_sinh"

    @classmethod
    def of(cls, lexical: LexicalIndex) -> Speller:
        syllables, bigrams = {}, set()
        for term, column in lexical.vocabulary.items():
            if term.startswith("f:"):
                syllables[term[2:]] = float(lexical.idf[column])
            elif term.startswith("b:"):
                bigrams.add(term[2:])
        return cls(syllables, bigrams)

    def correct(self, normalized_text: str) -> str:
        """The text with each unknown syllable replaced by its likeliest known neighbour (unchanged if none)."""
        asked = words(normalized_text)
        folded = [fold(w) for w in asked]
        corrected = list(asked)
        for i, word in enumerate(folded):
            if (
                len(word) < MIN_LENGTH
                or not word.isalpha()
                or not word.isascii()
                or word in self.syllables
                or is_asking_word(word)  # everyday Vietnamese ("cho", "nhiêu"), known even to a small index
            ):
                continue
            telex = _read_as_telex(word)
            if telex != word and telex in self.syllables:
                corrected[i] = telex
                continue
            before = folded[i - 1] if i > 0 else None
            after = folded[i + 1] if i + 1 < len(folded) else None
            fitting = [c for c in _edits(word) if c in self.syllables and self._in_bigram(before, c, after)]
            if fitting:
                corrected[i] = min(fitting, key=self.syllables.__getitem__)
        return normalized_text if corrected == asked else " ".join(corrected)

    def _in_bigram(self, before: str | None, syllable: str, after: str | None) -> bool:
        return f"{before}_{syllable}" in self.bigrams or f"{syllable}_{after}" in self.bigrams
