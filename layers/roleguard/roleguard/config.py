"""Settings from the environment, validated once, with the template's defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

KNOWN_SINKS = ("securityhub",)


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    sinks: tuple[str, ...] = ("securityhub",)
    role_visibility_wait_seconds: float = 10.0
    index_table: str | None = None  # DynamoDB reverse index role -> resources; None: not kept
    sweep_queue_url: str | None = None  # SQS queue the sweep fans out through

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        sinks = tuple(s.strip() for s in env.get("ROLEGUARD_SINKS", "securityhub").split(",") if s.strip())
        unknown = [s for s in sinks if s not in KNOWN_SINKS]
        if unknown or not sinks:
            raise ConfigError(f"ROLEGUARD_SINKS must name some of {', '.join(KNOWN_SINKS)}; got {unknown or 'nothing'}")
        raw_wait = env.get("ROLEGUARD_ROLE_VISIBILITY_WAIT_SECONDS", "10")
        try:
            wait = float(raw_wait)
        except ValueError:
            raise ConfigError(f"ROLEGUARD_ROLE_VISIBILITY_WAIT_SECONDS must be a number, got {raw_wait!r}") from None
        if not 0 <= wait <= 60:
            raise ConfigError("ROLEGUARD_ROLE_VISIBILITY_WAIT_SECONDS must be between 0 and 60")
        return cls(sinks=sinks, role_visibility_wait_seconds=wait,
                   index_table=env.get("ROLEGUARD_INDEX_TABLE") or None,
                   sweep_queue_url=env.get("ROLEGUARD_SWEEP_QUEUE_URL") or None)
