"""Retrieval benchmark: index build time, memory and single-question latency.

Measured at the real knowledge-base size and at 10× and 100× (synthetic copies
of every entry and procedure, with slightly perturbed vectors), on one core.

    .venv/bin/python bench/retrieval.py [--scales 1 10 100] [--questions FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import statistics
import time
from pathlib import Path

import faiss
import numpy as np
import torch

from bot.embedder import Embedder
from bot.evaluation import load_questions
from bot.index import Entry, SearchIndex, build_entries, lexical_index, vector_index
from bot.ranking import Ranker
from bot.retriever import Retriever
from bot.settings import REPO_ROOT, Settings
from bot.store import KnowledgeStore


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scaled(index: SearchIndex, procedures: list, factor: int) -> tuple[SearchIndex, list]:
    """factor copies of every entry and procedure; copy k of code C is 'C#k'."""
    if factor == 1:
        return index, procedures
    rng = np.random.default_rng(0)
    entries, copies = [], []
    for k in range(factor):
        suffix = f"#{k}" if k else ""
        entries += [dataclasses.replace(e, codes=tuple(c + suffix for c in e.codes)) for e in index.entries]
        copies += [dataclasses.replace(p, code=p.code + suffix) for p in procedures]
    base = np.stack([index.vectors.reconstruct(i) for i in range(index.vectors.ntotal)])
    vectors = np.concatenate([base + (rng.normal(0, 0.01, base.shape) if k else 0) for k in range(factor)])
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    offsets = np.concatenate([index.vector_entries + k * len(index.entries) for k in range(factor)])
    started = time.perf_counter()
    lexical = lexical_index(entries)
    dense = vector_index(vectors)
    print(
        f"  {factor}×: {len(entries)} entries, {len(vectors)} vectors "
        f"({type(dense).__name__}), built in {time.perf_counter() - started:.1f} s"
    )
    return SearchIndex(entries, lexical, dense, offsets, index.version), copies


def latency(retriever: Retriever, questions: list[str]) -> tuple[float, float]:
    timings = []
    for question in questions:
        started = time.perf_counter()
        retriever.search(question)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(0.95 * (len(timings) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--questions", type=Path, default=REPO_ROOT / "knowledge/eval/citizen_questions.jsonl")
    args = parser.parse_args()
    settings = Settings.from_env()

    store = KnowledgeStore(settings.database_url)
    procedures = store.procedures()
    entries: list[Entry] = build_entries(procedures, store.faqs(held_out=False))
    embedder = Embedder(settings.model_dir)
    print(f"Knowledge base: {len(procedures)} procedures, {len(entries)} entries; model loaded, RSS {rss_mb():.0f} MB")

    started = time.perf_counter()
    index = SearchIndex.build(entries, embedder)
    print(
        f"Index build at real size (embedding every entry, {torch.get_num_threads()} threads): "
        f"{time.perf_counter() - started:.1f} s"
    )
    questions = [q.question for q in load_questions(args.questions)]
    ranker = Ranker.load(settings.ranker_file)
    for factor in args.scales:
        scaled_index, scaled_procedures = scaled(index, procedures, factor)
        retriever = Retriever(scaled_index, scaled_procedures, embedder, ranker)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # the latency target is per question on one core
        faiss.omp_set_num_threads(1)
        retriever.search("đăng ký tạm trú")  # warm-up
        p50, p95 = latency(retriever, questions)
        torch.set_num_threads(threads)
        faiss.omp_set_num_threads(threads)
        print(
            f"{factor:>4}× size: latency p50 {p50:.1f} ms, p95 {p95:.1f} ms over {len(questions)} questions; "
            f"peak RSS {rss_mb():.0f} MB"
        )


if __name__ == "__main__":
    main()
