"""Schemathesis against the application's own OpenAPI schema: every public and staff route.

The schema is read from the application as built for production; every generated request goes
to a copy built in process (ASGI) over a fresh fixture database with Rasa unreachable
(tests/app_support.py). Staff routes are called signed in as an administrator (every permission)
with the session's CSRF token. Every response must be a non-5xx with a documented status code,
content type, headers and body; schema-violating requests must be refused with a 4xx.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from app_support import InProcessApp, build_app
from conftest import DOSSIER_NOW, HELPDESK, Clock, FixtureKB, constant_model, filled_store
from hypothesis import HealthCheck, settings
from schemathesis import Case, checks
from staff_support import PASSWORD

from bot.api import create_app
from bot.assistant import Assistant
from bot.retriever import Retriever
from bot.staff.sessions import COOKIE_NAME

ADMIN = "admin1"
EXAMPLES_PER_ROUTE = 20  # generated cases per route, besides schemathesis' fixed coverage cases
# Not checked: that every schema-valid body is accepted. Rules no JSON schema states (a phone number
# one can call, an account name's characters, a password's strength, an id that exists) are
# answered with a 4xx and a Vietnamese message, which the other checks hold to the schema.
EXCLUDED_CHECKS = [checks.positive_data_acceptance]

# The document of the production app, read at import (schemathesis' fixture-based loader does not
# run on pytest 9). Building an app loads nothing; only starting one would (the model, in the
# background), which is why the document is taken from the app object rather than asked over ASGI.
schema = schemathesis.openapi.from_dict(create_app().openapi())


@pytest.fixture(scope="module")
def served(kb: FixtureKB, retriever: Retriever, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessApp]:
    """One app for every route (building it per route would take longer than the cases)."""
    folder = tmp_path_factory.mktemp("schema")
    store = filled_store(f"sqlite:///{folder / 'citizenbot.db'}")
    # Confidence 0.5, between the 0.3 clarify and 0.7 answer thresholds: clarifying replies with choices.
    assistant = Assistant(store, retriever, constant_model(0.5), HELPDESK)
    served = build_app(kb, store, assistant, Clock(DOSSIER_NOW), folder)
    served.staff.accounts.create(ADMIN, PASSWORD, "admin")
    yield served
    served.staff.publisher.wait(60)  # a generated publish may still be rebuilding


class AdminSession:
    """An administrator's session, opened again whenever a generated request ended it
    (a logout, a password change)."""

    def __init__(self, served: InProcessApp) -> None:
        self.sessions = served.staff.sessions
        self.cookie = ""

    def headers(self) -> dict[str, str]:
        if self.sessions.username(self.cookie) != ADMIN:
            self.cookie = self.sessions.create(ADMIN)
        return {"Cookie": f"{COOKIE_NAME}={self.cookie}", "X-CSRF-Token": self.sessions.csrf_token(self.cookie)}


@pytest.fixture(scope="module")
def admin(served: InProcessApp) -> AdminSession:
    return AdminSession(served)


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_ROUTE, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_route_conforms_to_its_schema(case: Case, served: InProcessApp, admin: AdminSession) -> None:
    case.call_and_validate(headers=admin.headers(), app=served.app, excluded_checks=EXCLUDED_CHECKS)
