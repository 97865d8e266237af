"""Hybrid retrieval: BM25 and e5 candidates, ordered by the learned ranker.

Each signal ranks entries; an entry votes for the procedures it belongs to.
The best procedures of either signal, and the best by name or everyday name
alone, become candidates, each described by the features in
:mod:`bot.ranking`, and the ranker orders them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from bot.ages import NameAges, asked_ages, fits_ages, name_age_limit
from bot.embedder import Embedder
from bot.index import SearchIndex
from bot.name_markers import name_markers, question_markers
from bot.procedure import Procedure, by_national_code
from bot.province import runs_here
from bot.ranking import FEATURES, Ranker, long_share
from bot.siblings import sibling_signals
from bot.spelling import Speller
from bot.text import (
    asked_text,
    bigrams,
    fold,
    naming_words,
    normalize,
    with_official_terms,
    without_peoples_committee,
    words,
)

DEPTH = 300  # entries read from each signal
POOL = 30  # procedures taken from each signal's ranking


@dataclass
class Candidate:
    procedure: Procedure
    score: float
    features: np.ndarray
    probability: float = 0.0  # the ranker's softmax share among the candidates

    def feature(self, name: str) -> float:
        return float(self.features[FEATURES.index(name)])


@dataclass
class SearchResult:
    question: str
    normalized: str
    candidates: list[Candidate]
    query_weight: float  # total idf of the question's known terms
    long_share: float  # how long the question is, for the ranker (see bot.ranking.long_share)

    def level_variants(self, of: Candidate | None = None) -> list[Candidate]:
        """A candidate (by default the top one) and the candidates that are the same procedure at another level."""
        name = (of or self.candidates[0]).procedure.name_without_level
        return [c for c in self.candidates if c.procedure.name_without_level == name]


def top_entries(scores: np.ndarray, depth: int, entry_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
    """The ``depth`` best positive scores, best first, as (entry id, score); ``entry_ids`` maps positions to ids."""
    depth = min(depth, len(scores))
    if depth == 0:
        return []
    top = np.argpartition(-scores, depth - 1)[:depth]
    # Equal scores in entry order: the same name filed under two codes scores the same, and an unstable
    # order let any change to the index flip which code ranked first.
    top = top[np.lexsort((top, -scores[top]))]
    ids = top if entry_ids is None else entry_ids[top]
    return [(int(i), float(scores[t])) for i, t in zip(ids, top, strict=True) if scores[t] > 0]


class _Signal:
    """One signal's view: best score per entry kind and rank per procedure."""

    def __init__(self) -> None:
        self.rank: dict[str, int] = {}
        self.best: dict[tuple[str, str], float] = {}

    def add(self, code: str, kind: str, score: float) -> None:
        self.rank.setdefault(code, len(self.rank) + 1)
        key = (code, kind)
        self.best[key] = max(self.best.get(key, 0.0), score)


@dataclass(frozen=True)
class _NameTerms:
    """What a procedure's name (and everyday names) says, in the forms the features compare."""

    bigrams: set[str]  # folded bigrams of the name
    alias_bigrams: set[str]  # … of the name and its everyday names
    words: frozenset[str]  # folded syllables of the name
    alias_words: frozenset[str]  # … of the name and its everyday names
    markers: frozenset[str]  # see bot.name_markers
    ages: NameAges | None  # see bot.ages

    @classmethod
    def of(cls, procedure: Procedure) -> _NameTerms:
        name = normalize(procedure.name)
        with_aliases = " ; ".join([name, *map(normalize, procedure.aliases)])
        return cls(
            bigrams(name),
            bigrams(with_aliases),
            frozenset(words(fold(name))),
            frozenset(words(fold(with_aliases))),
            name_markers(name),
            name_age_limit(name),
        )


@dataclass
class _Question:
    """One question's retrieval signals, shared by its candidates' features."""

    normalized: str
    search_text: str  # with the official terms of its everyday words
    lexical_scores: np.ndarray  # BM25 of every entry / the question's total idf
    lexical: _Signal
    dense: _Signal
    vector: np.ndarray

    @cached_property
    def bigrams(self) -> set[str]:
        return bigrams(self.search_text)

    @cached_property
    def words(self) -> set[str]:
        return {fold(w) for w in words(self.search_text)}

    @cached_property
    def topic_words(self) -> set[str]:
        """The words that can name a procedure (see bot.text.naming_words), folded."""
        return {fold(w) for w in naming_words(self.search_text)}

    @cached_property
    def markers(self) -> frozenset[str]:
        return question_markers(self.normalized)


class Retriever:
    def __init__(
        self,
        index: SearchIndex,
        procedures: Sequence[Procedure],
        embedder: Embedder,
        ranker: Ranker,
        provinces: frozenset[str] = frozenset(),
    ) -> None:
        """``provinces``: the deployment's (see bot.province); other provinces' own procedures are not served."""
        self.index = index
        self.embedder = embedder
        self.ranker = ranker
        self.provinces = provinces
        self.speller = Speller.of(index.lexical)
        self.procedures = {p.code: p for p in procedures if not p.retired and runs_here(p.name, provinces)}
        self.by_national_code = {c: p.code for c, p in by_national_code(self.procedures.values()).items()}
        self.by_national_code.update({code: code for code in self.procedures})
        top = max((p.popularity for p in self.procedures.values()), default=0)
        self._popularity_scale = math.log1p(top) or 1.0
        self._name_terms: dict[str, _NameTerms] = {}
        self._idf_cache: dict[str, float] = {}
        self._name_ids = np.array(
            sorted([*index.name_entry.values(), *(i for ids in index.alias_entries.values() for i in ids)]),
            dtype=np.int64,
        )

    def search(self, question: str, k: int = 10, exclude_faq: int | None = None) -> SearchResult:
        """Rank procedures for a question; ``exclude_faq`` leaves one FAQ entry out (training)."""
        normalized = self.speller.correct(asked_text(question))
        search_text = with_official_terms(without_peoples_committee(normalized))
        lexical_scores, query_weight = self.index.lexical.scores(search_text)
        query_vector = self.embedder.queries([search_text])[0]
        dense_entries = sorted(self.index.dense_scores(query_vector, DEPTH * 2).items(), key=lambda kv: (-kv[1], kv[0]))
        asked = _Question(
            normalized,
            search_text,
            lexical_scores / query_weight if query_weight else lexical_scores,
            self._signal(top_entries(lexical_scores, DEPTH), exclude_faq, scale=query_weight),
            self._signal(dense_entries, exclude_faq, scale=1.0),
            query_vector,
        )
        # Names and everyday names apart too: a short name can lose to the many FAQ questions
        # asked with the same words.
        names = self._signal(top_entries(lexical_scores[self._name_ids], POOL, self._name_ids), None, scale=1.0)
        signals = (asked.lexical, names, asked.dense)
        codes = list(dict.fromkeys(c for signal in signals for c, rank in signal.rank.items() if rank <= POOL))

        rows = [self._features(code, asked) for code in codes]
        siblings = sibling_signals(
            [self._terms(code).words for code in codes],
            [self._popularity(code) for code in codes],
            asked.words,
            lambda term: self._idf("f:", term),
        )
        for row, sibling in zip(rows, siblings, strict=True):
            row += [sibling.found, sibling.missed, sibling.popularity]
        features = np.array(rows) if rows else np.zeros((0, len(FEATURES)))
        share = long_share(len(words(normalized)))
        scores = self.ranker.scores(features, share)
        # A procedure whose name is for another age than the one asked comes after the others and takes
        # none of the probability (bot.ages).
        ages = asked_ages(normalized)
        fits = np.array([fits_ages(self._terms(code).ages, ages, asked.bigrams) for code in codes], dtype=bool)
        probabilities = np.where(fits, np.exp(scores - scores[fits].max(initial=0.0)), 0.0)
        probabilities /= probabilities.sum() or 1.0
        candidates = [
            Candidate(self.procedures[code], float(s), f, float(p))
            for code, s, f, p in zip(codes, scores, features, probabilities, strict=True)
        ]
        order = sorted(range(len(candidates)), key=lambda i: (not fits[i], -candidates[i].score))
        candidates = [candidates[i] for i in order]
        return SearchResult(question, normalized, candidates[:k], query_weight, share)

    def _signal(self, entries: list[tuple[int, float]], exclude_faq: int | None, scale: float) -> _Signal:
        signal = _Signal()
        for entry_id, score in entries:
            entry = self.index.entries[entry_id]
            if exclude_faq is not None and entry.faq_id == exclude_faq:
                continue
            for national_code in entry.codes:
                code = self.by_national_code.get(national_code)
                if code is not None:
                    signal.add(code, entry.kind, score / scale if scale else 0.0)
        return signal

    def name_words(self, code: str) -> frozenset[str]:
        """The folded syllables of a procedure's (normalised) name."""
        return self._terms(code).words

    def name_markers(self, code: str) -> frozenset[str]:
        """The special cases a procedure's name carries (see bot.name_markers)."""
        return self._terms(code).markers

    def _terms(self, code: str) -> _NameTerms:
        if code not in self._name_terms:
            self._name_terms[code] = _NameTerms.of(self.procedures[code])
        return self._name_terms[code]

    def _cover(self, found: set[str], wanted: set[str], family: str) -> float:
        """idf-weighted share of ``wanted`` terms that were ``found``: a missed "xóa" costs
        more than a missed "cấp"."""
        total = sum(self._idf(family, t) for t in wanted)
        return sum(self._idf(family, t) for t in found) / total if total else 0.0

    def _idf(self, family: str, term: str) -> float:
        key = family + term.replace(" ", "_")
        idf = self._idf_cache.get(key)
        if idf is None:
            column = self.index.lexical.vocabulary.get(key)
            idf = self._idf_cache[key] = float(self.index.lexical.idf[column]) if column is not None else 1.0
        return idf

    def _features(self, code: str, asked: _Question) -> list[float]:
        """The features up to ``marker_not_in_name``; the sibling features need all candidates (see ``search``)."""
        name_entry = self.index.name_entry.get(code)
        alias_entries = self.index.alias_entries.get(code, [])
        terms = self._terms(code)
        return [
            float(asked.lexical_scores[name_entry]) if name_entry is not None else 0.0,
            max((float(asked.lexical_scores[i]) for i in alias_entries), default=0.0),
            asked.lexical.best.get((code, "faq"), 0.0),
            asked.lexical.best.get((code, "answer"), 0.0),
            self.index.cosine(asked.vector, name_entry) if name_entry is not None else 0.0,
            max((self.index.cosine(asked.vector, i) for i in alias_entries), default=0.0),
            asked.dense.best.get((code, "faq"), 0.0),
            1.0 / asked.lexical.rank[code] if code in asked.lexical.rank else 0.0,
            1.0 / asked.dense.rank[code] if code in asked.dense.rank else 0.0,
            self._cover(terms.bigrams & asked.bigrams, terms.bigrams, "b:"),
            self._cover(terms.words & asked.words, terms.words, "f:"),
            self._cover(terms.alias_bigrams & asked.bigrams, asked.bigrams, "b:"),
            self._cover(terms.alias_words & asked.topic_words, asked.topic_words, "f:"),
            self._popularity(code),
            float(bool(terms.markers & asked.markers)),
            float(bool(terms.markers) and not terms.markers & asked.markers),
            min(len(asked.markers - terms.markers), 2) / 2,
        ]

    def _popularity(self, code: str) -> float:
        return math.log1p(self.procedures[code].popularity) / self._popularity_scale
