"""The search index, derived from the knowledge base and rebuilt from it.

Searchable entries are procedure names (with aliases), each non-empty section
of a detailed procedure, and the official FAQ questions with, apart, their
answers (held-out and outdated ones excluded). Every entry is in the BM25 index (``lexical``).
Names and FAQ questions — what says *which* procedure a question is about —
are also embedded with e5 into FAISS, twice: as written and without
diacritics, so an unaccented question meets its twin.

Index versions live in ``<index_dir>/<version>/``; the file ``CURRENT`` names
the one in service and is replaced atomically after a complete build.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np

from bot.embedder import Embedder
from bot.lexical import LexicalIndex
from bot.procedure import SECTION_TITLES, Procedure, by_national_code
from bot.store import Faq
from bot.text import fold, folded_key, normalize, with_official_terms

FLAT_LIMIT = 100_000  # exact search up to here; HNSW beyond
SECTION_CHARS = 700  # a section's head says what it is about; the rest is detail
ANSWER_CHARS = 1000  # an official answer names its procedure early, then quotes the law
EMBEDDED_KINDS = ("name", "alias", "faq")


@dataclass(frozen=True)
class Entry:
    kind: str  # "name" | "alias" | "section" | "faq" | "answer"
    codes: tuple[str, ...]
    text: str
    section: str = ""
    faq_id: int = 0


def build_entries(procedures: Sequence[Procedure], faqs: Sequence[Faq]) -> list[Entry]:
    entries = []
    for p in procedures:
        entries.append(Entry("name", (p.code,), p.name))
        # Each everyday name apart: a short alias must not be diluted by the official name.
        entries.extend(Entry("alias", (p.code,), alias) for alias in p.aliases)
        for section in p.available_sections():
            body = p.section_text(section)[:SECTION_CHARS]
            entries.append(Entry("section", (p.code,), f"{p.name} – {SECTION_TITLES[section]}: {body}", section.value))
    # An FAQ entry filed under a procedure's former code counts for the procedure.
    known = by_national_code(procedures)
    for faq in faqs:
        codes = tuple(dict.fromkeys(known[c].national_code for c in faq.codes if c in known))
        if codes and not faq.held_out and not faq.outdated:
            entries.append(Entry("faq", codes, faq.question, faq_id=faq.faq_id))
            entries.append(Entry("answer", codes, faq.answer[:ANSWER_CHARS], faq_id=faq.faq_id))
    return entries


def embedded_texts(entries: Sequence[Entry]) -> list[str]:
    """The texts embedded for the entries, in vector-row order: each as written, then folded."""
    return [variant for e in entries if e.kind in EMBEDDED_KINDS for variant in (e.text, fold(e.text))]


def lexical_index(entries: Sequence[Entry]) -> LexicalIndex:
    return LexicalIndex.build([with_official_terms(normalize(e.text)) for e in entries])


def vector_index(vectors: np.ndarray) -> faiss.Index:
    dim = vectors.shape[1]
    index = (
        faiss.IndexFlatIP(dim)
        if len(vectors) <= FLAT_LIMIT
        else faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
    )
    index.add(vectors)
    return index


class SearchIndex:
    def __init__(
        self,
        entries: list[Entry],
        lexical: LexicalIndex,
        vectors: faiss.Index,
        vector_entries: np.ndarray,
        version: str,
    ) -> None:
        self.entries = entries
        self.lexical = lexical
        self.vectors = vectors
        self.vector_entries = vector_entries  # vector row → entry id (two rows per embedded entry)
        self.version = version
        self.name_entry = {e.codes[0]: i for i, e in enumerate(entries) if e.kind == "name"}
        self.alias_entries: dict[str, list[int]] = {}
        for i, e in enumerate(entries):
            if e.kind == "alias":
                self.alias_entries.setdefault(e.codes[0], []).append(i)
        # An official (or staff-written) FAQ question, asked word for word, names its procedures for sure.
        self.faq_codes: dict[str, tuple[str, ...]] = {folded_key(e.text): e.codes for e in entries if e.kind == "faq"}
        self._vector_rows: dict[int, list[int]] = {}
        for row, entry_id in enumerate(vector_entries.tolist()):
            self._vector_rows.setdefault(entry_id, []).append(row)

    @classmethod
    def build(cls, entries: list[Entry], embedder: Embedder, show_progress: bool = False) -> SearchIndex:
        lexical = lexical_index(entries)
        embedded = [i for i, e in enumerate(entries) if e.kind in EMBEDDED_KINDS]
        vectors = embedder.passages(embedded_texts(entries), show_progress=show_progress)
        vector_entries = np.repeat(np.array(embedded, dtype=np.int64), 2)
        return cls(
            entries,
            lexical,
            vector_index(vectors),
            vector_entries,
            datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f"),
        )

    def dense_scores(self, query_vector: np.ndarray, k: int) -> dict[int, float]:
        """Best cosine per entry among the k nearest vectors."""
        k = min(k, self.vectors.ntotal)
        scores, ids = self.vectors.search(query_vector.reshape(1, -1), k)
        best: dict[int, float] = {}
        for score, row in zip(scores[0], ids[0], strict=True):
            if row >= 0:
                entry = int(self.vector_entries[row])
                best[entry] = max(best.get(entry, -1.0), float(score))
        return best

    def cosine(self, query_vector: np.ndarray, entry_id: int) -> float:
        """Exact cosine of one embedded entry (best twin); 0 for entries not embedded."""
        rows = self._vector_rows.get(entry_id)
        if not rows:
            return 0.0
        return float(max(self.vectors.reconstruct(r) @ query_vector for r in rows))

    # ---- storage --------------------------------------------------------

    def save(self, index_dir: Path) -> Path:
        """Write a complete new version, then point CURRENT at it atomically."""
        index_dir.mkdir(parents=True, exist_ok=True)
        target = index_dir / self.version
        staging = index_dir / f".{self.version}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        with (staging / "entries.jsonl").open("w", encoding="utf-8") as f:
            for entry in self.entries:
                f.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")
        self.lexical.save(staging)
        faiss.write_index(self.vectors, str(staging / "vectors.faiss"))
        np.save(staging / "vector_entries.npy", self.vector_entries)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        pointer = index_dir / "CURRENT.tmp"
        pointer.write_text(self.version)
        pointer.replace(index_dir / "CURRENT")
        return target

    @classmethod
    def load(cls, index_dir: Path) -> SearchIndex:
        pointer = index_dir / "CURRENT"
        if not pointer.is_file():
            raise FileNotFoundError(
                f"No search index in {index_dir}. Build it with `citizenbot index` (make setup does this)."
            )
        return cls.load_version(index_dir, pointer.read_text().strip())

    @classmethod
    def load_version(cls, index_dir: Path, version: str) -> SearchIndex:
        path = index_dir / version
        with (path / "entries.jsonl").open(encoding="utf-8") as f:
            entries = [Entry(**{**json.loads(line), "codes": tuple(json.loads(line)["codes"])}) for line in f]
        return cls(
            entries,
            LexicalIndex.load(path),
            faiss.read_index(str(path / "vectors.faiss")),
            np.load(path / "vector_entries.npy"),
            version,
        )


def prune_old_versions(index_dir: Path, keep: int = 2) -> None:
    current = (index_dir / "CURRENT").read_text().strip()
    versions = sorted(p for p in index_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in versions[:-keep]:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)
