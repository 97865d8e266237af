"""Staff accounts: roles, what each role may do, and scrypt password hashes.

There is no default account: the first admin is created on the command line
(``citizenbot staff create-admin NAME``), then admins manage accounts in the console.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa

metadata = sa.MetaData()

accounts_table = sa.Table(
    "staff_accounts",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


class Role(StrEnum):
    EDITOR = "editor"
    REVIEWER = "reviewer"
    ADMIN = "admin"


ROLE_NAMES = {Role.EDITOR: "Biên tập viên", Role.REVIEWER: "Người duyệt", Role.ADMIN: "Quản trị viên"}


class Permission(StrEnum):
    VIEW = "view"  # lists, history, queues, publishing status
    EDIT = "edit"  # create, edit, retire, import, turn questions into FAQ entries or aliases
    PUBLISH = "publish"  # publish the index, revert a procedure to an earlier version
    ACCOUNTS = "accounts"  # create accounts, change roles, reset passwords


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.EDITOR: frozenset({Permission.VIEW, Permission.EDIT}),
    Role.REVIEWER: frozenset({Permission.VIEW, Permission.EDIT, Permission.PUBLISH}),
    Role.ADMIN: frozenset(Permission),
}

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 256

# scrypt at 2^15 × 8 (32 MiB, ~0.1 s): above OWASP's minimum for scrypt.
_N, _R, _P = 2**15, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=64 * 2**20, dklen=32)
    encode = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${encode(salt).decode()}${encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=128 * 2**20,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# Verified against when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A request the account rules refuse; the message is for the staff member."""


@dataclass(frozen=True)
class Account:
    username: str
    role: Role
    active: bool
    created_at: datetime

    def can(self, permission: Permission) -> bool:
        return self.active and permission in PERMISSIONS[self.role]


def check_password_rules(password: str) -> None:
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise AccountError(f"Mật khẩu phải dài từ {MIN_PASSWORD_CHARS} đến {MAX_PASSWORD_CHARS} ký tự.")


class AccountStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    def create(self, username: str, password: str, role: Role | str) -> Account:
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise AccountError(
                "Tên đăng nhập dài 3–64 ký tự, gồm chữ thường không dấu, chữ số, dấu chấm, gạch ngang hoặc gạch dưới."
            )
        try:
            role = Role(role)
        except ValueError:
            raise AccountError("Vai trò không hợp lệ.") from None
        check_password_rules(password)
        row = {
            "username": username,
            "role": role.value,
            "password_hash": hash_password(password),
            "active": True,
            "created_at": datetime.now(UTC),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(accounts_table.insert(), row)
        except sa.exc.IntegrityError:
            raise AccountError(f"Tài khoản “{username}” đã tồn tại.") from None
        return self.get(username)  # type: ignore[return-value]

    def get(self, username: str) -> Account | None:
        query = sa.select(accounts_table).where(accounts_table.c.username == username)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _account(row) if row else None

    def all(self) -> list[Account]:
        with self.engine.connect() as conn:
            return [_account(r) for r in conn.execute(sa.select(accounts_table).order_by(accounts_table.c.username))]

    def has_admin(self) -> bool:
        return any(a.role is Role.ADMIN and a.active for a in self.all())

    def authenticate(self, username: str, password: str) -> Account | None:
        username = username.strip().lower()
        query = sa.select(accounts_table).where(accounts_table.c.username == username)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        ok = verify_password(password, row.password_hash if row else _DUMMY_HASH)
        return _account(row) if row and ok and row.active else None

    def update(
        self, username: str, role: Role | str | None = None, active: bool | None = None, password: str | None = None
    ) -> Account:
        account = self.get(username)
        if account is None:
            raise AccountError(f"Không có tài khoản “{username}”.")
        values: dict[str, object] = {}
        if role is not None:
            try:
                values["role"] = Role(role).value
            except ValueError:
                raise AccountError("Vai trò không hợp lệ.") from None
        if active is not None:
            values["active"] = active
        if password:
            check_password_rules(password)
            values["password_hash"] = hash_password(password)
        demoted = values.get("role", account.role.value) != Role.ADMIN.value or values.get("active") is False
        if account.role is Role.ADMIN and demoted:
            others = [a for a in self.all() if a.role is Role.ADMIN and a.active and a.username != username]
            if not others:
                raise AccountError("Không thể bỏ quyền hoặc khóa quản trị viên cuối cùng.")
        if values:
            with self.engine.begin() as conn:
                conn.execute(accounts_table.update().where(accounts_table.c.username == username).values(**values))
        return self.get(username)  # type: ignore[return-value]


def _account(row: sa.Row) -> Account:
    return Account(row.username, Role(row.role), bool(row.active), row.created_at)
