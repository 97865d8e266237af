"""`citizenbot backup` / `citizenbot restore`: SQLite → backup → PostgreSQL → backup gives the same file."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import DOSSIER_FIXTURE, Clock, filled_store

from bot.backup import RestoreError, backup, restore
from bot.cli import main
from bot.dossier_import import read_export
from bot.dossiers import DossierStore
from bot.feedback import FeedbackStore
from bot.procedure import Procedure
from bot.staff.accounts import AccountStore
from bot.staff.history import ProcedureHistory
from bot.store import KnowledgeStore


def fill(url: str, clock: Clock) -> None:
    """Something in every backed-up kind of table."""
    store = filled_store(url)
    store.log_unanswered("thủ tục cấp phép bay flycam", "low_confidence", 0.12, ["1.000001"])
    ProcedureHistory(store).create(Procedure("9.000001", "Thủ tục thử nghiệm sao lưu"), "can_bo_a")
    AccountStore(store.engine).create("can_bo_a", "mật-khẩu-đủ-dài-123", "editor")
    dossiers = DossierStore(url, clock)
    dossiers.upsert(read_export(DOSSIER_FIXTURE).dossiers)
    feedback = FeedbackStore(url, clock)
    feedback.rate("satisfied", "c1", "làm tạm trú cần gì", "answer", "1.004194", "rất rõ ràng")
    feedback.request_callback("0912345678", "Tôi cần hỏi về hồ sơ đất đai", "Nguyễn Văn A")
    feedback.file_complaint("complaint", "Cán bộ hẹn trả hồ sơ nhưng trễ hai tuần", "Trần Thị B", "0987654321")


def lines(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as file:
        return file.read().splitlines()


def test_round_trip_sqlite_to_postgresql_keeps_everything(
    tmp_path: Path, clock: Clock, new_postgres_database: Callable[[], str]
) -> None:
    source = f"sqlite:///{tmp_path / 'source.db'}"
    fill(source, clock)
    first = backup(source, tmp_path / "first.jsonl.gz")
    assert all(first.rows[t] > 0 for t in ("procedures", "faqs", "procedure_versions", "staff_accounts"))
    assert all(first.rows[t] > 0 for t in ("dossiers", "feedback_ratings", "feedback_callbacks", "feedback_complaints"))

    target = new_postgres_database()
    restored = restore(target, tmp_path / "first.jsonl.gz")
    assert restored.rows == first.rows
    backup(target, tmp_path / "second.jsonl.gz")
    first_lines, second_lines = (lines(tmp_path / name) for name in ("first.jsonl.gz", "second.jsonl.gz"))
    assert len(first_lines) > 20
    assert first_lines[1:] == second_lines[1:]  # the header differs only by the schema revision recorded

    # The restored database works: the stores read it, and new rows get fresh ids.
    assert KnowledgeStore(target).procedure("9.000001").name == "Thủ tục thử nghiệm sao lưu"
    assert AccountStore(KnowledgeStore(target).engine).authenticate("can_bo_a", "mật-khẩu-đủ-dài-123")
    codes = [d.code for d in read_export(DOSSIER_FIXTURE).dossiers]
    assert DossierStore(target, clock).existing(codes) == set(codes)
    feedback = FeedbackStore(target, clock)
    assert feedback.rate("neutral").id == first.rows["feedback_ratings"] + 1
    assert feedback.list_complaints()[0].content == "Cán bộ hẹn trả hồ sơ nhưng trễ hai tuần"


def test_restore_refuses_a_database_that_is_not_empty(tmp_path: Path, clock: Clock) -> None:
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    fill(url, clock)
    backup(url, tmp_path / "kb.jsonl.gz")
    with pytest.raises(RestoreError, match="not empty"):
        restore(url, tmp_path / "kb.jsonl.gz")
    not_a_backup = tmp_path / "other.jsonl.gz"
    with gzip.open(not_a_backup, "wt") as out:
        out.write('{"hello": 1}\n')
    with pytest.raises(RestoreError, match="not a citizenbot backup"):
        restore(f"sqlite:///{tmp_path / 'empty.db'}", not_a_backup)


def test_the_cli_backs_up_and_restores(tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    source, target = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    fill(source, clock)
    monkeypatch.setenv("CITIZENBOT_DATABASE_URL", source)
    assert main(["backup", str(tmp_path / "a.jsonl.gz")]) == 0
    monkeypatch.setenv("CITIZENBOT_DATABASE_URL", target)
    assert main(["restore", str(tmp_path / "a.jsonl.gz")]) == 0
    assert main(["restore", str(tmp_path / "a.jsonl.gz")]) == 2  # not empty any more
    assert KnowledgeStore(target).counts() == KnowledgeStore(source).counts()
