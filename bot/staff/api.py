"""The staff JSON API (``/api/staff/...``), for scripts and the console's own use."""

from __future__ import annotations

import logging
from dataclasses import asdict, replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictBool, StrictInt

from bot.database import MAX_INTEGER
from bot.guidance import Guide
from bot.procedure import Procedure
from bot.staff import importing
from bot.staff.accounts import Account, AccountError, Permission, Role
from bot.staff.auth import api_user, services, signed_in
from bot.staff.catalog import search_procedures
from bot.staff.guide_input import GUIDE_ID, GuideIn, NewGuideIn
from bot.staff.history import AlreadyExists, Conflict, NotFound
from bot.staff.publishing import PublishBusy
from bot.staff.record_input import CODE, ProcedureIn
from bot.staff.review import ReviewError
from bot.staff.sessions import COOKIE_NAME
from voice.outbox import NOT_FOUND as MESSAGE_NOT_FOUND
from voice.outbox import STATUS_LABELS as MESSAGE_STATUS_LABELS
from voice.outbox import OutgoingMessage

logger = logging.getLogger(__name__)


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


RowNumber = Annotated[StrictInt, Field(ge=1, le=MAX_INTEGER)]


class RevertIn(BaseModel):
    version: RowNumber


class QuestionIds(BaseModel):
    question_ids: list[RowNumber] = Field(min_length=1, max_length=2000)


class FaqIn(QuestionIds):
    question: str = Field(min_length=1, max_length=1000)
    answer: str = Field(min_length=1, max_length=4000)
    procedure_code: str = Field(pattern=CODE)


class AliasIn(QuestionIds):
    alias: str = Field(min_length=1, max_length=200)
    procedure_code: str = Field(pattern=CODE)


class AccountIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    role: Role


class AccountChange(BaseModel):
    role: Role | None = None
    active: StrictBool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=256)


Viewer = Annotated[Account, Depends(api_user(Permission.VIEW))]
Editor = Annotated[Account, Depends(api_user(Permission.EDIT))]
Publisher = Annotated[Account, Depends(api_user(Permission.PUBLISH))]
Admin = Annotated[Account, Depends(api_user(Permission.ACCOUNTS))]
IfMatch = Annotated[str | None, Header(max_length=200)]


def _with_etag(body: Any, tag: str, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"ETag": tag})


def _require_if_match(if_match: str | None) -> str:
    if not if_match:
        raise HTTPException(
            428, "Thiếu tiêu đề If-Match: hãy gửi ETag của phiên bản bạn đã sửa (precondition required)."
        )
    return if_match.strip()


def _conflict(error: Conflict, what: str = "Thủ tục") -> HTTPException:
    return HTTPException(
        409,
        f"{what} đã được người khác thay đổi sau khi bạn mở; hãy tải lại bản mới nhất rồi sửa lại (conflict).",
        headers={"ETag": error.current_etag},
    )


def _procedure_body(procedure: Procedure, versions: int) -> dict[str, Any]:
    return {"procedure": procedure.to_dict(), "versions": versions}


def account_body(account: Account) -> dict[str, Any]:
    return {"username": account.username, "role": account.role.value, "active": account.active}


router = APIRouter(prefix="/api/staff", tags=["staff"])


# ---- session ------------------------------------------------------------------


@router.post("/login")
def login(body: LoginIn, request: Request, response: Response) -> dict[str, Any]:
    staff = services(request)
    account = staff.accounts.authenticate(body.username, body.password)
    if account is None:
        raise HTTPException(401, "Sai tên đăng nhập hoặc mật khẩu.")
    cookie = staff.sessions.create(account.username)
    set_session_cookie(request, response, cookie)
    return {**account_body(account), "csrf_token": staff.sessions.csrf_token(cookie)}


def set_session_cookie(request: Request, response: Response, cookie: str) -> None:
    response.set_cookie(
        COOKIE_NAME,
        cookie,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
        max_age=int(services(request).sessions.lifetime.total_seconds()),
    )


@router.post("/logout", status_code=204)
def logout(request: Request, account: Viewer) -> Response:
    services(request).sessions.end(request.cookies.get(COOKIE_NAME))
    response = Response(status_code=204)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


@router.get("/me")
def me(request: Request) -> dict[str, Any]:
    account = signed_in(request)
    if account is None:
        raise HTTPException(401, "Cần đăng nhập (authentication required).")
    return {**account_body(account), "csrf_token": services(request).sessions.csrf_token(request.cookies[COOKIE_NAME])}


# ---- procedures -----------------------------------------------------------------


@router.get("/procedures")
def list_procedures(
    request: Request,
    account: Viewer,
    q: Annotated[str, Query(max_length=200)] = "",
    include_retired: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    found = search_procedures(services(request).store, q, include_retired)
    items = [
        {"code": p.code, "name": p.name, "detail": p.detail.value, "retired": p.retired}
        for p in found[offset : offset + limit]
    ]
    return {"total": len(found), "items": items}


@router.post("/procedures", status_code=201)
def create_procedure(body: ProcedureIn, request: Request, account: Editor) -> JSONResponse:
    try:
        tag = services(request).history.create(body.record(), account.username)
    except AlreadyExists:
        raise HTTPException(409, f"Đã có thủ tục mã “{body.code}”; hãy sửa thủ tục đó.") from None
    return _with_etag(_procedure_body(body.record(), 1), tag, 201)


@router.get("/procedures/{code}")
def get_procedure(code: str, request: Request, account: Viewer) -> JSONResponse:
    staff = services(request)
    try:
        procedure, tag = staff.history.current(code)
    except NotFound:
        raise HTTPException(404, f"Không có thủ tục mã “{code}”.") from None
    return _with_etag(_procedure_body(procedure, len(staff.history.versions(code))), tag)


def _change(request: Request, procedure: Procedure, if_match: str | None, username: str, action: str) -> JSONResponse:
    staff = services(request)
    expected = _require_if_match(if_match)
    try:
        tag = staff.history.change(procedure, expected, username, action)
    except Conflict as error:
        raise _conflict(error) from None
    except NotFound:
        raise HTTPException(404, f"Không có thủ tục mã “{procedure.code}”.") from None
    return _with_etag(_procedure_body(procedure, len(staff.history.versions(procedure.code))), tag)


@router.put("/procedures/{code}")
def edit_procedure(
    code: str, body: ProcedureIn, request: Request, account: Editor, if_match: IfMatch = None
) -> JSONResponse:
    if body.code != code:
        raise HTTPException(422, "Mã thủ tục trong nội dung khác với mã trên đường dẫn; mã thủ tục không đổi được.")
    return _change(request, body.record(), if_match, account.username, "edit")


def _current_or_404(request: Request, code: str) -> Procedure:
    procedure = services(request).store.procedure(code)
    if procedure is None:
        raise HTTPException(404, f"Không có thủ tục mã “{code}”.")
    return procedure


@router.post("/procedures/{code}/retire")
def retire_procedure(code: str, request: Request, account: Editor, if_match: IfMatch = None) -> JSONResponse:
    procedure = replace(_current_or_404(request, code), retired=True)
    return _change(request, procedure, if_match, account.username, "retire")


@router.post("/procedures/{code}/restore")
def restore_procedure(code: str, request: Request, account: Editor, if_match: IfMatch = None) -> JSONResponse:
    procedure = replace(_current_or_404(request, code), retired=False)
    return _change(request, procedure, if_match, account.username, "restore")


@router.get("/procedures/{code}/history")
def procedure_history(code: str, request: Request, account: Viewer) -> dict[str, Any]:
    _current_or_404(request, code)
    return {
        "code": code,
        "versions": [
            {
                "version": v.version,
                "action": v.action,
                "username": v.username,
                "at": v.at.isoformat(),
                "summary": v.summary,
                "changes": v.changes,
                "note": v.note,
            }
            for v in services(request).history.versions(code)
        ],
    }


@router.post("/procedures/{code}/revert")
def revert_procedure(
    code: str, body: RevertIn, request: Request, account: Publisher, if_match: IfMatch = None
) -> JSONResponse:
    staff = services(request)
    expected = _require_if_match(if_match)
    try:
        tag = staff.history.revert(code, body.version, expected, account.username)
    except Conflict as error:
        raise _conflict(error) from None
    except NotFound:
        raise HTTPException(404, f"Thủ tục “{code}” không có phiên bản {body.version}.") from None
    procedure = staff.store.procedure(code)
    assert procedure is not None
    return _with_etag(_procedure_body(procedure, len(staff.history.versions(code))), tag)


# ---- guides (bot/guidance.py, bot/guide_store.py) -----------------------------------------

GuideId = Annotated[str, Path(pattern=GUIDE_ID)]


def _guide_body(request: Request, guide: Guide) -> dict[str, Any]:
    staff = services(request)
    return {
        "guide": guide.to_dict(),
        "versions": len(staff.guides.versions(guide.id)),
        "edited_by": staff.guides.edited_by().get(guide.id, ""),
    }


def _current_guide(request: Request, guide_id: str) -> tuple[Guide, str]:
    try:
        return services(request).guides.current(guide_id)
    except NotFound:
        raise HTTPException(404, f"Không có hướng dẫn mã “{guide_id}”.") from None


@router.get("/guides")
def list_guides(request: Request, account: Viewer) -> list[dict[str, Any]]:
    staff = services(request)
    edited_by = staff.guides.edited_by()
    return [
        {
            "id": g.id,
            "title": g.title,
            "retired": g.retired,
            "needs_review": g.needs_review,
            "not_in_catalogue": g.not_in_catalogue,
            "edited_by": edited_by.get(g.id, ""),
        }
        for g in staff.guides.guides()
    ]


@router.post("/guides", status_code=201)
def create_guide(body: NewGuideIn, request: Request, account: Editor) -> JSONResponse:
    guide = body.guide(body.id)
    try:
        tag = services(request).guides.create(guide, account.username)
    except AlreadyExists:
        raise HTTPException(409, f"Đã có hướng dẫn mã “{body.id}”; hãy sửa hướng dẫn đó.") from None
    return _with_etag(_guide_body(request, guide), tag, 201)


@router.get("/guides/{guide_id}")
def get_guide(guide_id: GuideId, request: Request, account: Viewer) -> JSONResponse:
    guide, tag = _current_guide(request, guide_id)
    return _with_etag(_guide_body(request, guide), tag)


@router.put("/guides/{guide_id}")
def edit_guide(
    guide_id: GuideId, body: GuideIn, request: Request, account: Editor, if_match: IfMatch = None
) -> JSONResponse:
    expected = _require_if_match(if_match)
    guide = body.guide(guide_id)
    try:
        tag = services(request).guides.change(guide, expected, account.username)
    except Conflict as error:
        raise _conflict(error, "Hướng dẫn") from None
    except NotFound:
        raise HTTPException(404, f"Không có hướng dẫn mã “{guide_id}”.") from None
    return _with_etag(_guide_body(request, guide), tag)


@router.get("/guides/{guide_id}/history")
def guide_history(guide_id: GuideId, request: Request, account: Viewer) -> dict[str, Any]:
    _current_guide(request, guide_id)
    return {
        "id": guide_id,
        "versions": [
            {"version": v.version, "username": v.username, "at": v.at.isoformat(), "guide": v.guide.to_dict()}
            for v in services(request).guides.versions(guide_id)
        ],
    }


# ---- import ------------------------------------------------------------------------


@router.post("/import")
async def import_procedures(
    request: Request,
    account: Editor,
    format: Annotated[str, Query(pattern="^(json|csv)$")],
    dry_run: bool = True,
) -> dict[str, Any]:
    body = await request.body()
    history = services(request).history
    try:
        report = importing.plan(history, body, format)
    except importing.ImportFileError as error:
        raise HTTPException(422, str(error)) from None
    if not dry_run:
        importing.apply(history, report, account.username)
    return import_body(report)


def import_body(report: importing.ImportReport) -> dict[str, Any]:
    return {
        "applied": report.applied,
        "counts": report.counts,
        "rows": [
            {"row": r.row, "code": r.code, "name": r.name, "outcome": r.outcome, "fields": r.fields, "reason": r.reason}
            for r in report.rows
        ],
    }


# ---- publishing ----------------------------------------------------------------------


def publish_body(request: Request) -> dict[str, Any]:
    status = services(request).publisher.status
    body = asdict(status)
    for key in ("started_at", "finished_at"):
        body[key] = body[key].isoformat() if body[key] else None
    return {**body, "state_name": status.state_name}


@router.post("/publish", status_code=202)
def publish(request: Request, account: Publisher) -> dict[str, Any]:
    try:
        services(request).publisher.publish(account.username)
    except PublishBusy:
        raise HTTPException(409, "Đang có một lần xuất bản chạy; hãy đợi nó xong.") from None
    return publish_body(request)


@router.get("/publish")
def publish_status(request: Request, account: Viewer) -> dict[str, Any]:
    return publish_body(request)


# ---- review queues ------------------------------------------------------------------------


@router.get("/review/unanswered")
def unanswered_groups(request: Request, account: Viewer) -> dict[str, Any]:
    groups = services(request).review.groups()
    return {
        "groups": [{**asdict(g), "last_asked": g.last_asked.isoformat()} for g in groups],
        "questions": sum(g.count for g in groups),
    }


@router.post("/review/unanswered/faq", status_code=201)
def unanswered_to_faq(body: FaqIn, request: Request, account: Editor) -> dict[str, Any]:
    try:
        faq_id = services(request).review.to_faq(
            body.question_ids, body.question, body.answer, body.procedure_code, account.username
        )
    except ReviewError as error:
        raise HTTPException(422, str(error)) from None
    return {"faq_id": faq_id}


@router.post("/review/unanswered/alias")
def unanswered_to_alias(body: AliasIn, request: Request, account: Editor) -> JSONResponse:
    try:
        tag = services(request).review.to_alias(body.question_ids, body.alias, body.procedure_code, account.username)
    except ReviewError as error:
        raise HTTPException(422, str(error)) from None
    except Conflict as error:
        raise _conflict(error) from None
    return _with_etag({"procedure_code": body.procedure_code}, tag)


@router.post("/review/unanswered/dismiss", status_code=204)
def unanswered_dismiss(body: QuestionIds, request: Request, account: Editor) -> Response:
    try:
        services(request).review.dismiss(body.question_ids, account.username)
    except ReviewError as error:
        raise HTTPException(422, str(error)) from None
    return Response(status_code=204)


@router.get("/review/feedback")
def feedback(request: Request, account: Viewer) -> dict[str, Any]:
    store = services(request).feedback
    summary = store.ratings_summary()
    return {
        "ratings": {
            "total": summary.total,
            "counts": {level.value: n for level, n in summary.counts.items()},
            "satisfied_share": summary.satisfied_share,
            "dissatisfied_by_procedure": summary.dissatisfied_by_procedure,
        },
        "callbacks": [_record(asdict(c)) for c in store.list_callbacks()],
        "complaints": [_record(asdict(c)) for c in store.list_complaints()],
    }


def _record(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in data.items()}


# ---- text messages the callbot queued ------------------------------------------------------

MessageId = Annotated[int, Path(ge=1, le=MAX_INTEGER)]


def message_body(message: OutgoingMessage) -> dict[str, Any]:
    return {**_record(asdict(message)), "status_name": MESSAGE_STATUS_LABELS.get(message.status, message.status)}


@router.get("/outbox")
def outbox(
    request: Request,
    account: Viewer,
    status: Annotated[str | None, Query(pattern="^(queued|sent|failed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Newest first; phone and ID numbers masked."""
    return {"messages": [message_body(m) for m in services(request).outbox.list_masked(status, limit)]}


@router.get("/outbox/{message_id}")
def outbox_message(message_id: MessageId, request: Request, account: Viewer) -> dict[str, Any]:
    """One message whole, with the number to send it to."""
    message = services(request).outbox.message(message_id)
    if message is None:
        raise HTTPException(404, MESSAGE_NOT_FOUND)
    return message_body(message)


@router.post("/outbox/{message_id}/sent")
def outbox_message_sent(message_id: MessageId, request: Request, account: Editor) -> dict[str, Any]:
    outbox = services(request).outbox
    if not outbox.mark(message_id, "sent"):
        raise HTTPException(404, MESSAGE_NOT_FOUND)
    logger.info("outbox message %d marked sent by %s", message_id, account.username)
    sent = outbox.message(message_id)
    assert sent is not None
    return message_body(sent)


# ---- accounts -------------------------------------------------------------------------------


@router.get("/accounts")
def list_accounts(request: Request, account: Admin) -> list[dict[str, Any]]:
    return [account_body(a) for a in services(request).accounts.all()]


@router.post("/accounts", status_code=201)
def create_account(body: AccountIn, request: Request, account: Admin) -> dict[str, Any]:
    try:
        created = services(request).accounts.create(body.username, body.password, body.role)
    except AccountError as error:
        raise HTTPException(422, str(error)) from None
    return account_body(created)


@router.patch("/accounts/{username}")
def change_account(username: str, body: AccountChange, request: Request, account: Admin) -> dict[str, Any]:
    staff = services(request)
    try:
        changed = staff.accounts.update(username, body.role, body.active, body.password)
    except AccountError as error:
        raise HTTPException(422, str(error)) from None
    if body.active is False or body.password:
        staff.sessions.end_all(username)
    return account_body(changed)
