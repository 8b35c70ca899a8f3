"""IAM gateway against moto (in-process and over HTTP): every page, every document, decoded once."""

import json

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from roleguard.gateways.iam import IamGateway, ManagedPolicyCache
from roleguard.model import RoleLookup
from tests.shared_inputs import case, trust_policy

TRUST = trust_policy("tp01")


def make_role(iam, name="FleetRoleA", path="/appstream/team-a/", trust=TRUST, boundary=None):
    kwargs = {"PermissionsBoundary": boundary} if boundary else {}
    iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=trust,
                    Tags=[{"Key": "owner", "Value": "euc"}], **kwargs)


def test_b14_every_page_of_attached_and_inline_policies(aws):
    iam = aws("iam")
    data = case("B14")
    make_role(iam)
    names = []
    for page in data["input"]["list_attached_role_policies_pages"]:
        for p in page["AttachedPolicies"]:
            names.append(p["PolicyName"])
    docs = {"ReadOnlyBucketA": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a/*"}]},
            "AdministratorAccess": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}
    for name in names:
        arn = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(docs[name]))["Policy"]["Arn"]
        iam.attach_role_policy(RoleName="FleetRoleA", PolicyArn=arn)
    for page in data["input"]["list_role_policies_pages"]:
        for inline in page["PolicyNames"]:
            iam.put_role_policy(RoleName="FleetRoleA", PolicyName=inline, PolicyDocument=json.dumps(docs["ReadOnlyBucketA"]))

    lookup, role, error = IamGateway(iam, visibility_wait_seconds=0, page_size=1).read_role("FleetRoleA")
    assert lookup is RoleLookup.FOUND and error is None and role.read_errors == ()
    evaluated = [p.name for p in role.managed_policies] + [p.name for p in role.inline_policies]
    assert sorted(evaluated) == sorted(data["expected"]["policies_evaluated"])
    assert role.path == "/appstream/team-a/" and role.tags == {"owner": "euc"}
    assert role.trust_policy["Statement"][0]["Principal"]["Service"] == ["appstream.amazonaws.com"]
    admin = next(p for p in role.managed_policies if p.name == "AdministratorAccess")
    assert admin.document["Statement"][0]["Action"] == "*"


def test_b02_statement_object_survives_moto_round_trip(aws):
    iam = aws("iam")
    make_role(iam, trust=json.dumps(case("B02")["input"]["trust_policy"]))
    _, role, _ = IamGateway(iam, visibility_wait_seconds=0).read_role("FleetRoleA")
    assert isinstance(role.trust_policy["Statement"], dict)


def test_b09_percent_sequences_survive_the_wire(aws):
    iam = aws("iam")
    make_role(iam)
    wire = case("B09")["expected"]["policy_with_literal_percent_sequences_decoded"]
    iam.put_role_policy(RoleName="FleetRoleA", PolicyName="tags", PolicyDocument=json.dumps(wire))
    _, role, _ = IamGateway(iam, visibility_wait_seconds=0).read_role("FleetRoleA")
    assert role.inline_policies[0].document == wire


def test_permissions_boundary_is_read(aws):
    iam = aws("iam")
    boundary = iam.create_policy(PolicyName="Boundary", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))["Policy"]["Arn"]
    make_role(iam, boundary=boundary)
    _, role, _ = IamGateway(iam, visibility_wait_seconds=0).read_role("FleetRoleA")
    assert role.permissions_boundary.arn == boundary and role.permissions_boundary.document["Statement"][0]["Action"] == "s3:*"


def test_b13_missing_role_waits_briefly_then_not_found(aws):
    iam = aws("iam")
    pauses = []
    lookup, role, error = IamGateway(iam, visibility_wait_seconds=7, sleep=pauses.append).read_role("Nope")
    assert lookup is RoleLookup.NOT_FOUND and role is None and error is None
    assert pauses == [1.0, 2.0, 4.0] and sum(pauses) <= 7


def test_role_becoming_visible_during_the_wait_is_found(aws):
    iam = aws("iam")
    pauses = []

    def sleep(seconds):
        pauses.append(seconds)
        if len(pauses) == 2:
            make_role(iam, name="Late")

    lookup, _, _ = IamGateway(iam, visibility_wait_seconds=10, sleep=sleep).read_role("Late")
    assert lookup is RoleLookup.FOUND and len(pauses) == 2


def test_aws_managed_policy_documents_are_cached(moto_inprocess):
    iam = moto_inprocess("iam")
    make_role(iam)
    arn = "arn:aws:iam::aws:policy/ReadOnlyAccessForTest"
    cache = ManagedPolicyCache()
    cache.put(arn, "v1", {"Statement": []})
    assert cache.get(arn, "v1") == {"Statement": []}
    cache.put("arn:aws:iam::111122223333:policy/Mine", "v1", {"Statement": []})
    assert cache.get("arn:aws:iam::111122223333:policy/Mine", "v1") is None  # customer policies can change


def _stubbed(iam, *responses):
    stub = Stubber(iam)
    for method, kind, payload in responses:
        if kind == "ok":
            stub.add_response(method, payload)
        else:
            stub.add_client_error(method, service_error_code=payload, http_status_code=400 if payload != "Throttling" else 400)
    stub.activate()
    return stub


def test_access_denied_on_get_role_is_unreadable_not_missing(moto_inprocess):
    iam = moto_inprocess("iam")
    _stubbed(iam, ("get_role", "error", "AccessDenied"))
    lookup, role, error = IamGateway(iam, visibility_wait_seconds=0).read_role("FleetRoleA")
    assert lookup is RoleLookup.UNREADABLE and error.code == "AccessDenied" and not error.transient


def test_throttling_past_retries_is_a_transient_read_error(moto_inprocess):
    iam = moto_inprocess("iam")
    _stubbed(iam, ("get_role", "error", "Throttling"))
    lookup, _, error = IamGateway(iam, visibility_wait_seconds=0).read_role("FleetRoleA")
    assert lookup is RoleLookup.UNREADABLE and error.transient


def test_unexpected_errors_are_re_raised(moto_inprocess):
    iam = moto_inprocess("iam")
    _stubbed(iam, ("get_role", "error", "ValidationError"))
    with pytest.raises(ClientError):
        IamGateway(iam, visibility_wait_seconds=0).read_role("FleetRoleA")


def test_b13_role_deleted_mid_evaluation_is_recorded_not_passed(moto_inprocess):
    iam = moto_inprocess("iam")
    role = {"Role": {"RoleName": "FleetRoleA", "Path": "/", "Arn": "arn:aws:iam::123456789012:role/FleetRoleA",
                     "RoleId": "AROAEXAMPLEEXAMPLE123", "CreateDate": "2024-01-01T00:00:00Z",
                     "AssumeRolePolicyDocument": TRUST}}
    _stubbed(iam, ("get_role", "ok", role), ("list_attached_role_policies", "error", "NoSuchEntity"),
             ("list_role_policies", "ok", {"PolicyNames": [], "IsTruncated": False}))
    lookup, facts, _ = IamGateway(iam, visibility_wait_seconds=0).read_role("FleetRoleA")
    assert lookup is RoleLookup.FOUND
    assert [e.code for e in facts.read_errors] == ["NoSuchEntity"] and facts.read_errors[0].transient
