"""A guide (bot.guidance) as staff send it: JSON from the API or the console's form.

A phrase with no word in it would match every question, so each phrase and subject must hold one.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, field_validator

from bot.guidance import Guide
from bot.text import normalize, words

GUIDE_ID = r"^[a-z0-9_]{1,64}$"
Phrase = Annotated[str, Field(min_length=1, max_length=100)]

FIELD_NAMES = {
    "id": "Mã hướng dẫn",
    "title": "Tiêu đề",
    "phrases": "Cụm từ nhận biết",
    "subject": "Chủ đề bắt buộc",
    "context": "Từ có thể đi kèm",
    "answer": "Nội dung trả lời",
    "sources": "Nguồn",
    "last_reviewed": "Ngày rà soát",
    "needs_review": "Cần rà soát",
    "not_in_catalogue": "Thủ tục chưa có trong cơ sở dữ liệu",
    "retired": "Ngừng dùng",
}


class GuideIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    phrases: list[Phrase] = Field(min_length=1, max_length=50)
    subject: list[Phrase] = Field(default=[], max_length=50)
    context: list[Phrase] = Field(default=[], max_length=50)
    answer: str = Field(min_length=1, max_length=4000)
    sources: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(min_length=1, max_length=20)
    last_reviewed: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    needs_review: StrictBool = True
    not_in_catalogue: StrictBool = False
    retired: StrictBool = False

    @field_validator("phrases", "subject")
    @classmethod
    def _each_has_a_word(cls, phrases: list[str]) -> list[str]:
        if any(not words(normalize(p)) for p in phrases):
            raise ValueError("mỗi cụm từ phải có ít nhất một chữ")
        return phrases

    @field_validator("last_reviewed")
    @classmethod
    def _a_real_date(cls, text: str) -> str:
        dt.date.fromisoformat(text)  # ValueError for 2026-02-30
        return text

    def guide(self, guide_id: str) -> Guide:
        return Guide(
            guide_id,
            self.title.strip(),
            tuple(p.strip() for p in self.phrases),
            self.answer.strip(),
            tuple(s.strip() for s in self.sources),
            self.last_reviewed,
            self.needs_review,
            tuple(p.strip() for p in self.subject),
            tuple(c.strip() for c in self.context),
            self.not_in_catalogue,
            self.retired,
        )


class NewGuideIn(GuideIn):
    id: str = Field(pattern=GUIDE_ID)
