"""The staff JSON API: sign-in, who may do what, versioned edits with ETags, import, review queue."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from staff_support import PASSWORD, Console, build_console, staff_settings

from bot.assistant import Assistant
from bot.confidence import ConfidenceModel
from bot.store import KnowledgeStore

TAM_TRU = "1.004194"


@pytest.fixture
def console(
    kb, store: KnowledgeStore, make_assistant: Callable[[ConfidenceModel], Assistant], constant_confidence, tmp_path
) -> Iterator[Console]:
    # Assumption: confidence 0.99, above the 0.7 answer threshold.
    assistant = make_assistant(constant_confidence(0.99))
    yield build_console(staff_settings(kb.settings, store, tmp_path), store, assistant)


def fetch(client: TestClient, code: str = TAM_TRU) -> tuple[dict, str]:
    response = client.get(f"/api/staff/procedures/{code}")
    assert response.status_code == 200, response.text
    return response.json()["procedure"], response.headers["etag"]


def with_fee(record: dict, amount: int) -> dict:
    return {**record, "fees": [{**record["fees"][0], "amount_vnd": amount}]}


# ---- who may do what -----------------------------------------------------------------------

# (permission, request); each request is valid, so a role allowed to make it gets a 2xx.
ROUTES: list[tuple[str, Callable[[TestClient], object]]] = [
    ("view", lambda c: c.get("/api/staff/procedures?q=tam tru")),
    ("view", lambda c: c.get(f"/api/staff/procedures/{TAM_TRU}")),
    ("view", lambda c: c.get(f"/api/staff/procedures/{TAM_TRU}/history")),
    ("view", lambda c: c.get("/api/staff/publish")),
    ("view", lambda c: c.get("/api/staff/review/unanswered")),
    ("view", lambda c: c.get("/api/staff/review/feedback")),
    ("edit", lambda c: c.post("/api/staff/procedures", json={"code": "9.999999", "name": "Thủ tục thử"})),
    (
        "edit",
        lambda c: c.put(
            f"/api/staff/procedures/{TAM_TRU}",
            json=with_fee(fetch(c)[0], 20000),
            headers={"If-Match": fetch(c)[1]},
        ),
    ),
    ("edit", lambda c: c.post(f"/api/staff/procedures/{TAM_TRU}/retire", headers={"If-Match": fetch(c)[1]})),
    ("edit", lambda c: c.post("/api/staff/import?format=json&dry_run=true", content=b'{"code": "9.1", "name": "X"}')),
    ("publish", lambda c: c.post("/api/staff/publish")),
    ("accounts", lambda c: c.get("/api/staff/accounts")),
    (
        "accounts",
        lambda c: c.post(
            "/api/staff/accounts", json={"username": "new.editor", "password": PASSWORD, "role": "editor"}
        ),
    ),
    ("accounts", lambda c: c.patch("/api/staff/accounts/editor1", json={"role": "reviewer"})),
]
ALLOWED = {
    "view": {"editor", "reviewer", "admin"},
    "edit": {"editor", "reviewer", "admin"},
    "publish": {"reviewer", "admin"},
    "accounts": {"admin"},
}


@pytest.mark.parametrize("role", ["anonymous", "editor", "reviewer", "admin"])
def test_each_route_answers_each_role(console: Console, role: str) -> None:
    for permission, call in ROUTES:
        anonymous_fetch = role == "anonymous"
        client = console.client(role)
        if anonymous_fetch:
            # The request builders read the ETag first; anonymously that read itself must be refused.
            try:
                response = call(client)
            except AssertionError:
                continue
        else:
            response = call(client)
        status = response.status_code  # type: ignore[attr-defined]
        if role == "anonymous":
            assert status == 401, (permission, status)
        elif role in ALLOWED[permission]:
            assert 200 <= status < 300, (role, permission, status, response.text)  # type: ignore[attr-defined]
        else:
            assert status == 403, (role, permission, status)
    console.services.publisher.wait(60)


def test_revert_needs_a_reviewer(console: Console) -> None:
    record, tag = fetch(console.client("editor"))
    console.client("editor").put(
        f"/api/staff/procedures/{TAM_TRU}", json=with_fee(record, 20000), headers={"If-Match": tag}
    )
    _, tag = fetch(console.client("editor"))
    for role, expected in (("anonymous", 401), ("editor", 403), ("reviewer", 200)):
        response = console.client(role).post(
            f"/api/staff/procedures/{TAM_TRU}/revert", json={"version": 1}, headers={"If-Match": tag}
        )
        assert response.status_code == expected, (role, response.text)


def test_wrong_password_and_locked_account_cannot_sign_in(console: Console) -> None:
    client = console.client("anonymous")
    assert client.post("/api/staff/login", json={"username": "editor1", "password": "sai-mật-khẩu"}).status_code == 401
    assert client.post("/api/staff/login", json={"username": "nobody", "password": PASSWORD}).status_code == 401
    admin = console.client("admin")
    assert admin.patch("/api/staff/accounts/editor1", json={"active": False}).status_code == 200
    # The locked account's open session ends at once, and it cannot sign in again.
    assert console.client("editor").get("/api/staff/procedures").status_code == 401
    assert client.post("/api/staff/login", json={"username": "editor1", "password": PASSWORD}).status_code == 401


def test_session_cookie_is_http_only_and_same_site(console: Console) -> None:
    response = console.client("anonymous").post("/api/staff/login", json={"username": "admin1", "password": PASSWORD})
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert console.services.accounts.get("admin1") is not None
    stored = console.services.store.engine.connect().exec_driver_sql("select password_hash from staff_accounts")
    assert all(row[0].startswith("scrypt$") and PASSWORD not in row[0] for row in stored)


def test_changes_need_the_csrf_header(console: Console) -> None:
    client = console.client("reviewer")
    token = client.headers.pop("X-CSRF-Token")
    assert client.post("/api/staff/publish").status_code == 403
    assert client.post("/api/staff/publish", headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.get("/api/staff/publish").status_code == 200  # reading needs none
    client.headers["X-CSRF-Token"] = token


def test_outbox_of_the_callbot_lists_masked_numbers_and_marks_sent(console: Console) -> None:
    outbox = console.services.outbox
    message = outbox.queue("0912345678", "Hồ sơ của bạn đã có kết quả; số liên hệ 0905 111 201.", "call-1")
    assert console.client("anonymous").get("/api/staff/outbox").status_code == 401
    for role in ("editor", "reviewer", "admin"):
        listed = console.client(role).get("/api/staff/outbox", params={"status": "queued"})
        assert listed.status_code == 200, listed.text
        [shown] = listed.json()["messages"]
        assert shown["phone"] == "091****678" and "090* *** ***" in shown["text"]
        assert "0905 111 201" not in shown["text"]
        assert shown["status"] == "queued" and shown["status_name"] == "Chờ gửi" and shown["created_at"]
    editor = console.client("editor")
    whole = editor.get(f"/api/staff/outbox/{message.id}").json()  # opened to be sent: the number whole
    assert whole["phone"] == "0912345678" and "0905 111 201" in whole["text"]

    token = editor.headers.pop("X-CSRF-Token")
    assert editor.post(f"/api/staff/outbox/{message.id}/sent").status_code == 403
    editor.headers["X-CSRF-Token"] = token
    assert console.client("anonymous").post(f"/api/staff/outbox/{message.id}/sent").status_code == 401
    assert outbox.message(message.id).status == "queued"
    sent = editor.post(f"/api/staff/outbox/{message.id}/sent")
    assert sent.status_code == 200 and sent.json()["status_name"] == "Đã gửi"
    assert outbox.message(message.id).status == "sent"
    assert editor.get("/api/staff/outbox", params={"status": "queued"}).json()["messages"] == []
    assert editor.post("/api/staff/outbox/999999/sent").status_code == 404
    assert editor.get("/api/staff/outbox/0").status_code == 422
    assert editor.get("/api/staff/outbox", params={"status": "lost"}).status_code == 422


def test_the_last_admin_cannot_be_demoted(console: Console) -> None:
    response = console.client("admin").patch("/api/staff/accounts/admin1", json={"role": "editor"})
    assert response.status_code == 422
    assert "quản trị viên cuối cùng" in response.json()["detail"]
    # The route's own (Vietnamese) words are the message; message_en stays English.
    assert response.json()["message"] == response.json()["detail"]
    assert response.json()["message_en"] == "The request could not be completed."


# ---- ETag, versions, revert --------------------------------------------------------------------


def test_edit_without_if_match_is_refused_with_428(console: Console) -> None:
    record, _ = fetch(console.client("editor"))
    response = console.client("editor").put(f"/api/staff/procedures/{TAM_TRU}", json=with_fee(record, 20000))
    assert response.status_code == 428
    assert fetch(console.client("editor"))[0]["fees"][0]["amount_vnd"] == 15000


def test_concurrent_edits_conflict_instead_of_overwriting(console: Console) -> None:
    editor, reviewer = console.client("editor"), console.client("reviewer")
    record, tag = fetch(editor)
    same_record, same_tag = fetch(reviewer)
    first = editor.put(f"/api/staff/procedures/{TAM_TRU}", json=with_fee(record, 20000), headers={"If-Match": tag})
    assert first.status_code == 200 and first.headers["etag"] != tag
    second = reviewer.put(
        f"/api/staff/procedures/{TAM_TRU}", json=with_fee(same_record, 30000), headers={"If-Match": same_tag}
    )
    assert second.status_code == 409
    assert second.headers["etag"] == first.headers["etag"]
    assert fetch(editor)[0]["fees"][0]["amount_vnd"] == 20000


def test_every_change_is_versioned_and_can_be_reverted(console: Console) -> None:
    editor, reviewer = console.client("editor"), console.client("reviewer")
    record, tag = fetch(editor)
    tag = editor.put(
        f"/api/staff/procedures/{TAM_TRU}", json=with_fee(record, 20000), headers={"If-Match": tag}
    ).headers["etag"]
    tag = editor.post(f"/api/staff/procedures/{TAM_TRU}/retire", headers={"If-Match": tag}).headers["etag"]
    assert all(item["code"] != TAM_TRU for item in editor.get("/api/staff/procedures").json()["items"])

    versions = editor.get(f"/api/staff/procedures/{TAM_TRU}/history").json()["versions"]
    assert [(v["version"], v["action"], v["username"]) for v in versions] == [
        (3, "retire", "editor1"),
        (2, "edit", "editor1"),
        (1, "baseline", "hệ thống"),
    ]
    fee_change = versions[1]["changes"]
    assert [c["field"] for c in fee_change] == ["fees"]
    assert fee_change[0]["before"][0]["amount_vnd"] == 15000 and fee_change[0]["after"][0]["amount_vnd"] == 20000
    assert versions[1]["summary"] == "Sửa: Phí, lệ phí"

    response = reviewer.post(f"/api/staff/procedures/{TAM_TRU}/revert", json={"version": 1}, headers={"If-Match": tag})
    assert response.status_code == 200, response.text
    restored, _ = fetch(editor)
    assert restored["fees"][0]["amount_vnd"] == 15000 and restored["retired"] is False
    latest = editor.get(f"/api/staff/procedures/{TAM_TRU}/history").json()["versions"][0]
    assert (latest["version"], latest["action"], latest["username"]) == (4, "revert", "reviewer1")
    assert {c["field"] for c in latest["changes"]} == {"fees", "retired"}


def test_create_search_and_bad_input(console: Console) -> None:
    editor = console.client("editor")
    new = {"code": "9.000001", "name": "Cấp giấy xác nhận thử nghiệm", "aliases": ["giay xac nhan thu"]}
    created = editor.post("/api/staff/procedures", json=new)
    assert created.status_code == 201 and created.headers["etag"]
    assert editor.post("/api/staff/procedures", json=new).status_code == 409
    assert editor.get("/api/staff/procedures?q=giay xac nhan").json()["items"][0]["code"] == "9.000001"
    assert editor.get("/api/staff/procedures?q=9.000001").json()["total"] == 1
    for bad in ({"code": "", "name": "x"}, {"code": "9.2", "name": ""}, {"code": "../x", "name": "x"}, [1], "x"):
        assert editor.post("/api/staff/procedures", json=bad).status_code == 422
    record, tag = fetch(editor)
    bad_fee = {**record, "fees": [{"name": "Lệ phí", "amount_vnd": -5}]}
    assert editor.put(f"/api/staff/procedures/{TAM_TRU}", json=bad_fee, headers={"If-Match": tag}).status_code == 422
    other_code = {**record, "code": "1.001193"}
    assert editor.put(f"/api/staff/procedures/{TAM_TRU}", json=other_code, headers={"If-Match": tag}).status_code == 422
    assert editor.get("/api/staff/procedures/khong-co").status_code == 404
    assert editor.post("/api/staff/procedures/khong-co/retire", headers={"If-Match": '"x"'}).status_code == 404
    assert (
        editor.post(
            "/api/staff/procedures", content=b"\xff\xfe", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )


# ---- import ----------------------------------------------------------------------------------------


def test_import_dry_run_reports_and_writes_nothing_then_applies(console: Console) -> None:
    editor = console.client("editor")
    current, _ = fetch(editor)
    records = [
        {"code": "9.100001", "name": "Thủ tục mới nhập"},
        {**with_fee(current, 25000), "processing_time": "02 ngày làm việc"},
        fetch(editor, "1.001193")[0],
        {"code": "", "name": "Không có mã"},
        {"TTHC_MA": "1.001456", "NAME": "Cấp hộ chiếu phổ thông", "WEIGHT": 5},
        {"ten": "không nhận ra"},
        {"code": "9.100001", "name": "Trùng mã"},
    ]
    body = json.dumps(records, ensure_ascii=False).encode()
    report = editor.post("/api/staff/import?format=json", content=body).json()
    assert report["applied"] is False
    assert report["counts"] == {"new": 1, "changed": 1, "unchanged": 1, "rejected": 4}
    rows = {r["row"]: r for r in report["rows"]}
    assert (rows[1]["outcome"], rows[1]["code"]) == ("new", "9.100001")
    assert rows[2]["outcome"] == "changed" and set(rows[2]["fields"]) == {"fees", "processing_time"}
    assert rows[3]["outcome"] == "unchanged"
    assert "thiếu mã" in rows[4]["reason"]
    assert "ít chi tiết hơn" in rows[5]["reason"]  # a catalogue row never replaces a curated record
    assert "không nhận ra" in rows[6]["reason"]
    assert "Trùng mã" in rows[7]["reason"]
    # Nothing written.
    assert editor.get("/api/staff/procedures/9.100001").status_code == 404
    assert fetch(editor)[0]["fees"][0]["amount_vnd"] == 15000

    applied = editor.post("/api/staff/import?format=json&dry_run=false", content=body).json()
    assert applied["applied"] is True and applied["counts"]["new"] == 1
    assert fetch(editor)[0]["fees"][0]["amount_vnd"] == 25000
    assert fetch(editor)[0]["aliases"] == current["aliases"]  # staff aliases kept
    versions = editor.get(f"/api/staff/procedures/{TAM_TRU}/history").json()["versions"]
    assert (versions[0]["action"], versions[0]["username"]) == ("import", "editor1")


def test_import_refuses_records_with_fields_of_the_wrong_type(console: Console) -> None:
    editor = console.client("editor")
    current, _ = fetch(editor)
    records = [
        {**current, "fees": "15000"},  # stored, it would break every fee answer after the next publish
        {**current, "popularity": "many", "steps": "một bước"},
        {"code": "9.100002", "name": "Thủ tục mới", "fees": [{"name": "Lệ phí", "amount_vnd": "mười nghìn"}]},
    ]
    body = json.dumps(records, ensure_ascii=False).encode()
    report = editor.post("/api/staff/import?format=json&dry_run=false", content=body).json()
    assert report["counts"] == {"new": 0, "changed": 0, "unchanged": 0, "rejected": 3}
    reasons = [row["reason"] for row in report["rows"]]
    assert reasons == [
        "Không đọc được bản ghi: trường không hợp lệ: fees",
        "Không đọc được bản ghi: trường không hợp lệ: popularity, steps",
        "Không đọc được bản ghi: trường không hợp lệ: fees",
    ]
    assert fetch(editor)[0] == current
    assert editor.get("/api/staff/procedures/9.100002").status_code == 404


def test_import_csv_of_the_portal_name_list(console: Console) -> None:
    csv_text = (
        "\ufeffTên,Link\n"
        '"Thủ tục từ danh mục",dvc-chi-tiet-thu-tuc-hanh-chinh.html?ma_thu_tuc=9.200001\n'
        "Không có mã,dvc-chi-tiet.html\n"
    )
    report = console.client("editor").post("/api/staff/import?format=csv", content=csv_text.encode()).json()
    assert report["counts"] == {"new": 1, "changed": 0, "unchanged": 0, "rejected": 1}


@pytest.mark.parametrize(
    ("fmt", "content"),
    [("json", b"{not json"), ("csv", b"a,b\n1,2\n"), ("json", b"\xff\xfe"), ("json", b"[]"), ("xml", b"<a/>")],
)
def test_unreadable_import_files_get_a_clear_4xx(console: Console, fmt: str, content: bytes) -> None:
    response = console.client("editor").post(f"/api/staff/import?format={fmt}", content=content)
    assert response.status_code == 422
    assert response.json()["detail"]
