"""Every events/ file through the template's rule pattern and the real handler, into the Security Hub double."""

import pytest

from tests.e2e.conftest import stored
from tests.events import all_event_names

P, F, NA, W = "PASSED", "FAILED", "NOT_AVAILABLE", "WARNING"
# Best practices: the demo roles read one bucket through a VPC endpoint (least privilege, network limit);
# most trust policies lack aws:SourceAccount / aws:SourceArn (confused deputy, LOW).
BEST = {"least-privilege": P, "trust-confused-deputy": F, "trust-no-foreign-principals": P, "network-conditions": P}
UNREADABLE_BEST = {check: NA for check in BEST}
ALL_PASS = {"role-exists": P, "role-same-account": P, "role-not-service-role": P, "trust-allows-appstream": P,
            "dedicated-role": P, **BEST}
DEPUTY_OK = {"trust-confused-deputy": P}

# event file -> (handler outcome, resource, expected Compliance.Status per check; None: nothing stored)
EXPECTED = {
    "create-fleet-good-role": ("evaluated", "fleet/fleet-good", {**ALL_PASS, **DEPUTY_OK, "agent-version": P}),
    # EC2-only trust: AppStream cannot assume it, so no confused-deputy finding; ec2 is a foreign principal.
    "create-fleet-bad-trust": ("evaluated", "fleet/fleet-bad-trust",
                               {**{k: v for k, v in ALL_PASS.items() if k != "trust-confused-deputy"},
                                "trust-allows-appstream": F, "trust-no-foreign-principals": F, "agent-version": P}),
    "create-fleet-cross-account-role": ("evaluated", "fleet/fleet-cross-account",
                                        {"role-exists": NA, "role-same-account": F, "role-not-service-role": P,
                                         "trust-allows-appstream": NA, "agent-version": P, "dedicated-role": P,
                                         **UNREADABLE_BEST}),
    "update-fleet-set-role": ("evaluated", "fleet/fleet-legacy", {**ALL_PASS, "agent-version": F}),
    "update-fleet-no-role-param": ("evaluated", "fleet/fleet-legacy", {**ALL_PASS, "agent-version": F}),
    "create-fleet-elastic": ("evaluated", "fleet/fleet-elastic", ALL_PASS),  # no agent check on Elastic
    "create-fleet-shared-image": ("evaluated", "fleet/fleet-shared-image", {**ALL_PASS, "agent-version": P}),
    "create-fleet-junk-role": ("evaluated", "fleet/fleet-junk-role",
                               {"role-exists": F, "role-same-account": F, "trust-allows-appstream": NA, "agent-version": P,
                                **UNREADABLE_BEST}),
    "create-fleet-govcloud": ("evaluated", "fleet/fleet-gov", {**ALL_PASS, "agent-version": P}),
    # ib-old-agent and ib-latest share ImageBuilderRole: not one role per resource.
    "create-image-builder-old-agent": ("evaluated", "image-builder/ib-old-agent",
                                       {**ALL_PASS, "agent-version": F, "dedicated-role": F}),
    "create-image-builder-latest-agent": ("evaluated", "image-builder/ib-latest",
                                          {**ALL_PASS, "agent-version": P, "dedicated-role": F}),
    "create-image-builder-placeholder-trust": ("evaluated", "image-builder/ib-placeholder",
                                               {**ALL_PASS, **DEPUTY_OK, "trust-allows-appstream": F, "agent-version": P}),
    "create-app-block-builder": ("evaluated", "app-block-builder/abb-packager", ALL_PASS),
    "create-fleet-error-invalid-role": ("skipped", "fleet/fleet-errored", None),
    "update-fleet-remove-role": ("retired", "fleet/fleet-good", None),
    "update-app-block-builder-remove-role": ("retired", "app-block-builder/abb-packager", None),
    "delete-fleet": ("retired", "fleet/fleet-bad-trust", None),
    "not-handled-associate-fleet": (None, None, None),
    "not-handled-create-image-service-event": (None, None, None),
}


def test_every_event_file_has_an_expectation():
    assert set(EXPECTED) == set(all_event_names())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_event_file(world, invoke, name):
    outcome, resource, statuses = EXPECTED[name]
    result = invoke(name)
    if outcome is None:
        assert result is None  # the template's pattern never routes it to the function
        assert world.securityhub.findings() == []
        return
    assert result["outcome"] == outcome, result
    region = "us-gov-west-1" if "gov" in name else "us-east-1"
    found = stored(world, resource, region)
    if statuses is None:
        assert all(f["RecordState"] != "ACTIVE" for f in found.values())
        return
    assert {check: f["Compliance"]["Status"] for check, f in found.items()} == statuses
    for check, finding in found.items():
        assert finding["RecordState"] == "ACTIVE"
        assert finding["Workflow"]["Status"] == ("RESOLVED" if statuses[check] == P else "NEW")
        assert finding["Description"] and finding["Remediation"]["Recommendation"]["Url"].startswith("https://")


def test_failed_trust_says_why(world, invoke):
    invoke("create-image-builder-placeholder-trust")
    detail = stored(world, "image-builder/ib-placeholder")["trust-allows-appstream"]["Description"]
    assert "your AWS account ID" in detail and "111122223333" in detail


def test_same_event_twice_leaves_one_finding_per_check(world, invoke):
    invoke("create-fleet-bad-trust")
    first = stored(world, "fleet/fleet-bad-trust")
    invoke("create-fleet-bad-trust")
    second = stored(world, "fleet/fleet-bad-trust")
    assert len(world.securityhub.findings()) == len(first) == len(second) == 9  # 10 checks, confused deputy n/a
    for check in first:
        assert second[check]["CreatedAt"] == first[check]["CreatedAt"]
        assert second[check]["FirstObservedAt"] == first[check]["FirstObservedAt"]
        assert second[check]["UpdatedAt"] > first[check]["UpdatedAt"]


def test_fixing_the_role_turns_failed_into_passed_and_resolved(world, invoke):
    from tests.doubles import estate

    invoke("create-image-builder-placeholder-trust")
    before = stored(world, "image-builder/ib-placeholder")["trust-allows-appstream"]
    assert (before["Compliance"]["Status"], before["Workflow"]["Status"]) == ("FAILED", "NEW")
    estate.fix_placeholder_trust(world)
    invoke("create-image-builder-placeholder-trust")
    after = stored(world, "image-builder/ib-placeholder")["trust-allows-appstream"]
    assert (after["Compliance"]["Status"], after["Workflow"]["Status"]) == ("PASSED", "RESOLVED")
    assert after["Id"] == before["Id"] and after["CreatedAt"] == before["CreatedAt"]


def test_stale_removal_event_archives_nothing_while_the_role_is_still_attached(world, invoke):
    invoke("create-fleet-good-role")
    result = invoke(__import__("tests.events", fromlist=["load_event"]).load_event("update-fleet-remove-role"))
    assert result["outcome"] == "evaluated"  # AppStream still reports the role: the event is stale
    assert {f["RecordState"] for f in stored(world, "fleet/fleet-good").values()} == {"ACTIVE"}


def test_stale_event_role_loses_to_the_role_attached_now(world, invoke):
    world.appstream.set_role("fleet", "fleet-good", "arn:aws:iam::111122223333:role/Ec2OnlyRole")
    invoke("create-fleet-good-role")  # the event names FleetGoodRole, AppStream says Ec2OnlyRole
    finding = stored(world, "fleet/fleet-good")["trust-allows-appstream"]
    assert finding["Compliance"]["Status"] == "FAILED" and "Ec2OnlyRole" in finding["Resources"][1]["Id"]


def test_dedicated_role_names_the_other_resources(world, invoke):
    invoke("create-image-builder-latest-agent")
    finding = stored(world, "image-builder/ib-latest")["dedicated-role"]
    assert finding["Severity"]["Label"] == "LOW" and "image-builder/ib-old-agent" in finding["Description"]


def test_role_removal_archives_and_a_new_role_reactivates(world, invoke):
    invoke("create-fleet-good-role")
    invoke("update-fleet-remove-role")
    assert {f["RecordState"] for f in stored(world, "fleet/fleet-good").values()} == {"ARCHIVED"}
    world.appstream.set_role("fleet", "fleet-good", "arn:aws:iam::111122223333:role/appstream/FleetGoodRole")
    invoke("create-fleet-good-role")
    assert {f["RecordState"] for f in stored(world, "fleet/fleet-good").values()} == {"ACTIVE"}
