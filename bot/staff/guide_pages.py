"""Console pages for the guides (bot/guidance.py): list, create, edit, switch off, history, and a
question to try against them before publishing.

Lists are edited one item per line. Like procedure edits, a change is made from the version the
form was opened on (its ETag in a hidden field) and reaches citizens when staff publish.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from bot.guidance import Guide
from bot.staff.auth import read_form, services
from bot.staff.console import Editor, Viewer, back, render
from bot.staff.guide_input import FIELD_NAMES, GuideIn, NewGuideIn
from bot.staff.history import AlreadyExists, Conflict, NotFound
from bot.text import MAX_QUESTION_CHARS, clean, normalize

LIST_FIELDS = [
    ("phrases", "Mỗi dòng một cụm từ làm câu hỏi thuộc hướng dẫn này (“lần đầu”, “dưới 14 tuổi”)."),
    ("subject", "Nếu có: mỗi dòng một chủ đề; câu hỏi phải nêu thêm một trong các chủ đề này (“sổ đỏ”)."),
    ("context", "Mỗi dòng một từ có thể đứng cạnh các cụm từ mà không làm câu hỏi thành câu hỏi khác (“tuổi”)."),
    ("sources", "Mỗi dòng một văn bản pháp luật và điều khoản."),
]
FLAGS = ["needs_review", "not_in_catalogue", "retired"]
CONFLICT = (
    "Hướng dẫn đã được người khác thay đổi sau khi bạn mở trang; thay đổi của bạn CHƯA được lưu. "
    "Dưới đây là bản mới nhất: hãy sửa lại trên bản này."
)
SAVED = "Đã lưu. Thay đổi có hiệu lực với người dân sau khi xuất bản."

router = APIRouter(prefix="/staff/guides", include_in_schema=False)


def guide_form(guide: Guide) -> dict[str, Any]:
    data = guide.to_dict()
    return {**data, **{name: "\n".join(data[name]) for name, _ in LIST_FIELDS}}


def form_guide(form: dict[str, str], guide_id: str | None) -> Guide:
    """The guide a submitted form describes; ``guide_id`` None when the form creates one."""
    values: dict[str, Any] = {
        "title": form.get("title", ""),
        "answer": form.get("answer", ""),
        "last_reviewed": form.get("last_reviewed", ""),
        **{name: [line.strip() for line in form.get(name, "").splitlines() if line.strip()] for name, _ in LIST_FIELDS},
        **{flag: flag in form for flag in FLAGS},
    }
    try:
        if guide_id is None:
            body = NewGuideIn.model_validate({**values, "id": form.get("id", "").strip()})
            return body.guide(body.id)
        return GuideIn.model_validate(values).guide(guide_id)
    except ValidationError as error:
        where = ", ".join(sorted({FIELD_NAMES.get(str(e["loc"][0]), str(e["loc"][0])) for e in error.errors()}))
        raise ValueError(f"Dữ liệu chưa hợp lệ ở: {where}.") from None


def _page(request: Request, form: dict[str, Any], status: int = 200, error: str = "", **extra: Any) -> HTMLResponse:
    creating = "etag" not in extra
    return render(
        request,
        "guide.html",
        "Thêm hướng dẫn" if creating else form["title"],
        status,
        form=form,
        creating=creating,
        list_fields=LIST_FIELDS,
        field_names=FIELD_NAMES,
        flags=FLAGS,
        error=error,
        **extra,
    )


def _edit_page(
    request: Request, guide_id: str, status: int = 200, error: str = "", typed: dict[str, Any] | None = None
) -> HTMLResponse:
    """The stored guide's form, or what was ``typed`` into it when it could not be saved as it is."""
    staff = services(request)
    try:
        guide, tag = staff.guides.current(guide_id)
    except NotFound:
        raise HTTPException(404, f"Không có hướng dẫn mã “{guide_id}”.") from None
    form = {**guide_form(guide), **typed} if typed else guide_form(guide)
    return _page(request, form, status, error, etag=tag, versions=staff.guides.versions(guide_id))


@router.get("")
def guides_page(
    request: Request, account: Viewer, question: Annotated[str, Query(max_length=MAX_QUESTION_CHARS)] = ""
) -> HTMLResponse:
    """The guides, and which of them a question would get as they are stored now (before publishing)."""
    staff = services(request)
    matched = staff.guides.book().match(normalize(clean(question))) if question.strip() else None
    return render(
        request,
        "guides.html",
        "Hướng dẫn chung",
        guides=staff.guides.guides(),
        edited_by=staff.guides.edited_by(),
        question=question,
        matched=matched,
    )


@router.get("/new")
def new_guide(request: Request, account: Editor) -> HTMLResponse:
    empty = {"id": "", "title": "", "answer": "", "last_reviewed": "", "needs_review": True}
    return _page(request, {**empty, **{name: "" for name, _ in LIST_FIELDS}})


def _typed(form: dict[str, str]) -> dict[str, Any]:
    """A submitted form as the page shows it again (an unticked box is left out of a form)."""
    fields = ["title", "answer", "last_reviewed", *(name for name, _ in LIST_FIELDS)]
    return {**{name: form.get(name, "") for name in fields}, **{flag: flag in form for flag in FLAGS}}


@router.post("/new")
async def create_guide(request: Request, account: Editor) -> Response:
    form = await read_form(request)
    shown = {"id": form.get("id", ""), **_typed(form)}
    try:
        guide = form_guide(form, None)
        services(request).guides.create(guide, account.username)
    except ValueError as error:
        return _page(request, shown, 422, str(error))
    except AlreadyExists:
        return _page(request, shown, 409, f"Đã có hướng dẫn mã “{form.get('id', '')}”.")
    return back(f"/staff/guides/{guide.id}", SAVED)


@router.get("/{guide_id}")
def guide_page(guide_id: str, request: Request, account: Viewer) -> HTMLResponse:
    return _edit_page(request, guide_id)


@router.post("/{guide_id}")
async def edit_guide(guide_id: str, request: Request, account: Editor) -> Response:
    form = await read_form(request)
    try:
        guide = form_guide(form, guide_id)
        services(request).guides.change(guide, form.get("etag", ""), account.username)
    except ValueError as error:  # kept on the page to correct, not lost
        return _edit_page(request, guide_id, 422, str(error), _typed(form))
    except Conflict:
        return _edit_page(request, guide_id, 409, CONFLICT)
    except NotFound:
        raise HTTPException(404, f"Không có hướng dẫn mã “{guide_id}”.") from None
    return back(f"/staff/guides/{guide_id}", SAVED)
