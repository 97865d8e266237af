"""Publishing without a restart, and the unanswered-question queue, over the real model."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from staff_support import Console, build_console, staff_settings
from test_staff_api import TAM_TRU, fetch, with_fee

from bot.assistant import Assistant
from bot.confidence import ConfidenceModel
from bot.index import SearchIndex
from bot.staff import publishing
from bot.staff.history import ProcedureHistory
from bot.staff.review import STAFF_FAQ_IDS, ReviewQueue
from bot.store import LOW_CONFIDENCE, NOT_IN_CATALOGUE, KnowledgeStore

KET_HON = "1.000894"


@pytest.fixture
def console(
    kb, store: KnowledgeStore, make_assistant: Callable[[ConfidenceModel], Assistant], tmp_path
) -> Iterator[Console]:
    # The real fitted confidence model and ranker: what citizens would get.
    assistant = make_assistant(ConfidenceModel.load(kb.settings.__class__.from_env().calibration_file))
    settings = staff_settings(kb.settings, store, tmp_path)
    kb.built.save(settings.index_dir)  # the index in service before any publishing
    yield build_console(settings, store, assistant)


def current_version(console: Console) -> str:
    return (console.services.publisher.index_dir / "CURRENT").read_text()


def ask(console: Console, question: str) -> dict:
    response = console.client("anonymous").post("/api/ask", json={"question": question})
    assert response.status_code == 200, response.text
    return response.json()


def edit_fee(console: Console, amount: int) -> None:
    editor = console.client("editor")
    record, tag = fetch(editor)
    response = editor.put(f"/api/staff/procedures/{TAM_TRU}", json=with_fee(record, amount), headers={"If-Match": tag})
    assert response.status_code == 200, response.text


class HeldBuild:
    """Replaces the index build: the first build, once done, waits for `release`; counts the builds."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.built, self.release, self.rounds = threading.Event(), threading.Event(), 0
        self.real = SearchIndex.build
        monkeypatch.setattr(publishing.SearchIndex, "build", self)

    def __call__(self, *args, **kwargs) -> SearchIndex:
        self.rounds += 1
        index = self.real(*args, **kwargs)
        if self.rounds == 1:
            self.built.set()
            assert self.release.wait(60)
        return index


def test_publish_switches_the_running_assistant_while_questions_keep_being_answered(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit_fee(console, 20000)
    question = "lệ phí đăng ký tạm trú bao nhiêu tiền"
    assert "15.000 đồng" in ask(console, question)["text"]  # edited, not yet published

    held = HeldBuild(monkeypatch)  # until the test has asked during the rebuild
    before = current_version(console)
    assert console.client("reviewer").post("/api/staff/publish").status_code == 202
    assert console.client("admin").post("/api/staff/publish").status_code == 409  # one rebuild at a time
    assert held.built.wait(60)
    during = [ask(console, question) for _ in range(5)]
    assert console.client("editor").get("/api/staff/publish").json()["state"] == "running"
    held.release.set()
    status = console.services.publisher.wait(60)

    assert all(r["kind"] == "answer" and "15.000 đồng" in r["text"] for r in during)
    assert status.state == "succeeded", status.error
    assert current_version(console) != before == console.services.publisher.index_dir.joinpath(before).name
    after = ask(console, question)
    assert after["kind"] == "answer" and "20.000 đồng" in after["text"]


def test_an_edit_saved_while_a_publish_reads_the_store_is_published_too(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = HeldBuild(monkeypatch)  # the rebuild has read the store; the edit lands before it finishes
    assert console.client("reviewer").post("/api/staff/publish").status_code == 202
    assert held.built.wait(60)
    edit_fee(console, 30000)
    held.release.set()
    status = console.services.publisher.wait(120)

    assert status.state == "succeeded", status.error
    assert held.rounds == 2  # the publish started over to take the edit
    answer = ask(console, "lệ phí đăng ký tạm trú bao nhiêu tiền")
    assert answer["kind"] == "answer" and "30.000 đồng" in answer["text"]


def test_an_faq_entry_saved_while_a_publish_reads_the_store_is_published_too(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = "hồ sơ cưới vợ"
    assert ask(console, question)["kind"] == "abstain"
    held = HeldBuild(monkeypatch)  # the rebuild has read the store; the entry lands before it finishes
    assert console.client("reviewer").post("/api/staff/publish").status_code == 202
    assert held.built.wait(60)
    editor = console.client("editor")
    group = editor.get("/api/staff/review/unanswered").json()["groups"][0]
    body = {
        "question_ids": group["ids"], "question": group["question"], "procedure_code": KET_HON,
        "answer": "Khi đăng ký kết hôn, hai bên nộp tờ khai đăng ký kết hôn và xuất trình giấy tờ tùy thân.",
    }
    assert editor.post("/api/staff/review/unanswered/faq", json=body).status_code in (200, 201)
    held.release.set()
    status = console.services.publisher.wait(120)

    assert status.state == "succeeded", status.error
    assert held.rounds == 2  # the publish started over to take the entry
    answer = ask(console, question)
    assert answer["kind"] == "answer" and answer["procedure_code"] == KET_HON, answer


def test_faq_entries_saved_at_the_same_moment_by_different_workers_all_keep_their_own_id(
    database_url: str, new_store: Callable[[str], KnowledgeStore]
) -> None:
    store, saves = new_store(database_url), 8
    for i in range(saves):
        store.log_unanswered(f"câu hỏi thứ {i + 1} về kết hôn", "low_confidence", 0.1, [])
    questions = store.unanswered(saves)
    # One queue per worker, each with its own connections, all saving at once.
    queues = [ReviewQueue(s, ProcedureHistory(s), None) for s in (KnowledgeStore(database_url) for _ in questions)]
    start = threading.Barrier(saves)

    def save(queue: ReviewQueue, question_id: int) -> int:
        start.wait()
        return queue.to_faq([question_id], f"Câu hỏi {question_id}", f"Trả lời {question_id}", KET_HON, "editor1")

    with ThreadPoolExecutor(saves) as pool:
        ids = list(pool.map(save, queues, [q.id for q in questions]))

    assert len(set(ids)) == saves and min(ids) == STAFF_FAQ_IDS + 1
    saved = {f.faq_id: f for f in store.faqs() if f.faq_id > STAFF_FAQ_IDS}
    assert sorted(saved) == sorted(ids)  # none overwritten
    assert all(saved[i].question.replace("Câu hỏi", "Trả lời") == saved[i].answer for i in ids)
    for queue in queues:
        queue.store.engine.dispose()


def test_one_rebuild_at_a_time_across_workers_and_every_worker_reports_it(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = HeldBuild(monkeypatch)
    mine = console.services.publisher
    # Another worker: its own Publisher on the same index folder and store.
    other = publishing.Publisher(mine.store, mine.index_dir, mine.assistant)
    assert console.client("reviewer").post("/api/staff/publish").status_code == 202
    assert held.built.wait(60)
    with pytest.raises(publishing.PublishBusy):
        other.publish("admin")
    assert other.status.state == "running" and other.status.requested_by.startswith("reviewer")
    held.release.set()
    assert mine.wait(120).state == "succeeded"
    assert other.status.state == "succeeded" and other.status.version == mine.status.version
    assert other.publish("admin").state == "running"  # the lock is free again
    assert other.wait(120).state == "succeeded"


def test_a_failed_rebuild_leaves_the_old_index_serving(console: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    edit_fee(console, 20000)
    old_retriever = console.assistant.retriever
    before = current_version(console)

    def broken_build(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(publishing.SearchIndex, "build", broken_build)
    assert console.client("reviewer").post("/api/staff/publish").status_code == 202
    console.services.publisher.wait(60)
    status = console.client("editor").get("/api/staff/publish").json()
    assert status["state"] == "failed" and "No space left on device" in status["error"]
    assert "chỉ mục cũ vẫn đang phục vụ" in status["state_name"]
    assert console.assistant.retriever is old_retriever
    assert current_version(console) == before
    assert "15.000 đồng" in ask(console, "lệ phí đăng ký tạm trú bao nhiêu tiền")["text"]

    monkeypatch.undo()  # the next publish works again
    assert console.client("reviewer").post("/api/staff/publish").status_code == 202
    assert console.services.publisher.wait(60).state == "succeeded"


def test_unanswered_questions_are_grouped_by_similarity(console: Console) -> None:
    store = console.services.store
    for question in (
        "làm sao để xin trợ cấp thất nghiệp",
        "Làm sao để xin trợ cấp thất nghiệp?",
        "lam sao de xin tro cap that nghiep",
        "làm sao để xin trợ cấp thất nghiệp vậy",
        "đổi giấy phép lái xe ở đâu",
        "Đổi giấy phép lái xe ở đâu?",
        "mất giấy đăng ký xe máy thì làm lại thế nào",
        "làm sao để xin trợ cấp xã hội",
    ):
        store.log_unanswered(question, "low_confidence", 0.1, [])
    body = console.client("editor").get("/api/staff/review/unanswered").json()
    groups = body["groups"]
    assert body["questions"] == 8
    assert [g["count"] for g in groups] == [4, 2, 1, 1]
    assert groups[0]["key"] == "lam sao de xin tro cap that nghiep"
    assert "làm sao để xin trợ cấp thất nghiệp vậy" in groups[0]["wordings"]
    assert {g["question"] for g in groups[2:]} == {
        "làm sao để xin trợ cấp xã hội",
        "mất giấy đăng ký xe máy thì làm lại thế nào",
    }
    assert groups[1]["question"] in {"đổi giấy phép lái xe ở đâu", "Đổi giấy phép lái xe ở đâu?"}


@pytest.mark.parametrize("resolution", ["alias", "faq"])
def test_an_unanswered_question_is_answered_after_staff_resolve_it_and_publish(
    console: Console, resolution: str
) -> None:
    question = "hồ sơ cưới vợ"
    first = ask(console, question)
    assert first["kind"] == "abstain"
    ask(console, "Hồ sơ cưới vợ?")
    group = console.client("editor").get("/api/staff/review/unanswered").json()["groups"][0]
    assert group["count"] == 2

    editor = console.client("editor")
    if resolution == "alias":
        body = {"question_ids": group["ids"], "alias": group["question"], "procedure_code": KET_HON}
    else:
        body = {
            "question_ids": group["ids"],
            "question": group["question"],
            "answer": "Khi đăng ký kết hôn, hai bên nộp tờ khai đăng ký kết hôn và xuất trình giấy tờ tùy thân.",
            "procedure_code": KET_HON,
        }
    response = editor.post(f"/api/staff/review/unanswered/{resolution}", json=body)
    assert response.status_code in (200, 201), response.text
    assert editor.get("/api/staff/review/unanswered").json()["groups"] == []  # resolved: out of the queue
    again = editor.post(f"/api/staff/review/unanswered/{resolution}", json=body)
    assert again.status_code == 422  # already resolved

    assert ask(console, question)["kind"] == "abstain"  # not published yet
    assert console.client("reviewer").post("/api/staff/publish").status_code == 202
    assert console.services.publisher.wait(120).state == "succeeded"
    answer = ask(console, question)
    assert answer["kind"] == "answer" and answer["procedure_code"] == KET_HON, answer


def test_questions_about_a_missing_procedure_are_marked_for_staff(console: Console) -> None:
    """Answered with general guidance (bot.guidance), such a question still shows in the queue, marked."""
    store = console.services.store
    store.log_unanswered("làm căn cước cho bé 3 tuổi", NOT_IN_CATALOGUE, 1.0, [])
    store.log_unanswered("hồ sơ cưới vợ", LOW_CONFIDENCE, 0.1, [])
    groups = console.client("editor").get("/api/staff/review/unanswered").json()["groups"]
    marked = {g["question"]: g["missing_procedure"] for g in groups}
    assert marked == {"làm căn cước cho bé 3 tuổi": True, "hồ sơ cưới vợ": False}


def test_review_resolutions_refuse_bad_input(console: Console) -> None:
    console.services.store.log_unanswered("hồ sơ cưới vợ", "low_confidence", 0.1, [])
    editor = console.client("editor")
    ids = editor.get("/api/staff/review/unanswered").json()["groups"][0]["ids"]
    cases = [
        ("alias", {"question_ids": ids, "alias": "x", "procedure_code": "9.9"}),  # no such procedure
        ("alias", {"question_ids": [999999], "alias": "x", "procedure_code": KET_HON}),  # no such question
        ("alias", {"question_ids": [], "alias": "x", "procedure_code": KET_HON}),
        ("faq", {"question_ids": ids, "question": " ", "answer": "a", "procedure_code": KET_HON}),
        ("faq", {"question_ids": ids, "question": "q", "answer": "a" * 5000, "procedure_code": KET_HON}),
    ]
    for kind, body in cases:
        assert editor.post(f"/api/staff/review/unanswered/{kind}", json=body).status_code == 422, body
    assert console.client("editor").get("/api/staff/review/unanswered").json()["questions"] == 1
