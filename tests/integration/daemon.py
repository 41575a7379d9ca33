"""`acd117 run` as a process of its own, against the sandbox's Asterisk, with the call
flows of a test and a real PostgreSQL: started, stopped (SIGTERM), killed (SIGKILL)."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import os
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import yaml

from acd.service.pins import hash_pin
from tests.integration.asterisk import ACD117, AMI_SECRET, ARI_PASSWORD, REPO, Sandbox

EXAMPLE = REPO / "config" / "example"
PIN = "2468"  # every test agent's phone PIN
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

# Bandung (kota, 32.73) -> Jawa Barat (province, 32) -> national; Cianjur (32.03) is
# closed today, Kota Palu (72.71) has a centre and nobody who can log in there.
BANDUNG_DID, CIANJUR_DID, PALU_DID = "+62227100117", "+622638117", "+624517117"


def closed_today() -> list[dict[str, Any]]:
    today = WEEKDAYS[dt.datetime.now(ZoneInfo("Asia/Jakarta")).weekday()]
    return [{"days": [d for d in WEEKDAYS if d != today], "open": "00:00", "close": "23:59"}]


def _queue(**kw: Any) -> dict[str, Any]:
    return {"service": "darurat", "skills": {"darurat": 1}, "strategy": "longest_idle",
            "ring_timeout_s": 6, "wrap_up_s": 1, "pause_on_no_answer": False, **kw}


def base_flows() -> dict[str, dict[str, Any]]:
    """Small call flows: one file per section, as an admin keeps them."""
    pin_hash = hash_pin(PIN)

    def agent(agent_id: str, centre: str, level: int = 5) -> dict[str, Any]:
        return {"id": agent_id, "name": f"Agen {agent_id}", "centre": centre,
                "skills": {"darurat": level}, "pin_hash": pin_hash}

    announcements = yaml.safe_load((EXAMPLE / "announcements.yaml").read_text())
    # A short welcome (the word "menit") keeps the suite fast: callers reach the queue in
    # under a second instead of the example's nine.
    announcements["announcements"]["welcome"] = "minutes"
    return {
        "centres": {"centres": [
            {"id": "bpbd-kota-bandung", "name": "Pusdalops BPBD Kota Bandung",
             "region": "32.73", "timezone": "Asia/Jakarta", "queues": [_queue()]},
            {"id": "bpbd-kab-cianjur", "name": "Pusdalops BPBD Kabupaten Cianjur",
             "region": "32.03", "timezone": "Asia/Jakarta", "hours": closed_today(),
             "queues": [_queue()]},
            {"id": "bpbd-jawa-barat", "name": "Pusdalops BPBD Provinsi Jawa Barat",
             "region": "32", "timezone": "Asia/Jakarta", "queues": [_queue()]},
            {"id": "bpbd-kota-palu", "name": "Pusdalops BPBD Kota Palu",
             "region": "72.71", "timezone": "Asia/Makassar", "queues": [_queue()]},
            {"id": "pusdalops-bnpb", "name": "Pusdalops BNPB (Nasional)", "region": "ID",
             "timezone": "Asia/Jakarta", "queues": [_queue()]},
        ]},
        "agents": {"agents": [
            agent("1001", "bpbd-kota-bandung", 8), agent("1002", "bpbd-kota-bandung", 6),
            agent("1003", "bpbd-kota-bandung", 4), agent("1005", "bpbd-kota-bandung", 3),
            agent("2001", "bpbd-jawa-barat"), agent("9001", "pusdalops-bnpb"),
        ]},
        "ingress": {"ingress": {"default_service": "darurat", "rules": [
            {"name": "telkomsel-cell-region", "trunk": "trunk-telkomsel",
             "header": "X-Cell-Region"},
            {"name": "did-kota-bandung", "did": BANDUNG_DID, "region": "32.73"},
            {"name": "did-kab-cianjur", "did": CIANJUR_DID, "region": "32.03"},
            {"name": "did-kota-palu", "did": PALU_DID, "region": "72.71"},
        ]}},
        "escalation": {"escalation": {
            "kabkota": {"after_s": 60, "immediate_when_unstaffed": True, "mode": "widen"},
            "province": {"after_s": 60, "immediate_when_unstaffed": True, "mode": "widen"},
            "national": {"alert_after_s": 120},
        }},
        "callers": {"callers": {
            "repeat_window_min": 10,
            "classes": [{"name": "listed", "numbers": ["+6281311170117"]},
                        {"name": "mobile", "line_type": "mobile"}],
            "default_class": "other", "nuisance_action": "prompt",
            "nuisance": [{"number": "+6285700000117", "until": "2099-12-31",
                          "reason": "prank calls"}]}},
        "announcements": announcements,
        "recording": {"recording": {"enabled": True, "services": "all", "format": "wav",
                                    "retention_days": 366}},
    }


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def write_flows(folder: Path, changes: dict[str, Any] | None = None) -> Path:
    """The base flows with `changes` merged in (`{"escalation": {"escalation": {...}}}`)."""
    flows = merge(base_flows(), changes or {})
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in flows.items():
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(body, sort_keys=False))
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Acd117:
    """One `acd117 run` process."""

    def __init__(self, workdir: Path, sandbox: Sandbox, dsn: str, flows: Path,
                 **env: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "acd117.log"
        self.env = {
            **os.environ,
            "ACD117_CONFIG": str(flows), "ACD117_DSN": dsn,
            "ACD117_HTTP_PORT": str(self.port),
            "ACD117_ARI_URL": "http://127.0.0.1:8088/ari", "ACD117_ARI_USER": "acd117",
            "ACD117_ARI_PASSWORD": ARI_PASSWORD,
            "ACD117_AMI_HOST": "127.0.0.1", "ACD117_AMI_USER": "acd117",
            "ACD117_AMI_SECRET": AMI_SECRET,
            "ACD117_SPOOL_DIR": str(workdir / "spool"),
            "ACD117_RECORDINGS_DIR": str(sandbox.recordings),
            "ACD117_LOG_FORMAT": "json", "ACD117_LOG_LEVEL": "debug",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self, ready: bool = True) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen([*ACD117, "run"], cwd=REPO,
                                     env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        if ready:
            await self.wait_ready()

    async def wait_ready(self, timeout: float = 20.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(f"acd117 exited ({self.proc.returncode}):\n"
                                       + self.log_path.read_text()[-3000:])
                status, body = await self.get("/ready")
                if status == 200:
                    return body
                await asyncio.sleep(0.1)

    async def get(self, path: str, token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            async with aiohttp.ClientSession() as s, s.get(self.url + path,
                                                           headers=headers) as r:
                return r.status, await r.json(content_type=None)
        except (aiohttp.ClientError, json.JSONDecodeError):
            return 0, None

    async def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.to_thread(self.proc.wait, 15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return await asyncio.to_thread(self.proc.wait)

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        await asyncio.to_thread(self.proc.wait)

    def log_lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                out.append({"event": line})
        return out

    async def wait_log(self, text: str, after: dict[str, Any] | None = None,
                       timeout: float = 10.0) -> dict[str, Any]:
        """The first log line with `text` (after the line `after`), with its time as `at`
        (epoch seconds) and its number as `n`."""
        async with asyncio.timeout(timeout):
            while True:
                lines = self.log_lines()
                start = after["n"] + 1 if after else 0
                for n, line in enumerate(lines[start:], start):
                    if text in str(line.get("event", "")) and "timestamp" in line:
                        at = dt.datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00"))
                        return {**line, "at": at.timestamp(), "n": n}
                await asyncio.sleep(0.1)

    async def post(self, path: str, data: dict[str, Any] | None = None,
                   token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token or self.token}"} if (
            token or self.token) else {}
        async with aiohttp.ClientSession() as s, s.post(self.url + path, json=data or {},
                                                        headers=headers) as r:
            return r.status, await r.json(content_type=None)

    async def sign_in(self, username: str, password: str) -> None:
        status, body = await self.post("/api/login", {"username": username,
                                                      "password": password})
        assert status == 200, body
        self.token = body["token"]

    async def agent(self, agent_id: str) -> dict[str, Any]:
        """One agent as the supervisors' API shows it."""
        return next(a for a in (await self.state())["agents"] if a["id"] == agent_id)

    async def state(self) -> dict[str, Any]:
        """The live state, through the supervisor's API."""
        status, body = await self.get("/api/state", token=self.token)
        assert status == 200, body
        return body

    token: str | None = None
