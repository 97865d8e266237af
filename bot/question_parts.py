"""Questions about several procedures at once: "làm giấy khai sinh và đăng ký thường trú cho con cần gì".

The retriever ranks procedures for a whole question, so only one of those named gets answered. The
question is cut at "và", "với cả", commas and semicolons; each part that names something (a word that
is not an asking word) is searched on its own by the assistant, which keeps only the parts it can answer
with confidence.
"""

from __future__ import annotations

import re

from bot.text import naming_words

MAX_PARTS = 3
SEPARATORS = re.compile(r"\s*(?:[,;]|\b(?:và|va|với cả|voi ca|cùng với|cung voi)\b)\s*")


def question_parts(normalized_question: str) -> list[str]:
    """The parts of a question that each name something, or [] when it names at most one thing."""
    parts = [part for part in SEPARATORS.split(normalized_question) if part]
    naming = [p for p in parts if naming_words(p)]
    return naming[:MAX_PARTS] if len(naming) >= 2 else []
