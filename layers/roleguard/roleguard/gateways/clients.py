"""The one place that creates boto3 clients and owns their retry configuration."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

# Standard mode backs off with jitter on throttling and 5xx; a Lambda must not wait unboundedly.
RETRY_CONFIG = Config(
    retries={"max_attempts": 5, "mode": "standard"},
    connect_timeout=5,
    read_timeout=20,
    user_agent_extra="appstream-role-guard",
)


@lru_cache(maxsize=None)
def client(service: str, region: str | None = None) -> Any:
    """A cached client per (service, region). Created on first use, never at import time."""
    return boto3.session.Session().client(service, region_name=region, config=RETRY_CONFIG)
