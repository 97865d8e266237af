"""A learned linear ranker over each candidate procedure's retrieval signals.

Fixed fusion formulas (reciprocal-rank fusion and the like) weigh a name match,
a neighbouring FAQ question and a section hit the same way. The ranker learns
those weights with a listwise softmax loss from the indexed portal FAQ
questions themselves, each asked with its own entry left out — thousands of
real citizen questions with known answers, and none of the held-out ones.
``citizenbot train-ranker`` fits it into ``knowledge/ranker.json``.

How well a question matches a procedure's sections (documents, fees …) is not a
feature: it tells what a procedure contains rather than which one is meant, and
only the few detailed records have sections, which it would favour or penalise.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

FEATURES = [
    "lex_name",  # BM25 of the procedure's name entry / the question's total idf
    "lex_alias",  # best BM25 of its everyday names / total idf
    "lex_faq",  # best BM25 of its FAQ questions / total idf
    "lex_answer",  # best BM25 of the official answers to its FAQ questions / total idf
    "dense_name",  # cosine of the question and the name (best of the two twins)
    "dense_alias",  # best cosine of its everyday names
    "dense_faq",  # best cosine of its FAQ questions among the nearest
    "lex_rank",  # 1 / rank in the BM25 procedure ranking
    "dense_rank",  # 1 / rank in the e5 procedure ranking
    "name_cover",  # share of the name's bigrams found in the question
    "name_word_cover",  # share of the name's syllables found in the question ("xóa …" vs "đăng ký …")
    "question_cover",  # share of the question's bigrams found in the name and aliases
    "topic_cover",  # share (idf) of the question's words that name something, found in the name and aliases
    "popularity",  # log usage on the portal, scaled to 0..1
    "marker_asked",  # the name carries a marker the question asks for ("gia hạn", "cấp lại" …, see name_markers)
    "marker_not_asked",  # the name carries markers and the question asks for none of them
    "marker_not_in_name",  # markers the question asks for that the name lacks (0, 0.5, 1)
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
    def fit(cls, queries: Sequence[tuple[np.ndarray, np.ndarray, float]], l2: float = 1e-3) -> Ranker:
        """Listwise softmax regression, solved with L-BFGS; each query is (candidate features, relevant
        mask, weight). The loss is the weighted cross-entropy between the softmax over a query's
        candidates and the uniform distribution over its relevant ones, plus ``l2`` times |w|²."""
        usable = [(x, y.astype(np.float64), weight) for x, y, weight in queries if y.any() and len(y) > 1]
        if not usable:
            raise ValueError("no question has both a relevant and an irrelevant candidate to learn from")
        features = np.vstack([x for x, _, _ in usable])
        target = np.concatenate([y / y.sum() for _, y, _ in usable])
        query_of = np.concatenate([np.full(len(y), i) for i, (_, y, _) in enumerate(usable)])
        query_weight = np.array([weight for _, _, weight in usable])
        row_weight = query_weight[query_of]
        total = query_weight.sum()

        def loss_and_gradient(w: np.ndarray) -> tuple[float, np.ndarray]:
            s = features @ w
            top = np.full(len(usable), -np.inf)
            np.maximum.at(top, query_of, s)
            e = np.exp(s - top[query_of])
            z = np.bincount(query_of, weights=e, minlength=len(usable))
            p = e / z[query_of]
            log_partition = np.log(z) + top
            expected = np.bincount(query_of, weights=target * s, minlength=len(usable))
            loss = float(query_weight @ (log_partition - expected)) / total + l2 * float(w @ w)
            gradient = features.T @ (row_weight * (p - target)) / total + 2 * l2 * w
            return loss, gradient

        result = minimize(loss_and_gradient, np.zeros(features.shape[1]), jac=True, method="L-BFGS-B")
        return cls(result.x.tolist())

    def save(self, path: Path) -> None:
        data = {"features": FEATURES, "weights": dict(zip(FEATURES, self.weights, strict=True))}
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Ranker:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["features"] != FEATURES:
            raise ValueError(f"{path} was trained on other features: run `citizenbot train-ranker` again")
        return cls([data["weights"][f] for f in FEATURES])
