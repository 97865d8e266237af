"""Who is signed in, and what they may do: FastAPI dependencies for the staff routes.

JSON routes answer 401 when nobody is signed in and 403 for a role without
the permission or a missing CSRF header; HTML pages redirect to the sign-in
page instead of 401. Every state-changing request carries the session's CSRF
token (header ``X-CSRF-Token`` for the API, hidden field ``csrf`` in forms).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from urllib.parse import parse_qs, quote

from fastapi import HTTPException, Request

from bot.staff.accounts import Account, Permission
from bot.staff.services import StaffServices
from bot.staff.sessions import COOKIE_NAME

_BUILDING = threading.Lock()
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
MAX_FORM_BYTES = 6 * 2**20

NOT_SIGNED_IN = "Cần đăng nhập (authentication required)."
FORBIDDEN = "Tài khoản của bạn không có quyền thực hiện thao tác này (forbidden)."
BAD_CSRF = "Thiếu hoặc sai mã chống giả mạo yêu cầu (CSRF token). Hãy tải lại trang rồi thử lại."


class LoginRequired(Exception):
    """An HTML page asked for by someone not signed in: answered with a redirect."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def services(request: Request) -> StaffServices:
    state = request.app.state
    if getattr(state, "staff", None) is None:
        with _BUILDING:  # one set of services (one publisher, one rebuild lock) per application
            if getattr(state, "staff", None) is None:
                state.staff = state.staff_factory()
    return state.staff


def signed_in(request: Request) -> Account | None:
    staff = services(request)
    username = staff.sessions.username(request.cookies.get(COOKIE_NAME))
    account = staff.accounts.get(username) if username else None
    return account if account and account.active else None


def csrf_token(request: Request) -> str:
    return services(request).sessions.csrf_token(request.cookies.get(COOKIE_NAME))


def api_user(permission: Permission) -> Callable[[Request], Account]:
    def dependency(request: Request) -> Account:
        account = signed_in(request)
        if account is None:
            raise HTTPException(401, NOT_SIGNED_IN)
        if not account.can(permission):
            raise HTTPException(403, FORBIDDEN)
        if request.method not in SAFE_METHODS and not services(request).sessions.check_csrf(
            request.cookies.get(COOKIE_NAME), request.headers.get("x-csrf-token")
        ):
            raise HTTPException(403, BAD_CSRF)
        return account

    return dependency


def page_user(permission: Permission) -> Callable[[Request], Account]:
    """For HTML pages; forms check their CSRF field with :func:`read_form`."""

    def dependency(request: Request) -> Account:
        account = signed_in(request)
        if account is None:
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginRequired(path if request.method == "GET" else "/staff")
        if not account.can(permission):
            raise HTTPException(403, FORBIDDEN)
        return account

    return dependency


async def read_form(request: Request, check_csrf: bool = True) -> dict[str, str]:
    """An url-encoded form's fields (last value wins), its CSRF token checked."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    body = await request.body()
    if body and content_type != "application/x-www-form-urlencoded":
        raise HTTPException(415, "Biểu mẫu phải được gửi dạng application/x-www-form-urlencoded.")
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(413, "Nội dung gửi lên quá lớn.")
    try:
        fields = {k: v[-1] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
    except UnicodeDecodeError:
        raise HTTPException(400, "Biểu mẫu phải được mã hóa UTF-8.") from None
    if check_csrf and not services(request).sessions.check_csrf(request.cookies.get(COOKIE_NAME), fields.get("csrf")):
        raise HTTPException(403, BAD_CSRF)
    return fields


def safe_next(next_path: str) -> str:
    """Where to go after signing in: a console page only, never another site."""
    ok = next_path.startswith("/staff") and "//" not in next_path and "\\" not in next_path
    return next_path if ok else "/staff"


def login_redirect(next_path: str) -> str:
    return f"/staff/login?next={quote(safe_next(next_path))}"
