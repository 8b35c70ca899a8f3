from dataclasses import replace

from roleguard.checks import dedicated_role
from roleguard.model import Severity, Status
from tests.factories import THROTTLED, facts, resource, role

TRUST = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "appstream.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def with_others(others, error=None):
    return replace(facts(resource(), role(TRUST)), other_resources_using_role=others, others_error=error)


def test_statuses():
    assert dedicated_role.run(with_others(())).status is Status.PASSED
    shared = dedicated_role.run(with_others(("arn:aws:appstream:us-east-1:111122223333:fleet/other",)))
    assert shared.status is Status.FAILED and "fleet/other" in shared.detail
    assert dedicated_role.CHECK.severity is Severity.LOW
    assert dedicated_role.run(with_others(None, THROTTLED)).status is Status.NOT_AVAILABLE
    assert dedicated_role.run(with_others(None)) is None


def test_long_lists_are_summarised():
    many = tuple(f"arn:aws:appstream:us-east-1:111122223333:fleet/f{i}" for i in range(25))
    result = dedicated_role.run(with_others(many))
    assert "and 15 more" in result.detail and len(result.evidence["others"].split(",")) == 25
