"""An in-process Asterisk for tests and benchmarks: ARI (REST + events websocket) and AMI.

`FakeAsterisk` behaves as the ARI documents say and as the recorded Asterisk 22 did
(`shared/asterisk/transcripts`, scenario numbers in brackets):

* every REST request is checked against Asterisk's ARI documents when they are present
  (`swagger`): unknown resource, method, parameter or value -> 4xx, and the request
  is listed in `rejected`; every request is recorded in `requests`;
* channels, bridges, playbacks and recordings are simulated with the event sequences of
  the transcripts: StasisStart args [02], originate -> Dial/ChannelStateChange/StasisStart
  on answer [02], ring timeout -> ChannelDestroyed cause 19 with no Dial [03], reject ->
  cause 17 [03], unregistered endpoint -> 500 "Allocation failed" [04], caller hang-up ->
  ChannelHangupRequest + StasisEnd and no ChannelDestroyed [05], failed playback on
  hang-up [05], snoop ending with its channel [09], bridge recording ending when the
  bridge empties [02], restart sequence [11], ApplicationReplaced [13];
* AMI: banner, Login, FullyBooted, DeviceStateList, PJSIPShowEndpoints, PJSIPShowContacts,
  QueueStatus (`queue_members`), Ping, Logoff, and PeerStatus / ContactStatus /
  DeviceStateChange / Hangup / Shutdown events [01, 11].

Test controls: `register`, `unregister`, `phone_dies`, `incoming_call`, `feature_call`,
`answer`, `reject`, `caller_hangs_up`, `agent_hangs_up`, `hold`, `send_dtmf`,
`drop_websocket`, `restart`, `wait_for`.

Its parts: `objects` (what is simulated), `base` (state, lifecycle, event writers),
`rest` (HTTP, the documents check, websocket, route table), `channels`, `bridges`,
`controls` (what tests do to it), `ami` (the AMI sessions), `swagger` (the documents).
"""

from __future__ import annotations

from tests.fakes.asterisk.bridges import BridgeResources
from tests.fakes.asterisk.channels import ChannelResources
from tests.fakes.asterisk.controls import Controls
from tests.fakes.asterisk.rest import RestApi


class FakeAsterisk(RestApi, ChannelResources, BridgeResources, Controls):
    """One simulated Asterisk with ARI on http://127.0.0.1:<port>/ari and AMI on TCP."""
