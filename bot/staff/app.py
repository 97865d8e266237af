"""Mounts the staff console (HTML under /staff, JSON under /api/staff) on the application."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse

from bot.assistant import Assistant
from bot.settings import Settings
from bot.staff import api, console, guide_pages
from bot.staff.auth import LoginRequired, login_redirect
from bot.staff.services import StaffServices


def install_staff(app: FastAPI, assistant_factory: Callable[[], Assistant]) -> None:
    """The services are built on first use from the environment's settings (tests set ``app.state.staff``)."""
    app.state.staff_factory = lambda: StaffServices.build(Settings.from_env(), assistant_factory)
    app.include_router(api.router)
    app.include_router(console.router)
    app.include_router(guide_pages.router)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, error: LoginRequired) -> RedirectResponse:
        return RedirectResponse(login_redirect(error.next_path), status_code=303)
