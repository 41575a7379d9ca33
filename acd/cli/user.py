"""`acd117 user`: add, list, disable, enable users of the HTTP API and end their sessions.

Disabling a user, resetting them (`add --replace`) or `logout` ends their sessions in the
database and tells a running daemon on the same database (NOTIFY), which drops them at
once. Every action is written to the audit log, with the operating-system user who ran it.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from acd.service.users import PasswordPolicyError, UserError, Users
from acd.store.database import PostgresDatabase


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["add", "list", "disable", "enable", "logout"],
                   help="add (or with --replace, reset) a user; list them; disable one "
                   "(their sessions end at once), enable one again; logout: end every "
                   "session of one")
    p.add_argument("username", nargs="?")
    p.add_argument("--role", default=None, choices=["agent", "supervisor", "admin"])
    p.add_argument("--agent-id", default=None,
                   help="the agent id in the call flows (agents; default: the username)")
    p.add_argument("--display-name", default=None)
    p.add_argument("--replace", action="store_true",
                   help="reset the password and role of an existing user (ends their sessions)")
    p.add_argument("--dsn", default=os.environ.get("ACD117_DSN"),
                   help="PostgreSQL DSN (default: $ACD117_DSN)")


def run(args: argparse.Namespace) -> int:
    if not args.dsn:
        print("acd117 user: no database given: pass --dsn or set ACD117_DSN", file=sys.stderr)
        return 2
    if args.action != "list" and not args.username:
        print(f"acd117 user {args.action}: which user?", file=sys.stderr)
        return 2
    if args.action == "add" and args.role is None:
        print("acd117 user add: --role is required", file=sys.stderr)
        return 2
    password = None
    if args.action == "add":
        password = _read_password(args.username)
        if password is None:
            print("acd117 user: the passwords differ", file=sys.stderr)
            return 1
    try:
        return asyncio.run(_act(args, password))
    except (PasswordPolicyError, UserError) as e:
        print(f"acd117 user: {e}", file=sys.stderr)
        return 1


def _read_password(username: str) -> str | None:
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {username}: ")
        return password if getpass.getpass("again: ") == password else None
    return sys.stdin.readline().rstrip("\n")


async def _act(args: argparse.Namespace, password: str | None) -> int:
    database = PostgresDatabase(args.dsn)
    users = Users(database)
    # Audited like the API's actions; the actor is whoever ran the command on this host.
    by = {"via": "cli", "os_user": getpass.getuser()}
    try:
        if args.action == "list":
            for row in await users.list_users():
                print(f"{row['username']:<24} {row['role']:<10} "
                      f"{'disabled' if row['disabled'] else 'enabled':<8} "
                      f"sessions={row['sessions']}")
            return 0
        if args.action == "add":
            assert password is not None
            await users.add(args.username, password, args.role, agent_id=args.agent_id,
                            display_name=args.display_name, replace=args.replace)
            await users.audit(None, "user.add", "ok", target=args.username, remote="cli",
                              detail={**by, "role": args.role, "replace": args.replace})
            print(f"user {args.username} ({args.role}) saved")
            return 0
        if args.action == "logout":
            if args.username not in {r["username"] for r in await users.list_users()}:
                print(f"acd117 user: no user {args.username}", file=sys.stderr)
                return 1
            await users.end_sessions(args.username)
            await users.audit(None, "user.end_sessions", "ok", target=args.username,
                              remote="cli", detail=by)
            print(f"user {args.username}: every session ended")
            return 0
        disabled = args.action == "disable"
        if not await users.set_disabled(args.username, disabled):
            print(f"acd117 user: no user {args.username}", file=sys.stderr)
            return 1
        await users.audit(None, f"user.{args.action}", "ok", target=args.username,
                          remote="cli", detail=by)
        print(f"user {args.username} {args.action}d"
              + ("; every session ended" if disabled else ""))
        return 0
    finally:
        await users.close()
        await database.close()
