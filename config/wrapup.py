"""What the call taker's desk offers: the `wrapup:` section (how each call is classified
at wrap-up) and `pauses:` (the reasons an agent may pause for).

The codes are the call flows' own (reports and the review list use them); the labels are
what the console shows, in Indonesian with an optional English one for `?lang=en`.
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=32)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Labelled(_Model):
    code: Code
    label: str = Field(min_length=1, max_length=80)  # Indonesian
    label_en: str | None = Field(default=None, min_length=1, max_length=80)


class CallClass(Labelled):
    """One answer to "what was this call?"."""

    # An emergency report: the console asks its type, the place and the people affected.
    report: bool = False
    # Listed for the supervisors' nuisance review (pranks): a person decides, nothing is
    # added to the nuisance list by itself.
    review: bool = False


class WrapUp(_Model):
    # On: after a call the agent stays in wrap-up until the call is classified (the
    # queue's `wrap_up_s` is then the time shown counting down, not a limit). Off: the
    # classification is asked for but the wrap-up time or "ready" ends wrap-up without it.
    required: bool = False
    classes: list[CallClass] = []
    emergency_types: list[Labelled] = []

    @model_validator(mode="after")
    def _unique(self) -> Self:
        for name, items in (("classes", self.classes),
                            ("emergency_types", self.emergency_types)):
            codes = [i.code for i in items]
            dupes = sorted({c for c in codes if codes.count(c) > 1})
            if dupes:
                raise ValueError(f"{name}: codes must be unique: {', '.join(dupes)}")
        if self.required and not self.classes:
            raise ValueError("'required' needs at least one entry in 'classes'")
        return self

    def call_class(self, code: str) -> CallClass | None:
        return next((c for c in self.classes if c.code == code), None)

    def emergency_type(self, code: str) -> Labelled | None:
        return next((t for t in self.emergency_types if t.code == code), None)


class PauseReason(Labelled):
    """A reason to pause: chosen in the console, or keyed on the phone after `*13`."""

    digit: Annotated[str, StringConstraints(pattern=r"^\d{1,2}$")] | None = None


def check_pauses(pauses: list[PauseReason]) -> list[PauseReason]:
    for name, keys in (("code", [p.code for p in pauses]),
                       ("digit", [p.digit for p in pauses if p.digit is not None])):
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"pause reasons: each {name} once: {', '.join(dupes)}")
    return pauses
