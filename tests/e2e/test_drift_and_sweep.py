"""Role drift (IAM events forwarded from us-east-1) and the scheduled sweep, through the real handler."""

import json

import pytest

from roleguard import root
from tests.doubles import estate
from tests.doubles.world import EmbeddedAws, EventRoute
from tests.e2e.conftest import stored
from tests.events import load_event, load_iam_event
from tests.shared_inputs import trust_policy

SHARED = "arn:aws:iam::111122223333:role/SharedFleetRole"


class Context:
    function_name = "roleguard-evaluate"
    memory_limit_in_mb = 256
    aws_request_id = "test"

    def __init__(self, region):
        self.invoked_function_arn = f"arn:aws:lambda:{region}:111122223333:function:roleguard-evaluate"


@pytest.fixture
def drift_world(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "AppStreamRoleGuard")
    with EmbeddedAws(aws_managed_policies=True) as aws:
        estate.seed(aws)
        aws.create_role("SharedFleetRole", estate.FIXED_TRUST, inline={"app-data": estate.READ_BUCKET})
        aws.appstream.add_fleet("fleet-east", image_name="image-agent-2023", iam_role_arn=SHARED)
        aws.appstream.add_image("image-agent-2023", agent_version="10-13-2022", region="eu-west-1")
        aws.appstream.add_fleet("fleet-west", image_name="image-agent-2023", iam_role_arn=SHARED, region="eu-west-1")
        services = aws.services()
        monkeypatch.setattr(root, "services", lambda: services)
        yield aws


def create_fleet_event(name, region):
    event = load_event("create-fleet-good-role")
    event["region"] = event["detail"]["awsRegion"] = region
    params = event["detail"]["requestParameters"]
    params["name"], params["iamRoleArn"] = name, SHARED
    return event


def deliver_iam_change(aws, name, regions=("us-east-1", "eu-west-1")):
    """The IAM rule (us-east-1 only) publishes to SNS; every regional stack's function gets the SNS delivery."""
    import app

    delivered = EventRoute(aws, name="IamRoleChangeRule").deliver(load_iam_event(name))
    assert delivered is not None, "the template's IAM rule must match this event"
    sns = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(delivered)}}]}
    return [app.lambda_handler(sns, Context(region)) for region in regions]


def status(aws, fleet, region, check):
    hub = aws.securityhub
    return next(f["Compliance"]["Status"] for f in hub.findings(region=region)
                if f["Id"].endswith(f"fleet/{fleet}/roleguard/{check}"))


def evaluate_both(aws):
    import app

    for name, region in (("fleet-east", "us-east-1"), ("fleet-west", "eu-west-1")):
        app.lambda_handler(create_fleet_event(name, region), Context(region))


def test_update_assume_role_policy_re_evaluates_the_role_in_both_regions(drift_world):
    evaluate_both(drift_world)
    assert status(drift_world, "fleet-east", "us-east-1", "trust-allows-appstream") == "PASSED"
    assert status(drift_world, "fleet-west", "eu-west-1", "trust-allows-appstream") == "PASSED"
    drift_world.client("iam").update_assume_role_policy(RoleName="SharedFleetRole", PolicyDocument=trust_policy("tp15"))
    results = deliver_iam_change(drift_world, "update-assume-role-policy")
    assert [r["outcome"] for r in results] == ["evaluated", "evaluated"]
    assert status(drift_world, "fleet-east", "us-east-1", "trust-allows-appstream") == "FAILED"
    assert status(drift_world, "fleet-west", "eu-west-1", "trust-allows-appstream") == "FAILED"
    # exactly the resources using the role: nobody else was touched
    assert "1 resources re-evaluated" in results[0]["reason"] and "1 resources re-evaluated" in results[1]["reason"]


def test_attaching_administrator_access_flips_least_privilege_in_both_regions(drift_world):
    evaluate_both(drift_world)
    assert status(drift_world, "fleet-east", "us-east-1", "least-privilege") == "PASSED"
    drift_world.client("iam").attach_role_policy(RoleName="SharedFleetRole",
                                                 PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    deliver_iam_change(drift_world, "attach-role-policy-admin")
    for fleet, region in (("fleet-east", "us-east-1"), ("fleet-west", "eu-west-1")):
        finding = next(f for f in drift_world.securityhub.findings(region=region)
                       if f["Id"].endswith(f"fleet/{fleet}/roleguard/least-privilege"))
        assert (finding["Compliance"]["Status"], finding["Severity"]["Label"]) == ("FAILED", "CRITICAL")


def test_new_default_version_of_a_managed_policy_re_evaluates_the_roles_using_it(drift_world):
    iam = drift_world.client("iam")
    arn = iam.create_policy(PolicyName="AppData", PolicyDocument=json.dumps(estate.READ_BUCKET))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="SharedFleetRole", PolicyArn=arn)
    evaluate_both(drift_world)
    wide = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(wide), SetAsDefault=True)
    results = deliver_iam_change(drift_world, "set-default-policy-version", regions=("us-east-1",))
    assert results[0]["outcome"] == "evaluated"
    assert status(drift_world, "fleet-east", "us-east-1", "least-privilege") == "FAILED"


def test_iam_events_for_unwatched_roles_change_nothing(drift_world):
    results = deliver_iam_change(drift_world, "update-assume-role-policy")
    assert [r["outcome"] for r in results] == ["skipped", "skipped"]
    assert drift_world.securityhub.findings() == []


def sweep(aws, region="us-east-1"):
    import app

    summary = app.lambda_handler({"job": "sweep"}, Context(region))
    records = aws.sweep_messages(region)
    for record in records:
        app.lambda_handler({"Records": [record]}, Context(region))
    return summary, records


def test_sweep_evaluates_every_resource_and_archives_a_deleted_fleet(world, invoke):
    summary, records = sweep(world)
    listed = summary["resources"]
    assert listed == 11 and summary["chunks"] == len(records) >= 1
    assert stored(world, "fleet/fleet-legacy")["agent-version"]["Compliance"]["Status"] == "FAILED"
    world.appstream.delete("fleet", "fleet-legacy")  # deleted with no event seen
    summary, _ = sweep(world)
    assert summary["vanished"] == 1
    assert {f["RecordState"] for f in stored(world, "fleet/fleet-legacy").values()} == {"ARCHIVED"}
    assert {f["RecordState"] for f in stored(world, "fleet/fleet-good").values()} == {"ACTIVE"}


def test_sweep_reads_each_role_once(world):
    sweep(world)
    get_role = world.api_calls["iam:GetRole"]
    # FleetGood, Ec2Only, Legacy, Elastic, SharedImage, ImageBuilder (used by 2 builders), Placeholder, AppBlockBuilder;
    # the cross-account role is not readable from here and is not read.
    assert get_role == 8


def test_a_sweep_whose_listing_fails_on_page_two_archives_nothing(world):
    import app

    sweep(world)
    world.appstream.delete("fleet", "fleet-legacy")
    world.appstream.fail("DescribeFleets", code="ThrottlingException", on_page=2)
    with pytest.raises(Exception, match="ThrottlingException"):
        app.lambda_handler({"job": "sweep"}, Context("us-east-1"))
    assert world.sweep_messages() == []  # nothing queued
    assert {f["RecordState"] for f in stored(world, "fleet/fleet-legacy").values()} == {"ACTIVE"}


def test_a_late_sweep_chunk_evaluates_the_role_attached_now_not_the_planned_one(world, invoke):
    import app

    app.lambda_handler({"job": "sweep"}, Context("us-east-1"))
    records = world.sweep_messages()
    world.appstream.set_role("fleet", "fleet-good", "arn:aws:iam::111122223333:role/Ec2OnlyRole")
    invoke("update-fleet-no-role-param")  # another fleet's event, unrelated
    for record in records:
        app.lambda_handler({"Records": [record]}, Context("us-east-1"))
    finding = stored(world, "fleet/fleet-good")["trust-allows-appstream"]
    assert finding["Compliance"]["Status"] == "FAILED" and finding["Resources"][1]["Id"].endswith("Ec2OnlyRole")


def test_a_sweep_chunk_with_a_throttled_policy_read_is_retried(world):
    import app
    from botocore.awsrequest import AWSResponse

    app.lambda_handler({"job": "sweep"}, Context("us-east-1"))
    records = world.sweep_messages()

    def throttled(**_):
        return (AWSResponse("https://iam.amazonaws.com", 400, {}, None),
                {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}, "ResponseMetadata": {"HTTPStatusCode": 400}})
    world.client("iam").meta.events.register("before-call.iam.ListRolePolicies", throttled)
    with pytest.raises(Exception, match="Throttling"):
        for record in records:
            app.lambda_handler({"Records": [record]}, Context("us-east-1"))


def test_a_deleted_role_used_by_many_resources_is_read_once(drift_world):
    import app

    for i in range(5):
        drift_world.appstream.add_fleet(f"fleet-more-{i}", image_name="image-agent-2023", iam_role_arn=SHARED)
        app.lambda_handler(create_fleet_event(f"fleet-more-{i}", "us-east-1"), Context("us-east-1"))
    services = root.services()
    object.__setattr__(services.settings, "role_visibility_wait_seconds", 10.0)
    services._iam.clear()  # rebuild the IAM gateway with the wait
    drift_world.client("iam").delete_role_policy(RoleName="SharedFleetRole", PolicyName="app-data")
    drift_world.client("iam").delete_role(RoleName="SharedFleetRole")
    drift_world.sleeps.clear()
    event = load_iam_event("update-assume-role-policy")
    event["detail"]["eventName"] = "DeleteRole"
    event["detail"]["requestParameters"] = {"roleName": "SharedFleetRole"}
    delivered = EventRoute(drift_world, name="IamRoleChangeRule").deliver(event)
    sns = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(delivered)}}]}
    result = app.lambda_handler(sns, Context("us-east-1"))
    assert "5 resources re-evaluated" in result["reason"]  # the ones the index knows (fleet-east was never evaluated)
    assert sum(drift_world.sleeps) <= 10  # one visibility wait for the role, not one per resource
    assert status(drift_world, "fleet-more-3", "us-east-1", "role-exists") == "FAILED"


def test_a_malformed_sns_message_is_skipped_not_crashed(drift_world):
    import app

    sns = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "[" * 100_000}}]}
    assert app.lambda_handler(sns, Context("us-east-1"))["outcome"] == "skipped"
