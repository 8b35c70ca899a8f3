"""A read that failed never becomes PASSED, never archives, and transient failures retry the event."""

import pytest
from botocore.awsrequest import AWSResponse

from roleguard.pipeline import IncompleteEvaluation
from roleguard.sinks.base import PublishError
from tests.e2e.conftest import stored


def iam_error(world, operation, code, status=403):
    """Make moto's IAM answer `operation` with an AWS error, before anything is sent."""
    def answer(**_):
        return (AWSResponse("https://iam.amazonaws.com", status, {}, None),
                {"Error": {"Code": code, "Message": f"injected {code}"}, "ResponseMetadata": {"HTTPStatusCode": status}})
    world.client("iam").meta.events.register(f"before-call.iam.{operation}", answer)


def test_access_denied_on_get_role_is_not_available_never_passed(world, invoke):
    iam_error(world, "GetRole", "AccessDenied")
    result = invoke("create-fleet-good-role")
    statuses = {c: f["Compliance"]["Status"] for c, f in stored(world, "fleet/fleet-good").items()}
    assert statuses["role-exists"] == "NOT_AVAILABLE" and statuses["trust-allows-appstream"] == "NOT_AVAILABLE"
    assert "AccessDenied" in stored(world, "fleet/fleet-good")["role-exists"]["Description"]
    assert result["outcome"] == "evaluated"


def test_throttled_get_role_publishes_not_available_then_retries_the_event(world, invoke):
    iam_error(world, "GetRole", "Throttling", status=400)
    with pytest.raises(IncompleteEvaluation, match="Throttling"):
        invoke("create-fleet-good-role")
    assert stored(world, "fleet/fleet-good")["role-exists"]["Compliance"]["Status"] == "NOT_AVAILABLE"


def test_describe_images_denied_makes_agent_version_not_available(world, invoke):
    world.appstream.fail("DescribeImages", code="AccessDeniedException", times=5)
    invoke("create-fleet-good-role")
    finding = stored(world, "fleet/fleet-good")["agent-version"]
    assert finding["Compliance"]["Status"] == "NOT_AVAILABLE" and "AccessDeniedException" in finding["Description"]


def test_describe_failing_without_a_role_in_the_request_raises_and_archives_nothing(world, invoke):
    invoke("update-fleet-no-role-param")
    before = stored(world, "fleet/fleet-legacy")
    world.appstream.fail("DescribeFleets", code="AccessDeniedException", times=5)
    with pytest.raises(Exception, match="AccessDenied"):
        invoke("update-fleet-no-role-param")
    after = stored(world, "fleet/fleet-legacy")
    assert {c: f["RecordState"] for c, f in after.items()} == {c: "ACTIVE" for c in before}


def test_unexpected_errors_propagate_so_lambda_retries(world, invoke):
    iam_error(world, "GetRole", "ServiceQuotaWeird", status=400)
    with pytest.raises(Exception, match="ServiceQuotaWeird"):
        invoke("create-fleet-good-role")
    assert stored(world, "fleet/fleet-good") == {}


def test_b17_failed_findings_are_retried_once_then_raised(world, invoke):
    fid = "arn:aws:appstream:us-east-1:111122223333:fleet/fleet-good/roleguard/role-exists"
    world.securityhub.fail_findings([fid], code="InvalidInput", message="injected", times=2)
    with pytest.raises(PublishError, match="role-exists: InvalidInput"):
        invoke("create-fleet-good-role")
    imports = world.securityhub.calls_to("BatchImportFindings")
    assert len(imports) == 2 and [f["Id"] for f in imports[1]["Findings"]] == [fid]


def test_failed_finding_that_succeeds_on_retry_is_not_an_error(world, invoke):
    fid = "arn:aws:appstream:us-east-1:111122223333:fleet/fleet-good/roleguard/role-exists"
    world.securityhub.fail_findings([fid], times=1)
    assert invoke("create-fleet-good-role")["outcome"] == "evaluated"
    assert stored(world, "fleet/fleet-good")["role-exists"]["Compliance"]["Status"] == "PASSED"


def test_throttled_import_backs_off_and_succeeds(world, invoke):
    world.securityhub.throttle(times=2)
    assert invoke("create-fleet-good-role")["outcome"] == "evaluated"
    assert len(world.securityhub.calls_to("BatchImportFindings")) == 3
    backoffs = [s for s in world.sleeps if s >= 0.5]
    assert len(backoffs) == 2 and backoffs[1] > backoffs[0]  # exponential
    assert len(stored(world, "fleet/fleet-good")) == 10


def test_import_still_throttled_after_every_attempt_fails_the_invocation_and_a_retry_recovers(world, invoke):
    # The fake answers before botocore's retry loop: these are the gateway's own attempts.
    world.securityhub.throttle(times=4)
    with pytest.raises(Exception, match="TooManyRequestsException"):
        invoke("create-fleet-good-role")
    assert stored(world, "fleet/fleet-good") == {}  # nothing half-recorded, nothing claimed
    assert invoke("create-fleet-good-role")["outcome"] == "evaluated"  # Lambda's retry of the same event
    assert len(stored(world, "fleet/fleet-good")) == 10


def test_listing_failing_on_page_two_makes_dedicated_role_not_available(world, invoke):
    world.appstream.fail("DescribeFleets", code="ThrottlingException", on_page=2)
    with pytest.raises(IncompleteEvaluation, match="ThrottlingException"):
        invoke("create-fleet-good-role")
    finding = stored(world, "fleet/fleet-good")["dedicated-role"]
    assert finding["Compliance"]["Status"] == "NOT_AVAILABLE"
