"""trust-confused-deputy and trust-no-foreign-principals on the real trust policies, the cases, and each status."""

import pytest

from roleguard.checks import trust_confused_deputy, trust_no_foreign_principals
from roleguard.model import ReadError, ResourceKind, RoleLookup, Severity, Status
from tests.factories import ACCESS_DENIED, facts, resource, role
from tests.shared_inputs import TRUST_POLICIES, case, trust_policy

FLEET = resource(ResourceKind.FLEET, "my-fleet")
APPSTREAM = {"Service": "appstream.amazonaws.com"}


def trust(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def stmt(principal=APPSTREAM, action="sts:AssumeRole", effect="Allow", condition=None, **extra):
    out = {"Effect": effect, "Principal": principal, "Action": action, **extra}
    if condition is not None:
        out["Condition"] = condition
    return out


def deputy(doc, res=FLEET):
    return trust_confused_deputy.run(facts(res, role(doc)))


def foreign(doc):
    return trust_no_foreign_principals.run(facts(FLEET, role(doc)))


# ------------------------------------------------------------------ real trust policies

# (confused-deputy, no-foreign-principals, its severity) with the reason.
REAL_EXPECTED = {
    "tp01": (Status.FAILED, Status.PASSED, None),  # AWS's example has no SourceAccount/SourceArn
    "tp02": (Status.FAILED, Status.PASSED, None),
    "tp03": (None, Status.FAILED, Severity.MEDIUM),  # trusts only application-autoscaling: deputy not applicable
    "tp04": (None, Status.FAILED, Severity.MEDIUM),  # the SLR's appstream.application-autoscaling principal
    "tp05": (Status.PASSED, Status.PASSED, None),  # StringEquals aws:SourceAccount (a placeholder; trust-allows fails it)
    "tp06": (Status.PASSED, Status.PASSED, None),  # ArnLike aws:SourceArn fleet/...
    "tp07": (Status.PASSED, Status.PASSED, None),  # ArnLike aws:SourceArn with the account named
    "tp08": (None, Status.FAILED, Severity.MEDIUM),  # prod.euc.ecm.amazonaws.com only
    "tp09": (Status.FAILED, Status.FAILED, Severity.MEDIUM),  # ec2 + appstream: shared with another service
    "tp10": (Status.FAILED, Status.PASSED, None),
    "tp11": (Status.FAILED, Status.PASSED, None),
    "tp12": (Status.FAILED, Status.PASSED, None),
    "tp13": (Status.FAILED, Status.PASSED, None),
    "tp14": (Status.FAILED, Status.PASSED, None),
    "tp15": (None, Status.FAILED, Severity.MEDIUM),  # ec2 only
    "tp16": (Status.FAILED, Status.PASSED, None),
}


def test_every_real_trust_policy_is_covered():
    assert {p.name.split("-")[0] for p in TRUST_POLICIES.glob("tp*.json")} == set(REAL_EXPECTED)


@pytest.mark.parametrize("prefix", sorted(REAL_EXPECTED))
def test_real_trust_policies(prefix):
    expected_deputy, expected_foreign, severity = REAL_EXPECTED[prefix]
    doc = trust_policy(prefix)
    d = deputy(doc)
    assert (d.status if d else None) is expected_deputy, d and d.detail
    f = foreign(doc)
    assert f.status is expected_foreign and f.severity is severity, f.detail


def test_tp09_names_ec2_as_another_service():
    result = foreign(trust_policy("tp09"))
    assert "ec2.amazonaws.com (another service) in statement #1" in result.detail


# ------------------------------------------------------------------ confused deputy


@pytest.mark.parametrize("condition,key", [
    ({"StringEquals": {"aws:SourceAccount": "111122223333"}}, "aws:SourceAccount"),
    ({"StringEquals": {"AWS:SOURCEACCOUNT": "111122223333"}}, "AWS:SOURCEACCOUNT"),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:appstream:us-east-1:111122223333:fleet/*"}}, "aws:SourceArn"),
    ({"ArnEquals": {"aws:SourceArn": "arn:aws:appstream:us-east-1:111122223333:fleet/my-fleet"}}, "aws:SourceArn"),
    ({"StringLike": {"aws:SourceArn": "arn:aws:appstream:*:111122223333:*"}}, "aws:SourceArn"),
])
def test_protected(condition, key):
    result = deputy(trust(stmt(condition=condition)))
    assert result.status is Status.PASSED and f"requires {key}" in result.detail


def test_if_exists_counts_but_says_why():
    result = deputy(trust(stmt(condition={"StringEqualsIfExists": {"aws:SourceAccount": "111122223333"}})))
    assert result.status is Status.PASSED and "relies on AppStream always sending" in result.detail


@pytest.mark.parametrize("condition", [
    None,
    {},  # tp08's empty Condition
    {"StringLike": {"aws:SourceAccount": "*"}},
    {"ArnLike": {"aws:SourceArn": "arn:aws:appstream:us-east-1:*:fleet/*"}},  # any account
    {"StringNotEquals": {"aws:SourceAccount": "111122223333"}},  # negated in an Allow: anyone else
    {"Bool": {"aws:SecureTransport": "true"}},
])
def test_unprotected(condition):
    result = deputy(trust(stmt(condition=condition)))
    assert result.status is Status.FAILED and result.severity is None
    assert trust_confused_deputy.CHECK.severity is Severity.LOW
    assert '"StringEquals": {"aws:SourceAccount": "111122223333"}' in result.detail
    assert '"ArnLike": {"aws:SourceArn": "arn:aws:appstream:us-east-1:111122223333:fleet/my-fleet"}' in result.detail


def test_the_suggestion_names_the_actual_resource():
    builder = resource(ResourceKind.IMAGE_BUILDER, "ib-1", region="eu-west-1")
    result = deputy(trust(stmt()), builder)
    assert "arn:aws:appstream:eu-west-1:111122223333:image-builder/ib-1" in result.detail


def test_every_appstream_statement_must_be_protected():
    doc = trust(stmt(condition={"StringEquals": {"aws:SourceAccount": "111122223333"}}, Sid="Good"),
                stmt(action="sts:AssumeRole", Sid="Open"))
    result = deputy(doc)
    assert result.status is Status.FAILED and "statement 'Open' lets appstream.amazonaws.com" in result.detail


def test_a_deny_guard_protects():
    guard = stmt(effect="Deny", condition={"StringNotEquals": {"aws:SourceAccount": "111122223333"}})
    assert deputy(trust(stmt(), guard)).status is Status.PASSED
    weak = stmt(effect="Deny", condition={"StringNotEquals": {"aws:SourceAccount": "111122223333"},
                                          "Bool": {"aws:SecureTransport": "false"}})
    assert deputy(trust(stmt(), weak)).status is Status.FAILED


def test_service_list_and_mixed_case_action_b01_b03():
    assert deputy(case("B01")["input"]["trust_policy_list_two_services"]).status is Status.FAILED
    assert deputy(case("B03")["input"]["trust_mixed_case"]).status is Status.FAILED
    assert deputy(case("B03")["input"]["trust_wildcard"]).status is Status.FAILED


def test_not_applicable_without_an_appstream_statement():
    assert deputy(trust(stmt({"Service": "ec2.amazonaws.com"}))) is None
    assert deputy(trust(stmt(action="sts:TagSession"))) is None  # tagging alone is no assumption
    assert deputy(trust(stmt("*"))) is None  # Principal "*" is trust-no-foreign-principals' finding
    assert trust_confused_deputy.run(facts(FLEET, role(None))) is None


def test_unreadable_trust_policy():
    assert deputy({"Statement": [{"Effect": "Maybe"}]}).status is Status.WARNING
    error = ReadError("trust policy of FleetRole", "InvalidPolicy", "not JSON")
    result = trust_confused_deputy.run(facts(FLEET, role(None, trust_error=error)))
    assert result.status is Status.NOT_AVAILABLE and "trust policy of FleetRole" in result.detail
    result = trust_confused_deputy.run(facts(FLEET, lookup=RoleLookup.UNREADABLE, role_error=ACCESS_DENIED))
    assert result.status is Status.NOT_AVAILABLE


# ------------------------------------------------------------------ foreign principals


@pytest.mark.parametrize("extra,severity,fragment", [
    (stmt("*"), Severity.CRITICAL, 'anyone (Principal "*")'),
    (stmt({"AWS": "*"}), Severity.CRITICAL, 'anyone (Principal "*")'),
    (stmt("*", condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}), Severity.HIGH,
     "narrowed by aws:PrincipalOrgID o-abc123"),
    (stmt({"AWS": "*"}, condition={"StringEquals": {"aws:PrincipalAccount": "444455556666"}}), Severity.HIGH,
     "narrowed by aws:PrincipalAccount"),
    (stmt("*", condition={"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}}), Severity.CRITICAL, "anyone"),
    (stmt("*", condition={"StringEquals": {"sts:ExternalId": "secret"}}), Severity.CRITICAL, "anyone"),
    (stmt("*", condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}), Severity.CRITICAL, "anyone"),
    ({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sts:AssumeRole"},
     Severity.CRITICAL, "everyone except arn:aws:iam::444455556666:root (Allow with NotPrincipal)"),
    (stmt({"AWS": "444455556666"}), Severity.HIGH, "444455556666 (account 444455556666)"),
    (stmt({"AWS": "arn:aws:iam::444455556666:role/Admin"}), Severity.HIGH, "(account 444455556666) (IAM principal)"),
    (stmt({"AWS": "arn:aws:iam::111122223333:root"}), Severity.HIGH, "the role's own account"),
    (stmt({"Federated": "cognito-identity.amazonaws.com"}, action="sts:AssumeRoleWithWebIdentity"), Severity.HIGH,
     "federated identity provider"),
    (stmt({"Federated": "arn:aws:iam::111122223333:saml-provider/Okta"}, action="sts:AssumeRoleWithSAML"),
     Severity.HIGH, "saml-provider/Okta"),
    (stmt({"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}), Severity.HIGH,
     "CanonicalUser"),
    (stmt({"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]}), Severity.MEDIUM,
     "lambda.amazonaws.com (another service)"),
    (stmt({"Service": "ec2.amazonaws.com"}, action="sts:*"), Severity.MEDIUM, "ec2.amazonaws.com"),
])
def test_foreign(extra, severity, fragment):
    result = foreign(trust(stmt(), extra))
    assert result.status is Status.FAILED and result.severity is severity, result.detail
    assert fragment in result.detail


def test_worst_first_and_evidence_lists_everyone():
    result = foreign(trust(stmt({"Service": ["ec2.amazonaws.com", "appstream.amazonaws.com"], "AWS": "*"})))
    assert result.severity is Severity.CRITICAL
    assert result.detail.index("anyone") < result.detail.index("ec2.amazonaws.com")
    assert [p["severity"] for p in result.evidence["principals"]] == ["CRITICAL", "MEDIUM"]


def test_deny_statements_are_restrictions_not_grants_b06():
    c = case("B06")
    result = foreign(c["input"]["trust_policy"])
    assert c["expected"]["trust_policy"]["trusts_everyone"] is False
    assert result.status is Status.PASSED and "only appstream.amazonaws.com" in result.detail


def test_unconditional_deny_takes_a_principal_out_but_a_conditional_one_does_not():
    ec2 = {"Service": "ec2.amazonaws.com"}
    assert foreign(trust(stmt({"Service": ["ec2.amazonaws.com", "appstream.amazonaws.com"]}),
                         stmt(ec2, effect="Deny"))).status is Status.PASSED
    conditional = stmt(ec2, effect="Deny", condition={"Bool": {"aws:SecureTransport": "false"}})
    assert foreign(trust(stmt(ec2), conditional)).severity is Severity.MEDIUM


def test_only_assume_actions_count():
    assert foreign(trust(stmt(), stmt({"AWS": "*"}, action="sts:TagSession"))).status is Status.PASSED
    assert foreign(trust(stmt(), stmt({"AWS": "*"}, action="sts:SetSourceIdentity"))).status is Status.PASSED
    not_action = {"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "NotAction": "sts:TagSession"}
    assert foreign(trust(stmt(), not_action)).severity is Severity.HIGH


def test_b01_two_services_is_a_shared_role_signal():
    result = foreign(case("B01")["input"]["trust_policy_list_two_services"])
    assert result.severity is Severity.MEDIUM and "ec2.amazonaws.com" in result.detail
    assert foreign(case("B01")["input"]["trust_policy_list_single"]).status is Status.PASSED


def test_nobody_at_all_passes():
    result = foreign(trust(stmt(action="sts:TagSession")))
    assert result.status is Status.PASSED and "no statement lets anyone" in result.detail


def test_foreign_statuses_when_unreadable():
    assert foreign({"Statement": "nope"}).status is Status.WARNING
    assert trust_no_foreign_principals.run(facts(FLEET, role(None))) is None
    error = ReadError("trust policy of FleetRole", "InvalidPolicy", "not JSON")
    assert trust_no_foreign_principals.run(facts(FLEET, role(None, trust_error=error))).status \
        is Status.NOT_AVAILABLE
    assert trust_no_foreign_principals.run(facts(FLEET)).status is Status.NOT_AVAILABLE


def test_metadata():
    for check in (trust_confused_deputy.CHECK, trust_no_foreign_principals.CHECK):
        assert check.scope.value == "role" and len(check.remediation) <= 512
    assert trust_confused_deputy.CHECK.documentation_url.endswith("example-confused-deputy.html")
