"""A staff console over the fixture knowledge base, with one signed-in client per role."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from fastapi.testclient import TestClient

from bot.api import create_app
from bot.assistant import Assistant
from bot.settings import Settings
from bot.staff.services import StaffServices
from bot.store import KnowledgeStore

PASSWORD = "mật-khẩu-thử-nghiệm"
ROLES = ("editor", "reviewer", "admin")


@dataclass
class Console:
    app: object
    services: StaffServices
    assistant: Assistant
    clients: dict[str, TestClient]  # "anonymous" and one per role, signed in

    def client(self, role: str) -> TestClient:
        return self.clients[role]


def staff_settings(base: Settings, store: KnowledgeStore, tmp_path: Path) -> Settings:
    return replace(base, var_dir=tmp_path, database_url=str(store.engine.url), index_dir=tmp_path / "index")


def build_console(settings: Settings, store: KnowledgeStore, assistant: Assistant) -> Console:
    app = create_app(assistant_factory=lambda: assistant)
    services = StaffServices.build(settings, lambda: assistant, store=store)
    app.state.staff = services
    clients = {"anonymous": TestClient(app, raise_server_exceptions=False)}
    for role in ROLES:
        services.accounts.create(f"{role}1", PASSWORD, role)
        client = TestClient(app, raise_server_exceptions=False)
        response = client.post("/api/staff/login", json={"username": f"{role}1", "password": PASSWORD})
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        clients[role] = client
    return Console(app, services, assistant, clients)
