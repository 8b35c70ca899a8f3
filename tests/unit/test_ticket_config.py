"""Ticket settings from the environment: validated once, secrets never in it."""

import pytest

from roleguard.config import ConfigError, Settings

pytestmark = pytest.mark.unit

JIRA = {"ROLEGUARD_SINKS": "securityhub,tickets", "ROLEGUARD_TICKET_SYSTEM": "jira-cloud",
        "ROLEGUARD_TICKET_SECRET_NAME": "roleguard/jira", "ROLEGUARD_TICKET_URL": "https://example.atlassian.net",
        "ROLEGUARD_JIRA_PROJECT": "SEC", "ROLEGUARD_LEDGER_TABLE": "ledger"}


def test_tickets_settings_and_defaults():
    s = Settings.from_env({**JIRA, "ROLEGUARD_JIRA_LABELS": "appstream, security",
                           "ROLEGUARD_JIRA_PRIORITIES": "CRITICAL=P1,HIGH=P2"})
    assert s.sinks == ("securityhub", "tickets") and s.ticket_system == "jira-cloud"
    assert (s.ticket_min_severity, s.ticket_on_regression, s.jira_issue_type) == ("HIGH", "reopen", "Task")
    assert s.jira_labels == ("appstream", "security")
    assert s.jira_priorities == (("CRITICAL", "P1"), ("HIGH", "P2"))
    assert Settings.from_env({}).sinks == ("securityhub",)  # tickets settings are not needed without the sink


@pytest.mark.parametrize("change, message", [
    ({"ROLEGUARD_TICKET_SYSTEM": "trello"}, "ROLEGUARD_TICKET_SYSTEM must be one of"),
    ({"ROLEGUARD_TICKET_MIN_SEVERITY": "URGENT"}, "ROLEGUARD_TICKET_MIN_SEVERITY"),
    ({"ROLEGUARD_TICKET_ON_REGRESSION": "ignore"}, "reopen or new"),
    ({"ROLEGUARD_LEDGER_TABLE": ""}, "ROLEGUARD_LEDGER_TABLE"),
    ({"ROLEGUARD_TICKET_SECRET_NAME": ""}, "ROLEGUARD_TICKET_SECRET_NAME"),
    ({"ROLEGUARD_TICKET_URL": "http://jira.example.com"}, "must use https"),
    ({"ROLEGUARD_TICKET_URL": "https://user:pw@jira.example.com"}, "credentials belong in the secret"),
    ({"ROLEGUARD_JIRA_PROJECT": "sec"}, "ROLEGUARD_JIRA_PROJECT"),
    ({"ROLEGUARD_JIRA_LABELS": "has space"}, "cannot contain spaces"),
    ({"ROLEGUARD_JIRA_PRIORITIES": "HIGH"}, "SEVERITY=Priority"),
    ({"ROLEGUARD_JIRA_PRIORITIES": "SEVERE=High"}, "unknown severities"),
])
def test_bad_ticket_settings_are_refused_with_the_variable_named(change, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({**JIRA, **change})


def test_loopback_http_is_allowed_for_local_servers_and_opscenter_needs_no_secret_or_url():
    assert Settings.from_env({**JIRA, "ROLEGUARD_TICKET_URL": "http://127.0.0.1:8080"}).ticket_url
    s = Settings.from_env({"ROLEGUARD_SINKS": "tickets", "ROLEGUARD_TICKET_SYSTEM": "opscenter",
                           "ROLEGUARD_LEDGER_TABLE": "ledger"})
    assert s.ticket_system == "opscenter" and s.ticket_secret_name == ""
