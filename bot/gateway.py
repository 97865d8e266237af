"""The gateway: the one entry point citizens reach (chat REST + WebSocket, widget, feedback, health, metrics).

Each chat message is NFC-normalised and cleaned, then:

- a quick-reply choice (``procedure_code`` after a clarifying question) is
  answered by the knowledge core (or the fee engine) directly, and Rasa is told
  the chosen procedure so that follow-ups refer to it;
- anything else goes to Rasa (REST channel, sender = conversation id). Rasa's
  actions call back into this app (``/api/ask``, ``/api/fees``,
  ``/api/dossiers/status``); the slots they set say what kind of reply it was,
  which procedure it cites and which choices it offers; a turn Rasa calls
  off-topic goes to the knowledge core too, whose answer, question back or
  guide wins over Rasa's refusal;
- when Rasa cannot be reached, or says nothing because its action server is
  down, the gateway answers itself: procedure and fee
  questions from the knowledge core and the fee engine, a handover request with
  the one-stop desk, and dossier-status turns (which need Rasa's form) with a
  polite "tạm thời gián đoạn" and the hotline. Never a 500.

Installed into :func:`bot.api.create_app` by :func:`install_gateway`.
"""

# No `from __future__ import annotations`: FastAPI resolves the route annotations.
import contextlib
import json
import logging
import re
import threading
import time
from collections.abc import AsyncIterator
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.assistant import Assistant, Reply
from bot.conversations import Conversation, ConversationStore, Pending, TurnRecord
from bot.dossier_codes import parse_code_and_check
from bot.errors import (
    DATABASE_UNAVAILABLE,
    ErrorBody,
    allowed_methods,
    error_body,
    error_response,
    http_error_response,
    validation_messages,
)
from bot.feedback import (
    CATEGORY_LABELS,
    RATING_LABELS,
    ComplaintCategory,
    FeedbackError,
    FeedbackStore,
    Rating,
)
from bot.fees import FeeReply, answer_fee_question
from bot.masking import install_log_masking
from bot.metrics import CONTENT_TYPE, GatewayMetrics
from bot.rasa_client import RasaClient, RasaTurn, RasaUnavailable
from bot.ratelimit import RateLimiter, client_address, enforce_rate_limit, limited_error
from bot.settings import Settings
from bot.text import MAX_QUESTION_CHARS, clean, fold

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
# Citizen-facing POST bodies larger than this are refused before they are parsed (staff imports are not limited).
MAX_BODY_BYTES = 256 * 1024
# The reply kind of each outcome of a fee question (bot.fees.FeeReply).
FEE_KINDS = {"answer": "fee", "clarify": "clarify", "guide": "guide"}
LIMITED_PATHS = ("/api/chat", "/api/ask", "/api/fees", "/api/dossiers/status", "/api/ratings", "/api/callbacks",
                 "/api/complaints")

# ---- request and reply bodies -------------------------------------------------------


class ChatMessage(BaseModel):
    message: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="Tin nhắn của người dân")
    conversation_id: str | None = Field(
        default=None, max_length=64, description="Mã cuộc hội thoại; bỏ trống để bắt đầu cuộc mới"
    )
    procedure_code: str | None = Field(
        default=None, max_length=64, description="Mã thủ tục người dân chọn từ các nút gợi ý sau câu hỏi làm rõ"
    )


class QuickReply(BaseModel):
    label: str
    procedure_code: str


class Citation(BaseModel):
    procedure_code: str
    procedure_name: str
    url: str


class ChatReply(BaseModel):
    conversation_id: str
    kind: str = Field(
        description="answer | guide | clarify | abstain | out_of_scope | invalid | fee | unknown | dossier | "
        "dossier_form | handover | dialogue | unavailable"
    )
    text: str
    route: str = Field(description="rasa | knowledge | fallback")
    buttons: list[QuickReply] = []
    citation: Citation | None = None


class RatingIn(BaseModel):
    rating: Rating = Field(description="very_satisfied | satisfied | neutral | dissatisfied")
    conversation_id: str = Field(default="", max_length=64)
    question: str = Field(default="", max_length=MAX_QUESTION_CHARS)
    answer_kind: str = Field(default="", max_length=32)
    procedure_code: str | None = Field(default=None, max_length=64)
    comment: str = Field(default="", max_length=MAX_QUESTION_CHARS)


class RatingOut(BaseModel):
    rating: Rating
    label: str
    text: str


class CallbackIn(BaseModel):
    phone: str = Field(min_length=1, max_length=32, description="Số điện thoại để cán bộ gọi lại")
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="Nội dung cần hỗ trợ")
    name: str = Field(default="", max_length=120, description="Họ tên (không bắt buộc)")
    conversation_id: str = Field(default="", max_length=64)


class ComplaintIn(BaseModel):
    category: ComplaintCategory = Field(description="complaint (phản ánh) | suggestion (kiến nghị)")
    content: str = Field(min_length=1, max_length=4000)
    name: str = Field(default="", max_length=120)
    phone: str = Field(default="", max_length=32)
    conversation_id: str = Field(default="", max_length=64)


class TicketOut(BaseModel):
    ticket: str
    text: str


# ---- shared state, overridable in tests ----------------------------------------------


@lru_cache(maxsize=1)
def conversation_store() -> ConversationStore:
    return ConversationStore(Settings.from_env().database_url)


@lru_cache(maxsize=1)
def feedback_store() -> FeedbackStore:
    settings = Settings.from_env()
    return FeedbackStore(settings.database_url, settings.now)


@lru_cache(maxsize=1)
def rasa_client() -> RasaClient:
    return RasaClient.from_env()


@lru_cache(maxsize=1)
def helpdesk() -> str:
    return Settings.from_env().helpdesk


# ---- the routing of one turn ---------------------------------------------------------

DOSSIER_PHRASES = (
    "tra cuu ho so", "tinh trang ho so", "trang thai ho so", "ho so cua toi", "ho so cua em", "ho so cua minh",
    "ma ho so", "ho so den dau", "kiem tra ho so", "ho so da xong", "ket qua ho so",
)
HANDOVER_PHRASES = (
    "gap can bo", "noi chuyen voi can bo", "noi chuyen voi nguoi", "gap nguoi that", "gap nhan vien",
    "tong dai vien", "can bo goi lai", "goi lai cho toi",
)
FEE_WORDS = re.compile(r"\b(le phi|phi|bao nhieu tien|het bao nhieu|mat bao nhieu|mat bao lau|bao lau|may ngay)\b")


def _folded(text: str) -> str:
    return fold(text.lower())


def looks_like_dossier_turn(message: str, conversation: Conversation) -> bool:
    if conversation.last_kind == "dossier_form":
        return True
    code, check = parse_code_and_check(message[:500])
    if conversation.last_kind == "unavailable" and check is not None:
        return True  # the check digits of the lookup just refused
    return code is not None or any(p in _folded(message) for p in DOSSIER_PHRASES)


def asks_for_a_person(message: str) -> bool:
    return any(p in _folded(message) for p in HANDOVER_PHRASES)


def unavailable_text(desk: str) -> str:
    return (
        "Hệ thống tra cứu hồ sơ tạm thời gián đoạn nên tôi chưa trả lời được lúc này. Bạn vui lòng thử lại sau "
        f"ít phút hoặc liên hệ {desk}."
    )


def handover_text(desk: str) -> str:
    return (
        f"Bạn có thể liên hệ trực tiếp {desk}. Hoặc bấm “Gặp cán bộ” để để lại số điện thoại, "
        "cán bộ sẽ gọi lại cho bạn."
    )


class Turn:
    """What one message produced, before it is logged and sent."""

    def __init__(
        self,
        kind: str,
        text: str,
        route: str,
        buttons: list[QuickReply] | None = None,
        citation: Citation | None = None,
        pending: Pending | None = None,
        keep_pending: bool = False,
    ) -> None:
        self.kind, self.text, self.route = kind, text, route
        self.buttons, self.citation = buttons or [], citation
        self.pending, self.keep_pending = pending, keep_pending

    @property
    def procedure_code(self) -> str | None:
        return self.citation.procedure_code if self.citation else None


class ChatRouter:
    """Routes one message through Rasa and the knowledge core (see the module docstring)."""

    def __init__(
        self,
        assistant: Any,  # a callable giving the Assistant (loaded on first use)
        fee_engine: Any,
        conversations: ConversationStore,
        rasa: RasaClient,
        desk: str,
        metrics: GatewayMetrics,
    ) -> None:
        self.assistant, self.fee_engine = assistant, fee_engine
        self.conversations, self.rasa, self.desk, self.metrics = conversations, rasa, desk, metrics

    async def handle(self, body: ChatMessage, channel: str) -> ChatReply:
        started = time.perf_counter()
        message = clean(body.message)
        if not message:
            raise EmptyMessage
        conversation = await run_in_threadpool(self.conversations.open, body.conversation_id, channel)
        if body.procedure_code:
            turn = await self._choice(conversation, body.procedure_code.strip(), message)
        else:
            try:
                turn = self._from_rasa(await self.rasa.send(conversation.id, message), message)
                if turn is not None and turn.kind == "out_of_scope":
                    turn = await run_in_threadpool(self._unless_the_knowledge_core_answers, turn, message)
            except RasaUnavailable as error:
                logger.warning("Rasa unavailable, answering without it: %s", error)
                self.metrics.rasa_failures.inc()
                turn = await run_in_threadpool(self._fallback, conversation, message)
            if turn is None:
                # Rasa said nothing: its action server failed (Rasa logs it and goes on without the
                # action's events). Answer as without Rasa: procedures and fees from the knowledge core,
                # dossier turns with "temporarily unavailable" and the hotline.
                logger.warning("Rasa gave no reply (is the action server down?): answering without it")
                turn = await run_in_threadpool(self._fallback, conversation, message)
        seconds = time.perf_counter() - started
        logger.debug("%s turn of %s: %r → %s via %s", channel, conversation.id, message, turn.kind, turn.route)
        record = TurnRecord(message, turn.text, turn.kind, turn.route, turn.procedure_code, round(seconds * 1000))
        await run_in_threadpool(self.conversations.record, conversation.id, record, turn.pending, turn.keep_pending)
        self.metrics.turn(channel, turn.route, turn.kind, seconds)
        return ChatReply(
            conversation_id=conversation.id,
            kind=turn.kind,
            text=turn.text,
            route=turn.route,
            buttons=turn.buttons,
            citation=turn.citation,
        )

    # -- the pieces

    def _citation(self, code: str | None) -> Citation | None:
        procedure = self.assistant().procedure(code) if code else None
        if procedure is None:
            return None
        return Citation(procedure_code=procedure.code, procedure_name=procedure.name, url=procedure.portal_url)

    def _buttons(self, codes: list[str]) -> list[QuickReply]:
        buttons = []
        for code in codes:
            procedure = self.assistant().procedure(code)
            if procedure is not None:
                buttons.append(QuickReply(label=procedure.name, procedure_code=procedure.code))
        return buttons

    def _from_reply(self, reply: Reply, question: str, route: str) -> Turn:
        codes = [c.code for c in reply.choices]
        pending = Pending(question, "ask", codes) if reply.kind == "clarify" and codes else None
        citation = self._citation(reply.procedure_code) if reply.kind == "answer" else None
        return Turn(reply.kind, reply.text, route, self._buttons(codes), citation, pending)

    def _from_fee(self, reply: FeeReply, question: str, route: str) -> Turn:
        kind = FEE_KINDS.get(reply.outcome, "unknown")
        codes = [c.code for c in reply.choices]
        pending = Pending(question, "fee", codes) if codes else None
        citation = self._citation(reply.procedure_code) if kind == "fee" else None
        return Turn(kind, reply.text, route, self._buttons(codes), citation, pending)

    def _knowledge(self, message: str, route: str) -> Turn:
        return self._from_reply(self.assistant().ask(message), message, route)

    def _unless_the_knowledge_core_answers(self, off_topic: Turn, message: str) -> Turn:
        """Rasa's off-topic turn, unless the knowledge core answers the message, asks which procedure it
        means or has a guide for it: its off-topic judgement is calibrated on far more questions than the
        few dozen off-topic lines Rasa learns from ("xây nhà ở quê có phải xin phép không" was waved off)."""
        turn = self._knowledge(message, "knowledge")
        return turn if turn.kind in {"answer", "guide", "clarify"} else off_topic

    async def _choice(self, conversation: Conversation, code: str, message: str) -> Turn:
        pending = conversation.pending
        question = pending.question if pending and code in pending.codes else message

        def answer() -> Turn:
            if pending is not None and pending.kind == "fee":
                reply = answer_fee_question(self.assistant(), self.fee_engine(), question, code)
                return self._from_fee(reply, question, "knowledge")
            chosen = self.assistant().answer_for(code, question)
            return self._from_reply(chosen or self.assistant().ask(message), question, "knowledge")

        turn = await run_in_threadpool(answer)
        if turn.citation is not None:
            try:  # follow-ups ("nộp online có rẻ hơn không") are about the chosen procedure
                slots = {"procedure_code": turn.citation.procedure_code, "choices": None, "pending_question": None}
                await self.rasa.set_slots(conversation.id, slots)
            except RasaUnavailable as error:
                logger.info("could not tell Rasa the chosen procedure: %s", error)
        return turn

    def _from_rasa(self, rasa: RasaTurn, message: str) -> Turn | None:
        if not rasa.texts:
            return None
        text = "\n\n".join(rasa.texts)
        slots = rasa.slots_set
        answer_kind = str(slots.get("answer_kind") or "")
        source, _, outcome = answer_kind.partition(":")
        if answer_kind == "unavailable" or slots.get("dossier_outcome") == "unavailable":
            kind = "unavailable"
        elif source == "ask":
            kind = outcome
        elif source == "fee":
            kind = FEE_KINDS.get(outcome, "unknown")
        elif "dossier_outcome" in slots:
            kind = "dossier"
        elif rasa.intent == "request_human":
            kind = "handover"
        elif rasa.active_loop == "dossier_form":
            kind = "dossier_form"
        elif rasa.intent == "out_of_scope":
            kind = "out_of_scope"
        else:
            kind = "dialogue"
        codes = [str(c) for c in slots.get("choices") or []]
        pending = None
        if codes:
            question, pending_kind = slots.get("pending_question") or message, slots.get("pending_kind") or "ask"
            pending = Pending(str(question), str(pending_kind), codes)
        citation = self._citation(slots.get("procedure_code")) if kind in {"answer", "fee"} else None
        return Turn(kind, text, "rasa", self._buttons(codes), citation, pending, keep_pending="choices" not in slots)

    def _fallback(self, conversation: Conversation, message: str) -> Turn:
        if asks_for_a_person(message):
            return Turn("handover", handover_text(self.desk), "fallback")
        if looks_like_dossier_turn(message, conversation):
            return Turn("unavailable", unavailable_text(self.desk), "fallback")
        if FEE_WORDS.search(_folded(message)):
            return self._from_fee(
                answer_fee_question(self.assistant(), self.fee_engine(), message), message, "fallback"
            )
        return self._knowledge(message, "fallback")


class EmptyMessage(Exception):
    """A message with nothing left once control characters and spaces are removed."""


EMPTY_MESSAGE = ("Tin nhắn trống. Vui lòng nhập câu hỏi của bạn.", "The message is empty. Please type your question.")


# ---- oversized bodies --------------------------------------------------------------


class BodySizeLimit:
    """Refuses citizen-facing request bodies over ``max_bytes`` with a 413, before anything parses them."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, paths: tuple[str, ...] = LIMITED_PATHS) -> None:
        self.app, self.max_bytes, self.paths = app, max_bytes, paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        kib = self.max_bytes // 1024
        response = error_response(
            413,
            f"Nội dung gửi lên quá lớn (tối đa {kib} KB). Vui lòng rút gọn câu hỏi.",
            f"Request body too large (at most {kib} KB). Please shorten the message.",
        )
        await response(scope, receive, send)


# ---- the routes ----------------------------------------------------------------------


def warm_up(*factories: Any) -> None:
    """Loads the embedding model, the index and the fee policies; a failure is left for /ready to report."""
    for factory in factories:
        try:
            factory()
        except Exception:
            logger.exception("could not load %s at start", getattr(factory, "__name__", factory))


def build_router(assistant_factory: Any, fee_engine_factory: Any, metrics: GatewayMetrics) -> APIRouter:
    @contextlib.asynccontextmanager
    async def loading_at_start(app: Any) -> AsyncIterator[None]:
        # In the background: /health answers at once, and no citizen (nor a worker's health check,
        # which uvicorn fails after a few seconds) waits for the model to load.
        threading.Thread(target=warm_up, args=(assistant_factory, fee_engine_factory), daemon=True).start()
        yield

    router = APIRouter(lifespan=loading_at_start)
    limited = [Depends(enforce_rate_limit)]

    def chat_router(
        conversations: Annotated[ConversationStore, Depends(conversation_store)],
        rasa: Annotated[RasaClient, Depends(rasa_client)],
        desk: Annotated[str, Depends(helpdesk)],
    ) -> ChatRouter:
        return ChatRouter(assistant_factory, fee_engine_factory, conversations, rasa, desk, metrics)

    @router.post(
        "/api/chat",
        response_model=ChatReply,
        dependencies=limited,
        responses={
            413: {"model": ErrorBody, "description": "Nội dung quá lớn"},
            422: {"model": ErrorBody, "description": "Tin nhắn không hợp lệ"},
        },
    )
    async def chat(body: ChatMessage, routing: Annotated[ChatRouter, Depends(chat_router)]) -> Any:
        try:
            return await routing.handle(body, "rest")
        except EmptyMessage:
            metrics.rejected.labels("rest").inc()
            return error_response(422, *EMPTY_MESSAGE, [{"loc": ["body", "message"], "type": "empty"}])

    @router.websocket("/ws/chat")
    async def chat_socket(websocket: WebSocket, routing: Annotated[ChatRouter, Depends(chat_router)]) -> None:
        """JSON frames in ({message, conversation_id?, procedure_code?}), ChatReply or {error: …} frames out."""
        await websocket.accept()
        conversation_id: str | None = None
        try:
            while True:
                frame = await websocket.receive()
                if frame["type"] == "websocket.disconnect":
                    return
                error = None
                raw = frame.get("text")
                if raw is None:
                    error = ("Chỉ nhận tin nhắn dạng văn bản (JSON).", "Only text (JSON) frames are accepted.")
                elif len(raw.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
                    kib = MAX_BODY_BYTES // 1024
                    error = (f"Tin nhắn quá lớn (tối đa {kib} KB).", f"Message too large (at most {kib} KB).")
                else:
                    try:
                        body = ChatMessage.model_validate(json.loads(raw))
                    except (ValueError, RecursionError, ValidationError) as invalid:  # deep nesting: RecursionError
                        errors = invalid.errors() if isinstance(invalid, ValidationError) else []
                        error = validation_messages(errors)
                if error is None:
                    if body.conversation_id is None and conversation_id is not None:
                        body = body.model_copy(update={"conversation_id": conversation_id})
                    error = socket_rate_limited(websocket, body.conversation_id)
                if error is None:
                    try:
                        reply = await routing.handle(body, "ws")
                    except EmptyMessage:
                        error = EMPTY_MESSAGE
                    except sa.exc.OperationalError as unreachable:
                        logger.warning("database unreachable: %s", str(unreachable).splitlines()[0])
                        error = DATABASE_UNAVAILABLE
                    else:
                        conversation_id = reply.conversation_id
                        await websocket.send_json(reply.model_dump())
                        continue
                metrics.rejected.labels("ws").inc()
                await websocket.send_json({"error": error_body(*error)})
        except WebSocketDisconnect:
            return

    @router.post("/api/ratings", response_model=RatingOut, status_code=201, dependencies=limited)
    def rate(body: RatingIn, store: Annotated[FeedbackStore, Depends(feedback_store)]) -> Any:
        try:
            record = store.rate(
                body.rating, body.conversation_id, body.question, body.answer_kind, body.procedure_code, body.comment
            )
        except FeedbackError as error:
            return _feedback_error(error)
        metrics.feedback.labels("rating").inc()
        return RatingOut(rating=record.rating, label=RATING_LABELS[record.rating], text="Cảm ơn bạn đã đánh giá!")

    @router.post("/api/callbacks", response_model=TicketOut, status_code=201, dependencies=limited)
    def request_callback(body: CallbackIn, store: Annotated[FeedbackStore, Depends(feedback_store)]) -> Any:
        try:
            request = store.request_callback(body.phone, body.question, body.name, body.conversation_id)
        except FeedbackError as error:
            return _feedback_error(error)
        metrics.feedback.labels("callback").inc()
        metrics.handovers.labels("callback").inc()
        text = (
            f"Đã ghi nhận yêu cầu của bạn, mã số {request.ticket}. Cán bộ sẽ gọi lại số điện thoại bạn để lại "
            "trong giờ hành chính. Vui lòng giữ mã số này khi liên hệ."
        )
        return TicketOut(ticket=request.ticket, text=text)

    @router.post("/api/complaints", response_model=TicketOut, status_code=201, dependencies=limited)
    def file_complaint(body: ComplaintIn, store: Annotated[FeedbackStore, Depends(feedback_store)]) -> Any:
        try:
            complaint = store.file_complaint(body.category, body.content, body.name, body.phone, body.conversation_id)
        except FeedbackError as error:
            return _feedback_error(error)
        metrics.feedback.labels("complaint").inc()
        label = CATEGORY_LABELS[complaint.category].lower()
        text = f"Đã tiếp nhận {label} của bạn, mã số {complaint.ticket}. Cảm ơn bạn đã góp ý."
        return TicketOut(ticket=complaint.ticket, text=text)

    @router.get("/ready")
    async def ready(
        request: Request,
        conversations: Annotated[ConversationStore, Depends(conversation_store)],
        rasa: Annotated[RasaClient, Depends(rasa_client)],
    ) -> JSONResponse:
        """Each component's state; 503 while questions cannot be answered (index or database down).

        Without Rasa the gateway still answers procedure questions: "degraded", 200. Components
        installed beside the gateway add their own check to ``app.state.readiness_checks``
        (the phone line: whether its speech engines are loaded); one not ok is "degraded" too.
        """
        checks: dict[str, dict[str, Any]] = {}
        try:
            assistant: Assistant = await run_in_threadpool(assistant_factory)
            checks["index"] = {"ok": True, "procedures": len(assistant.retriever.procedures)}
        except Exception as error:  # a missing or broken index, model or calibration file
            checks["index"] = {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
        try:
            await run_in_threadpool(conversations.ping)
            checks["database"] = {"ok": True}
        except Exception as error:
            checks["database"] = {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
        try:
            checks["rasa"] = {"ok": True, "servers": await rasa.status()}
        except RasaUnavailable as error:
            checks["rasa"] = {"ok": False, "servers": list(rasa.urls), "error": str(error)[:600]}
        for name, check in getattr(request.app.state, "readiness_checks", {}).items():
            checks[name] = check()
        serving = checks["index"]["ok"] and checks["database"]["ok"]
        state = "ready" if serving and all(c["ok"] for c in checks.values()) else "degraded" if serving else "not_ready"
        return JSONResponse(status_code=200 if serving else 503, content={"status": state, "checks": checks})

    @router.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    # The portal widget: one script tag (`<script src=".../widget.js" defer></script>`) on any page.
    @router.get("/", include_in_schema=False)
    def demo_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")

    @router.get("/widget.js", include_in_schema=False)
    def widget_script() -> FileResponse:
        return FileResponse(STATIC_DIR / "widget.js", media_type="text/javascript; charset=utf-8")

    @router.get("/widget.css", include_in_schema=False)
    def widget_style() -> FileResponse:
        return FileResponse(STATIC_DIR / "widget.css", media_type="text/css; charset=utf-8")

    return router


def _feedback_error(error: FeedbackError) -> JSONResponse:
    english = {
        "phone": "Invalid or missing phone number.",
        "rating": "Invalid rating.",
        "category": "The category must be complaint or suggestion.",
    }.get(error.field, f"Invalid field: {error.field}.")
    return error_response(422, error.message, english, [{"loc": ["body", error.field], "type": "value_error"}])


def socket_rate_limited(websocket: WebSocket, conversation_id: str | None) -> tuple[str, str] | None:
    """The rate limits of /ws/chat, counted per message: the error to send, or None."""
    limiter: RateLimiter | None = getattr(websocket.app.state, "rate_limiter", None)
    wait = limiter.check(client_address(websocket), conversation_id) if limiter else None
    return None if wait is None else limited_error(wait)


def install_gateway(app: FastAPI, assistant_factory: Any, fee_engine_factory: Any) -> None:
    """Adds the gateway's routes, metrics and body-size limit to the app; masks phone and ID numbers in logs."""
    install_log_masking()
    metrics = GatewayMetrics()
    app.state.metrics = metrics
    app.include_router(build_router(assistant_factory, fee_engine_factory, metrics))
    app.add_middleware(BodySizeLimit)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        headers = getattr(error, "headers", None)
        if error.status_code == 405:  # Starlette names only the first matching route's methods
            headers = {**(headers or {}), "Allow": allowed_methods(request)}
        return http_error_response(error.status_code, error.detail, headers)
