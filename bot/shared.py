"""The Redis connection of the scale-out configuration (``CITIZENBOT_REDIS_URL``), one per process."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=4)
def redis_client(url: str) -> Any:
    import redis

    # Short timeouts: a request must fail fast rather than hang when Redis is away.
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
