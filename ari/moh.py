"""Music on hold for a waiting caller: on whenever nothing else plays to the caller.

Channel MOH produces no ARI event [03, 05], so the state is kept on the caller leg and
reconciled after each change (answer, prompt finished, re-adoption)."""

from __future__ import annotations

from ari.client import AriClient
from ari.legs import CallerLeg, Legs
from ari.requests import Background, KeyedLocks, Requests


class MusicOnHold:
    def __init__(self, client: AriClient, legs: Legs, requests: Requests,
                 background: Background, locks: KeyedLocks, *, moh_class: str) -> None:
        self.client = client
        self.legs = legs
        self.requests = requests
        self.background = background
        self.locks = locks
        self.moh_class = moh_class

    def schedule(self, call_id: str, delay: float) -> None:
        self.background.later(delay, lambda: self.reconcile_soon(call_id))

    def reconcile_soon(self, call_id: str) -> None:
        self.background.spawn(self.reconcile(call_id))

    async def reconcile(self, call_id: str) -> None:
        leg = self.legs.call(call_id)
        if leg is None:
            return
        async with self.locks(call_id):
            want = (
                leg.in_stasis
                and leg.up
                and not (leg.core_ended or leg.handed_off)
                and (leg.connected_offer is None or leg.held)
                and not leg.playbacks
                and leg.pending_prompts == 0
            )
            if want and not leg.moh:
                if await self.requests.on_call(
                    leg, self.client.start_moh(call_id, self.moh_class)
                ):
                    leg.moh = True
            elif not want and leg.moh and leg.in_stasis:
                await self.off(leg)

    async def off(self, leg: CallerLeg) -> None:
        """Stop it (under the call's lock) before something else plays or the bridge."""
        leg.moh = False
        await self.requests.on_call(leg, self.client.stop_moh(leg.call_id))
