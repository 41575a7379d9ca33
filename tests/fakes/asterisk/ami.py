"""The peer's AMI side: one session per TCP connection."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.fakes.asterisk.base import PeerBase


class AmiSession:
    """One AMI TCP connection, as Asterisk 22 speaks it (CRLF, blank line after each)."""

    def __init__(
        self, peer: PeerBase, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.peer = peer
        self.reader = reader
        self.writer = writer
        self.logged_in = False
        self.booted_sent = False
        self.actions: list[dict[str, str]] = []

    def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()

    def _send(self, headers: Mapping[str, str]) -> None:
        if self.writer.is_closing():
            return
        text = "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.writer.write(text.encode())

    def event(self, name: str, headers: Mapping[str, str], action_id: str | None = None) -> None:
        if not self.logged_in and action_id is None:
            return
        out = {"Event": name}
        if action_id is not None:
            out["ActionID"] = action_id
        else:
            out["Privilege"] = "system,all" if name in (
                "PeerStatus", "ContactStatus", "FullyBooted", "Shutdown"
            ) else "call,all"
            out["Timestamp"] = f"{time.time():.6f}"
        out.update(headers)
        self._send(out)

    def fully_booted(self) -> None:
        if self.logged_in and not self.booted_sent:
            self.booted_sent = True
            uptime = str(int(time.time() - self.peer.booted_at))
            self._send({"Event": "FullyBooted", "Privilege": "system,all", "Uptime": uptime,
                        "LastReload": uptime, "Status": "Fully Booted"})

    async def serve(self) -> None:
        self.writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        buffer = ""
        while True:
            data = await self.reader.read(4096)
            if not data:
                break
            buffer += data.decode(errors="replace")
            while "\r\n\r\n" in buffer:
                block, buffer = buffer.split("\r\n\r\n", 1)
                action: dict[str, str] = {}
                for line in block.split("\r\n"):
                    key, sep, value = line.partition(": ")
                    if sep:
                        action[key.lower()] = value
                if action:
                    self.actions.append(action)
                    if not self._handle(action):
                        self.close()
                        return
            await self.writer.drain()

    def _handle(self, action: dict[str, str]) -> bool:
        name = action.get("action", "").lower()
        aid = action.get("actionid", "")
        peer = self.peer
        if name == "login":
            if action.get("username") == peer.ami_user and action.get("secret") == peer.ami_secret:
                self.logged_in = True
                self._send({"Response": "Success", "ActionID": aid,
                            "Message": "Authentication accepted"})
                if peer.phase == "up":
                    # Sent right after the Login response on a running system [01, 11].
                    self.fully_booted()
            else:
                self._send({"Response": "Error", "ActionID": aid,
                            "Message": "Authentication failed"})
            return True
        if not self.logged_in:
            self._send({"Response": "Error", "ActionID": aid, "Message": "Permission denied"})
            return True
        if name == "ping":
            self._send({"Response": "Success", "ActionID": aid, "Ping": "Pong",
                        "Timestamp": f"{time.time():.6f}"})
        elif name == "logoff":
            self._send({"Response": "Goodbye", "ActionID": aid,
                        "Message": "Thanks for all the fish."})
            return False
        elif name == "devicestatelist":
            states = peer.ami_device_states()
            self._send({"Response": "Success", "ActionID": aid, "EventList": "start",
                        "Message": "Device State Changes will follow"})
            for device, state in states.items():
                self.event("DeviceStateChange", {"Device": device, "State": state}, aid)
            self._send({"Event": "DeviceStateListComplete", "ActionID": aid,
                        "EventList": "Complete", "ListItems": str(len(states))})
        elif name == "pjsipshowendpoints":
            # One EndpointList per endpoint; `Contacts` holds `aor/uri,` for every contact
            # of its AOR (res_pjsip/pjsip_configuration.c `format_ami_endpoints`).
            endpoints = [e for e in peer.endpoints.values() if e.device.startswith("PJSIP/")]
            if not endpoints:
                self._send({"Response": "Error", "ActionID": aid,
                            "Message": "No endpoints found"})
                return True
            self._send({"Response": "Success", "ActionID": aid, "EventList": "start",
                        "Message": "A listing of Endpoints follows, presented as "
                                   "EndpointList events"})
            states = peer.ami_device_states()
            for ep in endpoints:
                resource = ep.device.split("/", 1)[1]
                self.event("EndpointList", {
                    "ObjectType": "endpoint", "ObjectName": resource, "Transport": "",
                    "Aor": resource, "Auths": resource, "OutboundAuths": "",
                    "Contacts": f"{resource}/{ep.contact}," if ep.registered else "",
                    "DeviceState": "Unavailable" if states[ep.device] == "UNAVAILABLE"
                                   else "Not in use",
                    "ActiveChannels": "",
                }, aid)
            self._send({"Event": "EndpointListComplete", "ActionID": aid,
                        "EventList": "Complete", "ListItems": str(len(endpoints))})
        elif name == "queuestatus":
            # apps/app_queue.c manager_queues_status: QueueParams, a QueueMember per member
            # (Status: device state, 1 not in use, 5 unavailable), QueueStatusComplete.
            wanted = action.get("queue", "").lower()
            queues = {q: m for q, m in peer.queue_members.items()
                      if not wanted or q.lower() == wanted}
            self._send({"Response": "Success", "ActionID": aid, "EventList": "start",
                        "Message": "Queue status will follow"})
            states = peer.ami_device_states()
            for queue, members in queues.items():
                self.event("QueueParams", {"Queue": queue, "Max": "0", "Strategy": "ringall",
                                           "Calls": "0"}, aid)
                for member in members:
                    status = "5" if states.get(member, "UNAVAILABLE") == "UNAVAILABLE" else "1"
                    self.event("QueueMember", {"Queue": queue, "Name": member,
                                               "Location": member, "StateInterface": member,
                                               "Membership": "static", "Status": status,
                                               "Paused": "0"}, aid)
            items = sum(1 + len(m) for m in queues.values())
            self._send({"Event": "QueueStatusComplete", "ActionID": aid,
                        "EventList": "Complete", "ListItems": str(items)})
        elif name == "pjsipshowcontacts":
            contacts = [e for e in peer.endpoints.values()
                        if e.device.startswith("PJSIP/") and e.registered]
            if not contacts:
                self._send({"Response": "Error", "ActionID": aid,
                            "Message": "No Contacts found"})  # [01]
                return True
            self._send({"Response": "Success", "ActionID": aid, "EventList": "start",
                        "Message": "A listing of Contacts follows, presented as ContactList "
                                   "events"})
            for ep in contacts:
                resource = ep.device.split("/", 1)[1]
                self.event("ContactList", {
                    "ObjectType": "contact",
                    "ObjectName": f"{resource};@{abs(hash(ep.contact)):x}",
                    "Endpoint": resource,
                    "Uri": ep.contact,
                    "Status": "Reachable" if ep.reachable else "Unreachable",
                    "RoundtripUsec": "N/A",
                }, aid)
            self._send({"Event": "ContactListComplete", "ActionID": aid,
                        "EventList": "Complete", "ListItems": str(len(contacts))})
        else:
            self._send({"Response": "Error", "ActionID": aid,
                        "Message": "Invalid/unknown command"})
        return True

