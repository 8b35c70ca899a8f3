"""One scripted lifecycle of one finding, asserted at every step in the Security Hub double."""

import json

from tests.e2e.conftest import stored
from tests.events import load_event
from tests.shared_inputs import trust_policy

CHECK = "trust-allows-appstream"
GOOD_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "appstream.amazonaws.com"}, "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}]}


def test_create_fail_fix_regress_suppress_delete_recreate(world, invoke):
    iam = world.client("iam")
    seen = []

    def step(event="create-fleet-bad-trust"):
        invoke(event)
        finding = stored(world, "fleet/fleet-bad-trust")[CHECK]
        seen.append(finding)
        return finding

    def state(f):
        return f["Compliance"]["Status"], f["Workflow"]["Status"], f["RecordState"]

    # create: the EC2-only trust fails
    assert state(step()) == ("FAILED", "NEW", "ACTIVE")
    # fix the trust: PASSED and RESOLVED
    iam.update_assume_role_policy(RoleName="Ec2OnlyRole", PolicyDocument=json.dumps(GOOD_TRUST))
    assert state(step()) == ("PASSED", "RESOLVED", "ACTIVE")
    # regress: Security Hub itself moves RESOLVED back to NEW when Compliance goes PASSED -> FAILED
    iam.update_assume_role_policy(RoleName="Ec2OnlyRole", PolicyDocument=trust_policy("tp15"))
    assert state(step()) == ("FAILED", "NEW", "ACTIVE")
    # suppress by tag on the role: SUPPRESSED, with the reason and who in the Note
    iam.tag_role(RoleName="Ec2OnlyRole", Tags=[
        {"Key": "roleguard:suppress", "Value": f"{CHECK}, agent-version"},
        {"Key": "roleguard:reason", "Value": "EC2 image pipeline role, fleet retired next sprint"},
        {"Key": "roleguard:suppressed-by", "Value": "jane@example.com"}])
    suppressed = step()
    assert state(suppressed) == ("FAILED", "SUPPRESSED", "ACTIVE")
    assert "EC2 image pipeline role" in suppressed["Note"]["Text"] and "jane@example.com" in suppressed["Note"]["Text"]
    # re-import keeps it suppressed, and we send no second Workflow update
    updates_before = len(world.securityhub.calls_to("BatchUpdateFindings"))
    assert state(step()) == ("FAILED", "SUPPRESSED", "ACTIVE")
    assert not any(f["Id"] == suppressed["Id"] for call in world.securityhub.calls_to("BatchUpdateFindings")[updates_before:]
                   for f in call["FindingIdentifiers"])
    # delete the fleet (the invoke helper applies the DeleteFleet call to the fake first): ARCHIVED
    assert state(step("delete-fleet"))[2] == "ARCHIVED"
    # re-create it: ACTIVE again (still suppressed: the tag is still on the role)
    world.appstream.add_fleet("fleet-bad-trust", fleet_type="ON_DEMAND", image_name="image-agent-2023",
                              iam_role_arn="arn:aws:iam::111122223333:role/Ec2OnlyRole")
    assert state(step()) == ("FAILED", "SUPPRESSED", "ACTIVE")
    # remove the tag: the next evaluation makes it active again
    iam.untag_role(RoleName="Ec2OnlyRole", TagKeys=["roleguard:suppress", "roleguard:reason", "roleguard:suppressed-by"])
    assert state(step()) == ("FAILED", "NEW", "ACTIVE")

    # first seen stays, last update always moves forward
    assert len({f["CreatedAt"] for f in seen}) == 1 and len({f["FirstObservedAt"] for f in seen}) == 1
    updated = [f["UpdatedAt"] for f in seen]
    assert updated == sorted(updated) and len(set(updated)) == len(updated)
    # LastObservedAt moves with each observation; archiving is not an observation
    assert all(f["LastObservedAt"] == f["UpdatedAt"] for f in seen if f["RecordState"] == "ACTIVE")
    archived = next(f for f in seen if f["RecordState"] == "ARCHIVED")
    assert archived["LastObservedAt"] < archived["UpdatedAt"]


def test_reviewer_suppression_is_never_undone(world, invoke):
    invoke("create-fleet-bad-trust")
    finding = stored(world, "fleet/fleet-bad-trust")[CHECK]
    world.client("securityhub").batch_update_findings(
        FindingIdentifiers=[{"Id": finding["Id"], "ProductArn": finding["ProductArn"]}],
        Workflow={"Status": "SUPPRESSED"}, Note={"Text": "accepted risk", "UpdatedBy": "reviewer"})
    invoke("create-fleet-bad-trust")
    after = stored(world, "fleet/fleet-bad-trust")[CHECK]
    assert after["Workflow"]["Status"] == "SUPPRESSED" and after["Note"]["Text"] == "accepted risk"


def test_suppress_tag_on_the_resource_and_unknown_ids_are_reported(world, invoke, caplog):
    world.appstream.set_tags("fleet", "fleet-bad-trust", {"roleguard:suppress": "trust-allows-appstream,no-such-check",
                                                          "roleguard:reason": "known"})
    result = invoke("create-fleet-bad-trust")
    assert stored(world, "fleet/fleet-bad-trust")[CHECK]["Workflow"]["Status"] == "SUPPRESSED"
    assert result["unknown_suppression_ids"] == ["no-such-check (on fleet fleet-bad-trust)"]
    assert "unknown check ids" in caplog.text


def test_unreadable_tags_leave_suppression_alone(world, invoke):
    world.appstream.set_tags("fleet", "fleet-bad-trust", {"roleguard:suppress": CHECK, "roleguard:reason": "r"})
    invoke("create-fleet-bad-trust")
    world.appstream.fail("ListTagsForResource", code="AccessDeniedException", times=5)
    invoke("create-fleet-bad-trust")
    assert stored(world, "fleet/fleet-bad-trust")[CHECK]["Workflow"]["Status"] == "SUPPRESSED"


def test_an_unreadable_role_does_not_lift_its_tag_suppressions(world, invoke):
    from botocore.awsrequest import AWSResponse

    world.client("iam").tag_role(RoleName="Ec2OnlyRole", Tags=[{"Key": "roleguard:suppress", "Value": CHECK},
                                                              {"Key": "roleguard:reason", "Value": "r"}])
    invoke("create-fleet-bad-trust")
    assert stored(world, "fleet/fleet-bad-trust")[CHECK]["Workflow"]["Status"] == "SUPPRESSED"

    def denied(**_):
        return (AWSResponse("https://iam.amazonaws.com", 403, {}, None),
                {"Error": {"Code": "AccessDenied", "Message": "no"}, "ResponseMetadata": {"HTTPStatusCode": 403}})
    world.client("iam").meta.events.register("before-call.iam.GetRole", denied)
    invoke("create-fleet-bad-trust")
    assert stored(world, "fleet/fleet-bad-trust")[CHECK]["Workflow"]["Status"] == "SUPPRESSED"
