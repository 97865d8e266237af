"""The staff console: server-rendered Vietnamese HTML pages under /staff.

Every page needs a signed-in account; every form carries the session's CSRF
token; Jinja2 escapes everything it prints. Edits are made from the version
the form was opened on (its ETag travels in a hidden field), so a concurrent
change is reported, never overwritten.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError

from bot.database import MAX_INTEGER
from bot.feedback import RATING_LABELS, STATUS_LABELS
from bot.procedure import Document, Fee, Procedure
from bot.settings import LOCAL_TIME
from bot.staff import importing
from bot.staff.accounts import ROLE_NAMES, Account, AccountError, Permission
from bot.staff.api import set_session_cookie
from bot.staff.auth import csrf_token, page_user, read_form, safe_next, services, signed_in
from bot.staff.catalog import search_procedures
from bot.staff.history import FIELD_NAMES, AlreadyExists, Conflict, NotFound
from bot.staff.publishing import PublishBusy
from bot.staff.record_input import ProcedureIn
from bot.staff.review import ReviewError
from bot.staff.sessions import COOKIE_NAME, LOGIN_COOKIE_NAME
from voice.outbox import NOT_FOUND as MESSAGE_NOT_FOUND
from voice.outbox import STATUS_LABELS as MESSAGE_STATUS_LABELS

TEXT_FIELDS = [
    ("name", "Tên thủ tục"),
    ("field", "Lĩnh vực"),
    ("agency", "Cơ quan thực hiện"),
    ("level", "Cấp thực hiện"),
    ("who", "Đối tượng thực hiện"),
    ("where", "Nơi nộp"),
    ("processing_time", "Thời hạn giải quyết"),
    ("processing_time_online", "Thời hạn giải quyết khi nộp trực tuyến"),
    ("fee_note", "Ghi chú phí, lệ phí"),
    ("result", "Kết quả"),
    ("conditions", "Điều kiện thực hiện"),
    ("last_reviewed", "Ngày rà soát (YYYY-MM-DD)"),
    ("source", "Nguồn"),
]
LIST_FIELDS = [
    (
        "fees",
        "Phí, lệ phí",
        "Mỗi dòng: tên | số tiền (đồng, để trống nếu chưa rõ) | số tiền khi nộp trực tuyến | đơn vị | ghi chú",
    ),
    ("documents", "Thành phần hồ sơ", "Mỗi dòng: tên giấy tờ | số bản | ghi chú"),
    ("steps", "Trình tự thực hiện", "Mỗi dòng một bước"),
    ("legal_basis", "Căn cứ pháp lý", "Mỗi dòng một văn bản"),
    ("channels", "Cách thức nộp", "Mỗi dòng một mã: truc_tiep, truc_tuyen, truc_tuyen_toan_trinh, buu_chinh…"),
    ("aliases", "Tên gọi khác", "Mỗi dòng một tên người dân hay dùng"),
]
SHOWN_CHANGES = {name for name, _ in TEXT_FIELDS} | {name for name, _, _ in LIST_FIELDS} | {"retired"}
OUTCOME_NAMES = {"new": "Mới", "changed": "Thay đổi", "unchanged": "Không đổi", "rejected": "Bị từ chối"}

templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(default=True)
)
templates.filters["field_name"] = lambda name: FIELD_NAMES.get(name, name)

router = APIRouter(prefix="/staff", include_in_schema=False)

Viewer = Annotated[Account, Depends(page_user(Permission.VIEW))]
Editor = Annotated[Account, Depends(page_user(Permission.EDIT))]
Publisher = Annotated[Account, Depends(page_user(Permission.PUBLISH))]
Admin = Annotated[Account, Depends(page_user(Permission.ACCOUNTS))]


def local(moment: Any) -> str:
    return moment.astimezone(LOCAL_TIME).strftime("%d/%m/%Y %H:%M") if moment else ""


def render(request: Request, name: str, title: str, http_status: int = 200, **context: Any) -> HTMLResponse:
    html = templates.get_template(name).render(
        title=title,
        account=signed_in(request),
        csrf=csrf_token(request),
        P=Permission,
        role_names=ROLE_NAMES,
        local=local,
        notice=request.query_params.get("notice", "")[:300],
        **context,
    )
    return HTMLResponse(html, status_code=http_status)


def back(path: str, notice: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({'notice': notice})}", status_code=303)


# ---- sign-in ---------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "/staff") -> HTMLResponse:
    nonce = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", "Đăng nhập", login_token=services(request).sessions.login_token(nonce), next=next[:300]
    )
    response.set_cookie(LOGIN_COOKIE_NAME, nonce, httponly=True, samesite="strict", path="/staff/login")
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    staff = services(request)
    form = await read_form(request, check_csrf=False)
    if not staff.sessions.check_login_token(request.cookies.get(LOGIN_COOKIE_NAME), form.get("csrf")):
        raise HTTPException(403, "Phiên đăng nhập đã hết hạn; hãy tải lại trang đăng nhập.")
    account = staff.accounts.authenticate(form.get("username", "")[:64], form.get("password", "")[:256])
    if account is None:
        nonce = secrets.token_urlsafe(24)
        response = render(
            request,
            "login.html",
            "Đăng nhập",
            401,
            error="Sai tên đăng nhập hoặc mật khẩu.",
            login_token=staff.sessions.login_token(nonce),
            next=form.get("next", "/staff")[:300],
        )
        response.set_cookie(LOGIN_COOKIE_NAME, nonce, httponly=True, samesite="strict", path="/staff/login")
        return response
    response = RedirectResponse(safe_next(form.get("next", "/staff")), status_code=303)
    set_session_cookie(request, response, staff.sessions.create(account.username))
    response.delete_cookie(LOGIN_COOKIE_NAME, path="/staff/login")
    return response


@router.post("/logout")
async def logout(request: Request, account: Viewer) -> Response:
    await read_form(request)
    services(request).sessions.end(request.cookies.get(COOKIE_NAME))
    response = RedirectResponse("/staff/login", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


# ---- dashboard and publishing ----------------------------------------------------------------


@router.get("")
def dashboard(request: Request, account: Viewer) -> HTMLResponse:
    staff = services(request)
    return render(request, "dashboard.html", "Tổng quan", status=staff.publisher.status, recent=staff.history.recent())


@router.post("/publish")
async def publish(request: Request, account: Publisher) -> Response:
    await read_form(request)
    try:
        services(request).publisher.publish(account.username)
    except PublishBusy:
        return back("/staff", "Đang có một lần xuất bản chạy; hãy đợi nó xong.")
    return back("/staff", "Đã bắt đầu xuất bản. Tải lại trang để xem kết quả.")


# ---- procedures ------------------------------------------------------------------------------------


@router.get("/procedures")
def procedures(request: Request, account: Viewer, q: str = "", include_retired: bool = False) -> HTMLResponse:
    found = search_procedures(services(request).store, q[:200], include_retired)
    return render(
        request,
        "procedures.html",
        "Thủ tục hành chính",
        q=q[:200],
        include_retired=include_retired,
        total=len(found),
        items=found[:100],
    )


def _format_amount(amount: int | None) -> str:
    return "" if amount is None else str(amount)


def record_form(procedure: Procedure) -> dict[str, str]:
    form = {name: str(getattr(procedure, name)) for name, _ in TEXT_FIELDS}
    form["code"] = procedure.code
    form["fees"] = "\n".join(
        " | ".join([f.name, _format_amount(f.amount_vnd), _format_amount(f.online_amount_vnd), f.per, f.note]).rstrip(
            " |"
        )
        for f in procedure.fees
    )
    form["documents"] = "\n".join(" | ".join([d.name, d.copies, d.note]).rstrip(" |") for d in procedure.documents)
    for name in ("steps", "legal_basis", "channels", "aliases"):
        form[name] = "\n".join(getattr(procedure, name))
    return form


def _amount(text: str, line: int) -> int | None:
    digits = text.replace(".", "").replace(",", "").replace(" ", "").removesuffix("đồng").removesuffix("đ")
    if not digits:
        return None
    if not digits.isdigit():
        raise ValueError(f"Phí, lệ phí dòng {line}: “{text}” không phải số tiền (ví dụ 15000 hoặc 15.000).")
    return int(digits)


def _cells(line: str, count: int) -> list[str]:
    cells = [c.strip() for c in line.split("|")]
    return (cells + [""] * count)[:count]


def form_record(form: dict[str, str], base: Procedure | None) -> Procedure:
    """The record a form describes, on top of the fields the form does not show; ValueError for bad input."""
    lines = {name: [x.strip() for x in form.get(name, "").splitlines() if x.strip()] for name, _, _ in LIST_FIELDS}
    fees = []
    for i, line in enumerate(lines["fees"], start=1):
        name, amount, online, per, note = _cells(line, 5)
        fees.append(Fee(name, _amount(amount, i), _amount(online, i), per, note))
    documents = [Document(*_cells(line, 3)) for line in lines["documents"]]
    values: dict[str, Any] = base.to_dict() if base else {}
    values.update({name: form.get(name, "").strip() for name, _ in TEXT_FIELDS})
    values.update(
        code=base.code if base else form.get("code", "").strip(),
        fees=[vars(f) for f in fees],
        documents=[vars(d) for d in documents],
        steps=lines["steps"],
        legal_basis=lines["legal_basis"],
        channels=lines["channels"],
        aliases=lines["aliases"],
    )
    try:
        return ProcedureIn.model_validate(values).record()
    except ValidationError as error:
        where = ", ".join(sorted({FIELD_NAMES.get(str(e["loc"][0]), str(e["loc"][0])) for e in error.errors()}))
        raise ValueError(f"Dữ liệu chưa hợp lệ ở: {where}.") from None


def _procedure_page(request: Request, code: str, status: int = 200, **extra: Any) -> HTMLResponse:
    staff = services(request)
    try:
        procedure, tag = staff.history.current(code)
    except NotFound:
        raise HTTPException(404, f"Không có thủ tục mã “{code}”.") from None
    context = {"form": record_form(procedure), "etag": tag, **extra}
    return render(
        request,
        "procedure.html",
        procedure.name,
        status,
        action=f"/staff/procedures/{code}",
        creating=False,
        retired=procedure.retired,
        versions=staff.history.versions(code),
        text_fields=TEXT_FIELDS,
        list_fields=LIST_FIELDS,
        shown_changes=SHOWN_CHANGES,
        field_names=FIELD_NAMES,
        describe=describe_value,
        **context,
    )


def describe_value(field: str, value: Any) -> str:
    if field == "fees" and isinstance(value, list):
        return "; ".join(Fee(**f).describe() for f in value) or "(trống)"
    if field == "documents" and isinstance(value, list):
        return "; ".join(Document(**d).describe() for d in value) or "(trống)"
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, list):
        return "; ".join(map(str, value)) or "(trống)"
    text = str(value) if value not in (None, "") else "(trống)"
    return text if len(text) <= 200 else text[:200] + "…"


@router.get("/procedures/new")
def new_procedure(request: Request, account: Editor) -> HTMLResponse:
    return _new_page(
        request, {"code": "", **{name: "" for name, _ in TEXT_FIELDS}, **{n: "" for n, _, _ in LIST_FIELDS}}
    )


def _new_page(request: Request, form: dict[str, str], status: int = 200, error: str = "") -> HTMLResponse:
    return render(
        request,
        "procedure.html",
        "Thêm thủ tục",
        status,
        action="/staff/procedures/new",
        creating=True,
        form=form,
        etag="",
        text_fields=TEXT_FIELDS,
        list_fields=LIST_FIELDS,
        error=error,
    )


@router.post("/procedures/new")
async def create_procedure(request: Request, account: Editor) -> Response:
    form = await read_form(request)
    try:
        procedure = form_record(form, None)
        services(request).history.create(procedure, account.username)
    except ValueError as error:
        return _new_page(request, form, 422, str(error))
    except AlreadyExists:
        return _new_page(request, form, 409, f"Đã có thủ tục mã “{form.get('code', '')}”.")
    return back(f"/staff/procedures/{procedure.code}", "Đã tạo thủ tục. Thay đổi có hiệu lực sau khi xuất bản.")


@router.get("/procedures/{code}")
def procedure_page(code: str, request: Request, account: Viewer) -> HTMLResponse:
    return _procedure_page(request, code)


CONFLICT = (
    "Thủ tục đã được người khác thay đổi sau khi bạn mở trang; thay đổi của bạn CHƯA được lưu. "
    "Dưới đây là bản mới nhất: hãy sửa lại trên bản này."
)


def _save(
    request: Request, code: str, procedure: Procedure, form: dict[str, str], username: str, action: str
) -> Response:
    try:
        services(request).history.change(procedure, form.get("etag", ""), username, action)
    except Conflict:
        return _procedure_page(request, code, 409, error=CONFLICT)
    return back(f"/staff/procedures/{code}", "Đã lưu. Thay đổi có hiệu lực với người dân sau khi xuất bản.")


def _stored(request: Request, code: str) -> Procedure:
    procedure = services(request).store.procedure(code)
    if procedure is None:
        raise HTTPException(404, f"Không có thủ tục mã “{code}”.")
    return procedure


@router.post("/procedures/{code}")
async def edit_procedure(code: str, request: Request, account: Editor) -> Response:
    form = await read_form(request)
    base = _stored(request, code)
    try:
        procedure = form_record(form, base)
    except ValueError as error:
        return _procedure_page(request, code, 422, error=str(error))
    return _save(request, code, procedure, form, account.username, "edit")


@router.post("/procedures/{code}/retire")
async def retire_procedure(code: str, request: Request, account: Editor) -> Response:
    form = await read_form(request)
    return _save(request, code, replace(_stored(request, code), retired=True), form, account.username, "retire")


@router.post("/procedures/{code}/restore")
async def restore_procedure(code: str, request: Request, account: Editor) -> Response:
    form = await read_form(request)
    return _save(request, code, replace(_stored(request, code), retired=False), form, account.username, "restore")


@router.post("/procedures/{code}/revert")
async def revert_procedure(code: str, request: Request, account: Publisher) -> Response:
    form = await read_form(request)
    version = _row_number(form.get("version", ""))
    if version is None:
        raise HTTPException(422, "Phiên bản không hợp lệ.")
    try:
        services(request).history.revert(code, version, form.get("etag", ""), account.username)
    except Conflict:
        return _procedure_page(request, code, 409, error=CONFLICT)
    except NotFound:
        raise HTTPException(404, "Không có phiên bản này.") from None
    return back(f"/staff/procedures/{code}", f"Đã khôi phục phiên bản {form['version']}.")


# ---- import --------------------------------------------------------------------------------------------


@router.get("/import")
def import_page(request: Request, account: Editor) -> HTMLResponse:
    return render(request, "import.html", "Nhập thủ tục từ tệp", fmt="json", content="", report=None)


@router.post("/import")
async def import_file(request: Request, account: Editor) -> HTMLResponse:
    form = await read_form(request)
    fmt, content = form.get("format", "json"), form.get("content", "")
    history = services(request).history
    try:
        report = importing.plan(history, content.encode(), fmt)
    except importing.ImportFileError as error:
        return render(
            request, "import.html", "Nhập thủ tục từ tệp", 422, fmt=fmt, content=content, report=None, error=str(error)
        )
    if form.get("mode") == "apply":
        importing.apply(history, report, account.username)
    return render(
        request,
        "import.html",
        "Nhập thủ tục từ tệp",
        fmt=fmt,
        content=content,
        report=report,
        outcome_names=OUTCOME_NAMES,
    )


# ---- review queues ---------------------------------------------------------------------------------------


@router.get("/review")
def review_page(request: Request, account: Viewer) -> HTMLResponse:
    return _review(request)


def _review(request: Request, error: str = "", status: int = 200) -> HTMLResponse:
    staff = services(request)
    groups = staff.review.groups()
    return render(
        request,
        "review.html",
        "Hàng đợi xử lý",
        status,
        error=error,
        groups=groups,
        questions=sum(g.count for g in groups),
        ratings=staff.feedback.ratings_summary(),
        rating_labels=RATING_LABELS,
        status_labels=STATUS_LABELS,
        callbacks=staff.feedback.list_callbacks(),
        complaints=staff.feedback.list_complaints(),
    )


def _row_number(text: str) -> int | None:
    """A positive number a table can hold, from a form field ('²' and 10**40 are not)."""
    text = text.strip()
    number = int(text) if text.isascii() and text.isdigit() else 0
    return number if 1 <= number <= MAX_INTEGER else None


def _ids(form: dict[str, str]) -> list[int]:
    ids = [_row_number(p) for p in form.get("ids", "").split(",") if p.strip()]
    if not ids or None in ids:
        raise ReviewError("Danh sách câu hỏi không hợp lệ; hãy tải lại trang.")
    return ids  # type: ignore[return-value]


@router.post("/review/{action}")
async def resolve(action: str, request: Request, account: Editor) -> Response:
    form = await read_form(request)
    review = services(request).review
    try:
        ids = _ids(form)
        if action == "alias":
            review.to_alias(ids, form.get("alias", ""), form.get("procedure_code", ""), account.username)
        elif action == "faq":
            review.to_faq(
                ids, form.get("question", ""), form.get("answer", ""), form.get("procedure_code", ""), account.username
            )
        elif action == "dismiss":
            review.dismiss(ids, account.username)
        else:
            raise HTTPException(404, "Không có thao tác này.")
    except ReviewError as error:
        return _review(request, str(error), 422)
    except Conflict:
        return _review(request, "Thủ tục vừa được người khác thay đổi; hãy thử lại.", 409)
    return back("/staff/review", "Đã xử lý. Thay đổi có hiệu lực với người dân sau khi xuất bản.")


# ---- text messages the callbot queued ------------------------------------------------------------------------


@router.get("/outbox")
def outbox_page(request: Request, account: Viewer, status: str = "queued") -> HTMLResponse:
    """The list (numbers masked); ``status=all`` for every message."""
    status = status if status in MESSAGE_STATUS_LABELS else "all"
    messages = services(request).outbox.list_masked(None if status == "all" else status)
    return render(
        request, "outbox.html", "Tin nhắn gửi người gọi", status=status, messages=messages,
        status_labels=MESSAGE_STATUS_LABELS,
    )  # fmt: skip


def _message_id(text: str) -> int:
    message_id = _row_number(text)
    if message_id is None:
        raise HTTPException(404, MESSAGE_NOT_FOUND)
    return message_id


@router.get("/outbox/{message_id}")
def outbox_message_page(message_id: str, request: Request, account: Viewer) -> HTMLResponse:
    """One message whole: the number and text to send."""
    message = services(request).outbox.message(_message_id(message_id))
    if message is None:
        raise HTTPException(404, MESSAGE_NOT_FOUND)
    return render(
        request, "outbox_message.html", f"Tin nhắn số {message.id}", message=message,
        status_labels=MESSAGE_STATUS_LABELS,
    )  # fmt: skip


@router.post("/outbox/{message_id}/sent")
async def outbox_message_sent(message_id: str, request: Request, account: Editor) -> Response:
    await read_form(request)
    number = _message_id(message_id)
    if not services(request).outbox.mark(number, "sent"):
        raise HTTPException(404, MESSAGE_NOT_FOUND)
    return back("/staff/outbox", f"Đã đánh dấu tin nhắn số {number} là đã gửi.")


# ---- accounts ------------------------------------------------------------------------------------------------


@router.get("/accounts")
def accounts_page(request: Request, account: Admin) -> HTMLResponse:
    return _accounts(request)


def _accounts(request: Request, error: str = "", status: int = 200) -> HTMLResponse:
    return render(
        request, "accounts.html", "Tài khoản cán bộ", status, accounts=services(request).accounts.all(), error=error
    )


@router.post("/accounts")
async def create_account(request: Request, account: Admin) -> Response:
    form = await read_form(request)
    try:
        services(request).accounts.create(form.get("username", ""), form.get("password", ""), form.get("role", ""))
    except AccountError as error:
        return _accounts(request, str(error), 422)
    return back("/staff/accounts", "Đã tạo tài khoản.")


@router.post("/accounts/{username}")
async def change_account(username: str, request: Request, account: Admin) -> Response:
    form = await read_form(request)
    staff = services(request)
    active = {"true": True, "false": False}.get(form.get("active", ""))
    try:
        staff.accounts.update(username, form.get("role") or None, active, form.get("password") or None)
    except AccountError as error:
        return _accounts(request, str(error), 422)
    if active is False or form.get("password"):
        staff.sessions.end_all(username)
    return back("/staff/accounts", f"Đã cập nhật tài khoản “{username}”.")
