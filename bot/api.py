"""HTTP API of the procedure Q&A core."""

# No `from __future__ import annotations`: FastAPI must resolve the
# dependency annotation, which names a local of create_app().
from dataclasses import asdict
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from pydantic import BaseModel, Field

from bot.assistant import Assistant
from bot.settings import Settings
from bot.text import MAX_QUESTION_CHARS


class Question(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="Câu hỏi của người dân")
    procedure_code: str | None = Field(
        default=None, max_length=64, description="Mã thủ tục người dân đã chọn sau câu hỏi làm rõ"
    )


class ChoiceOut(BaseModel):
    code: str
    name: str


class Answer(BaseModel):
    kind: str
    text: str
    confidence: float
    procedure_code: str | None = None
    procedure_name: str | None = None
    section: str | None = None
    portal_url: str | None = None
    choices: list[ChoiceOut] = []


@lru_cache(maxsize=1)
def _assistant() -> Assistant:
    return Assistant.from_settings(Settings.from_env())


def create_app(assistant_factory: Any = _assistant) -> FastAPI:
    app = FastAPI(title="Trợ lý ảo thủ tục hành chính", version="0.1.0")

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/ask", response_model=Answer)
    def ask(body: Question, assistant: Annotated[Assistant, Depends(assistant_factory)]) -> Answer:
        reply = assistant.answer_for(body.procedure_code, body.question) if body.procedure_code else None
        reply = reply or assistant.ask(body.question)
        return Answer(**asdict(reply))

    return app
