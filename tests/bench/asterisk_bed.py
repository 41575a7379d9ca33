"""The bench's bed on the real Asterisk: the sandbox configured by acd117's own
`asterisk/install.sh` with N agent phones (`7001`...), one baresip process holding all their
accounts (auto-answer), and — for the comparison — an app_queue queue on the same phones
with the same welcome before it (the bench's own site files, never the project's).

Callers are Local channels originated over AMI, as in the integration suite: the ;2 half
(id = the call's id) runs the 117 dialplan, the ;1 half (`c-<id>`) is the caller.
"""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import asyncpg
import yaml
from argon2 import PasswordHasher

from tests.integration.asterisk import (
    TEST_AMI_SECRET,
    TEST_AMI_USER,
    Sandbox,
    make_prompts,
)
from tests.integration.daemon import EXAMPLE, Acd117, base_flows
from tests.integration.phones import Phone, PhoneAccount

APP_QUEUE_CONTEXT = "bench-app-queue"
AGENT_PASSWORD = "BenchAgent2026"
SUPERVISOR = "bench-spv"  # signs in with the agents' password: one hash for all

# app_queue as an operator would set it up for the same service: the agent idle longest
# rings first (acd117's `longest_idle`), 6 s ring timeout, 1 s wrap-up, the same welcome.
SITE_QUEUE = """
[bench-117]
strategy = leastrecent
timeout = 6
retry = 0
wrapuptime = 1
joinempty = yes
leavewhenempty = no
ringinuse = no
autofill = yes
announce-frequency = 0
periodic-announce-frequency = 0
"""

SITE_DIALPLAN = f"""
[{APP_QUEUE_CONTEXT}]
exten => _[+0-9].,1,Answer()
 same => n,Set(CHANNEL(language)=id)
 same => n,Playback(acd117/welcome)
 same => n,Queue(bench-117,,,,600)
 same => n,Hangup()
"""


PHONE_PREFIX = "7"  # agents' ids are digits (the call flows' rule): 7001, 7002, ...


def endpoints(n: int) -> tuple[str, ...]:
    return tuple(f"{PHONE_PREFIX}{i:03d}" for i in range(1, n + 1))


# The bench's AMI user reads only what the timeline folds. The integration suite's user
# reads everything: at 30 calls/s that is thousands of dialplan events a second (VarSet,
# Newexten) that Asterisk formats for nobody else, a load app_queue's bed would not carry.
SITE_MANAGER = f"""\
[{TEST_AMI_USER}]
secret = {TEST_AMI_SECRET}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = system,call
write = all
eventfilter(name(Newchannel)) =
eventfilter(name(Newstate)) =
eventfilter(name(BridgeEnter)) =
eventfilter(name(BridgeLeave)) =
"""


def create_bed(root: Path, n_phones: int) -> Sandbox:
    sounds = make_prompts(root / "sounds")
    box = Sandbox.create(root / "ast", sounds, agent_phones=endpoints(n_phones))
    site = box.etc / "acd117-site"
    (site / "manager.conf").write_text(SITE_MANAGER)
    with (site / "queue-national-fallback.conf").open("a") as f:
        f.write(SITE_QUEUE)
        f.writelines(f"member => PJSIP/{e}\n" for e in endpoints(n_phones))
    with (site / "extensions.conf").open("a") as f:
        f.write(SITE_DIALPLAN)
    return box


class PhoneRack(Phone):
    """One baresip process with many accounts: every bench agent's phone, auto-answer."""

    accounts: list[PhoneAccount]

    def _write_config(self) -> None:
        super()._write_config()
        config = self.home / "config"
        text = config.read_text().replace("call_max_calls\t\t4",
                                          f"call_max_calls\t\t{4 * len(self.accounts)}")
        config.write_text(text)
        (self.home / "accounts").write_text("".join(
            f"<sip:{a.user}@{self.registrar}>;auth_pass={a.password};answermode=auto;"
            "regint=600\n" for a in self.accounts))

    async def all_registered(self, timeout: float = 30.0) -> None:
        async with asyncio.timeout(timeout):
            while (await self.command("reginfo")).get("data", "").count("OK") < len(
                    self.accounts):
                await asyncio.sleep(0.2)


async def start_rack(box: Sandbox, home: Path, audio: Path, n_phones: int) -> PhoneRack:
    accounts = [PhoneAccount(user=e, password=box.phone_passwords[e], answer="auto")
                for e in endpoints(n_phones)]
    rack = PhoneRack(name="rack", account=accounts[0], home=home, sip_port=5071,
                     ctrl_port=4441, rtp_ports=(20000, 29999), audio=audio)
    rack.accounts = accounts
    await rack.start()
    await rack.all_registered()
    return rack


def bench_flows(n_phones: int) -> dict[str, Any]:
    """The integration suite's flows with the bench agents at Kota Bandung, the example's
    full welcome (about 8 s, as a caller hears it) and no recording (app_queue records
    nothing either)."""
    flows = base_flows()
    flows["agents"]["agents"] = [
        {"id": e, "name": f"Agen {e}", "centre": "bpbd-kota-bandung",
         "skills": {"darurat": 5}} for e in endpoints(n_phones)]
    example = yaml.safe_load((EXAMPLE / "announcements.yaml").read_text())
    flows["announcements"] = copy.deepcopy(example)
    flows["recording"]["recording"]["enabled"] = False
    return flows


def write_bench_flows(folder: Path, n_phones: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in bench_flows(n_phones).items():
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(body, sort_keys=False))
    return folder


async def add_users(dsn: str, n_phones: int) -> None:
    """Agent accounts for the API sign-in and a supervisor's, one argon2 hash for all (a
    hash each would cost a second of CPU before the bench starts, for nothing)."""
    password_hash = PasswordHasher().hash(AGENT_PASSWORD)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.executemany(
            "INSERT INTO users (username, role, password_hash, agent_id) "
            "VALUES ($1, 'agent', $2, $1)", [(e, password_hash) for e in endpoints(n_phones)])
        await conn.execute("INSERT INTO users (username, role, password_hash) "
                           "VALUES ($1, 'supervisor', $2)", SUPERVISOR, password_hash)
    finally:
        await conn.close()


async def log_in_agents(acd: Acd117, n_phones: int) -> None:
    for e in endpoints(n_phones):
        status, body = await acd.post("/api/agent/login", {
            "agent_id": e, "password": AGENT_PASSWORD, "device": f"PJSIP/{e}"})
        if status != 200:
            raise RuntimeError(f"agent {e} could not sign in: {status} {body}")
    await acd.sign_in(SUPERVISOR, AGENT_PASSWORD)
    async with asyncio.timeout(30):
        while True:
            agents = (await acd.state())["agents"]
            ready = sum(1 for a in agents if a.get("state") == "available")
            if ready >= n_phones:
                return
            await asyncio.sleep(0.2)
