"""Meta-tests over the shared event files in ``events/``.

The files are synthetic CloudTrail-via-EventBridge events (see events/README.md)
except the two ``not-handled-*`` files, whose ``detail`` is a real AWS-doc record.
These tests keep the files well-formed and pinned to the names the demo seeds.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from tests.events import EVENTS_DIR, REPO_ROOT, all_event_names, load_event

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/"

# name -> (eventName, resource name, iamRoleArn in requestParameters or None)
EXPECTED = {
    "create-fleet-good-role": ("CreateFleet", "fleet-good", ROLE + "appstream/FleetGoodRole"),
    "create-fleet-bad-trust": ("CreateFleet", "fleet-bad-trust", ROLE + "Ec2OnlyRole"),
    "create-fleet-cross-account-role": (
        "CreateFleet", "fleet-cross-account", "arn:aws:iam::444455556666:role/SharedAppStreamRole"),
    "update-fleet-set-role": ("UpdateFleet", "fleet-legacy", ROLE + "LegacyFleetRole"),
    "update-fleet-remove-role": ("UpdateFleet", "fleet-good", None),
    "update-fleet-no-role-param": ("UpdateFleet", "fleet-legacy", None),
    "create-image-builder-old-agent": ("CreateImageBuilder", "ib-old-agent", ROLE + "ImageBuilderRole"),
    "create-image-builder-latest-agent": ("CreateImageBuilder", "ib-latest", ROLE + "ImageBuilderRole"),
    "create-fleet-elastic": ("CreateFleet", "fleet-elastic", ROLE + "appstream/ElasticFleetRole"),
    "create-fleet-error-invalid-role": ("CreateFleet", "fleet-errored", ROLE + "NotPassableRole"),
    "create-app-block-builder": ("CreateAppBlockBuilder", "abb-packager", ROLE + "AppBlockBuilderRole"),
    "update-app-block-builder-remove-role": ("UpdateAppBlockBuilder", "abb-packager", None),
    "create-fleet-junk-role": ("CreateFleet", "fleet-junk-role", "arn:aws:iam:: 111122223333:role/Admin"),
    "create-fleet-govcloud": (
        "CreateFleet", "fleet-gov", "arn:aws-us-gov:iam::111122223333:role/appstreamfiletransfer"),
    "delete-fleet": ("DeleteFleet", "fleet-bad-trust", None),
    "create-image-builder-placeholder-trust": (
        "CreateImageBuilder", "ib-placeholder", ROLE + "PlaceholderTrustRole"),
    "create-fleet-shared-image": ("CreateFleet", "fleet-shared-image", ROLE + "appstream/SharedImageFleetRole"),
    "not-handled-associate-fleet": ("AssociateFleet", None, None),
    "not-handled-create-image-service-event": ("CreateImage", None, None),
}

# Real AWS-doc records wrapped in an envelope: name -> file in ../shared/real-inputs/cloudtrail
REAL = {
    "not-handled-associate-fleet": "awsdocs-AssociateFleet-AwsApiCall.raw.json",
    "not-handled-create-image-service-event": "awsdocs-CreateImage-AwsServiceEvent.raw.json",
}
REAL_DIR = REPO_ROOT.parent / "shared" / "real-inputs" / "cloudtrail"

SYNTHETIC = sorted(set(EXPECTED) - set(REAL))
HANDLED = sorted(n for n in EXPECTED if not n.startswith("not-handled-"))
ENVELOPE_KEYS = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
RESPONSE_KEY = {"CreateFleet": "fleet", "UpdateFleet": "fleet", "CreateImageBuilder": "imageBuilder",
                "CreateAppBlockBuilder": "appBlockBuilder", "UpdateAppBlockBuilder": "appBlockBuilder"}
ARN_KIND = {"fleet": "fleet", "imageBuilder": "image-builder", "appBlockBuilder": "app-block-builder"}
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _keys(obj, path=""):
    """Yield (path, key) for every dict key, not descending into free-form ``tags`` maps."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield path, k
            if k != "tags":
                yield from _keys(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _keys(v, f"{path}[{i}]")


def _is_uuid(value) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except (TypeError, ValueError, AttributeError):
        return False


def test_exactly_the_expected_files_exist():
    assert all_event_names() == sorted(EXPECTED)
    assert (EVENTS_DIR / "README.md").is_file()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_file_is_strict_json_with_two_space_indent(name):
    text = (EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8")

    def reject(const):
        raise ValueError(f"non-JSON constant {const}")

    parsed = json.loads(text, parse_constant=reject)
    assert isinstance(parsed, dict)
    assert text == json.dumps(parsed, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_envelope(name):
    ev = load_event(name)
    assert set(ev) == ENVELOPE_KEYS
    assert ev["version"] == "0"
    assert _is_uuid(ev["id"])
    assert ev["source"] == "aws.appstream"
    assert ev["resources"] == []
    assert ISO_Z.match(ev["time"])
    d = ev["detail"]
    assert d["eventSource"] == "appstream.amazonaws.com"
    assert d["eventName"] == EXPECTED[name][0]
    assert ev["region"] == d["awsRegion"]
    assert ev["account"] == d["recipientAccountId"]
    assert ev["time"] == d["eventTime"]


@pytest.mark.parametrize("name", HANDLED)
def test_handled_files_are_api_calls(name):
    ev = load_event(name)
    assert ev["detail-type"] == "AWS API Call via CloudTrail"
    d = ev["detail"]
    assert d["eventType"] == "AwsApiCall"
    assert d["eventVersion"] == "1.08"
    assert d["readOnly"] is False
    assert d["managementEvent"] is True
    assert d["eventCategory"] == "Management"
    assert d["sourceIPAddress"] == "198.51.100.15"
    assert d["recipientAccountId"] == ACCOUNT
    assert _is_uuid(d["eventID"]) and _is_uuid(d["requestID"])


@pytest.mark.parametrize("name", HANDLED)
def test_user_identity_is_a_proper_assumed_role(name):
    d = load_event(name)["detail"]
    ui = d["userIdentity"]
    partition = "aws-us-gov" if d["awsRegion"].startswith("us-gov-") else "aws"
    issuer = ui["sessionContext"]["sessionIssuer"]
    assert ui["type"] == "AssumedRole"
    assert re.fullmatch(r"AROA[A-Z0-9]{17}:[\w+=,.@-]+", ui["principalId"])
    assert ui["principalId"].split(":")[0] == issuer["principalId"]
    assert ui["arn"] == f"arn:{partition}:sts::{ACCOUNT}:assumed-role/{issuer['userName']}/" \
                        f"{ui['principalId'].split(':')[1]}"
    assert issuer["arn"] == f"arn:{partition}:iam::{ACCOUNT}:role/{issuer['userName']}"
    assert ui["accountId"] == issuer["accountId"] == ACCOUNT


@pytest.mark.parametrize("name", SYNTHETIC)
def test_request_and_response_keys_are_camel_case(name):
    d = load_event(name)["detail"]
    for part in ("requestParameters", "responseElements"):
        bad = [f"{p}.{k}" for p, k in _keys(d[part]) if not k[:1].islower()]
        assert not bad, f"{part} keys not camelCase: {bad}"


@pytest.mark.parametrize("name", HANDLED)
def test_request_parameters_match_the_scenario(name):
    event_name, resource, role = EXPECTED[name]
    rp = load_event(name)["detail"]["requestParameters"]
    assert rp["name"] == resource
    assert rp.get("iamRoleArn") == role
    removes = name.endswith("-remove-role")
    assert ("IAM_ROLE_ARN" in rp.get("attributesToDelete", [])) == removes
    assert not any(k[:1].isupper() for k in rp)


@pytest.mark.parametrize("name", HANDLED)
def test_response_elements(name):
    d = load_event(name)["detail"]
    event_name, resource, role = EXPECTED[name]
    resp = d["responseElements"]
    if "errorCode" in d or name in ("update-fleet-no-role-param", "create-fleet-junk-role") \
            or event_name == "DeleteFleet":
        assert resp is None
        return
    key = RESPONSE_KEY[event_name]
    assert set(resp) == {key}
    obj = resp[key]
    assert obj["name"] == resource
    partition = "aws-us-gov" if d["awsRegion"].startswith("us-gov-") else "aws"
    assert obj["arn"] == f"arn:{partition}:appstream:{d['awsRegion']}:{ACCOUNT}:{ARN_KIND[key]}/{resource}"
    if name.endswith("-remove-role"):
        assert "iamRoleArn" not in obj
    elif role is not None:
        assert obj["iamRoleArn"] == role


def test_failed_call_carries_error_and_nothing_else_does():
    for name in EXPECTED:
        d = load_event(name)["detail"]
        if name == "create-fleet-error-invalid-role":
            assert d["errorCode"] == "InvalidRoleException"
            assert "iam:PassRole" in d["errorMessage"]
            assert d["responseElements"] is None
        else:
            assert "errorCode" not in d and "errorMessage" not in d, name


def test_scenario_specific_fields():
    assert load_event("create-fleet-good-role")["detail"]["requestParameters"]["fleetType"] == "ALWAYS_ON"
    assert load_event("create-fleet-bad-trust")["detail"]["requestParameters"]["fleetType"] == "ON_DEMAND"
    for n in ("create-fleet-good-role", "create-fleet-bad-trust"):
        assert load_event(n)["detail"]["requestParameters"]["imageName"] == "image-agent-2023"
    elastic = load_event("create-fleet-elastic")["detail"]
    rp = elastic["requestParameters"]
    assert rp["fleetType"] == "ELASTIC" and rp["maxConcurrentSessions"] == 10
    assert rp["platform"] == "WINDOWS_SERVER_2019"
    assert "imageName" not in rp and "imageArn" not in rp
    assert "imageName" not in elastic["responseElements"]["fleet"]
    assert len(rp["vpcConfig"]["subnetIds"]) >= 2  # Elastic needs two subnets (CreateFleet docs)
    assert load_event("create-image-builder-old-agent")["detail"]["requestParameters"][
        "appstreamAgentVersion"] == "08-08-2019"
    for n in ("create-image-builder-latest-agent", "create-image-builder-placeholder-trust"):
        assert load_event(n)["detail"]["requestParameters"]["appstreamAgentVersion"] == "LATEST"
    assert load_event("create-app-block-builder")["detail"]["requestParameters"][
        "platform"] == "WINDOWS_SERVER_2019"
    shared = load_event("create-fleet-shared-image")["detail"]["requestParameters"]
    assert shared["imageArn"] == "arn:aws:appstream:us-east-1:999988887777:image/central-golden-image"
    assert "imageName" not in shared
    gov = load_event("create-fleet-govcloud")
    assert gov["region"] == "us-gov-west-1"
    assert load_event("update-fleet-no-role-param")["detail"]["requestParameters"] == {
        "name": "fleet-legacy", "displayName": "Legacy fleet (finance)"}
    assert load_event("delete-fleet")["detail"]["requestParameters"] == {"name": "fleet-bad-trust"}
    assert load_event("not-handled-create-image-service-event")["detail-type"] == \
        "AWS Service Event via CloudTrail"
    assert load_event("not-handled-associate-fleet")["detail-type"] == "AWS API Call via CloudTrail"


def test_ids_are_unique_across_files():
    events = [load_event(n) for n in all_event_names()]
    for label, values in (
        ("eventID", [e["detail"]["eventID"] for e in events]),
        ("envelope id", [e["id"] for e in events]),
        ("requestID", [e["detail"]["requestID"] for e in events if "requestID" in e["detail"]]),
    ):
        assert len(values) == len(set(values)), f"duplicate {label}"


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_records_are_unchanged(name):
    source = REAL_DIR / REAL[name]
    if not source.is_file():
        pytest.skip(f"{source} not available")
    assert load_event(name)["detail"] == json.loads(source.read_text(encoding="utf-8"))


def test_loader_accepts_suffix_and_returns_fresh_copies():
    a = load_event("create-fleet-good-role")
    b = load_event("create-fleet-good-role.json")
    assert a == b and a is not b
    a["detail"]["requestParameters"]["iamRoleArn"] = "mutated"
    a["detail"]["_normalized"] = True
    c = load_event("create-fleet-good-role")
    assert c == b
    with pytest.raises(FileNotFoundError):
        load_event("no-such-event")


def test_events_dir_is_the_repo_events_folder():
    assert EVENTS_DIR == Path(__file__).resolve().parents[2] / "events"
    assert all_event_names() == sorted(all_event_names())
