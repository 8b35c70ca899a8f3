"""network-conditions: own conditions, Deny guards, the boundary, the real policies and each status."""

import json

import pytest

from roleguard.checks import network_conditions
from roleguard.model import PolicyDocument, ReadError, RoleLookup, Severity, Status
from roleguard.policy.conditions import RequestContext, Truth, evaluate_condition
from roleguard.policy.document import Condition
from tests.factories import ACCESS_DENIED, facts, resource, role
from tests.shared_inputs import PERMISSION_POLICIES, case

TRUST = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "appstream.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
VPC = {"StringEquals": {"aws:SourceVpc": "vpc-0abc1234def567890"}}


def run(*documents, boundary=None, errors=()):
    docs = tuple(d if isinstance(d, PolicyDocument) else PolicyDocument("inline", f"p{i}", d)
                 for i, d in enumerate(documents))
    return network_conditions.run(facts(resource(), role(TRUST, inline_policies=docs, permissions_boundary=boundary,
                                                         read_errors=tuple(errors))))


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action="s3:GetObject", resource="arn:aws:s3:::b/*", condition=None):
    stmt = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        stmt["Condition"] = condition
    return stmt


def deny(condition, action="*", resource="*"):
    return {"Effect": "Deny", "Action": action, "Resource": resource, "Condition": condition}


# ------------------------------------------------------------------ the case


def test_b06_deny_unless_source_vpc_is_a_guard():
    c = case("B06")
    result = run(c["input"]["inline_policy"])
    assert c["expected"]["inline_policy"]["network_restricted"] is True
    assert result.status is Status.PASSED and "Deny guard in inline policy p0 statement #2" in result.detail


# ------------------------------------------------------------------ own conditions


@pytest.mark.parametrize("condition", [
    VPC,
    {"StringEquals": {"AWS:SourceVpce": "vpce-1a2b3c4d"}},  # key in any case
    {"StringLike": {"aws:SourceVpc": "vpc-0abc*"}},
    {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.7"]}},
    {"IpAddress": {"aws:VpcSourceIp": "10.0.0.0/16"}},
    {"ForAnyValue:StringEquals": {"aws:SourceVpc": "vpc-1"}},
    {**VPC, "Bool": {"aws:SecureTransport": "true"}},  # one limiting condition is enough (conditions are AND'ed)
])
def test_own_positive_condition_limits(condition):
    result = run(policy(allow(condition=condition)))
    assert result.status is Status.PASSED and "own condition" in result.detail


@pytest.mark.parametrize("condition,why", [
    ({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}, "holds when the key is absent"),
    ({"ForAllValues:StringEquals": {"aws:SourceVpc": "vpc-1"}}, "true on an empty set"),
    ({"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}, "negated: anywhere but"),
    ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, "negated"),
    ({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, "every address"),
    ({"StringLike": {"aws:SourceVpc": "*"}}, "any VPC is no stated network"),
    ({"IpAddress": {"aws:SourceVpc": "10.0.0.0/8"}}, "IP operator on a VPC id"),
    ({"StringEquals": {"aws:PrincipalOrgID": "o-123"}}, "not a network key"),
    ({"Bool": {"aws:SecureTransport": "true"}}, "not a network key"),
])
def test_conditions_that_do_not_limit(condition, why):
    result = run(policy(allow(condition=condition)))
    assert result.status is Status.FAILED, why
    assert result.severity is None and network_conditions.CHECK.severity is Severity.LOW
    assert "inline policy p0 statement #1 (s3:GetObject)" in result.detail


# ------------------------------------------------------------------ Deny guards


@pytest.mark.parametrize("guard", [
    {"StringNotEquals": {"aws:SourceVpc": "vpc-1"}},
    {"StringNotEqualsIfExists": {"aws:SourceVpc": "vpc-1"}},
    {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    {"NotIpAddressIfExists": {"aws:SourceIp": "203.0.113.0/24"}, "StringNotEqualsIfExists": {"aws:SourceVpc": "vpc-1"}},
    {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}, "BoolIfExists": {"aws:ViaAWSService": "false"}},
    {"ForAllValues:StringNotEquals": {"aws:SourceVpc": "vpc-1"}},
])
def test_deny_guards(guard):
    assert run(policy(allow(), deny(guard))).status is Status.PASSED


def test_if_exists_on_a_negated_operator_still_denies_a_request_without_the_key():
    # Why StringNotEqualsIfExists is a guard: for a missing key a negated operator is already true (IAM's
    # condition-operator page), and IfExists makes it true as well; the evaluator agrees.
    absent = RequestContext.of({}, absent=("aws:SourceVpc",))
    for op in ("StringNotEquals", "StringNotEqualsIfExists"):
        assert evaluate_condition(Condition(op, "aws:SourceVpc", ("vpc-1",)), absent).truth is Truth.TRUE
    assert evaluate_condition(Condition("ForAnyValue:StringNotEquals", "aws:SourceVpc", ("vpc-1",)), absent).truth \
        is Truth.FALSE


@pytest.mark.parametrize("guard,why", [
    ({"ForAnyValue:StringNotEquals": {"aws:SourceVpc": "vpc-1"}}, "false when the key is absent"),
    ({"StringEquals": {"aws:SourceVpc": "vpc-1"}}, "denies the stated network, not the rest"),
    ({"StringNotEquals": {"aws:SourceVpc": "vpc-1"}, "StringEquals": {"aws:PrincipalTag/team": "a"}},
     "another condition: the Deny does not always apply"),
    ({"Null": {"aws:SourceVpc": "true"}}, "only denies requests without the key"),
    ({"NotIpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, "no stated network"),
])
def test_not_guards(guard, why):
    assert run(policy(allow(), deny(guard))).status is Status.FAILED, why


def test_guard_must_cover_the_actions_and_resources():
    guard = {"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}
    assert run(policy(allow(["s3:GetObject", "s3:PutObject"]), deny(guard, action="s3:Get*"))).status is Status.FAILED
    partial = run(policy(allow(["s3:GetObject", "s3:PutObject"]), deny(guard, action="s3:Get*")))
    assert "1 of 2 actions not guarded" in partial.detail
    assert run(policy(allow(), deny(guard, resource="arn:aws:s3:::other/*"))).status is Status.FAILED
    assert run(policy(allow(), deny(guard, action="s3:*", resource="arn:aws:s3:::b/*"))).status is Status.PASSED
    not_resource = {"Effect": "Deny", "Action": "*", "NotResource": "arn:aws:s3:::x", "Condition": guard}
    assert run(policy(allow(), not_resource)).status is Status.FAILED


def test_guards_in_other_policies_and_several_guards_combine():
    guard = {"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}
    result = run(policy(allow(["s3:GetObject", "ec2:DescribeInstances"], "*")),
                 policy(deny(guard, action="s3:*"), deny(guard, action="ec2:*")))
    assert result.status is Status.PASSED and "inline policy p1 statement #1" in result.detail


def test_boundary_deny_guards_and_boundary_allow_conditions_limit():
    guard = {"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}
    b = PolicyDocument("boundary", "B", policy(allow("*", "*"), deny(guard)))
    assert run(policy(allow()), boundary=b).status is Status.PASSED
    limited = PolicyDocument("boundary", "B", policy(allow("*", "*", condition=VPC)))
    assert run(policy(allow()), boundary=limited).status is Status.PASSED
    open_ = PolicyDocument("boundary", "B", policy(allow("*", "*", condition=VPC), allow("s3:*", "*")))
    assert run(policy(allow()), boundary=open_).status is Status.FAILED


# ------------------------------------------------------------------ real policies: none has a network condition

REAL_EXPECTED = {
    "p01": Status.FAILED, "p02": Status.FAILED, "p03": Status.FAILED, "p04": Status.FAILED,
    "p05": Status.WARNING, "p06": Status.WARNING, "p07": Status.WARNING,  # only statement unreadable (CFN intrinsic)
    "p08": Status.FAILED,  # statement #1 (states:SendTask*) readable and unlimited; the rest unreadable: partial
    "p09": Status.FAILED, "p10": Status.FAILED, "p11": Status.FAILED, "p12": Status.FAILED,
    "p13": Status.FAILED, "p15": Status.FAILED,
}


@pytest.mark.parametrize("prefix", sorted(REAL_EXPECTED))
def test_real_permission_policies(prefix):
    # provenance.md: no public AppStream permission policy with aws:SourceVpc/SourceVpce/SourceIp was found.
    (path,) = PERMISSION_POLICIES.glob(f"{prefix}-*.json")
    doc = json.loads(path.read_text())
    docs = [PolicyDocument("inline", n, d) for n, d in doc.items()] if prefix == "p09" else [doc]
    result = run(*docs)
    assert result.status is REAL_EXPECTED[prefix], result.detail
    if prefix == "p08":
        assert "partial" in result.detail
    assert len(result.detail) <= 1024


# ------------------------------------------------------------------ statuses


def test_no_grants_is_passed():
    assert run().status is Status.PASSED
    everything_denied = run(policy(allow(), {"Effect": "Deny", "Action": "*", "Resource": "*"}))
    assert everything_denied.status is Status.PASSED and "nothing to limit" in everything_denied.detail


def test_unreadable_statement_is_warning_and_read_error_not_available():
    cfn = policy({"Effect": "Allow", "Action": "s3:PutObject", "Resource": {"Fn::Sub": "${B.Arn}/*"}})
    assert run(cfn).status is Status.WARNING
    error = ReadError("iam:GetRolePolicy FleetRole/x", "AccessDenied")
    result = run(policy(allow(condition=VPC)), errors=[error])
    assert result.status is Status.NOT_AVAILABLE and "FleetRole/x" in result.detail
    failing = run(policy(allow()), errors=[error])
    assert failing.status is Status.FAILED and "partial" in failing.detail


def test_role_unavailable():
    result = network_conditions.run(facts(resource(), lookup=RoleLookup.UNREADABLE, role_error=ACCESS_DENIED))
    assert result.status is Status.NOT_AVAILABLE


def test_long_lists_are_summarised_and_evidence_is_full():
    docs = [policy(allow(f"s3:GetObject", f"arn:aws:s3:::bucket-{i}/*")) for i in range(40)]
    result = run(*docs)
    assert result.status is Status.FAILED and "more" in result.detail and len(result.detail) <= 1024
    assert len(result.evidence["not_limited"]) == 40
