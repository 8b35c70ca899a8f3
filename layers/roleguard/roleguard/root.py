"""Composition root: builds gateways and sinks on first use and caches them per container."""

from __future__ import annotations

import os
import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

from .arns import partition_for_region
from .config import ConfigError, Settings
from .gateways.role_index import RoleIndex
from .gateways.sqs import SqsGateway
from .gateways.appstream import AppStreamGateway
from .gateways.iam import IamGateway, ManagedPolicyCache
from .gateways.securityhub import SecurityHubGateway
from .sinks.base import Sink
from .sinks.securityhub import SecurityHubSink

if TYPE_CHECKING:
    from .gateways.secrets import SecretsGateway
    from .tickets.base import TicketSystem
    from .tickets.ledger import Ledger
    from .tickets.sink import TicketSink

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
        self._tickets: dict[str, "TicketSink"] = {}
        self._ticket_systems: dict[str, "TicketSystem"] = {}
        self._ledger: "Ledger | None" = None
        self._secrets: "SecretsGateway | None" = None
        # time.monotonic() by which the current invocation must be done (set per invocation; None: no limit)
        self.deadline: float | None = None

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
            elif name == "tickets":
                built.append(self.tickets(region))
        return built

    # ---- tickets

    # Stop starting ticket requests this long before the invocation's end, so it fails cleanly instead of timing out.
    DEADLINE_MARGIN_SECONDS = 5.0

    def start_invocation(self, context: Any) -> None:
        """Note the Lambda's remaining time: no ticket request waits past it."""
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        self.deadline = (time.monotonic() + remaining() / 1000 - self.DEADLINE_MARGIN_SECONDS
                         if callable(remaining) else None)

    @property
    def home_region(self) -> str:
        """The stack's own region: the ledger table and the secret live there."""
        return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"

    def ledger(self) -> "Ledger":
        from .tickets.ledger import Ledger

        if self._ledger is None:
            self._ledger = Ledger(self._client("dynamodb", self.home_region), self.settings.ledger_table)
        return self._ledger

    def secrets(self) -> "SecretsGateway":
        from .gateways.secrets import SecretsGateway

        if self._secrets is None:
            self._secrets = SecretsGateway(self._client("secretsmanager", self.home_region))
        return self._secrets

    def ticket_system(self, region: str) -> "TicketSystem":
        """The configured ticket system; OpsCenter is regional, the HTTP systems are one per container."""
        system = self.settings.ticket_system
        key = region if system == "opscenter" else system
        if key not in self._ticket_systems:
            self._ticket_systems[key] = self._build_ticket_system(region)
        return self._ticket_systems[key]

    def _build_ticket_system(self, region: str) -> "TicketSystem":
        from .tickets import jira, servicenow
        from .tickets.http import HttpClient
        from .tickets.opscenter import OpsCenterTickets

        s = self.settings
        if s.ticket_system == "opscenter":
            return OpsCenterTickets(self._client("ssm", region))
        authorization = self._authorization(s.ticket_system, s.ticket_secret_name)
        http = HttpClient("servicenow" if s.ticket_system == "servicenow" else s.ticket_system, s.ticket_url,
                          authorization, deadline=lambda: self.deadline, sleep=self._sleep)
        if s.ticket_system == "servicenow":
            return servicenow.ServiceNowTickets(http, table=s.servicenow_table, close_code=s.servicenow_close_code)
        return jira.JiraTickets(http, cloud=s.ticket_system == "jira-cloud", project=s.jira_project,
                                issue_type=s.jira_issue_type, labels=s.jira_labels, priorities=s.jira_priorities)

    def _authorization(self, system: str, secret_name: str) -> Callable[[], str]:
        """The Authorization header, from the secret (Powertools-cached), computed per request and never stored."""
        from .gateways.secrets import SecretUnavailable
        from .tickets import jira, servicenow
        from .tickets.base import TicketError

        def header() -> str:
            try:
                creds = self.secrets().credentials(secret_name)
                if system == "jira-cloud":
                    return jira.cloud_authorization(creds.get("user", "email", "username"),
                                                    creds.get("token", "api_token", "apiToken"))
                if system == "jira-dc":
                    return jira.bearer_authorization(creds.get("token", "personal_access_token", "pat"))
                return servicenow.basic_authorization(creds.get("user", "username"), creds.get("password"))
            except SecretUnavailable as err:
                raise TicketError(f"{system} credentials: {err}") from None

        return header

    def tickets(self, region: str) -> "TicketSink":
        from .model import Severity
        from .tickets.sink import TicketSink

        if region not in self._tickets:
            self._tickets[region] = TicketSink(
                self.ticket_system(region), self.ledger(),
                min_severity=Severity(self.settings.ticket_min_severity),
                on_regression=self.settings.ticket_on_regression, sleep=self._sleep)
        return self._tickets[region]


@lru_cache(maxsize=1)
def services() -> Services:
    from .gateways.clients import client

    return Services(Settings.from_env(), client)
