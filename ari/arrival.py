"""A caller's arrival: caller and ingress from the Stasis arguments, and the SIP headers
the ingress rules read that the dialplan did not pass.

The dialplan passes only some SIP headers as Stasis arguments (extensions.conf). A header
the ingress rules in force read for the call's trunk, but not passed, is read first with
`GET /channels/{id}/variable?variable=PJSIP_HEADER(read,<name>)` (in parallel, each within
`header_timeout_s`; a header missing, a failure or a timeout only leaves it out). With no
such rule, CallArrived goes out at once, without any request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from urllib.parse import unquote

from acd.vocabulary.events import CallArrived, CallerHungUp, Ingress
from ari.client import AriClient, AriNotFound
from ari.endings import Endings
from ari.legs import CallerLeg, Legs
from ari.models import Channel
from ari.requests import Background, Emit

log = logging.getLogger("ari.stasis")  # one logger for the whole Stasis app

# The SIP headers the ingress rules in force read for a call from a trunk (None: no trunk).
IngressHeaders = Callable[[str | None], Collection[str]]


def parse_ingress(args: Sequence[str]) -> tuple[str, Ingress]:
    """Caller and ingress from `Stasis(acd117,inbound,<caller>,<trunk>,<did>,<k=v>...)`.

    StasisStart.args carries the dialplan arguments as strings, the app name excluded:
    `["inbound", "+6281234567890", "trunk-telkomsel"]` [02, 14]. Header values are
    URI-encoded by the dialplan (`${URIENCODE(...)}`) so that commas survive.
    """
    caller = args[1] if len(args) > 1 else ""
    trunk = args[2] if len(args) > 2 and args[2] else None
    did = args[3] if len(args) > 3 and args[3] else None
    headers: list[tuple[str, str]] = []
    for item in args[4:]:
        name, sep, value = item.partition("=")
        if sep and name and value:
            headers.append((name, unquote(value)))
    return caller, Ingress(trunk=trunk, did=did, headers=tuple(headers))


def passed_headers(args: Sequence[str]) -> set[str]:
    """Names (lower case) of the headers the dialplan passed as Stasis arguments, empty
    values included: `P-Asserted-Identity=` says the dialplan read it and the INVITE had
    none, so there is nothing more to read."""
    return {item.partition("=")[0].lower() for item in args[4:] if "=" in item}


class Arrivals:
    def __init__(
        self,
        client: AriClient,
        legs: Legs,
        endings: Endings,
        background: Background,
        emit: Emit,
        *,
        clock: Callable[[], float],
        ingress_headers: IngressHeaders | None,
        header_timeout_s: float,
    ) -> None:
        self.client = client
        self.legs = legs
        self.endings = endings
        self.background = background
        self.emit = emit
        self.clock = clock
        self.ingress_headers = ingress_headers
        self.header_timeout_s = header_timeout_s

    def arrived(self, channel: Channel, args: Sequence[str]) -> None:
        """StasisStart of a caller channel (`inbound,...`) not known yet."""
        caller, ingress = parse_ingress(args)
        leg = CallerLeg(
            call_id=channel.id,
            caller=caller or channel.caller.number,
            ingress=ingress,
            arrived_at=self.clock(),
            # Up already when the dialplan answered; POST /answer still 204 [02].
            up=channel.state == "Up",
        )
        self.legs.add_call(leg)
        unread = self.headers_to_read(channel, args, ingress)
        if unread:
            leg.arriving = True
            self.background.spawn(self._arrive_with_headers(leg, unread))
        else:
            self.emit(CallArrived(call_id=leg.call_id, caller=leg.caller, ingress=ingress))

    def headers_to_read(self, channel: Channel, args: Sequence[str],
                        ingress: Ingress) -> list[str]:
        """Headers the ingress rules in force read for this call and the dialplan did not
        pass. PJSIP_HEADER reads only PJSIP channels (the trunk's INVITE)."""
        if self.ingress_headers is None or not channel.name.startswith("PJSIP/"):
            return []
        try:
            wanted = self.ingress_headers(ingress.trunk)
        except Exception:
            log.exception("call %s: the SIP headers the ingress rules read are unknown",
                          channel.id)
            return []
        passed = passed_headers(args)
        return [name for name in wanted if name.lower() not in passed]

    async def read_headers(self, channel_id: str,
                           names: Sequence[str]) -> tuple[tuple[str, str], ...]:
        """The headers of `names` the INVITE had, read in parallel. A header that cannot be
        read in `header_timeout_s` is left out (logged): the call is routed without it."""

        async def read(name: str) -> str | None:
            return await asyncio.wait_for(self.client.get_sip_header(channel_id, name),
                                          self.header_timeout_s)

        if not names:
            return ()
        results = await asyncio.gather(*(read(n) for n in names), return_exceptions=True)
        found: list[tuple[str, str]] = []
        for name, result in zip(names, results, strict=True):
            if isinstance(result, AriNotFound):
                continue  # the caller has gone; StasisEnd tells
            if isinstance(result, BaseException):
                log.warning("call %s: SIP header %s not read (%s); routed without it",
                            channel_id, name, str(result) or type(result).__name__)
            elif result is not None:
                found.append((name, result))
        return tuple(found)

    async def _arrive_with_headers(self, leg: CallerLeg, names: Sequence[str]) -> None:
        """CallArrived once the headers are read (or given up on): never lost."""
        headers: tuple[tuple[str, str], ...] = ()
        try:
            headers = await self.read_headers(leg.call_id, names)
        except Exception:
            log.exception("call %s: reading SIP headers failed; routed without them",
                          leg.call_id)
        leg.arriving = False
        if not leg.handed_off:
            leg.ingress = replace(leg.ingress, headers=leg.ingress.headers + headers)
            self.emit(CallArrived(call_id=leg.call_id, caller=leg.caller, ingress=leg.ingress))
            if not leg.in_stasis:  # hung up meanwhile (StasisEnd, or gone at a resync)
                self.emit(CallerHungUp(call_id=leg.call_id))
        self.endings.finish_call_if_done(leg)
