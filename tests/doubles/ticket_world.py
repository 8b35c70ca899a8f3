"""Ticket sink wiring for tests and the demo: the ledger table and the credentials secret in moto, and
settings pointing the composition root at a local Jira / ServiceNow server or the OpsCenter fake."""

from __future__ import annotations

import json
from typing import Any

from roleguard.tickets.ledger import TABLE_DEFINITION

LEDGER_TABLE = "roleguard-ticket-ledger"
SECRET_NAME = "roleguard/tickets"


def create_ledger(dynamodb: Any, name: str = LEDGER_TABLE) -> str:
    """The template's TicketLedgerTable (same key schema and billing mode)."""
    if name not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(TableName=name, **TABLE_DEFINITION)
    return name


def seed_secret(secretsmanager: Any, value: dict[str, str], name: str = SECRET_NAME) -> str:
    secretsmanager.create_secret(Name=name, SecretString=json.dumps(value))
    return name


def jira_settings(server: Any, **overrides: Any) -> dict[str, Any]:
    settings = dict(sinks=("securityhub", "tickets"), ticket_system="jira-cloud" if server.cloud else "jira-dc",
                    ticket_secret_name=SECRET_NAME, ticket_url=server.url, jira_project="SEC",
                    ledger_table=LEDGER_TABLE)
    settings.update(overrides)
    return settings


def jira_secret(server: Any) -> dict[str, str]:
    return {"user": server.user, "token": server.token} if server.cloud else {"token": server.token}


def servicenow_settings(server: Any, **overrides: Any) -> dict[str, Any]:
    settings = dict(sinks=("securityhub", "tickets"), ticket_system="servicenow", ticket_secret_name=SECRET_NAME,
                    ticket_url=server.url, ledger_table=LEDGER_TABLE)
    settings.update(overrides)
    return settings


def tickets_world(aws: Any, settings: dict[str, Any], secret: dict[str, str] | None) -> Any:
    """Services for `aws` (an EmbeddedAws) with the ticket sink configured by `settings`."""
    create_ledger(aws.client("dynamodb"))
    if secret is not None:
        seed_secret(aws.client("secretsmanager"), secret)
    return aws.services(**settings)
