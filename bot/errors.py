"""The one shape of every refused request: HTTP 4xx bodies and WebSocket error frames.

``{"message": <Vietnamese>, "message_en": <English>, "detail": [...]}``: the
citizen-facing text is Vietnamese; the English one is for integrators.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """The body of every refused request, as the OpenAPI schema documents it."""

    message: str = Field(description="Thông báo tiếng Việt, hiển thị cho người dân hoặc cán bộ")
    message_en: str = Field(description="The same in English, for integrators")
    detail: Any = Field(default=None, description="Validation errors (a list), or the route's own detail")


# Documented on every route: whatever 4xx a route answers has this body.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorBody, "description": "Yêu cầu bị từ chối; lý do bằng tiếng Việt trong `message`"},
}


def validation_messages(errors: list[dict[str, Any]]) -> tuple[str, str]:
    """Vietnamese and English messages for pydantic validation errors."""
    fields = sorted({_field(e["loc"]) for e in errors if e.get("type") != "json_invalid" and e.get("loc")})
    if fields:
        names = ", ".join(fields)
        too_long = any(e.get("type") in {"string_too_long", "too_long"} for e in errors)
        if too_long:
            return (
                f"Yêu cầu không hợp lệ (trường: {names}): nội dung quá dài. Vui lòng rút gọn rồi gửi lại.",
                f"Invalid request (field: {names}): too long. Please shorten it and send again.",
            )
        return (
            f"Yêu cầu không hợp lệ (trường: {names}). Vui lòng kiểm tra dữ liệu gửi lên.",
            f"Invalid request (field: {names}). Please check the data sent.",
        )
    return (
        "Yêu cầu không hợp lệ (nội dung không phải JSON hợp lệ). Vui lòng kiểm tra dữ liệu gửi lên.",
        "Invalid request (the body is not valid JSON). Please check the data sent.",
    )


def _field(loc: Any) -> str:
    """The field a validation error is about: ``question_ids`` for ``("body", "question_ids", 0)``."""
    return str(next((part for part in reversed(loc) if isinstance(part, str)), loc[-1]))


def sendable(value: Any) -> Any:
    """The value with every lone surrogate replaced by U+FFFD and infinities and NaN as text.

    JSON may escape a lone surrogate ("\\ud800") though UTF-8 cannot encode it, and Python reads
    1e999 as infinity: an error that echoes such input would otherwise fail to be sent at all.
    """
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # 1e999 and NaN parse from JSON but JSON cannot carry them back
    if isinstance(value, list):
        return [sendable(item) for item in value]
    if isinstance(value, dict):
        return {key: sendable(item) for key, item in value.items()}
    return value


def error_body(message: str, message_en: str, detail: Any = None) -> dict[str, Any]:
    return {"message": message, "message_en": message_en, "detail": sendable(jsonable_encoder(detail or []))}


def error_response(status: int, message: str, message_en: str, detail: Any = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=error_body(message, message_en, detail))


def validation_error_response(errors: list[dict[str, Any]]) -> JSONResponse:
    message, message_en = validation_messages(errors)
    return error_response(422, message, message_en, errors)


HTTP_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("Yêu cầu không hợp lệ (nội dung không đọc được). Vui lòng kiểm tra dữ liệu gửi lên.",
          "Invalid request (the body could not be read). Please check the data sent."),
    401: ("Vui lòng đăng nhập.", "Please sign in."),
    403: ("Bạn không có quyền thực hiện thao tác này.", "You are not allowed to do this."),
    404: ("Không tìm thấy nội dung yêu cầu.", "Not found."),
    405: ("Phương thức không được hỗ trợ ở địa chỉ này.", "Method not allowed here."),
    409: ("Dữ liệu đã bị người khác thay đổi. Vui lòng tải lại rồi thử lại.",
          "The data was changed by someone else. Please reload and try again."),
    413: ("Nội dung gửi lên quá lớn.", "Request body too large."),
}


def http_error_response(status: int, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    """Any HTTPException: its own ``detail`` kept, the two messages added."""
    message, message_en = HTTP_MESSAGES.get(
        status, ("Yêu cầu không thực hiện được.", "The request could not be completed.")
    )
    if isinstance(detail, str) and not detail.isascii():
        message = sendable(detail)  # the route's own (Vietnamese) words; not the framework's ASCII phrases
    body = {"message": message, "message_en": message_en, "detail": sendable(jsonable_encoder(detail))}
    return JSONResponse(status_code=status, content=body, headers=headers)


DATABASE_UNAVAILABLE = (
    "Hệ thống đang tạm thời gián đoạn. Vui lòng thử lại sau ít phút.",
    "The service is temporarily unavailable. Please try again in a few minutes.",
)


def service_unavailable_response(retry_after_seconds: int = 5) -> JSONResponse:
    """The database cannot be reached (restarting, network): fail fast and say when to retry."""
    return JSONResponse(
        status_code=503, content=error_body(*DATABASE_UNAVAILABLE), headers={"Retry-After": str(retry_after_seconds)}
    )


def allowed_methods(request: Request) -> str:
    """The ``Allow`` header of a 405: every method some route serves at the requested path."""
    methods = {
        method
        for route in request.app.routes
        if getattr(route, "methods", None) and route.path_regex.match(request.url.path)
        for method in route.methods
    }
    return ", ".join(sorted(methods))
