"""Phone numbers and ID numbers hidden from logs, from what is kept for analytics and from staff lists.

- :func:`mask_text`: in free text, every Vietnamese phone number (``0912 345 678``,
  ``+84 912.345.678``, ``84912345678``, landlines ``0255 3822 123``) and citizen ID number
  (căn cước công dân, 12 digits; old chứng minh nhân dân, 9 digits) keeps its first 3 digits,
  the others become ``*``: ``091*******``. Never touched: dossier codes
  (``000.00.53.H48-220921-0099``), procedure codes (``1.001193.000.00.00.H48``), ticket numbers,
  dates, amounts (``150.000 đồng``, ``200000000 đồng``) and the 4 check digits of a lookup.
- :func:`mask_phone`: a normalised phone number in a staff list: ``091****678``.
- :func:`install_log_masking`: a :class:`logging.Filter` on the application's loggers.

Only what is stored or shown is masked: the gateway still hands the citizen's own words to Rasa
and to the dossier ownership check.
"""

from __future__ import annotations

import logging
import re
from typing import Any

VISIBLE_DIGITS = 3
# Inside a longer number, code or word a digit run is part of that (a dossier or procedure code).
_START = r"(?<![\w+])(?<!\d[.\-])"
_END = r"(?!\w)(?![.\-]\d)"
_SEP = r"[ .\-]?"
_PHONE = (
    rf"(?:\(\+84\){_SEP}|\+84{_SEP}|84{_SEP}|0)"  # country code or trunk prefix
    rf"(?:[35789]\d(?:{_SEP}\d){{7}}|2\d(?:{_SEP}\d){{8}})"  # mobile: 9 digits (3, 5, 7, 8, 9…); landline: 10 (2…)
)
_ID = r"\d{12}|\d{3} \d{3} \d{3} \d{3}|\d{4} \d{4} \d{4}|\d{9}"  # CCCD, CMND
_NOT_AN_AMOUNT = r"(?!\s?(?:đồng|đ|dong|vnđ|vnd)\b)"
_SENSITIVE = re.compile(rf"{_START}(?:{_PHONE}|(?:{_ID}){_NOT_AN_AMOUNT}){_END}", re.IGNORECASE)


def _hide(match: re.Match[str]) -> str:
    shown = 0
    out = []
    for ch in match.group(0):
        if ch.isdigit():
            out.append(ch if shown < VISIBLE_DIGITS else "*")
            shown += 1
        else:
            out.append(ch)
    return "".join(out)


def mask_text(text: str) -> str:
    """The text with every phone number and ID number masked (see the module docstring)."""
    return _SENSITIVE.sub(_hide, text) if text else text


def mask_phone(phone: str) -> str:
    """'0912345678' → '091****678': staff lists never show a whole number."""
    if not phone:
        return ""
    if len(phone) <= 6:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 6) + phone[-3:]


# ---- logs -------------------------------------------------------------------------------

# The application's own loggers and the server's (uvicorn logs request paths and errors).
APP_LOGGER_ROOTS = ("bot", "voice", "uvicorn")


def _masked_arg(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if value is None or isinstance(value, int | float):
        return value  # formatted with %d or %f: left as the number it is
    text = str(value)
    masked = mask_text(text)
    return value if masked == text else masked


class MaskingFilter(logging.Filter):
    """Masks a record's message, arguments, exception and stack text before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_text(record.msg)
        if isinstance(record.args, dict):
            record.args = {key: _masked_arg(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(_masked_arg(value) for value in record.args)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


def install_log_masking() -> None:
    """Adds the filter, once, to each application logger that exists and to their roots.

    A logger's filters see only what is logged to it (not what its children pass up), so every
    module's logger gets its own; the modules of the app are imported when this runs.
    """
    names = {*APP_LOGGER_ROOTS, "uvicorn.error", "uvicorn.access"}
    names |= {name for name in logging.root.manager.loggerDict if name.split(".")[0] in APP_LOGGER_ROOTS}
    for name in sorted(names):
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskingFilter) for f in logger.filters):
            logger.addFilter(MaskingFilter())
