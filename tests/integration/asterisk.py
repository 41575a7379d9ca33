"""A real Asterisk 22 for the integration tests, configured as an admin would.

`Sandbox.create(dir)` makes a private copy with the prebuilt Asterisk beside the
repository (`../shared/asterisk/bin/asterisk-sandbox`), runs acd117's own
`asterisk/install.sh` into it with the agent phones the tests use, and adds the test-only
site files: an AMI user allowed to originate, a carrier trunk for a SIP caller, a phone
with a static contact, the fallback queue's member and the callers' side of Local
channels. The prompts are the ones `acd117 prompts` makes.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _sandbox_script() -> Path:
    """`ACD117_ASTERISK_SANDBOX`, else `shared/asterisk/bin/asterisk-sandbox` beside the
    checkout or beside any folder above it (a CI clone may sit a level deeper)."""
    if os.environ.get("ACD117_ASTERISK_SANDBOX"):
        return Path(os.environ["ACD117_ASTERISK_SANDBOX"])
    tail = Path("shared", "asterisk", "bin", "asterisk-sandbox")
    for folder in REPO.parents:
        if (folder / tail).exists():
            return folder / tail
    return REPO.parent / tail


SANDBOX_SCRIPT = _sandbox_script()

# Asterisk listens on fixed ports (SIP 5060, ARI 8088, AMI 5038): one sandbox per machine.
PORTS_LOCK = Path(os.environ.get("ACD117_ASTERISK_LOCK", "/tmp/acd117-asterisk.lock"))


@contextlib.contextmanager
def asterisk_ports() -> Iterator[None]:
    """Holds the machine's Asterisk ports: a second test run (or the bench) waits here
    until the first has stopped its sandbox, instead of failing on taken ports."""
    with PORTS_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

# `acd117 ...` as a user runs it (the console script of this environment)
ACD117 = [sys.executable, "-c", "import sys; from acd.cli import main; sys.exit(main())"]

ARI_PASSWORD = "AriTest2026secret"
AMI_SECRET = "AmiTest2026secret"
TEST_AMI_USER, TEST_AMI_SECRET = "tests", "AmiTests2026secret"
TRUNK_PASSWORD = "Trunk2026secret"
# Agent phones created by install.sh (random passwords, read back from its list);
# `sup-01` is a supervisor's phone, `nas-01` the national fallback desk.
AGENT_PHONES = ("1001", "1002", "1003", "2001", "9001", "sup-01", "nas-01")
STATIC_PHONE, STATIC_PHONE_PORT = "1005", 5099  # a desk phone that does not register
# The fire brigade's line (113) for transfers to a number: dialled as PJSIP/113@agency-out,
# a trunk whose far end is a baresip phone answering as user 113.
AGENCY_TRUNK, AGENCY_PORT = "agency-out", 5097

SITE_MANAGER = f"""\
; test-only AMI user: sees everything, may originate callers
[{TEST_AMI_USER}]
secret = {TEST_AMI_SECRET}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = all
write = all
"""

SITE_TRUNKS = f"""\
; the carrier: a SIP user agent that authenticates as trunk-telkomsel
[trunk-telkomsel](acd117-trunk)
auth = trunk-telkomsel
aors = trunk-telkomsel
identify_by = auth_username,header
[trunk-telkomsel](acd117-trunk-auth)
username = trunk-telkomsel
password = {TRUNK_PASSWORD}
[trunk-telkomsel](acd117-trunk-aor)
"""

# Asterisk calling itself as the carrier, for SIP headers baresip 1.0.0 cannot send: an
# originate to PJSIP/117@carrier-out with PJSIP_HEADER(add,...) variables arrives back on
# trunk-telkomsel, identified by its X-Carrier header (and authenticated as the trunk).
SITE_TRUNKS += f"""
[trunk-telkomsel-id](acd117-trunk-identify)
endpoint = trunk-telkomsel
match_header = X-Carrier: telkomsel
[carrier-out]
type = endpoint
context = test-caller
disallow = all
allow = alaw,ulaw
aors = carrier-out
outbound_auth = carrier-out
from_domain = 127.0.0.1
[carrier-out]
type = aor
contact = sip:127.0.0.1:5060
[carrier-out]
type = auth
auth_type = userpass
username = trunk-telkomsel
password = {TRUNK_PASSWORD}
"""

SITE_STATIC_PHONE = f"""
; a desk phone with a static contact (it does not register)
[{STATIC_PHONE}](acd117-agent)
aors = {STATIC_PHONE}
[{STATIC_PHONE}](acd117-agent-aor)
contact = sip:{STATIC_PHONE}@127.0.0.1:{STATIC_PHONE_PORT}
"""

SITE_AGENCY = f"""
; an agency's line for transfers to a number (113 answers on a baresip phone)
[{AGENCY_TRUNK}]
type = endpoint
context = test-caller
disallow = all
allow = alaw,ulaw
direct_media = no
aors = {AGENCY_TRUNK}
[{AGENCY_TRUNK}]
type = aor
contact = sip:113@127.0.0.1:{AGENCY_PORT}
"""

SITE_EXTENSIONS = """\
; the caller's own side of a Local-channel test call: answers and "speaks" (a 330 Hz
; tone, the music on hold file), so that there is audio on the call as with a real caller
[test-caller]
exten => s,1,Answer()
 same => n,MusicOnHold(default,600)
 same => n,Hangup()
"""


def missing() -> str | None:
    """What this machine lacks for the integration tests, or None."""
    if not SANDBOX_SCRIPT.exists():
        return f"no Asterisk sandbox at {SANDBOX_SCRIPT} (set ACD117_ASTERISK_SANDBOX)"
    if shutil.which("baresip") is None:
        return "no baresip (Debian package baresip-core)"
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            return f"no {tool} (Debian package {tool}) for the prompts"
    return None


@dataclass
class Sandbox:
    root: Path
    phone_passwords: dict[str, str]

    @property
    def etc(self) -> Path:
        return self.root / "etc" / "asterisk"

    @property
    def recordings(self) -> Path:
        return self.root / "var" / "spool" / "asterisk" / "recording"

    @property
    def full_log(self) -> Path:
        return self.root / "var" / "log" / "asterisk" / "full"

    @classmethod
    def create(cls, root: Path, sounds: Path,
               agent_phones: tuple[str, ...] = AGENT_PHONES) -> Sandbox:
        subprocess.run(["sh", str(SANDBOX_SCRIPT), str(root)], check=True,
                       capture_output=True)
        etc = root / "etc" / "asterisk"
        # verbose 3 in the daemon itself (a remote console's `core set verbose` is only
        # that console's): the full log says which prompt played on which channel
        for conf in (root / "asterisk.conf", etc / "asterisk.conf"):
            with conf.open("a") as f:
                f.write("verbose = 3\n")
        env = {**os.environ, "ASTERISK_ETC": str(etc), "ACD117_ARI_PASSWORD": ARI_PASSWORD,
               "ACD117_AMI_SECRET": AMI_SECRET,
               "ACD117_AGENT_ENDPOINTS": " ".join(agent_phones)}
        out = subprocess.run(["sh", str(REPO / "asterisk" / "install.sh")], env=env,
                             check=True, capture_output=True, text=True)
        (root / "install.log").write_text(out.stdout + out.stderr)
        passwords = dict(
            line.split(" ", 1) for line in
            (etc / "acd117-secrets" / "agent-passwords.txt").read_text().splitlines())
        site = etc / "acd117-site"
        (site / "manager.conf").write_text(SITE_MANAGER)
        (site / "pjsip-trunks.conf").write_text(SITE_TRUNKS + SITE_AGENCY)
        with (site / "pjsip-agents.conf").open("a") as f:
            f.write(SITE_STATIC_PHONE)
        (site / "queue-national-fallback.conf").write_text(
            "member => PJSIP/nas-01,0,Pusdalops Nasional 1\n")
        (site / "extensions.conf").write_text(SITE_EXTENSIONS)
        lib = root / "var" / "lib" / "asterisk"
        shutil.copytree(sounds / "id", lib / "sounds" / "id", dirs_exist_ok=True)
        subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16",
                        str(lib / "moh" / "tone.wav"),
                        "synth", "20", "sine", "330", "vol", "0.05"], check=True)
        return cls(root, {k: v.strip() for k, v in passwords.items()})

    # --- the process ---------------------------------------------------------------------

    def cli(self, command: str, timeout: float = 10.0) -> str:
        out = subprocess.run([str(self.root / "bin" / "asterisk"), "-rx", command],
                             capture_output=True, text=True, timeout=timeout)
        return out.stdout

    def running(self) -> bool:
        return (self.root / "run" / "asterisk.ctl").exists() and bool(
            self.cli("core show version"))

    async def start(self) -> None:
        await asyncio.to_thread(self._start)

    def _start(self) -> None:
        subprocess.run([str(self.root / "bin" / "asterisk")], check=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if "fully booted" in self.cli("core waitfullybooted"):
                return
            time.sleep(0.1)
        raise RuntimeError("Asterisk did not boot within 20 s")

    def pid(self) -> int | None:
        try:
            return int((self.root / "run" / "asterisk.pid").read_text())
        except (OSError, ValueError):
            return None

    async def stop(self) -> None:
        await asyncio.to_thread(self._stop)

    def _stop(self) -> None:
        pid = self.pid()
        self.cli("core stop now")
        deadline = time.monotonic() + 10
        while pid and time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def hang_up_everything(self) -> None:
        self.cli("channel request hangup all")

    # --- what Asterisk wrote -------------------------------------------------------------

    def log_mark(self) -> int:
        try:
            return self.full_log.stat().st_size
        except OSError:
            return 0

    def log_since(self, mark: int) -> str:
        with self.full_log.open("rb") as f:
            f.seek(mark)
            return f.read().decode(errors="replace")

    async def wait_log(self, text: str, mark: int, timeout: float = 10.0) -> str:
        """Wait until the full log has `text` after `mark`; the line."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.log_since(mark).splitlines():
                if text in line:
                    return line
            if time.monotonic() > deadline:
                raise AssertionError(f"Asterisk's log never said {text!r} within {timeout} s")
            await asyncio.sleep(0.1)


def make_prompts(out: Path) -> Path:
    """The prompts acd117 makes for the example call flows (espeak-ng, sox)."""
    subprocess.run([*ACD117, "prompts", "--out", str(out)],
                   check=True, capture_output=True, cwd=REPO)
    return out
