"""Signed staff session cookies and the CSRF tokens tied to them.

The cookie holds a random session id and its HMAC; the database keeps only the
id's hash, the account and the expiry, so signing out (or locking an account)
ends the session at once. A form's CSRF token is an HMAC of the session id.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

COOKIE_NAME = "citizenbot_staff"
LOGIN_COOKIE_NAME = "citizenbot_staff_login"  # ties the sign-in form's CSRF token to the browser
SESSION_HOURS = 8

metadata = sa.MetaData()

sessions_table = sa.Table(
    "staff_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, index=True),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)


def load_secret(var_dir: Path) -> bytes:
    """CITIZENBOT_SECRET_KEY, or a random key kept in var/ (created once, readable by its owner only)."""
    value = os.environ.get("CITIZENBOT_SECRET_KEY")
    if value:
        return value.encode()
    path = var_dir / "staff-secret.key"
    if not path.is_file():
        var_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


class SessionManager:
    def __init__(self, engine: sa.Engine, secret: bytes, hours: int = SESSION_HOURS) -> None:
        self.engine = engine
        self.secret = secret
        self.lifetime = timedelta(hours=hours)
        metadata.create_all(engine)

    def _sign(self, purpose: str, value: str) -> str:
        return hmac.new(self.secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def _hash(session_id: str) -> str:
        return hashlib.sha256(session_id.encode()).hexdigest()

    def create(self, username: str) -> str:
        """A new session; returns the cookie value."""
        session_id = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            conn.execute(sessions_table.delete().where(sessions_table.c.expires_at < now))
            conn.execute(
                sessions_table.insert(),
                {"id_hash": self._hash(session_id), "username": username, "expires_at": now + self.lifetime},
            )
        return f"{session_id}.{self._sign('session', session_id)}"

    def session_id(self, cookie: str | None) -> str | None:
        """The session id of a correctly signed cookie, else None."""
        if not cookie or cookie.count(".") != 1:
            return None
        session_id, signature = cookie.split(".")
        return session_id if hmac.compare_digest(signature, self._sign("session", session_id)) else None

    def username(self, cookie: str | None) -> str | None:
        session_id = self.session_id(cookie)
        if session_id is None:
            return None
        query = sa.select(sessions_table).where(sessions_table.c.id_hash == self._hash(session_id))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
        return row.username if expires > datetime.now(UTC) else None

    def end(self, cookie: str | None) -> None:
        session_id = self.session_id(cookie)
        if session_id:
            with self.engine.begin() as conn:
                conn.execute(sessions_table.delete().where(sessions_table.c.id_hash == self._hash(session_id)))

    def end_all(self, username: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sessions_table.delete().where(sessions_table.c.username == username))

    # ---- CSRF -----------------------------------------------------------

    def csrf_token(self, cookie: str | None) -> str:
        session_id = self.session_id(cookie)
        return self._sign("csrf", session_id) if session_id else ""

    def check_csrf(self, cookie: str | None, token: str | None) -> bool:
        expected = self.csrf_token(cookie)
        return bool(expected and token) and hmac.compare_digest(expected, token or "")

    def login_token(self, nonce: str) -> str:
        return self._sign("login", nonce)

    def check_login_token(self, nonce: str | None, token: str | None) -> bool:
        return bool(nonce and token) and hmac.compare_digest(self.login_token(nonce or ""), token or "")
