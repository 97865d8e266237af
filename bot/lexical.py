"""BM25 over Vietnamese syllables, their diacritic-free forms and folded bigrams.

Vietnamese words are mostly two syllables ("tạm trú", "hộ chiếu"), so folded
bigrams carry much of the meaning; folded unigrams let unaccented questions
meet accented documents; raw unigrams reward a question typed with diacritics.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np
from scipy import sparse

from bot.text import fold, is_asking_word, words

K1 = 1.2
B = 0.75
# A query term made only of words that ask ("bao nhiêu ngày", "ở đâu") says what is asked, not
# about which procedure; at full weight it pulls in every FAQ question asked the same way.
ASKING_TERM_WEIGHT = 0.25


def terms(normalized_text: str) -> list[str]:
    return [term for term, _ in _terms_and_sources(words(normalized_text))]


def _terms_and_sources(raw: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    """Each term with the syllables, as written, that it comes from."""
    folded = [fold(w) for w in raw]
    # Prefixes keep the three term families apart; a raw syllable without
    # diacritics would otherwise double-count with its folded twin.
    return (
        [(f"r:{w}", (w,)) for w, f in zip(raw, folded, strict=True) if w != f]
        + [(f"f:{f}", (w,)) for w, f in zip(raw, folded, strict=True)]
        + [(f"b:{a}_{b}", (v, w)) for (a, v), (b, w) in pairwise(zip(folded, raw, strict=True))]
    )


class LexicalIndex:
    def __init__(self, vocabulary: dict[str, int], weights: sparse.csc_matrix, idf: np.ndarray) -> None:
        self.vocabulary = vocabulary
        self.weights = weights  # documents × terms, BM25 term weights
        self.idf = idf

    @classmethod
    def build(cls, normalized_texts: Sequence[str]) -> LexicalIndex:
        vocabulary: dict[str, int] = {}
        rows, cols, counts = [], [], []
        lengths = np.zeros(len(normalized_texts), dtype=np.float32)
        for doc, text in enumerate(normalized_texts):
            doc_terms = terms(text)
            lengths[doc] = len(doc_terms)
            tf: dict[int, int] = {}
            for term in doc_terms:
                col = vocabulary.setdefault(term, len(vocabulary))
                tf[col] = tf.get(col, 0) + 1
            rows.extend([doc] * len(tf))
            cols.extend(tf.keys())
            counts.extend(tf.values())
        n_docs = len(normalized_texts)
        tf_matrix = sparse.csr_matrix(
            (np.array(counts, dtype=np.float32), (rows, cols)), shape=(n_docs, max(len(vocabulary), 1))
        )
        df = np.bincount(np.array(cols, dtype=np.int64), minlength=tf_matrix.shape[1])
        idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        avg_length = float(lengths.mean()) if n_docs else 1.0
        norm = K1 * (1 - B + B * lengths / max(avg_length, 1e-6))
        tf_matrix = tf_matrix.tocoo()
        data = tf_matrix.data * (K1 + 1) / (tf_matrix.data + norm[tf_matrix.row]) * idf[tf_matrix.col]
        weights = sparse.csc_matrix((data, (tf_matrix.row, tf_matrix.col)), shape=tf_matrix.shape)
        return cls(vocabulary, weights, idf)

    def query_terms(self, normalized_query: str) -> tuple[list[int], np.ndarray]:
        """The query's known terms (each once) and their weights."""
        found: dict[int, float] = {}
        # A term only asks when every occurrence comes from asking words, judged as they were written.
        only_asking: dict[str, bool] = {}
        for term, syllables in _terms_and_sources(words(normalized_query)):
            only_asking[term] = only_asking.get(term, True) and all(map(is_asking_word, syllables))
        for term, only_asks in only_asking.items():
            column = self.vocabulary.get(term)
            if column is not None:
                found[column] = ASKING_TERM_WEIGHT if only_asks else 1.0
        columns = sorted(found)
        return columns, np.array([found[c] for c in columns], dtype=np.float32)

    def scores(self, normalized_query: str) -> tuple[np.ndarray, float]:
        """BM25 score of every document (a query term counts once), and the query's weight: the total weighted
        idf of its known terms, the scale of a perfect match."""
        columns, weights = self.query_terms(normalized_query)
        if not columns:
            return np.zeros(self.weights.shape[0], dtype=np.float32), 0.0
        return np.asarray(self.weights[:, columns] @ weights).ravel(), float(self.idf[columns] @ weights)

    def save(self, path: Path) -> None:
        sparse.save_npz(path / "lexical_weights.npz", self.weights)
        np.save(path / "lexical_idf.npy", self.idf)
        terms_in_order = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        (path / "lexical_terms.txt").write_text("\n".join(terms_in_order), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        terms_in_order = (path / "lexical_terms.txt").read_text(encoding="utf-8").split("\n")
        return cls(
            {t: i for i, t in enumerate(terms_in_order)},
            sparse.load_npz(path / "lexical_weights.npz").tocsc(),
            np.load(path / "lexical_idf.npy"),
        )
