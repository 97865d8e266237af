"""Rate limits on the public routes, per client (IP address) and per conversation.

A fixed window per key: at most ``limit`` requests in each ``seconds``-long window. The counts
live in process memory by default (one worker) and in Redis when ``CITIZENBOT_REDIS_URL`` is set,
so that every worker counts the same requests. A limited request gets 429 with a polite message
and ``Retry-After``; on the WebSocket, an error frame with the same message.

When Redis cannot be reached the limits fail open: requests are let through uncounted (citizens
keep being answered; the limits guard against floods, not against an outage), one warning per
minute is logged, and Redis is tried again every few seconds rather than on every request.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from bot.errors import error_response

logger = logging.getLogger(__name__)

OUTAGE_RETRY_SECONDS = 5.0  # after a failure, the counter is left alone this long: no request waits on it
OUTAGE_WARNING_SECONDS = 60.0  # at most one warning per worker in this long

LIMITED_MESSAGE = "Bạn gửi quá nhiều yêu cầu trong thời gian ngắn. Vui lòng chờ {seconds} giây rồi thử lại."
LIMITED_MESSAGE_EN = "Too many requests. Please wait {seconds} seconds and try again."


@dataclass(frozen=True)
class RateLimit:
    limit: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """``"600/60"``: 600 requests per 60 seconds."""
        limit, _, seconds = text.partition("/")
        parsed = cls(int(limit), float(seconds or 60))
        if parsed.limit < 1 or parsed.seconds <= 0:
            raise ValueError(f"invalid rate limit {text!r}: expected e.g. 600/60")
        return parsed


class CounterUnavailable(Exception):
    """The shared counts cannot be reached."""


class Counter(Protocol):
    def hit(self, key: str, window: int, ttl: float) -> int:
        """Counts one request under `key` in window number `window`; returns the count so far.
        Raises :class:`CounterUnavailable` when the counts cannot be reached."""
        ...


class MemoryCounter:
    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, window: int, ttl: float) -> int:
        with self._lock:
            previous_window, count = self._counts.get(key, (window, 0))
            count = count + 1 if previous_window == window else 1
            self._counts[key] = (window, count)
            if len(self._counts) > 100_000:  # forget finished windows
                self._counts = {k: v for k, v in self._counts.items() if v[0] >= window}
            return count


class RedisCounter:
    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def hit(self, key: str, window: int, ttl: float) -> int:
        name = f"{self.prefix}ratelimit:{key}:{window}"
        pipeline = self.client.pipeline()
        pipeline.incr(name)
        pipeline.expire(name, math.ceil(ttl) + 1)
        try:
            count, _ = pipeline.execute()
        except RedisError as error:
            raise CounterUnavailable(f"{type(error).__name__}: {error}") from error
        return int(count)


class RateLimiter:
    def __init__(
        self,
        counter: Counter,
        per_client: RateLimit,
        per_conversation: RateLimit,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.counter = counter
        self.limits = {"client": per_client, "conversation": per_conversation}
        self.clock = clock
        self._retry_at = 0.0  # after the counter failed: when to try it again
        self._warned_at: float | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> RateLimiter:
        client, conversation = RateLimit.parse(settings.rate_limit_client), RateLimit.parse(
            settings.rate_limit_conversation
        )
        if settings.redis_url:
            from bot.shared import redis_client

            return cls(RedisCounter(redis_client(settings.redis_url), settings.redis_prefix), client, conversation)
        return cls(MemoryCounter(), client, conversation)

    def check(self, client: str, conversation: str | None = None) -> int | None:
        """Counts the request; None when allowed (or uncounted, the counter unavailable), else the seconds to wait."""
        now = self.clock()
        if now < self._retry_at:
            return None
        waits = []
        try:
            for kind, identity in (("client", client), ("conversation", conversation)):
                if not identity:
                    continue
                limit = self.limits[kind]
                window = int(now // limit.seconds)
                if self.counter.hit(f"{kind}:{identity}", window, limit.seconds) > limit.limit:
                    waits.append(max(1, math.ceil((window + 1) * limit.seconds - now)))
        except CounterUnavailable as error:
            self._retry_at = now + OUTAGE_RETRY_SECONDS
            if self._warned_at is None or now - self._warned_at >= OUTAGE_WARNING_SECONDS:
                logger.warning("rate limits not counted, requests let through: %s", error)
                self._warned_at = now
            return None
        return max(waits) if waits else None


class RateLimited(Exception):
    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def limited_error(seconds: int) -> tuple[str, str]:
    return LIMITED_MESSAGE.format(seconds=seconds), LIMITED_MESSAGE_EN.format(seconds=seconds)


def install_rate_limits(app: FastAPI, limiter: RateLimiter) -> None:
    """The limiter the routes depending on :func:`enforce_rate_limit` use, and its 429 reply."""
    app.state.rate_limiter = limiter

    @app.exception_handler(RateLimited)
    async def too_many(request: Request, error: RateLimited) -> JSONResponse:
        response = error_response(429, *limited_error(error.seconds))
        response.headers["Retry-After"] = str(error.seconds)
        return response


def client_address(connection: Any) -> str:
    return connection.client.host if connection.client else "unknown"


async def enforce_rate_limit(request: Request) -> None:
    """Route dependency: counts the request for its client and its conversation (from the JSON body)."""
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is None:
        return
    conversation = None
    if request.method == "POST":
        try:
            body = await request.json()  # FastAPI has read and cached the body already
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("conversation_id"), str):
            conversation = body["conversation_id"][:64]
    wait = limiter.check(client_address(request), conversation)
    if wait is not None:
        raise RateLimited(wait)
