"""trust-allows-appstream on every real trust policy, the peer-tool cases, and each status."""

import pytest

from roleguard.checks import trust_allows_appstream
from roleguard.model import ResourceKind, RoleLookup, Status
from tests.factories import ACCESS_DENIED, facts, resource, role
from tests.shared_inputs import TRUST_POLICIES, case, trust_policy

FLEET = resource(ResourceKind.FLEET, "my-fleet")

# For a fleet "my-fleet" in 111122223333 / us-east-1. The reason fragment is part of the record.
REAL_TRUST_EXPECTED = {
    "tp01": (Status.PASSED, "may assume"),
    "tp02": (Status.PASSED, "may assume"),
    "tp03": (Status.FAILED, "trusts only application-autoscaling.amazonaws.com"),
    "tp04": (Status.FAILED, "trusts only appstream.application-autoscaling.amazonaws.com"),
    "tp05": (Status.FAILED, "'your AWS account ID'"),  # the docs' placeholder left in place
    "tp06": (Status.FAILED, "fleet/your-fleet-name"),  # SourceArn names another fleet
    "tp07": (Status.PASSED, "may assume"),  # account-wide ArnLike SourceArn
    "tp08": (Status.FAILED, "trusts only prod.euc.ecm.amazonaws.com"),
    "tp09": (Status.PASSED, "may assume"),  # ec2 + appstream in one list
    "tp10": (Status.PASSED, "may assume"),  # Statement is an object
    "tp11": (Status.PASSED, "may assume"),  # empty Sid
    "tp12": (Status.PASSED, "may assume"),
    "tp13": (Status.PASSED, "may assume"),
    "tp14": (Status.PASSED, "may assume"),
    "tp15": (Status.FAILED, "trusts only ec2.amazonaws.com"),
    "tp16": (Status.PASSED, "may assume"),
}


def test_every_real_trust_policy_is_covered():
    prefixes = {p.name.split("-")[0] for p in TRUST_POLICIES.glob("tp*.json")}
    assert prefixes == set(REAL_TRUST_EXPECTED)


@pytest.mark.parametrize("prefix", sorted(REAL_TRUST_EXPECTED))
def test_real_trust_policies(prefix):
    status, reason = REAL_TRUST_EXPECTED[prefix]
    result = trust_allows_appstream.run(facts(FLEET, role(trust_policy(prefix))))
    assert result.status is status, result.detail
    assert reason in result.detail


def test_fleet_arn_pattern_on_an_image_builder_fails():
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "appstream.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:appstream:us-east-1:111122223333:fleet/*"}}}]}
    builder = resource(ResourceKind.IMAGE_BUILDER, "ib-1")
    result = trust_allows_appstream.run(facts(builder, role(trust)))
    assert result.status is Status.FAILED
    assert "image-builder/ib-1" in result.detail and "condition can never match" in result.detail
    assert trust_allows_appstream.run(facts(FLEET, role(trust))).status is Status.PASSED


def test_other_account_in_source_account_fails():
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "appstream.amazonaws.com"},
                            "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceAccount": "444455556666"}}}]}
    result = trust_allows_appstream.run(facts(FLEET, role(trust)))
    assert result.status is Status.FAILED and "444455556666" in result.detail


def test_b01_service_as_list():
    data = case("B01")["input"]
    for key in ("trust_policy_list_single", "trust_policy_list_two_services"):
        assert trust_allows_appstream.run(facts(FLEET, role(data[key]))).status is Status.PASSED


def test_no_substring_matching_of_principals():
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "notappstream.amazonaws.com.evil"},
                            "Action": "sts:AssumeRole"}]}
    assert trust_allows_appstream.run(facts(FLEET, role(trust))).status is Status.FAILED


def test_b03_action_case_and_wildcards():
    data = case("B03")["input"]
    for key in ("trust_mixed_case", "trust_wildcard"):
        assert trust_allows_appstream.run(facts(FLEET, role(data[key]))).status is Status.PASSED
    only_tag = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "appstream.amazonaws.com"},
                               "Action": "sts:TagSession"}]}
    result = trust_allows_appstream.run(facts(FLEET, role(only_tag)))
    assert result.status is Status.FAILED and "only for sts:TagSession" in result.detail


def test_b06_deny_guard_with_false_condition_does_not_block():
    result = trust_allows_appstream.run(facts(FLEET, role(case("B06")["input"]["trust_policy"])))
    assert result.status is Status.PASSED


def test_explicit_deny_wins():
    trust = {"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "appstream.amazonaws.com"}, "Action": "sts:AssumeRole"},
        {"Sid": "NoAppStream", "Effect": "Deny", "Principal": {"Service": "appstream.amazonaws.com"}, "Action": "sts:*"},
    ]}
    result = trust_allows_appstream.run(facts(FLEET, role(trust)))
    assert result.status is Status.FAILED and "explicit Deny in statement 'NoAppStream'" in result.detail


def test_not_action_and_not_principal():
    not_action = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "appstream.amazonaws.com"},
                                 "NotAction": "sts:TagSession"}]}
    assert trust_allows_appstream.run(facts(FLEET, role(not_action))).status is Status.PASSED
    deny_all_but_ec2 = {"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "appstream.amazonaws.com"}, "Action": "sts:AssumeRole"},
        {"Effect": "Deny", "NotPrincipal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
    ]}
    assert trust_allows_appstream.run(facts(FLEET, role(deny_all_but_ec2))).status is Status.FAILED


def test_unknown_condition_key_warns_never_passes():
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "appstream.amazonaws.com"},
                            "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}]}
    result = trust_allows_appstream.run(facts(FLEET, role(trust)))
    assert result.status is Status.WARNING and "aws:PrincipalOrgID" in result.detail


def test_deny_with_unknown_condition_warns():
    trust = {"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "appstream.amazonaws.com"}, "Action": "sts:AssumeRole"},
        {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
         "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}},
    ]}
    assert trust_allows_appstream.run(facts(FLEET, role(trust))).status is Status.WARNING


def test_unreadable_or_missing_role_is_not_available():
    unreadable = trust_allows_appstream.run(facts(FLEET, lookup=RoleLookup.UNREADABLE, role_error=ACCESS_DENIED))
    assert unreadable.status is Status.NOT_AVAILABLE and "AccessDenied" in unreadable.detail
    assert trust_allows_appstream.run(facts(FLEET, lookup=RoleLookup.NOT_FOUND)).status is Status.NOT_AVAILABLE


def test_missing_trust_policy_fails():
    assert trust_allows_appstream.run(facts(FLEET, role(None))).status is Status.FAILED


def test_policy_variables_resolve_only_in_version_2012():
    stmt = {"Effect": "Allow", "Principal": {"Service": "appstream.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": "${aws:SourceAccount}"}}}
    assert trust_allows_appstream.run(facts(FLEET, role({"Version": "2012-10-17", "Statement": [stmt]}))).status is Status.PASSED
    assert trust_allows_appstream.run(facts(FLEET, role({"Statement": [stmt]}))).status is Status.FAILED


def test_unreadable_trust_document_warns_instead_of_claiming_none():
    from roleguard.model import ReadError
    broken = role(None, trust_error=ReadError("trust policy of FleetRole", "InvalidPolicy", "not JSON"))
    result = trust_allows_appstream.run(facts(FLEET, broken))
    assert result.status is Status.WARNING and "not JSON" in result.detail
