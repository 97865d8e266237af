"""Hybrid retrieval: BM25 and e5 candidates, ordered by the learned ranker.

Each signal ranks entries; an entry votes for the procedures it belongs to.
The best procedures of either signal become candidates, each described by the
features in :mod:`bot.ranking`, and the ranker orders them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from bot.embedder import Embedder
from bot.index import SearchIndex
from bot.procedure import Procedure
from bot.ranking import FEATURES, Ranker
from bot.siblings import sibling_signals
from bot.text import fold, normalize, with_official_terms, words

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


def bigrams(normalized_text: str) -> set[str]:
    folded = [fold(w) for w in words(normalized_text)]
    return {f"{a} {b}" for a, b in pairwise(folded)} or set(folded)


class _Signal:
    """One signal's view: best score per entry kind and rank per procedure."""

    def __init__(self) -> None:
        self.rank: dict[str, int] = {}
        self.best: dict[tuple[str, str], float] = {}

    def add(self, code: str, kind: str, score: float) -> None:
        self.rank.setdefault(code, len(self.rank) + 1)
        key = (code, kind)
        self.best[key] = max(self.best.get(key, 0.0), score)


class Retriever:
    def __init__(self, index: SearchIndex, procedures: Sequence[Procedure], embedder: Embedder, ranker: Ranker) -> None:
        self.index = index
        self.embedder = embedder
        self.ranker = ranker
        self.procedures = {p.code: p for p in procedures if not p.retired}
        self.by_national_code = {p.national_code: p.code for p in self.procedures.values()}
        self.by_national_code.update({code: code for code in self.procedures})
        top = max((p.popularity for p in self.procedures.values()), default=0)
        self._popularity_scale = math.log1p(top) or 1.0
        self._name_terms: dict[str, tuple[set[str], set[str], frozenset[str]]] = {}

    def search(self, question: str, k: int = 10, exclude_faq: int | None = None) -> SearchResult:
        """Rank procedures for a question; ``exclude_faq`` leaves one FAQ entry out (training)."""
        normalized = normalize(question)
        search_text = with_official_terms(normalized)
        query_weight = self.index.lexical.query_weight(search_text)
        lexical = self._signal(self._lexical_entries(search_text), exclude_faq, scale=query_weight)
        query_vector = self.embedder.queries([search_text])[0]
        dense_entries = sorted(self.index.dense_scores(query_vector, DEPTH * 2).items(), key=lambda kv: -kv[1])
        dense = self._signal(dense_entries, exclude_faq, scale=1.0)

        pool = [c for c, r in lexical.rank.items() if r <= POOL] + [c for c, r in dense.rank.items() if r <= POOL]
        codes = list(dict.fromkeys(pool))
        question_bigrams = bigrams(search_text)
        question_words = {fold(w) for w in words(search_text)}
        rows = [self._features(code, lexical, dense, query_vector, question_bigrams, question_words) for code in codes]
        siblings = sibling_signals(
            [self._name_terms[code][2] for code in codes],
            [self._popularity(code) for code in codes],
            question_words,
            lambda term: self._idf("f:", term),
        )
        for row, sibling in zip(rows, siblings, strict=True):
            row += [sibling.found, sibling.missed, sibling.popularity]
        features = np.array(rows) if rows else np.zeros((0, len(FEATURES)))
        scores = self.ranker.scores(features)
        shares = np.exp(scores - scores.max(initial=0.0))
        shares /= shares.sum() or 1.0
        candidates = [
            Candidate(self.procedures[code], float(s), f, float(p))
            for code, s, f, p in zip(codes, scores, features, shares, strict=True)
        ]
        candidates.sort(key=lambda c: -c.score)
        return SearchResult(question, normalized, candidates[:k], query_weight)

    def _lexical_entries(self, normalized: str) -> list[tuple[int, float]]:
        scores = self.index.lexical.scores(normalized)
        depth = min(DEPTH, len(scores))
        top = np.argpartition(-scores, depth - 1)[:depth]
        top = top[np.argsort(-scores[top])]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

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

    def _cover(self, found: set[str], wanted: set[str], family: str) -> float:
        """idf-weighted share of ``wanted`` terms that were ``found``: a missed "xóa" costs
        more than a missed "cấp"."""
        total = sum(self._idf(family, t) for t in wanted)
        return sum(self._idf(family, t) for t in found) / total if total else 0.0

    def _idf(self, family: str, term: str) -> float:
        column = self.index.lexical.vocabulary.get(family + term.replace(" ", "_"))
        return float(self.index.lexical.idf[column]) if column is not None else 1.0

    def _features(
        self,
        code: str,
        lexical: _Signal,
        dense: _Signal,
        query_vector: np.ndarray,
        question_bigrams: set[str],
        question_words: set[str],
    ) -> list[float]:
        """The features up to ``popularity``; the sibling features need all candidates (see ``search``)."""
        name_entry = self.index.name_entry.get(code)
        if code not in self._name_terms:
            procedure = self.procedures[code]
            name = normalize(procedure.name)
            with_aliases = " ; ".join([name, *map(normalize, procedure.aliases)])
            self._name_terms[code] = (bigrams(name), bigrams(with_aliases), frozenset(fold(w) for w in words(name)))
        name_bigrams, alias_bigrams, name_words = self._name_terms[code]
        return [
            lexical.best.get((code, "name"), 0.0),
            lexical.best.get((code, "faq"), 0.0),
            lexical.best.get((code, "section"), 0.0),
            lexical.best.get((code, "answer"), 0.0),
            self.index.cosine(query_vector, name_entry) if name_entry is not None else 0.0,
            dense.best.get((code, "faq"), 0.0),
            1.0 / lexical.rank[code] if code in lexical.rank else 0.0,
            1.0 / dense.rank[code] if code in dense.rank else 0.0,
            self._cover(name_bigrams & question_bigrams, name_bigrams, "b:"),
            self._cover(name_words & question_words, name_words, "f:"),
            self._cover(alias_bigrams & question_bigrams, question_bigrams, "b:"),
            self._popularity(code),
        ]

    def _popularity(self, code: str) -> float:
        return math.log1p(self.procedures[code].popularity) / self._popularity_scale
