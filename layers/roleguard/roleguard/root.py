"""Composition root: builds gateways and sinks on first use and caches them per container."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any, Callable

from .arns import partition_for_region
from .config import ConfigError, Settings
from .gateways.role_index import RoleIndex
from .gateways.sqs import SqsGateway
from .gateways.appstream import AppStreamGateway
from .gateways.iam import IamGateway, ManagedPolicyCache
from .gateways.securityhub import SecurityHubGateway
from .sinks.base import Sink
from .sinks.securityhub import SecurityHubSink

ClientFactory = Callable[[str, "str | None"], Any]


class Services:
    """Everything an evaluation needs from the outside world, per region."""

    def __init__(self, settings: Settings, client_factory: ClientFactory,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self._client = client_factory
        self._sleep = sleep  # every wait of the gateways goes through here (tests record instead of waiting)
        self._managed_cache = ManagedPolicyCache()
        self._iam: dict[str, IamGateway] = {}
        self._hubs: dict[str, SecurityHubGateway] = {}

    def iam(self, region: str) -> IamGateway:
        """IAM is global per partition: a client in the resource's region reaches its partition's IAM."""
        partition = partition_for_region(region)
        if partition not in self._iam:
            self._iam[partition] = IamGateway(
                self._client("iam", region),
                visibility_wait_seconds=self.settings.role_visibility_wait_seconds,
                managed_cache=self._managed_cache,
                sleep=self._sleep,
            )
        return self._iam[partition]

    def appstream(self, region: str) -> AppStreamGateway:
        return AppStreamGateway(self._client("appstream", region))

    def role_index(self, region: str) -> RoleIndex | None:
        if self.settings.index_table is None:
            return None
        return RoleIndex(self._client("dynamodb", region), self.settings.index_table)

    def sweep_queue(self, region: str) -> SqsGateway:
        if self.settings.sweep_queue_url is None:
            raise ConfigError("ROLEGUARD_SWEEP_QUEUE_URL is not set: the sweep has nowhere to fan out")
        return SqsGateway(self._client("sqs", region), self.settings.sweep_queue_url)

    def hub(self, region: str) -> SecurityHubGateway:
        # One gateway per region for the container's life: its rate limiter must see every call.
        if region not in self._hubs:
            self._hubs[region] = SecurityHubGateway(self._client("securityhub", region), sleep=self._sleep)
        return self._hubs[region]

    def sinks(self, region: str) -> list[Sink]:
        built: list[Sink] = []
        for name in self.settings.sinks:
            if name == "securityhub":
                built.append(SecurityHubSink(self.hub(region)))
        return built


@lru_cache(maxsize=1)
def services() -> Services:
    from .gateways.clients import client

    return Services(Settings.from_env(), client)
