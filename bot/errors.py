"""The one shape of every refused request: HTTP 4xx bodies and WebSocket error frames.

``{"message": <Vietnamese>, "message_en": <English>, "detail": [...]}``: the
citizen-facing text is Vietnamese; the English one is for integrators.
"""

from __future__ import annotations

from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse


def validation_messages(errors: list[dict[str, Any]]) -> tuple[str, str]:
    """Vietnamese and English messages for pydantic validation errors."""
    fields = sorted({str(e["loc"][-1]) for e in errors if e.get("type") != "json_invalid" and e.get("loc")})
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


def error_body(message: str, message_en: str, detail: Any = None) -> dict[str, Any]:
    return {"message": message, "message_en": message_en, "detail": jsonable_encoder(detail or [])}


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
    if isinstance(detail, str) and status not in (400, 404, 405):
        message_en = detail  # the route's own words are English and more precise
    body = {"message": message, "message_en": message_en, "detail": jsonable_encoder(detail)}
    return JSONResponse(status_code=status, content=body, headers=headers)
