"""Who is calling: the number parsed with `phonenumbers`, its priority class, nuisance listing.

Pure: the repeat-caller memory is state the core owns and passes in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import phonenumbers
from phonenumbers import PhoneNumberType

from acd.vocabulary.localtime import end_of_local_day
from config.models import Callers

LineType = Literal["mobile", "fixed", "unknown"]


@dataclass(frozen=True, slots=True)
class CallerInfo:
    raw: str
    e164: str | None
    line_type: LineType
    area_code: str | None  # fixed lines only, without the trunk 0 ("22" for Bandung)


@lru_cache(maxsize=65536)
def parse_caller(raw: str) -> CallerInfo:
    """Parse what the carrier delivered; anything unparsable (withheld, "anonymous") is kept
    as given with no E.164 form — the call is still served."""
    try:
        number = phonenumbers.parse(raw, "ID")
    except phonenumbers.NumberParseException:
        return CallerInfo(raw, None, "unknown", None)
    if not phonenumbers.is_possible_number(number):
        return CallerInfo(raw, None, "unknown", None)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.MOBILE:
        return CallerInfo(raw, e164, "mobile", None)
    if kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        area = None
        if number.country_code == 62:
            nsn = phonenumbers.national_significant_number(number)
            n = phonenumbers.length_of_geographical_area_code(number)
            area = nsn[:n] if n else None
        return CallerInfo(raw, e164, "fixed", area)
    return CallerInfo(raw, e164, "unknown", None)


@dataclass(frozen=True, slots=True)
class Classification:
    caller_class: str
    priority: int  # 0 is served first
    nuisance: bool


class CallerPolicy:
    """Priority classes in list order, then the default class, then listed nuisance numbers."""

    def __init__(self, callers: Callers) -> None:
        self._callers = callers
        self._classes = [(c, frozenset(c.numbers), tuple(c.prefixes)) for c in callers.classes]
        self._nuisance_until = {
            # a listing expires at the end of its day in Jakarta time
            n.number: end_of_local_day(n.until)
            for n in callers.nuisance
        }
        self.default_priority = len(callers.classes)
        self.nuisance_priority = len(callers.classes) + 1
        self.repeat_window_s = callers.repeat_window_min * 60

    def classify(self, caller: CallerInfo, now: float, last_call_at: float | None,
                 listed: Mapping[str, float] | None = None) -> Classification:
        """`listed`: the numbers supervisors put on the nuisance list meanwhile, with when
        each listing ends (besides the call flows' own)."""
        number = caller.e164
        if number is not None and now < max(self._nuisance_until.get(number, float("-inf")),
                                            (listed or {}).get(number, float("-inf"))):
            return Classification("nuisance", self.nuisance_priority, True)
        repeat = last_call_at is not None and now - last_call_at <= self.repeat_window_s
        for rank, (c, numbers, prefixes) in enumerate(self._classes):
            if numbers and number not in numbers:
                continue
            if prefixes and not (number and number.startswith(prefixes)):
                continue
            if c.line_type is not None and c.line_type != caller.line_type:
                continue
            if c.repeat and not repeat:
                continue
            return Classification(c.name, rank, False)
        return Classification(self._callers.default_class, self.default_priority, False)
