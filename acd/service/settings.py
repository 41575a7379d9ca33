"""The daemon's settings: from the environment, or from a file the environment names.

Every setting is an `ACD117_*` variable. `ACD117_ENV_FILE` names a file of `KEY=VALUE`
lines (comments with `#`, optional quotes) read first; variables set in the environment win
over the file. Nothing here connects to anything.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    SecretStr,
    ValidationError,
    field_validator,
)

PREFIX = "ACD117_"
EXAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "config" / "example"


# The service level threshold (a call answered within it counts as answered in time) and
# the short abandon threshold, for the wallboard, the metrics, the reports and the
# simulator alike. Operators set them as ACD117_SERVICE_LEVEL_S and ACD117_SHORT_ABANDON_S.
SERVICE_LEVEL_S = 20.0
SHORT_ABANDON_S = 5.0


class SettingsError(ValueError):
    pass


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    config: Path = EXAMPLE_CONFIG  # folder of call-flow YAML files
    dsn: str | None = None  # PostgreSQL; None: records feed only the live figures
    http_host: str = "127.0.0.1"
    http_port: Annotated[int, Field(ge=0, le=65535)] = 8117
    # Asterisk: acd117 runs on the Asterisk host, as the users asterisk/install.sh creates;
    # only the two secrets have no default (without them the daemon refuses to start).
    ari_url: str = "http://127.0.0.1:8088/ari"
    ari_user: str = "acd117"
    ari_password: SecretStr | None = None
    ami_host: str = "127.0.0.1"
    ami_port: Annotated[int, Field(ge=1, le=65535)] = 5038
    ami_user: str = "acd117"
    ami_secret: SecretStr | None = None
    spool_dir: Path = Path("var/spool")
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    recordings_dir: Path = Path("var/recordings")
    session_ttl_s: Annotated[float, Field(gt=0)] = 8 * 3600.0  # one shift
    short_abandon_s: Annotated[float, Field(ge=0)] = SHORT_ABANDON_S  # quicker: left out
    service_level_s: Annotated[float, Field(gt=0)] = SERVICE_LEVEL_S
    wallboard_every_s: Annotated[float, Field(gt=0, le=3)] = 2.0
    # Reverse proxies in front of the HTTP API (addresses or networks, comma-separated):
    # from them, the client's address is the one they add to X-Forwarded-For. Without it,
    # every sign-in behind a proxy comes from one address, and the per-address limits lock
    # out the whole room at once.
    trusted_proxies: tuple[IPvAnyNetwork, ...] = ()
    # The simulated telephony (`acd117 run --simulate`): calls per hour across the example.
    demo_calls_per_hour: Annotated[float, Field(gt=0)] = 360.0

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @property
    def asterisk_configured(self) -> bool:
        return self.ari_password is not None and self.ami_secret is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read `ACD117_*` from `environ` (default: os.environ), after `ACD117_ENV_FILE`."""
        env = dict(os.environ if environ is None else environ)
        values: dict[str, object] = {}
        env_file = env.get(PREFIX + "ENV_FILE")
        if env_file:
            values.update(_read_env_file(Path(env_file)))
        values.update({k: v for k, v in env.items() if k.startswith(PREFIX)})
        fields = set(cls.model_fields)
        data: dict[str, object] = {}
        for key, value in values.items():
            name = key[len(PREFIX):].lower()
            if name in fields and value != "":
                data[name] = value
        data.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            problems = "; ".join(
                f"{PREFIX}{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
                for err in e.errors())
            raise SettingsError(problems) from None


def _read_env_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SettingsError(f"{PREFIX}ENV_FILE: cannot read {path}: {e.strerror}") from None
    out: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):]
        key, sep, value = line.partition("=")
        if not sep:
            raise SettingsError(f"{path}:{n}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key.strip()] = value
    return out
