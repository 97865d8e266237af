"""A learned linear ranker over each candidate procedure's retrieval signals.

Fixed fusion formulas (reciprocal-rank fusion and the like) weigh a name match,
a neighbouring FAQ question and a section hit the same way. The ranker learns
those weights with a listwise softmax loss from the indexed portal FAQ
questions themselves, each asked with its own entry left out — thousands of
real citizen questions with known answers, and none of the held-out ones.
``citizenbot train-ranker`` fits it into ``knowledge/ranker.json``.

It keeps two sets of weights, blended by the question's length: a short chat
question ("lam cccd o dau") and a long, formal portal question weigh the same
evidence differently (a long question covers less of a name with more words
around it). One set fitted for both ranked both kinds a little worse.

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


SHORT_QUESTION_WORDS = 10  # up to this many words, a question is ranked with the short-question weights
LONG_QUESTION_WORDS = 30  # from this many, with the long-question weights; in between, a blend


def long_share(word_count: int) -> float:
    """How much of a question's ranking uses the long-question weights (0 to 1)."""
    span = LONG_QUESTION_WORDS - SHORT_QUESTION_WORDS
    return min(max((word_count - SHORT_QUESTION_WORDS) / span, 0.0), 1.0)


@dataclass
class Ranker:
    short_weights: list[float]
    long_weights: list[float]

    @classmethod
    def untrained(cls) -> Ranker:
        return cls([0.0] * len(FEATURES), [0.0] * len(FEATURES))

    def scores(self, features: np.ndarray, share: float) -> np.ndarray:
        """Candidate scores for a question whose ``long_share`` is ``share``."""
        weights = (1.0 - share) * np.array(self.short_weights) + share * np.array(self.long_weights)
        return features @ weights

    @classmethod
    def fit(cls, queries: Sequence[tuple[np.ndarray, np.ndarray, float, float]], l2: float = 1e-3) -> Ranker:
        """Listwise softmax regression, solved with L-BFGS; each query is (candidate features, relevant
        mask, weight, long share). The loss is the weighted cross-entropy between the softmax over a query's
        candidates and the uniform distribution over its relevant ones, plus ``l2`` times |w|². The model
        is x·w + share·x·v: the short-question weights are w, the long-question weights w + v."""
        usable = [(x, y.astype(np.float64), weight, share) for x, y, weight, share in queries if y.any() and len(y) > 1]
        if not usable:
            raise ValueError("no question has both a relevant and an irrelevant candidate to learn from")
        features = np.vstack([np.hstack([x, share * x]) for x, _, _, share in usable])
        target = np.concatenate([y / y.sum() for _, y, _, _ in usable])
        query_of = np.concatenate([np.full(len(y), i) for i, (_, y, _, _) in enumerate(usable)])
        query_weight = np.array([weight for _, _, weight, _ in usable])
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
        short, extra = np.split(result.x, 2)
        return cls(short.tolist(), (short + extra).tolist())

    def save(self, path: Path) -> None:
        data = {
            "features": FEATURES,
            "short_question_weights": dict(zip(FEATURES, self.short_weights, strict=True)),
            "long_question_weights": dict(zip(FEATURES, self.long_weights, strict=True)),
        }
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Ranker:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["features"] != FEATURES:
            raise ValueError(f"{path} was trained on other features: run `citizenbot train-ranker` again")
        if "short_question_weights" not in data:
            raise ValueError(f"{path} is a ranker of an older kind: run `citizenbot train-ranker` again")
        weights = data["short_question_weights"], data["long_question_weights"]
        return cls(*([w[f] for f in FEATURES] for w in weights))
