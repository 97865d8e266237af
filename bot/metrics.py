"""Prometheus metrics of the gateway, in a registry of their own (one per app)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Reply kinds that mean the assistant did not answer the question itself.
ABSTAINING_KINDS = frozenset({"abstain", "out_of_scope", "invalid", "unknown", "unavailable"})

CONTENT_TYPE = CONTENT_TYPE_LATEST


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.turns = Counter(
            "citizenbot_chat_turns",
            "Chat turns answered, by channel (rest, ws), route (rasa, knowledge, fallback) and reply kind",
            ["channel", "route", "kind"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "citizenbot_chat_turn_seconds",
            "Time to answer one chat turn",
            ["channel"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
            registry=self.registry,
        )
        self.abstentions = Counter(
            "citizenbot_abstentions",
            "Turns the assistant did not answer itself, by reply kind",
            ["kind"],
            registry=self.registry,
        )
        self.handovers = Counter(
            "citizenbot_handovers",
            "Citizens handed over to staff: asked in the chat, or a callback request filed",
            ["via"],
            registry=self.registry,
        )
        self.rasa_failures = Counter(
            "citizenbot_rasa_failures",
            "Turns Rasa could not take (unreachable, timeout, error), answered by the fallback",
            registry=self.registry,
        )
        self.feedback = Counter(
            "citizenbot_feedback",
            "Ratings, callback requests and complaints received",
            ["type"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "citizenbot_rejected_requests",
            "Requests refused as malformed or oversized",
            ["channel"],
            registry=self.registry,
        )

    def turn(self, channel: str, route: str, kind: str, seconds: float) -> None:
        self.turns.labels(channel, route, kind).inc()
        self.latency.labels(channel).observe(seconds)
        if kind in ABSTAINING_KINDS:
            self.abstentions.labels(kind).inc()
        if kind == "handover":
            self.handovers.labels("chat").inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
