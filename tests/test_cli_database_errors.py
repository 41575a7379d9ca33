"""A database that cannot be used gives one clear line and exit status 1, not a traceback."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest

from acd.cli import main
from acd.store.server import PgServer


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("argv", [
    ["report"], ["migrate"], ["purge", "--older-than-days", "400"],
    ["user", "add", "budi", "--role", "admin"],
])
def test_an_unreachable_database_is_one_line_naming_it_without_the_password(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _closed_port()
    monkeypatch.setattr("sys.stdin", io.StringIO("Rahasia117\n"))  # user add's password
    assert main([*argv, "--dsn", f"postgresql://nobody:secret@127.0.0.1:{port}/x"]) == 1
    err = capsys.readouterr().err
    assert err == (f"acd117 {argv[0]}: cannot connect to postgresql://nobody@127.0.0.1:{port}/x:"
                   " connection refused\n")


def test_a_missing_database_says_so_and_what_to_do(
    pg_server: PgServer, capsys: pytest.CaptureFixture[str]
) -> None:
    dsn = pg_server.dsn.replace(f"/{pg_server.database}", "/acd117_no_such_db", 1)
    assert main(["report", "--dsn", dsn]) == 1
    err = capsys.readouterr().err
    assert err.startswith('acd117 report: database "acd117_no_such_db" does not exist')
    assert err.endswith("create it, then run acd117 migrate\n") and err.count("\n") == 1


def test_a_database_without_the_schema_asks_for_migrate(
    pg_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--dsn", pg_dsn]) == 1
    err = capsys.readouterr().err
    assert "has no acd117 schema" in err and err.endswith("run acd117 migrate\n")


def test_other_failures_are_not_mistaken_for_database_problems(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(_args: object) -> int:
        raise PermissionError(13, "Permission denied", "report.csv")

    monkeypatch.setattr("acd.cli.report.run_report", broken)
    with pytest.raises(PermissionError):
        main(["report", "--dsn", "postgresql://nobody@127.0.0.1:1/x"])


def test_a_report_file_that_cannot_be_written_is_not_called_a_database_problem(
    migrated_dsn: str, tmp_path: Path,
) -> None:
    missing = tmp_path / "no-such-folder" / "report.csv"
    with pytest.raises(FileNotFoundError):
        main(["report", "--dsn", migrated_dsn, "--csv", str(missing)])
