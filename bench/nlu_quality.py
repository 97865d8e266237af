"""Intent and entity F1 of the Rasa model on the held-out NLU split.

Runs ``rasa test nlu`` (in .venv-rasa) on nlu_data/tests/nlu_heldout.yml, whose
examples are never trained on, and prints from its per-example results:

- intent F1 (support-weighted, as Rasa's report), and
- entity F1 over exact spans (type, start and end must all match: stricter than
  Rasa's token-level report, which is printed too),

for all examples and separately for those written with and without diacritics.
``--json`` prints the figures as one JSON object instead (the tests read it).

    make nlu-quality      or      .venv/bin/python bench/nlu_quality.py [--model …] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
MODEL = ROOT / "var" / "rasa" / "models" / "citizenbot.tar.gz"
HELDOUT = ROOT / "nlu_data" / "tests" / "nlu_heldout.yml"
OUT = ROOT / "var" / "rasa" / "results" / "nlu"
EXTRACTOR = "RegexEntityExtractor"


def rasa_env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "RASA_MAX_CACHE_SIZE": "0",
        "RASA_CACHE_DIRECTORY": str(ROOT / "var" / "rasa" / "cache"),
    }


def has_diacritics(text: str) -> bool:
    return "đ" in text.lower() or any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", text))


def intent_f1(rows: list[dict]) -> float:
    """Support-weighted F1 over the gold intents (what Rasa's report calls 'weighted avg')."""
    gold = Counter(r["intent"] for r in rows)
    predicted = Counter(r["intent_prediction"]["name"] for r in rows)
    right = Counter(r["intent"] for r in rows if r["intent"] == r["intent_prediction"]["name"])
    total = 0.0
    for intent, support in gold.items():
        precision = right[intent] / predicted[intent] if predicted[intent] else 0.0
        recall = right[intent] / support
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        total += f1 * support
    return total / len(rows) if rows else 0.0


def entity_f1(rows: list[dict]) -> tuple[float, int]:
    """Exact-span F1 over every entity, and the number of gold entities."""
    gold = predicted = right = 0
    for r in rows:
        g = {(e["entity"], e["start"], e["end"]) for e in r["entities"]}
        p = {(e["entity"], e["start"], e["end"]) for e in r["predicted_entities"]}
        gold, predicted, right = gold + len(g), predicted + len(p), right + len(g & p)
    precision = right / predicted if predicted else 0.0
    recall = right / gold if gold else 0.0
    return (2 * precision * recall / (precision + recall) if precision + recall else 0.0), gold


def run_rasa_test(model: Path, heldout: Path, out: Path) -> None:
    command = [str(RASA), "test", "nlu", "--model", str(model), "--nlu", str(heldout), "--out", str(out)]
    result = subprocess.run(
        [*command, "--successes", "--no-plot"], cwd=ROOT, env=rasa_env(), capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"`rasa test nlu` failed ({result.returncode}):\n{result.stderr[-4000:]}")


def figures(out: Path) -> dict:
    def load(name: str) -> list[dict]:
        path = out / name
        return json.loads(path.read_text("utf-8")) if path.exists() else []

    intents = load("intent_successes.json") + load("intent_errors.json")
    entities = load(f"{EXTRACTOR}_successes.json") + load(f"{EXTRACTOR}_errors.json")
    report = json.loads((out / f"{EXTRACTOR}_report.json").read_text("utf-8"))
    result: dict = {"rasa_entity_token_f1": report["micro avg"]["f1-score"]}
    for name, keep in (
        ("all", lambda _: True),
        ("with_diacritics", has_diacritics),
        ("without_diacritics", lambda t: not has_diacritics(t)),
    ):
        i_rows = [r for r in intents if keep(r["text"])]
        e_rows = [r for r in entities if keep(r["text"])]
        f1, n_entities = entity_f1(e_rows)
        result[name] = {
            "examples": len(i_rows),
            "intent_f1": intent_f1(i_rows),
            "entities": n_entities,
            "entity_f1": f1,
        }
    result["intent_errors"] = [
        f"{r['intent']} → {r['intent_prediction']['name']}: {r['text']}" for r in load("intent_errors.json")
    ]
    result["entity_errors"] = [r["text"] for r in load(f"{EXTRACTOR}_errors.json")]
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, default=MODEL)
    p.add_argument("--heldout", type=Path, default=HELDOUT)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if not args.model.is_file():
        sys.exit(f"No Rasa model at {args.model}: train it with `make rasa-model`.")
    run_rasa_test(args.model, args.heldout, args.out)
    result = figures(args.out)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"Held-out NLU split {args.heldout.relative_to(ROOT)} (model {args.model.name}):")
    print(f"{'':20} {'examples':>8} {'intent F1':>10} {'entities':>9} {'entity F1':>10}")
    for name in ("all", "with_diacritics", "without_diacritics"):
        r = result[name]
        print(f"{name:20} {r['examples']:8d} {r['intent_f1']:10.3f} {r['entities']:9d} {r['entity_f1']:10.3f}")
    print(f"(entity F1 over exact spans; Rasa's token-level entity F1: {result['rasa_entity_token_f1']:.3f})")
    for line in result["intent_errors"]:
        print(f"  intent error: {line}")
    for line in result["entity_errors"]:
        print(f"  entity error: {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
