"""Settings from the environment, validated once, with the template's defaults."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

KNOWN_SINKS = ("securityhub", "tickets")
TICKET_SYSTEMS = ("jira-cloud", "jira-dc", "servicenow", "opscenter")
SEVERITIES = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
ON_REGRESSION = ("reopen", "new")
DEFAULT_JIRA_PRIORITIES = "CRITICAL=Highest,HIGH=High,MEDIUM=Medium,LOW=Low,INFORMATIONAL=Lowest"
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    sinks: tuple[str, ...] = ("securityhub",)
    role_visibility_wait_seconds: float = 10.0
    index_table: str | None = None  # DynamoDB reverse index role -> resources; None: not kept
    sweep_queue_url: str | None = None  # SQS queue the sweep fans out through
    # ---- tickets (used when "tickets" is in sinks)
    ticket_system: str = "jira-cloud"
    ticket_min_severity: str = "HIGH"
    ticket_on_regression: str = "reopen"
    ticket_secret_name: str = ""  # the NAME of the Secrets Manager secret; its value is never in the environment
    ticket_url: str = ""
    jira_project: str = ""
    jira_issue_type: str = "Task"
    jira_labels: tuple[str, ...] = ()
    jira_priorities: tuple[tuple[str, str], ...] = tuple(
        tuple(p.split("=")) for p in DEFAULT_JIRA_PRIORITIES.split(","))  # type: ignore[misc]
    servicenow_table: str = "incident"
    servicenow_close_code: str = "Resolved by change"
    ledger_table: str = ""

    def __post_init__(self) -> None:
        if "tickets" in self.sinks:
            self._check_tickets()

    def _check_tickets(self) -> None:
        problems = []
        if self.ticket_system not in TICKET_SYSTEMS:
            problems.append(f"ROLEGUARD_TICKET_SYSTEM must be one of {', '.join(TICKET_SYSTEMS)}, "
                            f"got {self.ticket_system!r}")
        if self.ticket_min_severity not in SEVERITIES:
            problems.append(f"ROLEGUARD_TICKET_MIN_SEVERITY must be one of {', '.join(SEVERITIES)}, "
                            f"got {self.ticket_min_severity!r}")
        if self.ticket_on_regression not in ON_REGRESSION:
            problems.append(f"ROLEGUARD_TICKET_ON_REGRESSION must be reopen or new, got {self.ticket_on_regression!r}")
        if not self.ledger_table:
            problems.append("ROLEGUARD_LEDGER_TABLE must name the ticket ledger table")
        if self.ticket_system != "opscenter":
            if not self.ticket_secret_name:
                problems.append(f"ROLEGUARD_TICKET_SECRET_NAME must name the Secrets Manager secret with the "
                                f"{self.ticket_system} credentials")
            problems += _url_problems(self.ticket_url)
        if self.ticket_system.startswith("jira"):
            if not re.fullmatch(r"[A-Z][A-Z0-9_]{0,254}", self.jira_project):
                problems.append(f"ROLEGUARD_JIRA_PROJECT must be a Jira project key (e.g. SEC), got {self.jira_project!r}")
            if not self.jira_issue_type.strip():
                problems.append("ROLEGUARD_JIRA_ISSUE_TYPE must not be empty")
            bad = [label for label in self.jira_labels if not re.fullmatch(r"[^\s]{1,255}", label)]
            if bad:
                problems.append(f"ROLEGUARD_JIRA_LABELS: Jira labels cannot contain spaces: {bad}")
            unknown = [s for s, _ in self.jira_priorities if s not in SEVERITIES]
            if unknown:
                problems.append(f"ROLEGUARD_JIRA_PRIORITIES names unknown severities: {unknown}")
        if self.ticket_system == "servicenow" and not re.fullmatch(r"[a-z0-9_]{1,80}", self.servicenow_table):
            problems.append(f"ROLEGUARD_SERVICENOW_TABLE must be a table name, got {self.servicenow_table!r}")
        if problems:
            raise ConfigError("; ".join(problems))

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
        raw_priorities = env.get("ROLEGUARD_JIRA_PRIORITIES", DEFAULT_JIRA_PRIORITIES).strip()
        priorities = []
        for pair in filter(None, (p.strip() for p in raw_priorities.split(","))):
            severity, sep, name = pair.partition("=")
            if not sep or not name.strip():
                raise ConfigError(f"ROLEGUARD_JIRA_PRIORITIES must be SEVERITY=Priority pairs, got {pair!r}")
            priorities.append((severity.strip().upper(), name.strip()))
        return cls(sinks=sinks, role_visibility_wait_seconds=wait,
                   index_table=env.get("ROLEGUARD_INDEX_TABLE") or None,
                   sweep_queue_url=env.get("ROLEGUARD_SWEEP_QUEUE_URL") or None,
                   **_ticket_settings(env, tuple(priorities)))


def _ticket_settings(env: Mapping[str, str], priorities: tuple[tuple[str, str], ...]) -> dict:
    return dict(
        ticket_system=env.get("ROLEGUARD_TICKET_SYSTEM", "jira-cloud").strip(),
        ticket_min_severity=env.get("ROLEGUARD_TICKET_MIN_SEVERITY", "HIGH").strip().upper(),
        ticket_on_regression=env.get("ROLEGUARD_TICKET_ON_REGRESSION", "reopen").strip(),
        ticket_secret_name=env.get("ROLEGUARD_TICKET_SECRET_NAME", "").strip(),
        ticket_url=env.get("ROLEGUARD_TICKET_URL", "").strip(),
        jira_project=env.get("ROLEGUARD_JIRA_PROJECT", "").strip(),
        jira_issue_type=env.get("ROLEGUARD_JIRA_ISSUE_TYPE", "Task").strip(),
        jira_labels=tuple(label.strip() for label in env.get("ROLEGUARD_JIRA_LABELS", "").split(",") if label.strip()),
        jira_priorities=priorities,
        servicenow_table=env.get("ROLEGUARD_SERVICENOW_TABLE", "incident").strip() or "incident",
        servicenow_close_code=env.get("ROLEGUARD_SERVICENOW_CLOSE_CODE", "Resolved by change").strip()
        or "Resolved by change",
        ledger_table=env.get("ROLEGUARD_LEDGER_TABLE", "").strip(),
    )


def _url_problems(url: str) -> list[str]:
    parts = urlsplit(url)
    if not url or not parts.netloc:
        return [f"ROLEGUARD_TICKET_URL must be the ticket system's base URL, got {url!r}"]
    if parts.username or parts.password or parts.query or parts.fragment:
        return ["ROLEGUARD_TICKET_URL must be a plain base URL (credentials belong in the secret)"]
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        return []
    return [f"ROLEGUARD_TICKET_URL must use https (plain http only to localhost), got {parts.scheme!r}"]
