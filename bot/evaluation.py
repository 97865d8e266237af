"""Retrieval and abstention quality on a question file.

A question file has one JSON object per line: ``{"question": "...",
"procedure_codes": ["1.004194", ...]}``; an empty list marks an out-of-scope
question. A retrieved procedure matches when its code (or a code it had before being
re-issued) starts with a listed code.
Every question is also asked with its diacritics stripped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from bot.assistant import Assistant
from bot.procedure import Procedure
from bot.text import fold


@dataclass(frozen=True)
class Question:
    question: str
    codes: tuple[str, ...]

    @property
    def in_scope(self) -> bool:
        return bool(self.codes)


class QuestionFileError(ValueError):
    pass


def load_questions(path: Path) -> list[Question]:
    questions = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text, codes = row["question"], row["procedure_codes"]
                if not isinstance(text, str) or not isinstance(codes, list):
                    raise TypeError
            except (ValueError, KeyError, TypeError) as error:
                raise QuestionFileError(
                    f'{path}:{number}: expected {{"question": str, "procedure_codes": [str, ...]}}'
                ) from error
            questions.append(Question(text, tuple(str(c) for c in codes)))
    if not questions:
        raise QuestionFileError(f"{path}: no questions")
    return questions


def matches(procedure: Procedure, expected: Iterable[str]) -> bool:
    """The procedure's code, or a code it had before being re-issued, starts with an expected one."""
    return any(code.startswith(e) for code in (procedure.code, *procedure.former_codes) for e in expected)


@dataclass
class Scores:
    questions: int
    in_scope: int
    recall_at_1: float
    recall_at_5: float
    mrr_at_10: float
    abstention_precision: float
    abstention_recall: float


def evaluate(
    assistant: Assistant, questions: Sequence[Question], details: Path | None = None, progress: bool = True
) -> dict[str, Scores]:
    variants = {"as written": lambda q: q, "without diacritics": fold}
    report = {}
    rows = []
    for variant, transform in variants.items():
        hits1 = hits5 = 0
        reciprocal = 0.0
        abstained_oos = abstained = 0
        for q in tqdm(questions, desc=f"eval ({variant})", disable=not progress):
            text = transform(q.question)
            result = assistant.search(text)
            reply = assistant.reply(result, log_unanswered=False)
            ranked = [c.procedure for c in result.candidates[:10]]
            rank = next((i for i, p in enumerate(ranked, 1) if matches(p, q.codes)), None)
            if q.in_scope and rank:
                hits1 += rank == 1
                hits5 += rank <= 5
                reciprocal += 1 / rank
            if reply.abstained:
                abstained += 1
                abstained_oos += not q.in_scope
            rows.append(
                {
                    "variant": variant,
                    "question": text,
                    "expected": list(q.codes),
                    "rank": rank,
                    "reply": reply.kind,
                    "confidence": round(reply.confidence, 4),
                    "ranked": [
                        {"code": c.procedure.code, "name": c.procedure.name, "score": round(c.score, 5)}
                        for c in result.candidates[:10]
                    ],
                }
            )
        in_scope = sum(q.in_scope for q in questions)
        out_of_scope = len(questions) - in_scope
        report[variant] = Scores(
            questions=len(questions),
            in_scope=in_scope,
            recall_at_1=hits1 / in_scope if in_scope else 0.0,
            recall_at_5=hits5 / in_scope if in_scope else 0.0,
            mrr_at_10=reciprocal / in_scope if in_scope else 0.0,
            abstention_precision=abstained_oos / abstained if abstained else 0.0,
            abstention_recall=abstained_oos / out_of_scope if out_of_scope else 0.0,
        )
    if details:
        with details.open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return report


def format_report(report: dict[str, Scores]) -> str:
    lines = [f"{'':20} {'R@1':>6} {'R@5':>6} {'MRR@10':>7} {'abst.P':>7} {'abst.R':>7}  (questions, in scope)"]
    for variant, s in report.items():
        lines.append(
            f"{variant:20} {s.recall_at_1:6.3f} {s.recall_at_5:6.3f} {s.mrr_at_10:7.3f} "
            f"{s.abstention_precision:7.3f} {s.abstention_recall:7.3f}  ({s.questions}, {s.in_scope})"
        )
    return "\n".join(lines)
