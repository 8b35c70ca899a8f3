from dataclasses import replace

from roleguard import engine
from roleguard.checks import CHECK_IDS, REGISTRY
from roleguard.model import ResourceKind, RoleLookup, Severity, Status
from tests.factories import ACCESS_DENIED, facts, image, resource, role

GOOD_TRUST = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "appstream.amazonaws.com"}, "Action": "sts:AssumeRole",
                             "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}]}


def test_registry_is_well_formed():
    assert len(set(CHECK_IDS)) == len(CHECK_IDS)
    for check in REGISTRY:
        assert check.id and check.title and len(check.title) <= 256
        assert check.documentation_url.startswith("https://docs.aws.amazon.com/")
        assert 0 < len(check.remediation) <= 512
        assert check.severity in Severity


def test_good_fleet_passes_every_check_in_registry_order():
    fleet = resource(ResourceKind.FLEET, fleet_type="ON_DEMAND", image_name="img")
    gathered = replace(facts(fleet, role(GOOD_TRUST), image=image()), other_resources_using_role=())
    findings = engine.evaluate(gathered)
    assert [f.check_id for f in findings] == list(CHECK_IDS)
    assert {f.status for f in findings} == {Status.PASSED}
    assert {f.severity for f in findings} == {Severity.INFORMATIONAL}


def test_failures_carry_the_check_severity_and_undecided_ones_medium():
    fleet = resource(ResourceKind.FLEET, fleet_type="ON_DEMAND", image_name="img")
    findings = {f.check_id: f for f in engine.evaluate(facts(fleet, lookup=RoleLookup.UNREADABLE, role_error=ACCESS_DENIED,
                                                             image=image("01-01-2018")))}
    assert findings["agent-version"].status is Status.FAILED and findings["agent-version"].severity is Severity.HIGH
    assert findings["role-exists"].status is Status.NOT_AVAILABLE and findings["role-exists"].severity is Severity.MEDIUM
    assert findings["trust-allows-appstream"].status is Status.NOT_AVAILABLE


def test_no_role_means_no_findings_and_evaluation_is_deterministic():
    assert engine.evaluate(facts(resource(role_arn=None))) == []
    f = facts(resource(), role(GOOD_TRUST), image=image())
    assert engine.evaluate(f) == engine.evaluate(f)
