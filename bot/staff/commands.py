"""``citizenbot staff ...``: accounts from the command line (the first admin is made here)."""

from __future__ import annotations

import argparse
import getpass
import sys

from bot.settings import Settings


def _read_password() -> str:
    """From a prompt (asked twice) on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        first = getpass.getpass("Mật khẩu: ")
        if getpass.getpass("Nhập lại mật khẩu: ") != first:
            raise SystemExit("Hai lần nhập mật khẩu không khớp.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_staff_create(args: argparse.Namespace, settings: Settings) -> int:
    from bot.staff.accounts import AccountError, AccountStore, Role
    from bot.store import KnowledgeStore

    accounts = AccountStore(KnowledgeStore(settings.database_url).engine)
    role = Role.ADMIN if args.staff_command == "create-admin" else Role(args.role)
    try:
        account = accounts.create(args.username, _read_password(), role)
    except AccountError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"Đã tạo tài khoản “{account.username}” ({account.role.value}).")
    return 0


def cmd_staff_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.staff.accounts import AccountStore
    from bot.store import KnowledgeStore

    for account in AccountStore(KnowledgeStore(settings.database_url).engine).all():
        print(f"{account.username}\t{account.role.value}\t{'active' if account.active else 'locked'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("staff", help="staff console accounts")
    staff = s.add_subparsers(dest="staff_command", required=True)
    s = staff.add_parser("create-admin", help="create an admin account (password from a prompt or stdin)")
    s.add_argument("username")
    s.set_defaults(func=cmd_staff_create)
    s = staff.add_parser("add", help="create an account with a role (password from a prompt or stdin)")
    s.add_argument("username")
    s.add_argument("--role", choices=["editor", "reviewer", "admin"], required=True)
    s.set_defaults(func=cmd_staff_create)
    s = staff.add_parser("list", help="list the accounts")
    s.set_defaults(func=cmd_staff_list)
