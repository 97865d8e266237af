"""The staff console's HTML pages: sign-in, CSRF, roles, forms, conflicts and escaping."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from staff_support import PASSWORD, Console, build_console, staff_settings
from test_staff_api import TAM_TRU

from bot.assistant import Assistant
from bot.confidence import ConfidenceModel
from bot.store import KnowledgeStore

PAGES = [
    "/staff",
    "/staff/procedures",
    f"/staff/procedures/{TAM_TRU}",
    "/staff/procedures/new",
    "/staff/guides",
    "/staff/guides/new",
    "/staff/import",
    "/staff/review",
    "/staff/outbox",
    "/staff/accounts",
]


@pytest.fixture
def console(
    kb, store: KnowledgeStore, make_assistant: Callable[[ConfidenceModel], Assistant], constant_confidence, tmp_path
) -> Iterator[Console]:
    yield build_console(staff_settings(kb.settings, store, tmp_path), store, make_assistant(constant_confidence(0.99)))


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, name
    return html.unescape(match.group(1))


def browser(console: Console, username: str) -> TestClient:
    """Signs in through the HTML form, as a browser would."""
    client = TestClient(console.app, raise_server_exceptions=False, follow_redirects=False)
    page = client.get("/staff/login?next=/staff/procedures")
    form = {"csrf": hidden(page.text, "csrf"), "next": "/staff/procedures", "username": username, "password": PASSWORD}
    response = client.post("/staff/login", data=form)
    assert response.status_code == 303 and response.headers["location"] == "/staff/procedures"
    return client


def test_pages_redirect_to_sign_in_and_refuse_wrong_roles(console: Console) -> None:
    anonymous = TestClient(console.app, raise_server_exceptions=False, follow_redirects=False)
    for page in PAGES:
        response = anonymous.get(page)
        assert response.status_code == 303 and response.headers["location"].startswith("/staff/login?next=/staff")
    assert anonymous.post("/staff/publish", data={"csrf": "x"}).status_code == 303
    editor, reviewer, admin = (browser(console, f"{r}1") for r in ("editor", "reviewer", "admin"))
    for page in PAGES:
        assert admin.get(page).status_code == 200, page
        assert editor.get(page).status_code == (403 if page == "/staff/accounts" else 200), page
    assert reviewer.get("/staff/accounts").status_code == 403
    csrf = hidden(editor.get("/staff").text, "csrf")
    assert editor.post("/staff/publish", data={"csrf": csrf}).status_code == 403
    assert (
        editor.post(
            "/staff/accounts", data={"csrf": csrf, "username": "x", "password": "y", "role": "admin"}
        ).status_code
        == 403
    )


def test_sign_in_needs_the_form_token_and_the_right_password(console: Console) -> None:
    client = TestClient(console.app, raise_server_exceptions=False, follow_redirects=False)
    page = client.get("/staff/login")
    token = hidden(page.text, "csrf")
    wrong = client.post("/staff/login", data={"csrf": token, "username": "admin1", "password": "sai-mật-khẩu-rồi"})
    assert wrong.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in wrong.text
    other = TestClient(console.app, raise_server_exceptions=False, follow_redirects=False)  # no login cookie
    assert (
        other.post("/staff/login", data={"csrf": token, "username": "admin1", "password": PASSWORD}).status_code == 403
    )
    # An outside address after sign-in is ignored.
    page = client.get("/staff/login")
    response = client.post(
        "/staff/login",
        data={
            "csrf": hidden(page.text, "csrf"),
            "next": "//evil.example/x",
            "username": "admin1",
            "password": PASSWORD,
        },
    )
    assert response.headers["location"] == "/staff"


def test_forms_without_the_csrf_token_are_refused(console: Console) -> None:
    reviewer = browser(console, "reviewer1")
    assert reviewer.post("/staff/publish", data={}).status_code == 403
    assert reviewer.post("/staff/publish", data={"csrf": "forged"}).status_code == 403
    assert reviewer.post("/staff/publish", json={"csrf": "x"}).status_code == 415


def test_edit_a_fee_in_the_form_then_a_stale_form_conflicts(console: Console) -> None:
    editor = browser(console, "editor1")
    page = editor.get(f"/staff/procedures/{TAM_TRU}").text
    form = {name: hidden(page, name) for name in ("csrf", "etag")}
    fields = {
        k: html.unescape(v) for k, v in re.findall(r'<input type="text" id="(\w+)" name="\w+" value="([^"]*)"', page)
    }
    textareas = {
        k: html.unescape(v) for k, v in re.findall(r'<textarea id="(\w+)" name="\w+">([^<]*)</textarea>', page)
    }
    assert textareas["fees"] == "Lệ phí đăng ký tạm trú | 15000 | 7000 | lần"
    edited = {**form, **fields, **textareas, "fees": "Lệ phí đăng ký tạm trú | 20.000 | 7000 | lần"}
    response = editor.post(f"/staff/procedures/{TAM_TRU}", data=edited)
    assert response.status_code == 303
    assert console.services.store.procedure(TAM_TRU).fees[0].amount_vnd == 20000
    assert console.services.store.procedure(TAM_TRU).aliases == ["KT3", "tạm trú cho người ở trọ"]
    history = editor.get(f"/staff/procedures/{TAM_TRU}").text
    assert "15.000 đồng/lần" in history and "20.000 đồng/lần" in history and "editor1" in history

    stale = editor.post(f"/staff/procedures/{TAM_TRU}", data={**edited, "fees": "Lệ phí | 1"})
    assert stale.status_code == 409 and "CHƯA được lưu" in stale.text
    assert console.services.store.procedure(TAM_TRU).fees[0].amount_vnd == 20000

    bad = editor.post(
        f"/staff/procedures/{TAM_TRU}", data={**edited, "etag": hidden(history, "etag"), "fees": "Lệ phí | mười"}
    )
    assert bad.status_code == 422 and "không phải số tiền" in bad.text


def test_everything_printed_is_escaped(console: Console) -> None:
    editor = browser(console, "editor1")
    csrf = hidden(editor.get("/staff/procedures/new").text, "csrf")
    response = editor.post(
        "/staff/procedures/new", data={"csrf": csrf, "code": "9.300001", "name": "<script>alert(1)</script>"}
    )
    assert response.status_code == 303
    assert "<script>alert(1)</script>" not in editor.get("/staff").text
    for page in ("/staff/procedures?q=9.300001", "/staff/procedures/9.300001"):
        text = editor.get(page).text
        assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_import_preview_and_review_queue_pages(console: Console) -> None:
    editor = browser(console, "editor1")
    csrf = hidden(editor.get("/staff/import").text, "csrf")
    preview = editor.post(
        "/staff/import",
        data={
            "csrf": csrf,
            "format": "json",
            "mode": "dry_run",
            "content": '[{"code": "9.400001", "name": "Thủ tục A"}]',
        },
    )
    assert preview.status_code == 200 and "Xem trước (chưa ghi gì)" in preview.text and "Mới: 1" in preview.text
    assert console.services.store.procedure("9.400001") is None
    broken = editor.post("/staff/import", data={"csrf": csrf, "format": "json", "mode": "apply", "content": "{"})
    assert broken.status_code == 422 and "JSON không hợp lệ" in broken.text

    console.services.store.log_unanswered("hồ sơ cưới vợ", "low_confidence", 0.1, ["1.000894"])
    console.services.feedback.rate("dissatisfied", "c1", "hỏi", "answer", TAM_TRU)
    console.services.feedback.request_callback("0912 345 678", "Tôi cần hỏi về hộ chiếu", "Nguyễn Văn A")
    page = editor.get("/staff/review").text
    assert "hồ sơ cưới vợ" in page and "1 lần" in page and "091****678" in page and "Không hài lòng" in page
    ids = hidden(page, "ids")
    bad = editor.post(
        "/staff/review/alias", data={"csrf": csrf, "ids": "1,x", "alias": "a", "procedure_code": "1.000894"}
    )
    assert bad.status_code == 422
    done = editor.post(
        "/staff/review/alias", data={"csrf": csrf, "ids": ids, "alias": "hồ sơ cưới vợ", "procedure_code": "1.000894"}
    )
    assert done.status_code == 303
    assert "hồ sơ cưới vợ" in console.services.store.procedure("1.000894").aliases


def test_outbox_page_masks_numbers_opens_one_whole_and_marks_it_sent(console: Console) -> None:
    outbox = console.services.outbox
    first = outbox.queue("0912345678", "Hồ sơ 000.00.21.H48-261122-0031 đã có kết quả. Liên hệ 0905 111 201.", "c1")
    outbox.queue("0987654321", "Đăng ký khai sinh cần <b>tờ khai</b>.", "c2")
    editor = browser(console, "editor1")
    page = editor.get("/staff/outbox").text
    assert "091****678" in page and "098****321" in page and "0912345678" not in page and "0987654321" not in page
    assert "000.00.21.H48-261122-0031" in page and "090* *** ***" in page and "0905 111 201" not in page
    assert "&lt;b&gt;tờ khai&lt;/b&gt;" in page and "<b>tờ khai</b>" not in page
    whole = editor.get(f"/staff/outbox/{first.id}").text  # opened to be sent: number and text whole
    assert "0912345678" in whole and "0905 111 201" in whole
    assert editor.get("/staff/outbox/999999").status_code == 404 and editor.get("/staff/outbox/x").status_code == 404

    csrf = hidden(page, "csrf")
    assert editor.post(f"/staff/outbox/{first.id}/sent", data={}).status_code == 403
    assert outbox.message(first.id).status == "queued"
    done = editor.post(f"/staff/outbox/{first.id}/sent", data={"csrf": csrf})
    assert done.status_code == 303 and outbox.message(first.id).status == "sent"
    queued = editor.get(done.headers["location"]).text  # back to the list: what is still to be sent
    assert f"Đã đánh dấu tin nhắn số {first.id} là đã gửi." in queued
    assert "098****321" in queued and "091****678" not in queued
    assert "091****678" in editor.get("/staff/outbox?status=sent").text
    assert "Đánh dấu đã gửi" not in editor.get(f"/staff/outbox/{first.id}").text
