"""A learned linear ranker over each candidate procedure's retrieval signals.

Fixed fusion formulas (reciprocal-rank fusion and the like) weigh a name match,
a neighbouring FAQ question and a section hit the same way. The ranker learns
those weights with a listwise softmax loss from the indexed portal FAQ
questions themselves, each asked with its own entry left out — thousands of
real citizen questions with known answers, and none of the held-out ones.
``citizenbot train-ranker`` fits it into ``knowledge/ranker.json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FEATURES = [
    "lex_name",  # BM25 of the procedure's name entry / the question's total idf
    "lex_faq",  # best BM25 of its FAQ questions / total idf
    "lex_section",  # best BM25 of its sections / total idf
    "lex_answer",  # best BM25 of the official answers to its FAQ questions / total idf
    "dense_name",  # cosine of the question and the name (best of the two twins)
    "dense_faq",  # best cosine of its FAQ questions among the nearest
    "lex_rank",  # 1 / rank in the BM25 procedure ranking
    "dense_rank",  # 1 / rank in the e5 procedure ranking
    "name_cover",  # share of the name's bigrams found in the question
    "name_word_cover",  # share of the name's syllables found in the question ("xóa …" vs "đăng ký …")
    "question_cover",  # share of the question's bigrams found in the name and aliases
    "popularity",  # log usage on the portal, scaled to 0..1
    "sibling_found",  # share of the name's terms that set it apart from a sibling candidate found in the question
    "sibling_missed",  # share of those distinguishing terms the question does not mention ("có yếu tố nước ngoài")
    "sibling_popularity",  # popularity below the most used sibling candidate (0 for the family's most used)
]


@dataclass
class Ranker:
    weights: list[float]

    def scores(self, features: np.ndarray) -> np.ndarray:
        return features @ np.array(self.weights)

    @classmethod
    def fit(cls, queries: Sequence[tuple[np.ndarray, np.ndarray, float]], epochs: int = 400) -> Ranker:
        """Listwise softmax regression; each query is (candidate features, relevant mask, weight)."""
        usable = [(x, y.astype(np.float64), weight) for x, y, weight in queries if y.any() and len(y) > 1]
        total = sum(weight for _, _, weight in usable)
        w = np.zeros(len(FEATURES))
        learning_rate = 0.5
        for _ in range(epochs):
            gradient = np.zeros_like(w)
            for x, y, weight in usable:
                s = x @ w
                p = np.exp(s - s.max())
                p /= p.sum()
                gradient += weight * (x.T @ (p - y / y.sum()))
            w -= learning_rate * (gradient / total + 1e-3 * w)
        return cls(w.tolist())

    def save(self, path: Path) -> None:
        data = {"features": FEATURES, "weights": dict(zip(FEATURES, self.weights, strict=True))}
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Ranker:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["features"] != FEATURES:
            raise ValueError(f"{path} was trained on other features: run `citizenbot train-ranker` again")
        return cls([data["weights"][f] for f in FEATURES])
