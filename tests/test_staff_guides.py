"""Guides kept in the database: seeding from the shipped file, staff edits with ETags, publishing."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from staff_support import Console, build_console, staff_settings

from bot.assistant import Assistant
from bot.confidence import ConfidenceModel
from bot.guidance import GuideBook
from bot.guide_store import SHIPPED, GuideStore
from bot.settings import Settings
from bot.staff.history import Conflict
from bot.store import KnowledgeStore

SHIPPED_GUIDES = GuideBook.load(Settings.from_env().guidance_file).guides
CHILD_CARD = "identity_card_for_children"
CHILD_CARD_QUESTION = "làm căn cước cho con 5 tuổi"


@pytest.fixture
def guides(store: KnowledgeStore) -> GuideStore:
    guide_store = GuideStore(store.engine)
    guide_store.seed(SHIPPED_GUIDES)
    return guide_store


@pytest.fixture
def console(
    kb, store: KnowledgeStore, guides: GuideStore, make_assistant: Callable[[ConfidenceModel], Assistant], tmp_path
) -> Iterator[Console]:
    assistant = make_assistant(ConfidenceModel.load(Settings.from_env().calibration_file))
    assistant.guides = guides.book()
    settings = staff_settings(kb.settings, store, tmp_path)
    kb.built.save(settings.index_dir)
    yield build_console(settings, store, assistant)


def fetch_guide(console: Console, guide_id: str = CHILD_CARD) -> tuple[dict, str]:
    response = console.client("editor").get(f"/api/staff/guides/{guide_id}")
    assert response.status_code == 200, response.text
    return response.json()["guide"], response.headers["ETag"]


def editable(guide: dict) -> dict:
    return {key: value for key, value in guide.items() if key != "id"}


def ask(console: Console, question: str) -> dict:
    response = console.client("anonymous").post("/api/ask", json={"question": question})
    assert response.status_code == 200, response.text
    return response.json()


def publish(console: Console) -> None:
    assert console.client("reviewer").post("/api/staff/publish").status_code == 202
    status = console.services.publisher.wait(120)
    assert status.state == "succeeded", status.error


# ---- the store -----------------------------------------------------------------------------------------


def test_seeding_adds_the_shipped_guides_once_in_their_order(store: KnowledgeStore) -> None:
    guide_store = GuideStore(store.engine)
    assert guide_store.seed(SHIPPED_GUIDES).added == len(SHIPPED_GUIDES)
    again = guide_store.seed(SHIPPED_GUIDES)
    assert (again.added, again.refreshed, again.kept) == (0, 0, 0)
    assert guide_store.guides() == SHIPPED_GUIDES
    assert [v.username for v in guide_store.versions(CHILD_CARD)] == [SHIPPED]


def test_a_new_release_refreshes_unedited_guides_and_keeps_staff_edits(guides: GuideStore) -> None:
    edited, untouched = SHIPPED_GUIDES[0], SHIPPED_GUIDES[1]
    guides.change(replace(edited, answer="Bản của cán bộ."), guides.current(edited.id)[1], "editor1")
    release = [replace(g, answer=g.answer + " (bản mới)") for g in SHIPPED_GUIDES]

    report = guides.seed(release)

    assert (report.added, report.refreshed, report.kept) == (0, len(SHIPPED_GUIDES) - 1, 1)
    assert guides.current(edited.id)[0].answer == "Bản của cán bộ."
    assert guides.current(untouched.id)[0].answer.endswith("(bản mới)")
    assert guides.edited_by() == {**{g.id: "" for g in SHIPPED_GUIDES}, edited.id: "editor1"}


def test_a_change_made_from_an_old_version_is_refused(guides: GuideStore) -> None:
    guide, tag = guides.current(CHILD_CARD)
    guides.change(replace(guide, title="Thẻ căn cước cho trẻ em"), tag, "editor1")
    with pytest.raises(Conflict):
        guides.change(replace(guide, title="Một sửa khác"), tag, "editor2")
    assert guides.current(CHILD_CARD)[0].title == "Thẻ căn cước cho trẻ em"
    assert [v.version for v in guides.versions(CHILD_CARD)] == [2, 1]


# ---- the API and publishing ------------------------------------------------------------------------------


def test_an_edited_guide_reaches_citizens_when_published(console: Console) -> None:
    guide, tag = fetch_guide(console)
    changed = {**editable(guide), "answer": "Trẻ dưới 14 tuổi làm căn cước tại Công an xã (bản đã rà soát)."}
    changed["needs_review"] = False
    response = console.client("editor").put(f"/api/staff/guides/{CHILD_CARD}", json=changed, headers={"If-Match": tag})
    assert response.status_code == 200, response.text
    assert response.json()["edited_by"] == "editor1" and response.headers["ETag"] != tag
    assert "bản đã rà soát" not in ask(console, CHILD_CARD_QUESTION)["text"]  # not before publishing

    publish(console)

    answer = ask(console, CHILD_CARD_QUESTION)
    assert answer["kind"] == "guide" and "bản đã rà soát" in answer["text"]
    assert "chờ cán bộ rà soát" not in answer["text"]


def test_a_guide_switched_off_no_longer_answers(console: Console) -> None:
    assert ask(console, CHILD_CARD_QUESTION)["kind"] == "guide"
    guide, tag = fetch_guide(console)
    response = console.client("editor").put(
        f"/api/staff/guides/{CHILD_CARD}", json={**editable(guide), "retired": True}, headers={"If-Match": tag}
    )
    assert response.status_code == 200, response.text
    publish(console)
    assert ask(console, CHILD_CARD_QUESTION)["kind"] != "guide"


def test_staff_add_a_guide_for_a_case_the_catalogue_lacks(console: Console) -> None:
    new = {
        "id": "pharmacy_opening",
        "title": "Mở nhà thuốc",
        "phrases": ["mở nhà thuốc", "mở hiệu thuốc"],
        "answer": "Cơ sở dữ liệu của trợ lý chưa có thủ tục này: hỏi Sở Y tế về chứng chỉ hành nghề dược.",
        "sources": ["Luật Dược số 105/2016/QH13"],
        "last_reviewed": "2026-12-05",
        "not_in_catalogue": True,
    }
    response = console.client("editor").post("/api/staff/guides", json=new)
    assert response.status_code == 201, response.text
    assert console.client("editor").post("/api/staff/guides", json=new).status_code == 409
    publish(console)
    answer = ask(console, "mo nha thuoc can gi")
    assert answer["kind"] == "guide" and "Sở Y tế" in answer["text"]


def test_guide_changes_refuse_bad_input_and_keep_what_is_stored(console: Console) -> None:
    editor = console.client("editor")
    guide, tag = fetch_guide(console)
    url = f"/api/staff/guides/{CHILD_CARD}"
    bad = [
        {**editable(guide), "phrases": []},
        {**editable(guide), "phrases": ["?!"]},  # no word: it would match every question
        {**editable(guide), "answer": ""},
        {**editable(guide), "last_reviewed": "hôm qua"},
        {**editable(guide), "last_reviewed": "2026-02-30"},
        {**editable(guide), "retired": "có"},
    ]
    for body in bad:
        assert editor.put(url, json=body, headers={"If-Match": tag}).status_code == 422, body
    assert editor.put(url, json=editable(guide)).status_code == 428
    assert editor.put(url, json=editable(guide), headers={"If-Match": '"stale"'}).status_code == 409
    assert editor.put("/api/staff/guides/khong_co", json=editable(guide), headers={"If-Match": tag}).status_code == 404
    assert editor.get("/api/staff/guides/..%2Fetc").status_code in {404, 422}
    assert console.client("anonymous").put(url, json=editable(guide), headers={"If-Match": tag}).status_code == 401
    assert fetch_guide(console) == (guide, tag)


# ---- the console pages ---------------------------------------------------------------------------------


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, name
    return html.unescape(match.group(1))


def form_of(page: str) -> dict[str, str]:
    fields = {
        name: html.unescape(value) for name, value in re.findall(r'<textarea id="\w+" name="(\w+)"[^>]*>([^<]*)', page)
    }
    for name in ("csrf", "etag", "id", "title", "last_reviewed"):
        if f'name="{name}" value=' in page:
            fields[name] = hidden(page, name)
    fields.update({name: "on" for name in re.findall(r'name="(\w+)" value="on" checked', page)})
    return fields


def test_the_console_edits_a_guide_and_reports_a_concurrent_change(console: Console) -> None:
    editor = console.client("editor")
    assert "Làm thẻ căn cước cho trẻ dưới 14 tuổi" in editor.get("/staff/guides").text
    page = editor.get(f"/staff/guides/{CHILD_CARD}").text
    form = form_of(page)
    assert "dưới 14 tuổi" in form["phrases"].splitlines()

    response = editor.post(
        f"/staff/guides/{CHILD_CARD}", data={**form, "title": "<b>Căn cước cho trẻ</b>"}, follow_redirects=False
    )
    assert response.status_code == 303
    page = editor.get(f"/staff/guides/{CHILD_CARD}").text
    assert "&lt;b&gt;Căn cước cho trẻ&lt;/b&gt;" in page and "<b>Căn cước" not in page
    shipped = next(g for g in SHIPPED_GUIDES if g.id == CHILD_CARD)
    assert console.services.guides.current(CHILD_CARD)[0] == replace(shipped, title="<b>Căn cước cho trẻ</b>")

    stale = editor.post(f"/staff/guides/{CHILD_CARD}", data={**form, "title": "Bản cũ"})
    assert stale.status_code == 409 and "CHƯA được lưu" in stale.text
    assert console.services.guides.current(CHILD_CARD)[0].title == "<b>Căn cước cho trẻ</b>"

    empty = editor.post(
        f"/staff/guides/{CHILD_CARD}", data={**form_of(page), "phrases": "", "answer": "Bản sửa chưa lưu được."}
    )
    assert empty.status_code == 422 and "Cụm từ nhận biết" in empty.text
    assert "Bản sửa chưa lưu được." in empty.text  # what was typed stays on the page to correct
    assert f'action="/staff/guides/{CHILD_CARD}"' in empty.text


def test_staff_try_a_question_against_the_stored_guides(console: Console) -> None:
    editor = console.client("editor")
    page = editor.get("/staff/guides", params={"question": "lam can cuoc cho be 3 tuoi"}).text
    assert "Câu hỏi này nhận hướng dẫn" in page and "Làm thẻ căn cước cho trẻ dưới 14 tuổi" in page
    page = editor.get("/staff/guides", params={"question": "đăng ký khai sinh"}).text
    assert "không nhận hướng dẫn nào" in page
    assert editor.get("/staff/guides", params={"question": "x" * 5000}).status_code == 422


def test_the_console_adds_a_guide(console: Console) -> None:
    editor = console.client("editor")
    form = form_of(editor.get("/staff/guides/new").text)
    assert form.get("needs_review") == "on" and "etag" not in form  # new guides wait for review by default
    form.update(
        id="pharmacy_opening",
        title="Mở nhà thuốc",
        phrases="mở nhà thuốc\nmở hiệu thuốc",
        answer="Hỏi Sở Y tế về chứng chỉ hành nghề dược.",
        sources="Luật Dược số 105/2016/QH13",
        last_reviewed="2026-12-05",
    )
    response = editor.post("/staff/guides/new", data=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/staff/guides/pharmacy_opening")
    guide = console.services.guides.current("pharmacy_opening")[0]
    assert guide.phrases == ("mở nhà thuốc", "mở hiệu thuốc") and guide.needs_review
    again = editor.post("/staff/guides/new", data=form)
    assert again.status_code == 409 and "Đã có hướng dẫn mã" in again.text
