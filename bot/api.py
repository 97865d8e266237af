"""HTTP API of the procedure Q&A core."""

# No `from __future__ import annotations`: FastAPI must resolve the
# dependency annotation, which names a local of create_app().
import logging
import threading
from dataclasses import asdict
from functools import lru_cache
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictBool, StrictInt

from bot.assistant import Assistant
from bot.dossiers import DossierStore, StatusLookup
from bot.errors import ERROR_RESPONSES, service_unavailable_response, validation_error_response
from bot.fees import MAX_UNITS, FeeEngine, FeePolicies, answer_fee_question
from bot.gateway import install_gateway
from bot.guide_store import seed_shipped_guides
from bot.index_sync import IndexFollower
from bot.ratelimit import RateLimiter, enforce_rate_limit, install_rate_limits
from bot.settings import LOCAL_TIME, Settings
from bot.staff.app import install_staff
from bot.text import MAX_QUESTION_CHARS
from voice.media_stream import install_phone

logger = logging.getLogger(__name__)


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


class DossierStatusQuery(BaseModel):
    code: str = Field(max_length=200, description="Mã hồ sơ như người dân gõ hoặc nói (có thể kèm 4 số cuối)")
    check: str = Field(default="", max_length=100, description="4 số cuối số điện thoại (hoặc số căn cước) đã đăng ký")
    conversation_id: str = Field(min_length=1, max_length=128, description="Mã cuộc hội thoại (tính số lần thử)")


class DossierStatus(BaseModel):
    outcome: str  # verified | not_verified | locked | invalid_code | invalid_check
    text: str
    dossier_code: str | None = None
    status: str | None = None
    source: str | None = None
    updated_at: str | None = None
    attempts_left: int | None = None


class FeeQuestion(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="Câu hỏi về phí hoặc thời hạn")
    procedure_code: str | None = Field(default=None, max_length=64, description="Mã thủ tục, nếu đã biết")
    copies: StrictInt | None = Field(default=None, ge=1, le=MAX_UNITS, description="Số bản, trang, phiếu")
    online: StrictBool | None = Field(default=None, description="Nộp trực tuyến (true) hay trực tiếp (false)")


class FeeAnswer(BaseModel):
    outcome: str  # answer | clarify | guide | unknown
    text: str
    procedure_code: str | None = None
    procedure_name: str | None = None
    choices: list[ChoiceOut] = []


_loading = threading.Lock()  # the load at start and a first request must not load the model twice


def _assistant() -> Assistant:
    with _loading:
        return _load_assistant()


@lru_cache(maxsize=1)
def _load_assistant() -> Assistant:
    settings = Settings.from_env()
    # The guides this release ships, also into a database an older release made (bot/guide_store.py).
    seed_shipped_guides(settings.database_url, settings.guidance_file)
    assistant = Assistant.from_settings(settings)
    # Follows publishes made by any worker (bot/index_sync.py).
    IndexFollower(assistant, settings.index_dir, settings.index_check_seconds).start()
    return assistant


@lru_cache(maxsize=1)
def _status_lookup() -> StatusLookup:
    settings = Settings.from_env()
    return StatusLookup(DossierStore(settings.database_url, settings.now), settings.helpdesk)


@lru_cache(maxsize=1)
def _fee_engine() -> FeeEngine:
    settings = Settings.from_env()
    return FeeEngine(FeePolicies.load(settings.fee_policies_file), settings.helpdesk, settings.now)


def create_app(
    assistant_factory: Any = _assistant,
    status_lookup_factory: Any = _status_lookup,
    fee_engine_factory: Any = _fee_engine,
) -> FastAPI:
    app = FastAPI(title="Trợ lý ảo thủ tục hành chính", version="0.1.0", responses=ERROR_RESPONSES)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return validation_error_response(error.errors())

    @app.exception_handler(sa.exc.OperationalError)
    async def database_unreachable(request: Request, error: sa.exc.OperationalError) -> JSONResponse:
        logger.warning("database unreachable: %s", str(error).splitlines()[0])
        return service_unavailable_response()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    install_rate_limits(app, RateLimiter.from_settings(Settings.from_env()))

    @app.post("/api/ask", response_model=Answer, dependencies=[Depends(enforce_rate_limit)])
    def ask(body: Question, assistant: Annotated[Assistant, Depends(assistant_factory)]) -> Answer:
        reply = assistant.answer_for(body.procedure_code, body.question) if body.procedure_code else None
        reply = reply or assistant.ask(body.question)
        return Answer(**asdict(reply))

    @app.post("/api/dossiers/status", response_model=DossierStatus, dependencies=[Depends(enforce_rate_limit)])
    def dossier_status(
        body: DossierStatusQuery, lookup: Annotated[StatusLookup, Depends(status_lookup_factory)]
    ) -> DossierStatus:
        reply = lookup.lookup(body.code, body.check, body.conversation_id)
        updated_at = reply.updated_at.astimezone(LOCAL_TIME).isoformat() if reply.updated_at else None
        return DossierStatus(**{**asdict(reply), "updated_at": updated_at})

    @app.post("/api/fees", response_model=FeeAnswer, dependencies=[Depends(enforce_rate_limit)])
    def fees(
        body: FeeQuestion,
        assistant: Annotated[Assistant, Depends(assistant_factory)],
        engine: Annotated[FeeEngine, Depends(fee_engine_factory)],
    ) -> FeeAnswer:
        reply = answer_fee_question(assistant, engine, body.question, body.procedure_code, body.copies, body.online)
        return FeeAnswer(**asdict(reply))

    install_gateway(app, assistant_factory, fee_engine_factory)  # chat, widget, feedback, /ready, /metrics
    install_staff(app, assistant_factory)  # staff console: /staff (HTML) and /api/staff (JSON)
    install_phone(app, assistant_factory, status_lookup_factory, fee_engine_factory)  # /ws/phone, voice in /ready
    return app
