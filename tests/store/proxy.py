"""A TCP proxy in front of PostgreSQL that a test can break on purpose.

It listens on 127.0.0.1 and forwards to the test server (over TCP or its Unix socket). The
test can take the server "down" (stop listening: connections are refused, open ones are
cut), make it a black hole (connections are accepted and never answered), stall it (open
connections stay up but nothing the clients send arrives until it is back), cut every open
connection after a number of bytes sent by the client (mid-batch), or let the next COMMIT
reach the server and cut the connection before its acknowledgement comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


@dataclass(eq=False)  # identity: kept in a set
class _Pair:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    swallow_reply: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def abort(self) -> None:
        self.client.transport.abort()
        if self.upstream is not None:
            self.upstream.transport.abort()


class PgProxy:
    def __init__(self, host: str, port: int) -> None:
        self._upstream_host = host
        self._upstream_port = port
        self._server: asyncio.Server | None = None
        self.port = 0
        self.blackhole = False
        self.stalled = False
        self._pairs: set[_Pair] = set()
        self._cut_budget: int | None = None  # client bytes left before cutting everything
        self._cut_on_commit = False
        self.connections = 0
        self.cuts = 0
        self.commits_cut = 0
        self.client_bytes = 0

    @property
    def host(self) -> str:
        return "127.0.0.1"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        """The server is gone: refuse new connections and cut the open ones."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.cut()

    def stall(self) -> None:
        """The server stops answering, on open connections too (a frozen host): new
        connections are a black hole, what clients send on open ones waits until `up`."""
        self.blackhole = self.stalled = True

    async def up(self) -> None:
        self.blackhole = self.stalled = False
        if self._server is None:
            await self.start()

    def cut(self) -> None:
        for pair in list(self._pairs):
            pair.abort()
        self.cuts += 1

    def cut_after(self, client_bytes: int) -> None:
        """Cut every connection once this many more bytes came from clients."""
        self._cut_budget = client_bytes

    def cut_next_commit_reply(self) -> None:
        """Let the next COMMIT reach the server, then cut before its reply reaches the client."""
        self._cut_on_commit = True

    async def close(self) -> None:
        await self.down()
        for pair in list(self._pairs):
            for task in pair.tasks:
                task.cancel()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        pair = _Pair(writer)
        self._pairs.add(pair)
        try:
            if self.blackhole:
                # Accept, read and never answer: the client can only time out.
                while await reader.read(65536):
                    pass
                return
            try:
                if self._upstream_host.startswith("/"):
                    up_reader, up_writer = await asyncio.open_unix_connection(
                        f"{self._upstream_host}/.s.PGSQL.{self._upstream_port}"
                    )
                else:
                    up_reader, up_writer = await asyncio.open_connection(
                        self._upstream_host, self._upstream_port
                    )
            except OSError:
                writer.transport.abort()
                return
            pair.upstream = up_writer
            pair.tasks = [
                asyncio.create_task(self._client_to_server(pair, reader, up_writer)),
                asyncio.create_task(self._server_to_client(pair, up_reader, writer)),
            ]
            await asyncio.gather(*pair.tasks, return_exceptions=True)
        finally:
            pair.abort()
            self._pairs.discard(pair)

    async def _client_to_server(
        self, pair: _Pair, reader: asyncio.StreamReader, up: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await reader.read(65536):
                self.client_bytes += len(data)
                if self._cut_budget is not None:
                    if len(data) >= self._cut_budget:
                        # Forward part of the message: the server sees half a batch.
                        up.write(data[: self._cut_budget // 2])
                        self._cut_budget = None
                        await asyncio.sleep(0.05)
                        self.cut()
                        return
                    self._cut_budget -= len(data)
                while self.stalled:  # held on the way, as by a frozen host: TCP delivers
                    await asyncio.sleep(0.05)  # it late, once the host is back
                if self._cut_on_commit and b"COMMIT" in data:
                    self._cut_on_commit = False
                    pair.swallow_reply = True
                up.write(data)
                await up.drain()
        pair.abort()

    async def _server_to_client(
        self, pair: _Pair, up: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await up.read(65536):
                if pair.swallow_reply:
                    # The server has answered the COMMIT: it is done. The client never knows.
                    self.commits_cut += 1
                    pair.abort()
                    return
                client.write(data)
                await client.drain()
        pair.abort()
