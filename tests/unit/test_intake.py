import copy

import pytest

from roleguard.intake import Skip, Target, parse_event
from roleguard.model import ResourceKind
from tests.events import load_event
from tests.shared_inputs import case


def test_create_fleet_target():
    target = parse_event(load_event("create-fleet-good-role"))
    assert isinstance(target, Target)
    assert target.ref.kind is ResourceKind.FLEET and target.ref.name == "fleet-good"
    assert target.ref.arn == "arn:aws:appstream:us-east-1:111122223333:fleet/fleet-good"
    assert target.requested_role == "arn:aws:iam::111122223333:role/appstream/FleetGoodRole"


def test_removed_role_and_deletes():
    assert parse_event(load_event("update-fleet-remove-role")).role_removed
    assert parse_event(load_event("update-app-block-builder-remove-role")).role_removed
    assert parse_event(load_event("delete-fleet")).deleted


def test_govcloud_partition_from_region():
    target = parse_event(load_event("create-fleet-govcloud"))
    assert target.ref.partition == "aws-us-gov" and target.ref.arn.startswith("arn:aws-us-gov:appstream:us-gov-west-1:")


def test_b12_failed_calls_and_service_events_are_skipped():
    data = case("B12")["input"]
    for key, metric in (("failed_create_fleet", "FailedApiCall"), ("failed_update_fleet", "FailedApiCall"),
                        ("service_event_like_create_image", "UnhandledEvent")):
        result = parse_event(data[key])
        assert isinstance(result, Skip) and result.metric == metric, key
    ok = parse_event(data["ok_update_fleet_without_role_param"])
    assert isinstance(ok, Target) and ok.requested_role is None and not ok.role_removed


def test_errored_event_file_is_skipped():
    result = parse_event(load_event("create-fleet-error-invalid-role"))
    assert isinstance(result, Skip) and "InvalidRoleException" in result.reason


@pytest.mark.parametrize("mutate", [
    lambda e: e.update(detail="oops"),
    lambda e: e["detail"].update(requestParameters=None),
    lambda e: e["detail"]["requestParameters"].update(name=["x"]),
    lambda e: e["detail"]["requestParameters"].update(name="bad name!"),
    lambda e: e["detail"].update(recipientAccountId="12"),
    lambda e: e["detail"].update(awsRegion="mars"),
])
def test_malformed_shapes_skip_without_exceptions(mutate):
    event = load_event("create-fleet-good-role")
    mutate(event)
    result = parse_event(event)
    assert isinstance(result, Skip) and result.metric == "MalformedEvent"


@pytest.mark.parametrize("event", [None, [], "text", 5, {}, {"source": "aws.appstream"}])
def test_non_events(event):
    assert isinstance(parse_event(event), Skip)


def test_non_string_role_is_kept_as_junk_text_not_dropped():
    event = load_event("create-fleet-good-role")
    event["detail"]["requestParameters"]["iamRoleArn"] = {"nested": 1}
    assert parse_event(event).requested_role == "{'nested': 1}"


def test_parsing_does_not_mutate_the_event():
    event = load_event("update-fleet-remove-role")
    before = copy.deepcopy(event)
    parse_event(event)
    assert event == before


@pytest.mark.parametrize("mutate", [
    lambda e: e["detail"].update(eventName=["CreateFleet"]),
    lambda e: e["detail"].update(eventName={"x": 1}),
    lambda e: e["detail"]["requestParameters"].update(name="fleet-good\n"),
    lambda e: e["detail"].update(recipientAccountId="111122223333\n"),
    lambda e: e["detail"].update(awsRegion="us-east-1\n"),
])
def test_review_findings_on_intake_are_skips(mutate):
    event = load_event("create-fleet-good-role")
    mutate(event)
    assert isinstance(parse_event(event), Skip)
