"""Properties of the policy engine, with hypothesis (deterministic: derandomize, no example database).

* Decoding, parsing and every check through the engine never raise on arbitrary JSON-like documents,
  except the grammar's own PolicyError; the command turns any file into exit 0, 1 or 2 with one line on error.
* Normalisation is idempotent: parse(to_document(parse(x))) == parse(x), also through JSON text.
* Adding an explicit Deny never increases what is granted; adding an Allow never decreases it. "Granted" is the
  set of (action, resource) pairs over a finite universe of real actions (from the action table) and resource
  ARNs that the effective permissions (policy/effective.py) still grant.

Documents come both structured (effects, actions from a small pool with wildcards, case variants and
NotAction, resources and NotResource, simple conditions, Principal forms) and as raw junk.
"""

from __future__ import annotations

import io
import json
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roleguard import cli, engine
from roleguard.checks import REGISTRY
from roleguard.model import (AppStreamResource, EvaluationFacts, PolicyDocument, ResourceKind, ResourceRef, RoleFacts,
                             RoleLookup, Severity, Status)
from roleguard.policy import actions as action_table
from roleguard.policy.document import Policy, PolicyError, decode_policy, parse_policy, to_document
from roleguard.policy.effective import effective_permissions
from roleguard.policy.matching import glob_match

pytestmark = pytest.mark.unit

PROPERTIES = settings(derandomize=True, max_examples=200, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

ACCOUNT = "111122223333"

# --------------------------------------------------------------------------- strategies: junk

_KEYS = st.sampled_from(["Version", "Statement", "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource",
                         "Principal", "NotPrincipal", "Condition", "AWS", "Service", "Federated", "StringEquals",
                         "aws:SourceAccount", "Fn::Sub", "Ref", "*", ""])
_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
            | st.text(max_size=20) | st.sampled_from(["Allow", "Deny", "*", "sts:AssumeRole", "s3:*", "2012-10-17",
                                                      "appstream.amazonaws.com", "%7B%7D", "{}", "[]", '"x"']))
json_like = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS | st.text(max_size=8), children, max_size=5),
    max_leaves=25,
)

# --------------------------------------------------------------------------- strategies: structured policies

ACTION_POOL = ["s3:GetObject", "S3:getobject", "s3:Get*", "s3:*", "s3:Put*", "*", "*:*", "iam:PassRole",
               "iam:pass*", "iam:CreatePolicyVersion", "ec2:*Instances", "ec2:RunInstances", "sts:AssumeRole",
               "appstream:Create*", "?3:GetObject", "logs:*", "kms:Decrypt", "unknownsvc:DoThing", "s3:NoSuchAction",
               "iam:*"]
RESOURCE_POOL = ["*", "arn:aws:s3:::bucket-a", "arn:aws:s3:::bucket-a/*", "arn:aws:s3:::*", "arn:aws:s3:::*/*",
                 f"arn:aws:iam::{ACCOUNT}:role/*", f"arn:aws:iam::{ACCOUNT}:role/AppRole", "arn:aws:ec2:*:*:instance/*",
                 f"arn:aws:appstream:us-east-1:{ACCOUNT}:fleet/f1", "arn:aws:s3:::${aws:username}/*",
                 "arn:aws:s3:::bucket-?/key"]
CONDITION_POOL = [
    {"StringEquals": {"aws:SourceVpce": "vpce-1"}},
    {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]}},
    {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"StringNotEquals": {"aws:SourceVpc": "vpc-1"}, "BoolIfExists": {"aws:ViaAWSService": "false"}},
    {"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}},
    {"Bool": {"aws:SecureTransport": False}},
    {"ForAnyValue:StringLike": {"aws:TagKeys": ["team*"]}},
    {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
    {"ArnLike": {"aws:SourceArn": f"arn:aws:appstream:us-east-1:{ACCOUNT}:fleet/*"}},
    {"NumericLessThan": {"aws:MultiFactorAuthAge": 3600}},
    {},
]
PRINCIPAL_POOL = ["*", {"AWS": "*"}, {"Service": "appstream.amazonaws.com"}, {"Service": ["ec2.amazonaws.com",
                  "appstream.amazonaws.com"]}, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, {"AWS": "444455556666"},
                  {"Federated": "cognito-identity.amazonaws.com"}, {"Service": "APPSTREAM.amazonaws.com"}]


def _one_or_list(pool):
    return st.sampled_from(pool) | st.lists(st.sampled_from(pool), min_size=1, max_size=3)


@st.composite
def statements(draw, effect=None, principal=None):
    out = {}
    if draw(st.booleans()):
        out["Sid"] = draw(st.sampled_from(["", "S1", "AllowThings", "Deny-1"]))
    out["Effect"] = effect or draw(st.sampled_from(["Allow", "Deny"]))
    out["NotAction" if draw(st.integers(0, 4)) == 0 else "Action"] = draw(_one_or_list(ACTION_POOL))
    shape = draw(st.integers(0, 5))
    if shape <= 3:
        out["Resource"] = draw(_one_or_list(RESOURCE_POOL))
    elif shape == 4:
        out["NotResource"] = draw(_one_or_list(RESOURCE_POOL))
    if principal or (principal is None and draw(st.integers(0, 4)) == 0):
        out["NotPrincipal" if draw(st.integers(0, 6)) == 0 else "Principal"] = draw(st.sampled_from(PRINCIPAL_POOL))
    if draw(st.booleans()):
        out["Condition"] = draw(st.sampled_from(CONDITION_POOL))
    return out


@st.composite
def policies(draw, statement=None, min_size=1):
    body = draw(st.lists(statement if statement is not None else statements(), min_size=min_size, max_size=4))
    doc = {"Statement": body[0] if len(body) == 1 and draw(st.booleans()) else body}
    if draw(st.booleans()):
        doc = {"Version": draw(st.sampled_from(["2012-10-17", "2008-10-17"])), **doc}
    return doc


permission_statements = statements(principal=False)
permission_policies = policies(permission_statements)
trust_policies = policies(statements(principal=True))
# Structured documents, the same with one junk value dropped in somewhere, and plain junk.
documents = (permission_policies | trust_policies
             | st.builds(lambda d, k, v: {**d, k: v}, permission_policies, _KEYS, json_like)
             | st.dictionaries(_KEYS, json_like, max_size=4))


def _text_forms(value):
    text = json.dumps(value)
    return st.sampled_from([text, quote(text, safe=""), json.dumps(text), text[: len(text) // 2], " " + text + "\n"])


raw_inputs = (json_like | documents | st.text(max_size=60) | st.binary(max_size=40)
              | json_like.flatmap(_text_forms) | documents.flatmap(_text_forms))

# --------------------------------------------------------------------------- 1. never raises but PolicyError


@PROPERTIES
@given(raw_inputs)
def test_decode_and_parse_raise_only_policy_error(raw):
    for function in (decode_policy, parse_policy):
        try:
            result = function(raw)
        except PolicyError as err:
            assert str(err) and "\n" not in str(err)
        else:
            assert isinstance(result, dict if function is decode_policy else Policy)


def _facts(trust, inline=(), managed=(), boundary=None, kind=ResourceKind.FLEET) -> EvaluationFacts:
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/FleetRole"
    role = RoleFacts(
        arn=role_arn, name="FleetRole", path="/", trust_policy=trust,
        inline_policies=tuple(PolicyDocument("inline", f"p{i}", d) for i, d in enumerate(inline)),
        managed_policies=tuple(PolicyDocument("managed", f"m{i}", d, f"arn:aws:iam::{ACCOUNT}:policy/m{i}")
                               for i, d in enumerate(managed)),
        permissions_boundary=PolicyDocument("boundary", "b", boundary, f"arn:aws:iam::{ACCOUNT}:policy/b")
        if boundary is not None else None,
    )
    ref = ResourceRef(kind, "f1", ACCOUNT, "us-east-1")
    return EvaluationFacts(resource=AppStreamResource(ref=ref, role_arn=role_arn), role_lookup=RoleLookup.FOUND,
                           role=role, other_resources_using_role=())


@PROPERTIES
@given(trust=documents, inline=st.lists(documents, max_size=3), managed=st.lists(documents, max_size=2),
       boundary=st.none() | documents, kind=st.sampled_from(list(ResourceKind)))
def test_every_check_through_the_engine_never_raises(trust, inline, managed, boundary, kind):
    findings = engine.evaluate(_facts(trust, inline, managed, boundary, kind), REGISTRY)
    assert [f.check_id for f in findings] == [c.id for c in REGISTRY if c.id in {f.check_id for f in findings}]
    for finding in findings:
        assert isinstance(finding.status, Status) and isinstance(finding.severity, Severity)
        assert isinstance(finding.detail, str) and finding.detail
        json.dumps(finding.evidence)  # evidence goes to Security Hub and logs as JSON


_WORKDIR = Path(tempfile.mkdtemp(prefix="roleguard-properties-"))


@PROPERTIES
@given(trust=raw_inputs, policies_=st.lists(raw_inputs, max_size=2))
def test_the_command_exits_0_1_or_2_and_bad_input_is_one_line(trust, policies_):
    argv = ["check-role", "--format", "json"]
    for index, (option, content) in enumerate([("--trust-policy", trust)] + [("--policy", p) for p in policies_]):
        path = _WORKDIR / f"{option.strip('-')}-{index}.json"
        path.write_bytes(content if isinstance(content, bytes) else
                         (content if isinstance(content, str) else json.dumps(content)).encode("utf-8", "surrogatepass"))
        argv += [option, str(path)]
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(argv)
    if code == 2:
        assert out.getvalue() == "" and err.getvalue().count("\n") == 1
        assert err.getvalue().startswith("roleguard: error: ")
    else:
        document = json.loads(out.getvalue())
        assert err.getvalue() == ""
        assert code == (1 if any(f["status"] == "FAILED" for f in document["findings"]) else 0)


# --------------------------------------------------------------------------- 2. normalisation is idempotent


def _parses(raw):
    try:
        return parse_policy(raw)
    except PolicyError:
        return None


@PROPERTIES
@given(raw_inputs)
def test_normalisation_is_idempotent(raw):
    policy = _parses(raw)
    if policy is None:
        return
    normal = to_document(policy)
    assert parse_policy(normal) == policy
    assert parse_policy(json.dumps(normal)) == policy  # JSON-ready, and text decodes to the same
    assert to_document(parse_policy(normal)) == normal  # a fixed point


@PROPERTIES
@given(permission_policies | trust_policies)
def test_every_structured_policy_parses_and_normalises(document):
    policy = parse_policy(document)
    assert parse_policy(to_document(policy)) == policy
    assert len(policy.statements) == (len(document["Statement"]) if isinstance(document["Statement"], list) else 1)


# --------------------------------------------------------------------------- 3. Deny never adds, Allow never removes

# A finite universe: real actions from the action table (each pool pattern's matches, a few each) and ARNs.
ACTION_UNIVERSE = sorted({a for p in ACTION_POOL if "*" not in p.split(":")[0] and p != "*"
                          for a in sorted(action_table.expand_set(p))[:4]} | {"iam:PassRole", "sts:AssumeRole",
                                                                              "ec2:RunInstances", "s3:PutObject"})
RESOURCE_UNIVERSE = ["arn:aws:s3:::bucket-a", "arn:aws:s3:::bucket-a/key", "arn:aws:s3:::bucket-b/key",
                     f"arn:aws:iam::{ACCOUNT}:role/AppRole", f"arn:aws:iam::{ACCOUNT}:role/Admin",
                     f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-1", f"arn:aws:appstream:us-east-1:{ACCOUNT}:fleet/f1",
                     "arn:aws:s3:::bucket-x/key"]


def _covers_resource(statement, resource: str) -> bool:
    if statement.resources is not None:
        return any(glob_match(p, resource) for p in statement.resources)
    if statement.not_resources is not None:
        return not any(glob_match(p, resource) for p in statement.not_resources)
    return True


def granted(inline, managed=(), boundary=None) -> frozenset[tuple[str, str]]:
    eff = effective_permissions(_facts(None, inline, managed, boundary).role)
    return frozenset((action, resource) for grant in eff.grants for action in ACTION_UNIVERSE
                     if action in grant.actions for resource in RESOURCE_UNIVERSE
                     if _covers_resource(grant.statement, resource))


def test_the_universe_is_real_actions():
    assert len(ACTION_UNIVERSE) >= 15 and all(action_table.info(a) for a in ACTION_UNIVERSE)


role_policies = st.lists(permission_policies, min_size=1, max_size=3)


def _with(policies_, stmt, where: int, new_policy: bool):
    """The role's policies with one statement added: as a new policy, or into an existing one."""
    out = [dict(p) for p in policies_]
    if new_policy:
        return [*out, {"Version": "2012-10-17", "Statement": [stmt]}]
    target = out[where % len(out)]
    body = target["Statement"] if isinstance(target["Statement"], list) else [target["Statement"]]
    target["Statement"] = [*body, stmt]
    return out


@PROPERTIES
@given(inline=role_policies, managed=st.lists(permission_policies, max_size=1),
       boundary=st.none() | permission_policies, deny=statements(effect="Deny", principal=False),
       where=st.integers(0, 3), place=st.sampled_from(["inline", "new-inline", "managed", "boundary"]))
def test_adding_a_deny_never_increases_what_is_granted(inline, managed, boundary, deny, where, place):
    before = granted(inline, managed, boundary)
    if place == "boundary":
        after = granted(inline, managed, _with([boundary], deny, 0, False)[0] if boundary else
                        {"Statement": [deny]})
    elif place == "managed":
        after = granted(inline, [*managed, {"Statement": [deny]}], boundary)
    else:
        after = granted(_with(inline, deny, where, place == "new-inline"), managed, boundary)
    assert after <= before


@PROPERTIES
@given(inline=role_policies, managed=st.lists(permission_policies, max_size=1),
       boundary=st.none() | permission_policies, allow=statements(effect="Allow", principal=False),
       where=st.integers(0, 3), place=st.sampled_from(["inline", "new-inline", "managed", "boundary"]))
def test_adding_an_allow_never_decreases_what_is_granted(inline, managed, boundary, allow, where, place):
    before = granted(inline, managed, boundary)
    if place == "boundary":
        if boundary is None:
            return  # a first boundary is a limit, not an Allow: it may only take away
        after = granted(inline, managed, _with([boundary], allow, 0, False)[0])
    elif place == "managed":
        after = granted(inline, [*managed, {"Statement": [allow]}], boundary)
    else:
        after = granted(_with(inline, allow, where, place == "new-inline"), managed, boundary)
    assert after >= before


@PROPERTIES
@given(inline=role_policies, denied=_one_or_list(ACTION_POOL))
def test_an_unconditional_deny_on_every_resource_takes_its_actions_away(inline, denied):
    patterns = [denied] if isinstance(denied, str) else denied
    after = granted(_with(inline, {"Effect": "Deny", "Action": denied, "Resource": "*"}, 0, True))
    gone = {a for p in patterns for a in action_table.expand_set(p)}
    assert not {action for action, _ in after} & gone


@PROPERTIES
@given(inline=role_policies, allow=statements(effect="Allow", principal=False))
def test_an_added_allow_grants_what_it_names(inline, allow):
    # An Allow is kept whatever its condition (it grants in some request context), unless a Deny takes it away.
    after = granted(_with(inline, allow, 0, True))
    alone = granted([{"Statement": [allow]}])
    denies = [s for p in inline for s in (p["Statement"] if isinstance(p["Statement"], list) else [p["Statement"]])
              if s["Effect"] == "Deny"]
    if not denies:
        assert alone <= after


def _rank(result) -> int:
    return -1 if result.status is Status.PASSED else (result.severity.rank if result.severity else 0)


@settings(PROPERTIES, max_examples=100)  # two checks, twice, per example
@given(inline=role_policies, deny=statements(effect="Deny", principal=False), where=st.integers(0, 3),
       new_policy=st.booleans())
def test_adding_a_deny_never_makes_a_verdict_worse(inline, deny, where, new_policy):
    # The same property where it matters, on the checks' verdicts: least-privilege's worst severity does not
    # rise and network-conditions does not start failing (a Deny may only take grants away or guard them).
    from roleguard.checks import least_privilege, network_conditions

    before, after = _facts(None, inline), _facts(None, _with(inline, deny, where, new_policy))
    lp_before, lp_after = least_privilege.run(before), least_privilege.run(after)
    if Status.WARNING not in (lp_before.status, lp_after.status):
        assert _rank(lp_after) <= _rank(lp_before), (lp_before.detail, lp_after.detail)
    if network_conditions.run(before).status is Status.PASSED:
        assert network_conditions.run(after).status is Status.PASSED


# --------------------------------------------------------------------------- found by looking for what hypothesis misses


def test_decode_policy_on_json_nested_past_the_recursion_limit():
    with pytest.raises(PolicyError):
        decode_policy("[" * 100_000 + "]" * 100_000)
