"""Real SIP phones for the integration tests: baresip (Debian's `baresip-core`), one
process per phone, driven over its `ctrl_tcp` module.

ctrl_tcp speaks netstrings (`<length>:<json>,`) both ways: commands
`{"command": "dial", "params": "sip:117@127.0.0.1", "token": "3"}` are answered by
`{"response": true, "ok": ..., "token": "3"}`; events (`CALL_INCOMING`,
`CALL_ESTABLISHED`, `CALL_CLOSED`, `REGISTER_OK`, ...) arrive unasked.

baresip 1.0.0 quirks (seen in the recorded transcripts): it also listens on TCP at the SIP
port + 1, so phones use ports two apart; `net_interface lo` fails, `127.0.0.1` works.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BARESIP = shutil.which("baresip")
MODULES = Path("/usr/lib/baresip/modules")

Event = dict[str, Any]


@dataclass
class PhoneAccount:
    user: str  # the SIP user: agent phones register as their endpoint name
    password: str
    display: str = ""
    answer: str = "manual"  # auto | manual
    register: bool = True
    auth_user: str | None = None  # a trunk authenticates as its endpoint name


@dataclass
class Phone:
    """One baresip process with one account."""

    name: str
    account: PhoneAccount
    home: Path
    sip_port: int
    ctrl_port: int
    rtp_ports: tuple[int, int]
    audio: Path
    registrar: str = "127.0.0.1:5060"
    events: list[Event] = field(default_factory=list)
    _proc: subprocess.Popen[bytes] | None = None
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None
    _task: asyncio.Task[None] | None = None
    _responses: dict[str, asyncio.Future[Event]] = field(default_factory=dict)
    _changed: asyncio.Condition | None = None
    _tokens: int = 0

    # --- process -------------------------------------------------------------------------

    def _write_config(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "rec").mkdir(exist_ok=True)
        lo, hi = self.rtp_ports
        (self.home / "config").write_text(f"""\
poll_method\t\tepoll
sip_listen\t\t127.0.0.1:{self.sip_port}
call_local_timeout\t120
call_max_calls\t\t4
audio_player\t\taubridge,play-{self.name}
audio_source\t\taufile,{self.audio}
audio_alert\t\taubridge,alert-{self.name}
audio_level\t\tno
ausrc_format\t\ts16
auplay_format\t\ts16
auenc_format\t\ts16
audec_format\t\ts16
audio_buffer\t\t20-160
rtp_ports\t\t{lo}-{hi}
rtcp_mux\t\tno
jitter_buffer_delay\t5-10
rtp_stats\t\tno
net_interface\t\t127.0.0.1
dns_server\t\t127.0.0.1:53
module_path\t\t{MODULES}
module\t\t\tg711.so
module\t\t\taufile.so
module\t\t\taubridge.so
module\t\t\tsndfile.so
module_tmp\t\tuuid.so
module_tmp\t\taccount.so
module_app\t\tmenu.so
module_app\t\tctrl_tcp.so
ctrl_tcp_listen\t\t127.0.0.1:{self.ctrl_port}
snd_path\t\t{self.home / 'rec'}
""")
        a = self.account
        params = [f"auth_pass={a.password}", f"answermode={a.answer}",
                  f"regint={600 if a.register else 0}"]
        if a.auth_user:
            params.insert(0, f"auth_user={a.auth_user}")
        display = f'"{a.display}" ' if a.display else ""
        (self.home / "accounts").write_text(
            f"{display}<sip:{a.user}@{self.registrar}>;{';'.join(params)}\n")
        (self.home / "contacts").touch()

    async def start(self) -> None:
        assert BARESIP is not None
        self._write_config()
        self._changed = asyncio.Condition()
        log = (self.home / "baresip.log").open("ab")
        self._proc = subprocess.Popen([BARESIP, "-f", str(self.home)], stdin=subprocess.DEVNULL,
                                      stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        log.close()
        async with asyncio.timeout(10):
            while True:
                try:
                    self._reader, self._writer = await asyncio.open_connection(
                        "127.0.0.1", self.ctrl_port)
                    break
                except OSError:
                    if self._proc.poll() is not None:
                        raise RuntimeError(f"baresip {self.name} exited: "
                                           f"{(self.home / 'baresip.log').read_text()}") from None
                    await asyncio.sleep(0.05)
        self._task = asyncio.create_task(self._read(), name=f"phone-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._writer is not None:
            self._writer.close()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()  # un-registers
            try:
                await asyncio.to_thread(self._proc.wait, 3)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                await asyncio.to_thread(self._proc.wait)

    # --- ctrl_tcp ------------------------------------------------------------------------

    async def _read(self) -> None:
        assert self._reader is not None and self._changed is not None
        while True:
            size = await self._reader.readuntil(b":")
            payload = await self._reader.readexactly(int(size[:-1]) + 1)  # and the ','
            msg = json.loads(payload[:-1])
            if msg.get("response"):
                fut = self._responses.pop(str(msg.get("token")), None)
                if fut is not None and not fut.done():
                    fut.set_result(msg)
                continue
            async with self._changed:
                self.events.append(msg)
                self._changed.notify_all()

    async def command(self, command: str, params: str = "") -> Event:
        assert self._writer is not None
        self._tokens += 1
        token = f"{self.name}-{self._tokens}"
        fut: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._responses[token] = fut
        body = json.dumps({"command": command, "params": params, "token": token}).encode()
        self._writer.write(b"%d:%s," % (len(body), body))
        await self._writer.drain()
        async with asyncio.timeout(5):
            return await fut

    async def wait_event(self, kind: str, *, after: int = 0, timeout: float = 10.0,
                         where: Callable[[Event], bool] = lambda e: True) -> Event:
        """The first event of type `kind` at index >= `after` (see `mark()`)."""
        assert self._changed is not None
        async with asyncio.timeout(timeout), self._changed:
            while True:
                for ev in self.events[after:]:
                    if ev.get("type") == kind and where(ev):
                        return ev
                await self._changed.wait()

    def mark(self) -> int:
        """An index into `events`: wait for what comes after now."""
        return len(self.events)

    # --- what a user does ----------------------------------------------------------------

    async def registered(self, timeout: float = 10.0) -> None:
        """Registered with Asterisk (`reginfo` says OK: the REGISTER_OK event may have
        come before this connection)."""
        async with asyncio.timeout(timeout):
            while "OK" not in (await self.command("reginfo")).get("data", ""):
                await asyncio.sleep(0.1)

    async def dial(self, number: str) -> None:
        await self.command("dial", f"sip:{number}@{self.registrar}")

    async def accept(self) -> None:
        await self.command("accept")

    async def hangup(self) -> None:
        await self.command("hangup")

    async def send_dtmf(self, digits: str, gap: float = 0.25) -> None:
        """Keys pressed one by one (RFC 4733 events: ChannelDtmfReceived in Asterisk)."""
        for d in digits:
            await self.command("sndcode", d)
            await asyncio.sleep(gap)

    async def set_answer_mode(self, mode: str) -> None:
        await self.command("answermode", mode)
        self.account.answer = mode


class PhoneBank:
    """The phones of one test: ports handed out two apart, all stopped at the end."""

    def __init__(self, root: Path, audio: Path, *, sip_base: int = 5071,
                 ctrl_base: int = 4441, rtp_base: int = 31000) -> None:
        self.root = root
        self.audio = audio
        self.sip_base = sip_base
        self.ctrl_base = ctrl_base
        self.rtp_base = rtp_base
        self.phones: list[Phone] = []

    async def add(self, name: str, account: PhoneAccount, *, wait_registered: bool = True,
                  sip_port: int | None = None) -> Phone:
        n = len(self.phones)
        phone = Phone(name=name, account=account, home=self.root / name,
                      sip_port=sip_port or self.sip_base + 2 * n, ctrl_port=self.ctrl_base + n,
                      rtp_ports=(self.rtp_base + 100 * n, self.rtp_base + 100 * n + 99),
                      audio=self.audio)
        self.phones.append(phone)
        await phone.start()
        if account.register and wait_registered:
            await phone.registered()
        return phone

    async def close(self) -> None:
        await asyncio.gather(*(p.stop() for p in self.phones), return_exceptions=True)
