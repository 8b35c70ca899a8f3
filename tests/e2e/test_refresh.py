"""Still-failing findings are re-observed before Security Hub's 90-day deletion; a refresh that fails says so."""

from datetime import datetime, timedelta, timezone

import pytest

from roleguard import pipeline, root
from tests.e2e.conftest import LambdaContext, stored


def test_stale_resources_are_re_evaluated_and_deleted_ones_archived(world, invoke):
    invoke("create-fleet-bad-trust")
    invoke("create-image-builder-old-agent")
    before = stored(world, "fleet/fleet-bad-trust")["trust-allows-appstream"]
    services = root.services()
    now = datetime.now(timezone.utc)

    fresh = pipeline.refresh_stale(services, "us-east-1", "111122223333", now + timedelta(days=1), timedelta(days=30))
    assert fresh["stale_resources"] == 0 and fresh["refreshed"] == []

    world.appstream.delete("image-builder", "ib-old-agent")
    later = now + timedelta(days=31)
    result = pipeline.refresh_stale(services, "us-east-1", "111122223333", later, timedelta(days=30))
    assert sorted(result["refreshed"]) == ["arn:aws:appstream:us-east-1:111122223333:fleet/fleet-bad-trust",
                                           "arn:aws:appstream:us-east-1:111122223333:image-builder/ib-old-agent"]
    after = stored(world, "fleet/fleet-bad-trust")["trust-allows-appstream"]
    assert after["Compliance"]["Status"] == "FAILED" and after["CreatedAt"] == before["CreatedAt"]
    assert after["UpdatedAt"].startswith(later.strftime("%Y-%m-%d"))
    assert {f["RecordState"] for f in stored(world, "image-builder/ib-old-agent").values()} == {"ARCHIVED"}


def test_a_refresh_that_cannot_read_fails_loudly_and_archives_nothing(world, invoke):
    invoke("create-fleet-bad-trust")
    world.appstream.fail("DescribeFleets", code="AccessDeniedException", times=5)
    later = datetime.now(timezone.utc) + timedelta(days=31)
    with pytest.raises(pipeline.RefreshIncomplete, match="fleet/fleet-bad-trust"):
        pipeline.refresh_stale(root.services(), "us-east-1", "111122223333", later, timedelta(days=30))
    assert {f["RecordState"] for f in stored(world, "fleet/fleet-bad-trust").values()} == {"ACTIVE"}


def test_the_scheduled_input_reaches_the_refresh_job(world):
    import app

    result = app.lambda_handler({"job": "refresh"}, LambdaContext())
    assert result == {"active_findings": 0, "stale_resources": 0, "refreshed": [], "failed": []}
