"""The in-process Asterisk peer (ARI + AMI) of the tests; see `peer`."""

from tests.fakes.asterisk.objects import DialplanExit, RecordedRequest, SimChannel, SimEndpoint
from tests.fakes.asterisk.peer import FakeAsterisk

__all__ = ["DialplanExit", "FakeAsterisk", "RecordedRequest", "SimChannel", "SimEndpoint"]
