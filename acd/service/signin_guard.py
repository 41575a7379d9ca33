"""How many password guesses are let through: per account and source, per source, per account.

Three counters of recent failed sign-ins, over a sliding window:

- per (account, source address): a handful, then that address may not try that account for
  the rest of the window, even with the right password. This is the lockout a user feels;
  it is local to the address that guessed, so a storm of wrong passwords from one machine
  does not lock the account for the operators at their own desks;
- per source: more, across every account (one machine spraying many accounts);
- per account: more still, across every address (guessing from many machines). An address
  the account signed in from lately (within `trusted_s`) is not held to this one, so a
  distributed storm does not lock out the person whose account it is either.

An attempt is counted *before* its password is checked (`begin`), and given back when it
succeeds: argon2 takes a while, and counting after the check let 40 guesses sent at once
all be checked while the counter still read zero.

Every table is bounded. When one is full, the expired entries go first, then those with the
fewest failures: a spray of made-up usernames (one failure each) evicts itself, never the
counter of an account under attack.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Limits:
    per_pair: int = 5
    per_source: int = 20
    per_account: int = 50
    window_s: float = 300.0
    trusted_s: float = 8 * 3600.0
    max_keys: int = 10_000


class Failures(Generic[K]):
    """Recent failure times per key, within `window_s`, for at most `max_keys` keys."""

    def __init__(self, window_s: float, max_keys: int) -> None:
        self.window_s = window_s
        self.max_keys = max_keys
        self._times: dict[K, list[float]] = {}

    def __len__(self) -> int:
        return len(self._times)

    def __contains__(self, key: object) -> bool:
        return key in self._times

    def count(self, key: K, now: float) -> int:
        times = self._times.get(key)
        if not times:
            return 0
        recent = [t for t in times if t > now - self.window_s]
        if recent:
            self._times[key] = recent
        else:
            del self._times[key]
        return len(recent)

    def add(self, key: K, now: float) -> None:
        self._times.setdefault(key, []).append(now)
        if len(self._times) > self.max_keys:
            self._evict(now)

    def give_back(self, key: K) -> None:
        """Undo one `add` (the attempt turned out right)."""
        times = self._times.get(key)
        if times:
            times.pop()
            if not times:
                del self._times[key]

    def clear(self, key: K) -> None:
        self._times.pop(key, None)

    def _evict(self, now: float) -> None:
        # Amortised: down to 90 % at once, so a spray pays for a sort once per 1,000 keys.
        keep = self.max_keys * 9 // 10
        for key in [k for k, ts in self._times.items() if ts[-1] <= now - self.window_s]:
            del self._times[key]
        if len(self._times) <= keep:
            return
        ranked = sorted(self._times, key=lambda k: (len(self._times[k]), self._times[k][-1]))
        for key in ranked[:len(self._times) - keep]:
            del self._times[key]


class SignInGuard:
    def __init__(self, limits: Limits | None = None, *,
                 clock: Callable[[], float]) -> None:
        self.limits = limits or Limits()
        self.clock = clock
        lim = self.limits
        self.pairs: Failures[tuple[str, str]] = Failures(lim.window_s, lim.max_keys)
        self.sources: Failures[str] = Failures(lim.window_s, lim.max_keys)
        self.accounts: Failures[str] = Failures(lim.window_s, lim.max_keys)
        self._trusted: dict[tuple[str, str], float] = {}  # (account, source) -> until

    def begin(self, account: str, source: str) -> str | None:
        """Count an attempt about to be checked; or, if it may not be made, say which limit
        refuses it ("account", "source") and count nothing."""
        now = self.clock()
        lim = self.limits
        if self.pairs.count((account, source), now) >= lim.per_pair:
            return "account"
        if self.sources.count(source, now) >= lim.per_source:
            return "source"
        if (self.accounts.count(account, now) >= lim.per_account
                and self._trusted.get((account, source), 0.0) <= now):
            return "account"
        self.pairs.add((account, source), now)
        self.sources.add(source, now)
        self.accounts.add(account, now)
        return None

    def withdraw(self, account: str, source: str) -> None:
        """The attempt `begin` counted was not checked after all (the pool was busy)."""
        self.pairs.give_back((account, source))
        self.sources.give_back(source)
        self.accounts.give_back(account)

    def succeeded(self, account: str, source: str) -> None:
        """The attempt `begin` counted was right: it is not a failure, the address's
        failures on this account are forgiven, and the address is trusted for a while."""
        self.pairs.clear((account, source))
        self.sources.give_back(source)
        self.accounts.give_back(account)
        now = self.clock()
        self._trusted.pop((account, source), None)
        self._trusted[(account, source)] = now + self.limits.trusted_s
        if len(self._trusted) > self.limits.max_keys:  # oldest first (insertion order)
            self._trusted.pop(next(iter(self._trusted)))
