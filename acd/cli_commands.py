"""Sub-commands of `acd117`. Each registers itself with `acd.cli.command`."""

from acd.cli import command
from acd.store import cli as store_cli

# Store: schema migrations and retention (acd/store/cli.py).
command("migrate", "Apply the SQL migrations to PostgreSQL", store_cli.migrate_arguments)(
    store_cli.run_migrate
)
command("purge", "Delete stored data older than N days", store_cli.purge_arguments)(
    store_cli.run_purge
)
