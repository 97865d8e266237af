"""`citizenbot eval` end to end on the fixture knowledge base."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.cli import main
from bot.confidence import FEATURES, ConfidenceModel
from bot.evaluation import matches
from bot.procedure import Procedure
from bot.store import KnowledgeStore
from bot.text import fold

if TYPE_CHECKING:
    from conftest import FixtureKB

QUESTIONS = [
    {"question": "Đăng ký tạm trú", "procedure_codes": ["1.004194"]},
    {"question": "làm giấy khai sinh cho con", "procedure_codes": ["1.001193"]},
    {"question": "chứng thực bản sao giấy tờ", "procedure_codes": ["2.000815"]},
    # Lists another procedure than the one asked about (hộ chiếu ranks first): R@1 misses it,
    # R@5 and MRR@10 count it at its rank (out of six procedures).
    {"question": "làm hộ chiếu", "procedure_codes": ["1.004194"]},
    {"question": "giá vàng hôm nay", "procedure_codes": []},  # off-topic
    {"question": "bảo hiểm thất nghiệp", "procedure_codes": []},  # administrative, not in the fixture
]
VARIANTS = ["as written", "without diacritics"]


def calibration() -> ConfidenceModel:
    """Confidence = sigmoid(10·log(1 + query weight) − 5).

    Assumption stated by the weights: a question none of whose words is indexed
    (query weight 0, confidence 0.007) is declined; any indexed word (weight ≥ 2,
    confidence > 0.99) is enough to answer. In the fixture, the two out-of-scope
    questions have weight 0 with and without diacritics, the others more than 2.
    """
    n = len(FEATURES)
    weights = [0.0] * n
    weights[FEATURES.index("query_weight")] = 10.0
    return ConfidenceModel(weights, -5.0, [0.0] * n, [1.0] * n, clarify_threshold=0.3, answer_threshold=0.7)


def point_env_at(mp: pytest.MonkeyPatch, root: Path, kb: FixtureKB, model_dir: Path) -> Path:
    """CITIZENBOT_* → a copy of the fixture store, its index, a calibration in tmp; returns the database."""
    root.mkdir(parents=True, exist_ok=True)
    database = root / "kb.db"
    shutil.copyfile(kb.database_path, database)
    calibration().save(root / "calibration.json")
    mp.setenv("CITIZENBOT_VAR_DIR", str(root / "var"))
    mp.setenv("CITIZENBOT_DATABASE_URL", f"sqlite:///{database}")
    mp.setenv("CITIZENBOT_INDEX_DIR", str(kb.settings.index_dir))
    mp.setenv("CITIZENBOT_CALIBRATION", str(root / "calibration.json"))
    mp.setenv("CITIZENBOT_MODEL_DIR", str(model_dir))
    return database


@dataclass(frozen=True)
class EvalRun:
    code: int
    out: str
    err: str
    details: list[dict]
    questions_file: Path
    database: Path


@pytest.fixture(scope="module")
def eval_run(tmp_path_factory: pytest.TempPathFactory, kb: FixtureKB, model_dir: Path) -> EvalRun:
    root = tmp_path_factory.mktemp("eval")
    questions = root / "questions.jsonl"
    lines = [json.dumps(q, ensure_ascii=False) for q in QUESTIONS]
    questions.write_text("\n".join([*lines[:2], "", *lines[2:]]) + "\n", encoding="utf-8")  # a blank line too
    details = root / "details.jsonl"
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        database = point_env_at(mp, root, kb, model_dir)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["eval", "--questions", str(questions), "--details", str(details)])
    rows = [json.loads(line) for line in details.read_text(encoding="utf-8").splitlines()] if details.exists() else []
    return EvalRun(code, out.getvalue(), err.getvalue(), rows, questions, database)


def printed_scores(out: str) -> dict[str, list[float]]:
    scores = {}
    for line in out.splitlines():
        for variant in VARIANTS:
            if line.startswith(variant):
                scores[variant] = [float(x) for x in re.findall(r"\d+\.\d+", line)]
    return scores


def test_eval_prints_the_scores_of_both_variants(eval_run: EvalRun) -> None:
    assert eval_run.code == 0, eval_run.err
    header = next(line for line in eval_run.out.splitlines() if "R@1" in line)
    for column in ("R@1", "R@5", "MRR@10", "abst.P", "abst.R"):
        assert column in header
    scores = printed_scores(eval_run.out)
    assert sorted(scores) == VARIANTS
    for variant, (r1, r5, mrr, abstention_precision, abstention_recall) in scores.items():
        # Three of the four in-scope questions rank their procedure first, the fourth lower;
        # exactly the two out-of-scope questions are declined.
        assert r1 == 0.75
        assert r5 == 1.0  # six procedures in all: at worst rank 6, and hộ chiếu takes one place
        assert 0.75 + 0.25 / 6 <= mrr < 1.0
        assert (abstention_precision, abstention_recall) == (1.0, 1.0)
        line = next(line for line in eval_run.out.splitlines() if line.startswith(variant))
        assert line.rstrip().endswith("(6, 4)")


def test_eval_writes_one_detail_line_per_question_and_variant(eval_run: EvalRun) -> None:
    rows = eval_run.details
    assert [(r["variant"], r["question"]) for r in rows] == [
        (variant, q["question"] if variant == "as written" else fold(q["question"]))
        for variant in VARIANTS
        for q in QUESTIONS
    ]
    for row, q in zip(rows, QUESTIONS * 2, strict=True):
        assert row["expected"] == q["procedure_codes"]
        ranked = [r["code"] for r in row["ranked"]]
        if q["question"] == "làm hộ chiếu":
            assert ranked[0] == "1.001456"
            assert row["rank"] == ranked.index("1.004194") + 1 > 1
        elif q["procedure_codes"]:
            assert row["rank"] == 1
            assert ranked[0] == q["procedure_codes"][0]
        if q["procedure_codes"]:
            assert row["reply"] == "answer"
        else:
            assert row["rank"] is None
            assert row["reply"] in {"abstain", "out_of_scope"}
        assert 0.0 <= row["confidence"] <= 1.0
        assert 1 <= len(row["ranked"]) <= 10


def test_printed_scores_agree_with_the_details(eval_run: EvalRun) -> None:
    scores = printed_scores(eval_run.out)
    for variant in VARIANTS:
        rows = [r for r in eval_run.details if r["variant"] == variant]
        ranks = [r["rank"] for r in rows if r["expected"]]
        assert any(rank and rank > 1 for rank in ranks)  # so MRR is more than a count of firsts
        declined = [r for r in rows if r["reply"] in {"abstain", "out_of_scope", "invalid"}]
        oos = [r for r in rows if not r["expected"]]
        expected = [
            sum(r == 1 for r in ranks) / len(ranks),
            sum(r is not None and r <= 5 for r in ranks) / len(ranks),
            sum(1 / r for r in ranks if r) / len(ranks),
            sum(not r["expected"] for r in declined) / len(declined),
            sum(not r["expected"] for r in declined) / len(oos),
        ]
        assert scores[variant] == pytest.approx(expected, abs=5e-4)


def test_eval_does_not_log_its_questions_as_unanswered(eval_run: EvalRun) -> None:
    assert eval_run.code == 0
    assert KnowledgeStore(f"sqlite:///{eval_run.database}").unanswered() == []


@pytest.mark.parametrize(
    "bad_line",
    [
        '{"question": "thiếu mã thủ tục"}',
        "đây không phải JSON",
        '{"question": 5, "procedure_codes": []}',
        '{"question": "mã không phải danh sách", "procedure_codes": "1.004194"}',
        '["question", "procedure_codes"]',
    ],
)
def test_malformed_question_file_exits_2_naming_the_line(
    bad_line: str,
    tmp_path: Path,
    kb: FixtureKB,
    model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    point_env_at(monkeypatch, tmp_path, kb, model_dir)
    questions = tmp_path / "questions.jsonl"
    good = json.dumps(QUESTIONS[0], ensure_ascii=False)
    questions.write_text(f"{good}\n{bad_line}\n{good}\n", encoding="utf-8")
    details = tmp_path / "details.jsonl"
    assert main(["eval", "--questions", str(questions), "--details", str(details)]) == 2
    captured = capsys.readouterr()
    assert f"{questions}:2:" in captured.err
    assert '"procedure_codes"' in captured.err  # says what a line should be
    assert "R@1" not in captured.out
    assert not details.exists()


@pytest.mark.parametrize(("content", "message"), [(None, "No such file"), ("\n\n", "no questions")])
def test_missing_or_empty_question_file_exits_2(
    content: str | None,
    message: str,
    tmp_path: Path,
    kb: FixtureKB,
    model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    point_env_at(monkeypatch, tmp_path, kb, model_dir)
    questions = tmp_path / "questions.jsonl"
    if content is not None:
        questions.write_text(content, encoding="utf-8")
    assert main(["eval", "--questions", str(questions)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(questions) in err


def test_a_re_issued_procedure_matches_the_codes_it_had() -> None:
    reissued = Procedure("3.000333", "Cấp Phiếu lý lịch tư pháp", former_codes=["2.000488"])
    assert matches(reissued, ["3.000333"]) and matches(reissued, ["2.000488"])
    assert matches(Procedure("1.004194.000.00.00.H48", "Đăng ký tạm trú"), ["1.004194"])
    assert not matches(reissued, ["2.000448"])
