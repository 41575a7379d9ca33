"""/bridges, /playbacks, /recordings, /endpoints and /deviceStates."""

from __future__ import annotations

import time
from typing import Any

from tests.fakes.asterisk.base import PeerBase
from tests.fakes.asterisk.objects import (
    B,
    HttpError,
    P,
    R,
    SimBridge,
    SimChannel,
    SimEndpoint,
    SimRecording,
)


class BridgeResources(PeerBase):
    # --- bridges -----------------------------------------------------------------------

    def _bridge(self, bridge_id: str) -> SimBridge:
        br = self.bridges.get(bridge_id)
        if br is None:
            raise HttpError(404, {"message": "Bridge not found"})
        return br

    def _list_bridges(self, p: P, q: P, b: B) -> R:
        return 200, [br.snapshot() for br in self.bridges.values()]

    def _create_bridge(self, p: P, q: P, b: B) -> R:
        bridge_id = q.get("bridgeId") or f"bridge-{next(self._uid)}"
        if bridge_id in self.bridges:
            return 409, {"message": "Bridge with the same bridgeId already exists"}
        br = SimBridge(bridge_id, q.get("name", ""))
        self.bridges[bridge_id] = br
        return 200, br.snapshot()

    def _get_bridge(self, p: P, q: P, b: B) -> R:
        return 200, self._bridge(p["id"]).snapshot()

    def _destroy_bridge(self, p: P, q: P, b: B) -> R:
        br = self._bridge(p["id"])
        for cid in list(br.channels):
            ch = self.channels.get(cid)
            if ch is not None:
                self._leave_bridge(ch)
        del self.bridges[br.id]
        self._event("BridgeDestroyed", bridge=br.snapshot())
        return 204, None

    def _add_channel(self, p: P, q: P, b: B) -> R:
        br = self._bridge(p["id"])
        members = []
        for cid in q["channel"].split(","):
            ch = self.channels.get(cid)
            if ch is None or ch.gone:
                return 400, {"message": "Channel not found"}
            if not ch.in_stasis:
                return 422, {"message": "Channel not in Stasis application"}
            members.append(ch)
        for ch in members:
            if ch.bridge == br.id:
                continue
            self._leave_bridge(ch)
            ch.bridge = br.id
            br.channels.append(ch.id)
            self._event("ChannelEnteredBridge", bridge=br.snapshot(), channel=ch.snapshot())
        return 204, None

    def _remove_channel(self, p: P, q: P, b: B) -> R:
        br = self._bridge(p["id"])
        for cid in q["channel"].split(","):
            ch = self.channels.get(cid)
            if ch is None or ch.gone:
                return 400, {"message": "Channel not found"}
            if ch.bridge != br.id:
                return 422, {"message": "Channel not in this bridge"}
            self._leave_bridge(ch)
        return 204, None

    def _leave_bridge(self, ch: SimChannel) -> None:
        if ch.bridge is None:
            return
        br = self.bridges.get(ch.bridge)
        ch.bridge = None
        if br is None or ch.id not in br.channels:
            return
        br.channels.remove(ch.id)
        self._event("ChannelLeftBridge", bridge=br.snapshot(), channel=ch.snapshot())
        if not br.channels and br.recording:
            # The recording ends by itself when the last channel leaves [02, 14].
            self._finish_recording(br.recording)

    def _finish_recording(self, name: str) -> bool:
        rec = self.live_recordings.pop(name, None)
        if rec is None:
            return False
        br = self.bridges.get(rec.bridge)
        if br is not None:
            br.recording = None
        rec.state = "done"
        snap = rec.snapshot()
        snap["duration"] = int(time.time() - rec.started)  # whole seconds [02]
        self.stored_recordings[rec.name] = rec.format
        self._event("RecordingFinished", recording=snap)
        return True

    def _bridge_moh_on(self, p: P, q: P, b: B) -> R:
        self._bridge(p["id"]).moh = True
        return 204, None

    def _bridge_moh_off(self, p: P, q: P, b: B) -> R:
        self._bridge(p["id"]).moh = False
        return 204, None

    def _record(self, p: P, q: P, b: B) -> R:
        br = self._bridge(p["id"])
        name = q["name"]
        if name in self.live_recordings or (
            name in self.stored_recordings and q.get("ifExists", "fail") == "fail"
        ):
            return 409, {"message": "Recording with the same name already exists"}
        rec = SimRecording(name, q["format"], br.id)
        self.live_recordings[name] = rec
        br.recording = name
        snap = rec.snapshot()
        snap["state"] = "queued"
        self._event("RecordingStarted", recording=rec.snapshot())
        return 201, snap

    # --- playbacks and recordings ----------------------------------------------------------

    def _get_playback(self, p: P, q: P, b: B) -> R:
        pb = self.playbacks.get(p["id"])
        if pb is None:
            return 404, {"message": "Playback not found"}
        return 200, pb.snapshot()

    def _stop_playback(self, p: P, q: P, b: B) -> R:
        pb = self.playbacks.get(p["id"])
        if pb is None:
            return 404, {"message": "Playback not found"}
        self._playback_done(pb, "done")  # stopped: state done [06]
        return 204, None

    def _get_live(self, p: P, q: P, b: B) -> R:
        rec = self.live_recordings.get(p["name"])
        if rec is None:
            return 404, {"message": "Recording not found"}
        return 200, rec.snapshot()

    def _stop_live(self, p: P, q: P, b: B) -> R:
        if not self._finish_recording(p["name"]):
            return 404, {"message": "Recording not found"}
        return 204, None

    def _list_stored(self, p: P, q: P, b: B) -> R:
        return 200, [{"name": n, "format": f} for n, f in self.stored_recordings.items()]

    def _get_stored(self, p: P, q: P, b: B) -> R:
        fmt = self.stored_recordings.get(p["name"])
        if fmt is None:
            return 404, {"message": "Recording not found"}
        return 200, {"name": p["name"], "format": fmt}

    # --- endpoints and device states ------------------------------------------------------

    def _endpoint_snapshot(self, ep: SimEndpoint) -> dict[str, Any]:
        tech, _, resource = ep.device.partition("/")
        return {
            "technology": tech,
            "resource": resource,
            "state": "online" if ep.registered and ep.reachable else "offline",
            "channel_ids": [
                c.id for c in self.channels.values() if c.endpoint is ep and not c.gone
            ],
        }

    def _list_endpoints(self, p: P, q: P, b: B) -> R:
        tech = p.get("tech")
        eps = [
            e for e in self.endpoints.values() if tech is None or e.device.startswith(tech + "/")
        ]
        return 200, [self._endpoint_snapshot(e) for e in eps]

    def _get_endpoint(self, p: P, q: P, b: B) -> R:
        ep = self.endpoints.get(f"{p['tech']}/{p['resource']}")
        if ep is None:
            return 404, {"message": "Endpoint not found"}
        return 200, self._endpoint_snapshot(ep)

    def _list_device_states(self, p: P, q: P, b: B) -> R:
        # Only Stasis: devices are listed [01].
        return 200, [{"name": n, "state": s} for n, s in self.device_states.items()]

    def _put_device_state(self, p: P, q: P, b: B) -> R:
        if not p["name"].startswith("Stasis:"):
            return 409, {"message": "Uncontrolled device specified"}
        self.device_states[p["name"]] = q["deviceState"]
        self._ami_event("DeviceStateChange", Device=p["name"], State=q["deviceState"])
        return 204, None

