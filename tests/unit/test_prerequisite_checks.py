"""role-exists, role-same-account, role-not-service-role, agent-version: every status each can give."""

import pytest

from roleguard.checks import agent_version, role_exists, role_not_service_role, role_same_account
from roleguard.model import ResourceKind, RoleLookup, Status
from tests.factories import ACCESS_DENIED, THROTTLED, facts, image, resource, role
from tests.shared_inputs import case

TRUST = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "appstream.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


# role-exists
def test_role_exists_statuses():
    assert role_exists.run(facts(role_facts=role(TRUST))).status is Status.PASSED
    missing = role_exists.run(facts(lookup=RoleLookup.NOT_FOUND))
    assert missing.status is Status.FAILED and "NoSuchEntity" in missing.detail
    denied = role_exists.run(facts(lookup=RoleLookup.UNREADABLE, role_error=ACCESS_DENIED))
    assert denied.status is Status.NOT_AVAILABLE and "AccessDenied" in denied.detail
    junk = role_exists.run(facts(resource(role_arn="arn:aws:iam:: 111122223333:role/Admin"), lookup=RoleLookup.NOT_LOOKED_UP))
    assert junk.status is Status.FAILED and "whitespace" in junk.detail
    foreign = role_exists.run(facts(resource(role_arn="arn:aws:iam::444455556666:role/R"), lookup=RoleLookup.NOT_LOOKED_UP))
    assert foreign.status is Status.NOT_AVAILABLE and "444455556666" in foreign.detail


# role-same-account
@pytest.mark.parametrize(
    "role_arn, partition, status, reason",
    [
        ("arn:aws:iam::111122223333:role/team/app/R", "aws", Status.PASSED, "both in account"),
        ("arn:aws:iam::444455556666:role/R", "aws", Status.FAILED, "account 444455556666"),
        ("arn:aws-us-gov:iam::111122223333:role/R", "aws", Status.FAILED, "partition aws-us-gov"),
        ("arn:aws-us-gov:iam::111122223333:role/R", "aws-us-gov", Status.PASSED, "both in account"),
        ("not-an-arn", "aws", Status.FAILED, "invalid"),
    ],
)
def test_role_same_account(role_arn, partition, status, reason):
    region = "us-gov-west-1" if partition == "aws-us-gov" else "us-east-1"
    result = role_same_account.run(facts(resource(role_arn=role_arn, partition=partition, region=region)))
    assert result.status is status and reason in result.detail


# role-not-service-role
def test_b11_service_roles():
    responses = case("B11")["input"]["get_role_responses"]
    results = []
    for response in responses:
        r = response["Role"]
        facts_ = facts(resource(role_arn=r["Arn"]), role(r.get("AssumeRolePolicyDocument", TRUST), name=r["RoleName"], path=r["Path"]))
        results.append(role_not_service_role.run(facts_).status)
    assert results == [Status.FAILED, Status.FAILED, Status.PASSED]


def test_service_role_judged_from_the_arn_when_role_unreadable():
    slr = "arn:aws:iam::111122223333:role/aws-service-role/appstream.application-autoscaling.amazonaws.com/AWSServiceRoleX"
    result = role_not_service_role.run(facts(resource(role_arn=slr), lookup=RoleLookup.UNREADABLE, role_error=ACCESS_DENIED))
    assert result.status is Status.FAILED and "service-linked" in result.detail
    assert role_not_service_role.run(facts(resource(role_arn="junk"), lookup=RoleLookup.NOT_LOOKED_UP)) is None


# agent-version
@pytest.mark.parametrize(
    "version, latest, status",
    [
        ("09-03-2019", False, Status.PASSED),  # the boundary itself
        ("08-08-2019", False, Status.FAILED),
        ("12-17-2018", False, Status.FAILED),  # newer than 09-03-2019 as a string, older as a date
        ("01-04-2021", False, Status.PASSED),  # older as a string, newer as a date
        ("10-13-2022", False, Status.PASSED),
        ("LATEST", False, Status.PASSED),
        ("[LATEST]", False, Status.PASSED),
        ("08-08-2019", True, Status.PASSED),  # LatestAppstreamAgentVersion TRUE wins
        ("2019-09-03", False, Status.WARNING),  # not MM-DD-YYYY
        ("13-45-2020", False, Status.WARNING),
        (None, False, Status.WARNING),
    ],
)
def test_agent_version_on_image_builders(version, latest, status):
    builder = resource(ResourceKind.IMAGE_BUILDER, "ib", agent_version=version, latest_agent_version=latest)
    assert agent_version.run(facts(builder, role(TRUST))).status is status


def test_every_published_windows_agent_version_is_judged_by_date():
    published = ["03-14-2022", "12-17-2020", "01-04-2021", "11-13-2019", "09-23-2019", "09-03-2019", "08-08-2019",
                 "07-26-2019", "01-08-2019", "12-19-2018", "12-07-2017"]
    results = [agent_version.judge_version(v, False, "x").status for v in published]
    assert results == [Status.PASSED] * 6 + [Status.FAILED] * 5


def test_agent_version_for_fleets():
    fleet = resource(ResourceKind.FLEET, fleet_type="ALWAYS_ON", image_name="img")
    assert agent_version.run(facts(fleet, role(TRUST), image=image("10-13-2022"))).status is Status.PASSED
    assert agent_version.run(facts(fleet, role(TRUST), image=image("06-19-2019"))).status is Status.FAILED
    assert agent_version.run(facts(fleet, role(TRUST), image=image(None, latest=True))).status is Status.PASSED
    na = agent_version.run(facts(fleet, role(TRUST), image_error=THROTTLED))
    assert na.status is Status.NOT_AVAILABLE and "ThrottlingException" in na.detail
    missing = agent_version.run(facts(fleet, role(TRUST)))
    assert missing.status is Status.WARNING and "not found" in missing.detail


def test_agent_version_does_not_apply_to_elastic_fleets_or_app_block_builders():
    elastic = resource(ResourceKind.FLEET, fleet_type="ELASTIC")
    assert agent_version.run(facts(elastic, role(TRUST))) is None
    assert agent_version.run(facts(resource(ResourceKind.APP_BLOCK_BUILDER, "abb"), role(TRUST))) is None
