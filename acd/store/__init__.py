"""PostgreSQL persistence of the records the routing core emits.

`StoreWriter` takes records off the call path through a bounded queue, journals them in a
local spool and writes them to PostgreSQL in idempotent batches; `migrate` applies the SQL
migrations in the repository's `sql/` directory. asyncpg is imported only by the modules
that talk to the database, so importing this package stays cheap.
"""

from acd.store.recordings import RecordingStored

__all__ = ["RecordingStored"]
