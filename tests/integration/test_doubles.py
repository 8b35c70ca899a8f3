"""The fakes behave as documented, and botocore's model catches drift.

Real boto3 clients throughout; the fakes answer through botocore's event system.
"""

from __future__ import annotations

import copy
import datetime
import time

import boto3
import botocore.exceptions
import botocore.validate
import pytest

from tests.doubles import botocore_model
from tests.doubles.appstream_fake import AppStreamFake
from tests.doubles.botocore_model import UnimplementedOperation, validate_response
from tests.doubles.securityhub_fake import SecurityHubFake

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/AppStreamMachineRole"
PUBLIC_IMAGE = "AppStream-WinServer2019-06-12-2023"


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def error_code(raised: pytest.ExceptionInfo) -> str:
    return raised.value.response["Error"]["Code"]


def http_status(raised: pytest.ExceptionInfo) -> int:
    return raised.value.response["ResponseMetadata"]["HTTPStatusCode"]


# ======================================================================
# The validator
# ======================================================================


def valid_fleet() -> dict:
    return {
        "Arn": f"arn:aws:appstream:us-east-1:{ACCOUNT}:fleet/f1",
        "Name": "f1",
        "InstanceType": "stream.standard.medium",
        "State": "RUNNING",
        "ComputeCapacityStatus": {"Desired": 1},
        "CreatedTime": datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
    }


def test_validator_accepts_a_valid_response():
    validate_response("appstream", "DescribeFleets", {"Fleets": [valid_fleet()], "ResponseMetadata": {}})


@pytest.mark.parametrize(
    "corrupt, complaint",
    [
        (lambda fleet: fleet.update(IamRoleArm=ROLE), 'Unknown parameter in Fleets[0]: "IamRoleArm"'),
        (lambda fleet: fleet.update(State="ACTIVE"), "valid values: STARTING, RUNNING, STOPPING, STOPPED"),
        (lambda fleet: fleet.update(ComputeCapacityStatus={"Desired": "1"}), "Invalid type for parameter"),
        (lambda fleet: fleet.pop("Arn"), 'Missing required parameter in Fleets[0]: "Arn"'),
        (lambda fleet: fleet.update(CreatedTime="2024-01-01T00:00:00Z"), "botocore parses timestamps"),
        (lambda fleet: fleet.update(IamRoleArn="not-an-arn"), "must match pattern"),
    ],
    ids=["misspelled-member", "bad-enum", "wrong-type", "missing-required", "string-timestamp", "bad-pattern"],
)
def test_validator_rejects_drift(corrupt, complaint):
    fleet = valid_fleet()
    corrupt(fleet)
    with pytest.raises(AssertionError) as raised:
        validate_response("appstream", "DescribeFleets", {"Fleets": [fleet]})
    assert complaint in str(raised.value)


def test_validator_checks_max_which_botocore_alone_does_not():
    image = {"Name": "img", "AppstreamAgentVersion": "v" * 101}  # model: max 100
    image_shape = botocore_model.service_model("appstream").shape_for("Image")
    botocore.validate.validate_parameters(image, image_shape)  # botocore checks min only
    with pytest.raises(AssertionError, match="valid max length: 100"):
        botocore_model.validate_shape("appstream", "Image", image)


def test_a_fake_returning_a_drifted_response_fails_the_call(monkeypatch):
    fake = AppStreamFake()
    fake.add_fleet("f1", image_name="img")
    client = fake.attach(boto3.client("appstream", region_name="us-east-1"))
    original = AppStreamFake._describe_fleets

    def misspelled(self, call):
        response = original(self, call)
        response["Fleets"][0]["Nmae"] = response["Fleets"][0].pop("Name")
        return response

    monkeypatch.setattr(AppStreamFake, "_describe_fleets", misspelled)
    with pytest.raises(AssertionError, match='Unknown parameter in Fleets\\[0\\]: "Nmae"'):
        client.describe_fleets()


# ======================================================================
# AppStream
# ======================================================================


@pytest.fixture
def appstream():
    fake = AppStreamFake()
    return fake, fake.attach(boto3.client("appstream", region_name="us-east-1"))


def test_botocore_validates_parameters_before_the_fake_sees_them(appstream):
    fake, client = appstream
    with pytest.raises(botocore.exceptions.ParamValidationError, match="MaxResults"):
        client.describe_fleets(MaxResults=10)  # DescribeFleets has no MaxResults member
    assert fake.calls == []


def test_describe_fleets_paginates_over_several_pages(appstream):
    fake, client = appstream
    for index in range(5):
        fake.add_fleet(f"fleet-{index}", image_name="img", iam_role_arn=ROLE)
    pages = list(client.get_paginator("describe_fleets").paginate())
    assert [len(page["Fleets"]) for page in pages] == [2, 2, 1]
    assert [fleet["Name"] for page in pages for fleet in page["Fleets"]] == [f"fleet-{i}" for i in range(5)]
    assert [("NextToken" in params) for params in fake.calls_to("DescribeFleets")] == [False, True, True]
    assert pages[0]["Fleets"][0]["IamRoleArn"] == ROLE
    assert isinstance(pages[0]["Fleets"][0]["CreatedTime"], datetime.datetime)


def test_describe_fleets_by_unknown_name_is_resource_not_found(appstream):
    fake, client = appstream
    fake.add_fleet("known", image_name="img")
    with pytest.raises(client.exceptions.ResourceNotFoundException) as raised:
        client.describe_fleets(Names=["known", "missing"])
    assert "missing" in raised.value.response["Error"]["Message"]
    assert client.describe_fleets(Names=["known"])["Fleets"][0]["Name"] == "known"


def test_describe_app_block_builders_with_a_manual_next_token_loop(appstream):
    fake, client = appstream
    for index in range(3):
        fake.add_app_block_builder(f"abb-{index}", iam_role_arn=ROLE if index == 1 else None)
    assert not client.can_paginate("describe_app_block_builders")
    names, kwargs = [], {}
    while True:
        page = client.describe_app_block_builders(**kwargs)
        names += [builder["Name"] for builder in page["AppBlockBuilders"]]
        if "NextToken" not in page:
            break
        kwargs = {"NextToken": page["NextToken"]}
    assert names == ["abb-0", "abb-1", "abb-2"]
    assert len(fake.calls_to("DescribeAppBlockBuilders")) == 2
    assert "IamRoleArn" not in client.describe_app_block_builders(Names=["abb-0"])["AppBlockBuilders"][0]


def test_max_results_is_an_upper_bound_on_the_page(appstream):
    fake, client = appstream
    for index in range(3):
        fake.add_image_builder(f"ib-{index}", image_name="img")
    assert len(client.describe_image_builders(MaxResults=1)["ImageBuilders"]) == 1
    assert len(client.describe_image_builders(MaxResults=25)["ImageBuilders"]) == 2  # page_size caps it


def test_failure_injected_on_page_two_only(appstream):
    fake, client = appstream
    for index in range(5):
        fake.add_fleet(f"fleet-{index}", image_name="img")
    fake.fail("DescribeFleets", code="AccessDeniedException", on_page=2)
    first = client.describe_fleets()
    assert len(first["Fleets"]) == 2
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        client.describe_fleets(NextToken=first["NextToken"])
    assert error_code(raised) == "AccessDeniedException"
    assert http_status(raised) == 400
    assert "appstream:DescribeFleets" in raised.value.response["Error"]["Message"]
    # The injected failure is used up: the same page now succeeds.
    assert len(client.describe_fleets(NextToken=first["NextToken"])["Fleets"]) == 2


def test_failure_injected_for_a_number_of_calls(appstream):
    fake, client = appstream
    fake.add_image(PUBLIC_IMAGE, agent_version="06-12-2023", owner_account="", visibility="PUBLIC")
    fake.fail("DescribeImages", code="RequestLimitExceededException", times=2)
    for _ in range(2):
        with pytest.raises(client.exceptions.RequestLimitExceededException):
            client.describe_images()
    assert len(client.describe_images()["Images"]) == 1
    assert len(fake.calls_to("DescribeImages")) == 3


def test_public_image_has_an_empty_account_in_its_arn(appstream):
    fake, client = appstream
    fake.add_image(PUBLIC_IMAGE, agent_version="06-12-2023", owner_account="", visibility="PUBLIC")
    fake.add_image("Private", agent_version="LATEST", latest_agent_version="TRUE")
    fake.add_fleet("f1", image_name=PUBLIC_IMAGE)
    public_arn = f"arn:aws:appstream:us-east-1::image/{PUBLIC_IMAGE}"
    assert client.describe_fleets()["Fleets"][0]["ImageArn"] == public_arn
    image = client.describe_images(Arns=[public_arn])["Images"][0]
    assert image["AppstreamAgentVersion"] == "06-12-2023"
    assert [i["Name"] for i in client.describe_images(Type="PRIVATE")["Images"]] == ["Private"]
    assert client.describe_images(Names=["Private"])["Images"][0]["Arn"].endswith(f":{ACCOUNT}:image/Private")


def test_describe_images_unknown_name_and_server_side_max(appstream):
    fake, client = appstream
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_images(Names=["nope"])
    # botocore checks only min; the model's max (25) is the server's job.
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        client.describe_images(MaxResults=26)
    assert error_code(raised) == "ValidationException"
    assert "valid max value: 25" in raised.value.response["Error"]["Message"]


def test_create_fleet_then_duplicate_is_rejected(appstream):
    fake, client = appstream
    fake.add_image("Base", agent_version="09-03-2019")
    created = client.create_fleet(
        Name="new", InstanceType="stream.standard.small", ImageName="Base", IamRoleArn=ROLE, Tags={"team": "euc"}
    )["Fleet"]
    assert created["State"] == "STOPPED"
    assert created["ImageArn"] == fake.arn("image", "Base")
    assert client.list_tags_for_resource(ResourceArn=created["Arn"])["Tags"] == {"team": "euc"}
    with pytest.raises(client.exceptions.ResourceAlreadyExistsException):
        client.create_fleet(Name="new", InstanceType="stream.standard.small", ImageName="Base")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.create_fleet(Name="other", InstanceType="stream.standard.small", ImageName="NoSuchImage")


def test_update_fleet_removes_the_role_when_stopped_and_refuses_when_running(appstream):
    fake, client = appstream
    fake.add_fleet("f1", image_name="img", iam_role_arn=ROLE, state="RUNNING")
    with pytest.raises(client.exceptions.ResourceInUseException, match="must be stopped"):
        client.update_fleet(Name="f1", AttributesToDelete=["IAM_ROLE_ARN"])
    assert fake.get("fleet", "f1")["IamRoleArn"] == ROLE
    fake.set_state("fleet", "f1", "STOPPED")
    updated = client.update_fleet(Name="f1", AttributesToDelete=["IAM_ROLE_ARN"])["Fleet"]
    assert "IamRoleArn" not in updated
    assert "IamRoleArn" not in client.describe_fleets(Names=["f1"])["Fleets"][0]
    other_role = f"arn:aws:iam::{ACCOUNT}:role/Other"
    client.update_fleet(Name="f1", IamRoleArn=other_role)
    assert fake.get("fleet", "f1")["IamRoleArn"] == other_role


def test_running_fleet_may_change_its_documented_attributes(appstream):
    fake, client = appstream
    fake.add_fleet("f1", image_name="img", state="RUNNING")
    assert client.update_fleet(Name="f1", DisplayName="Shown")["Fleet"]["DisplayName"] == "Shown"


def test_delete_fleet_and_unknown_fleet(appstream):
    fake, client = appstream
    fake.add_fleet("f1", image_name="img")
    assert client.delete_fleet(Name="f1")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert fake.get("fleet", "f1") is None
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.delete_fleet(Name="f1")


def test_image_builder_create_describe_delete(appstream):
    fake, client = appstream
    fake.add_image("Base", agent_version="10-13-2023")
    builder = client.create_image_builder(
        Name="ib", InstanceType="stream.standard.medium", ImageName="Base", IamRoleArn=ROLE
    )["ImageBuilder"]
    assert builder["AppstreamAgentVersion"] == "10-13-2023"  # inherited from the image
    assert "ImageName" not in builder  # the ImageBuilder shape has ImageArn only
    assert client.describe_image_builders(Names=["ib"])["ImageBuilders"][0]["IamRoleArn"] == ROLE
    assert client.delete_image_builder(Name="ib")["ImageBuilder"]["State"] == "DELETING"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_image_builders(Names=["ib"])


def test_app_block_builder_update_and_delete(appstream):
    fake, client = appstream
    client.create_app_block_builder(
        Name="abb",
        Platform="WINDOWS_SERVER_2019",
        InstanceType="stream.standard.small",
        VpcConfig={"SubnetIds": ["subnet-1"]},
        IamRoleArn=ROLE,
    )
    with pytest.raises(client.exceptions.ResourceAlreadyExistsException):
        client.create_app_block_builder(
            Name="abb", Platform="WINDOWS_SERVER_2019", InstanceType="x", VpcConfig={"SubnetIds": ["s"]}
        )
    updated = client.update_app_block_builder(Name="abb", AttributesToDelete=["IAM_ROLE_ARN"])["AppBlockBuilder"]
    assert "IamRoleArn" not in updated
    fake.set_state("app-block-builder", "abb", "RUNNING")
    with pytest.raises(client.exceptions.ResourceInUseException):
        client.update_app_block_builder(Name="abb", IamRoleArn=ROLE)
    assert client.update_app_block_builder(Name="abb", Description="d")["AppBlockBuilder"]["Description"] == "d"
    client.delete_app_block_builder(Name="abb")
    assert fake.get("app-block-builder", "abb") is None


def test_unimplemented_operation_is_rejected_loudly(appstream):
    fake, client = appstream
    with pytest.raises(UnimplementedOperation, match="DescribeStacks"):
        client.describe_stacks()


def test_state_is_kept_per_region_and_per_account():
    fake = AppStreamFake()
    east = fake.attach(boto3.client("appstream", region_name="us-east-1"))
    west = fake.attach(boto3.client("appstream", region_name="eu-west-1"))
    other = fake.attach(boto3.client("appstream", region_name="us-east-1"), account_id=OTHER_ACCOUNT)
    fake.add_fleet("east-fleet", image_name="img")
    fake.add_fleet("west-fleet", image_name="img", region="eu-west-1")
    assert [f["Name"] for f in east.describe_fleets()["Fleets"]] == ["east-fleet"]
    assert [f["Arn"] for f in west.describe_fleets()["Fleets"]] == [
        f"arn:aws:appstream:eu-west-1:{ACCOUNT}:fleet/west-fleet"
    ]
    assert other.describe_fleets()["Fleets"] == []
    created = other.create_fleet(Name="mine", InstanceType="t", FleetType="ELASTIC", Platform="WINDOWS_SERVER_2019")
    assert f":{OTHER_ACCOUNT}:fleet/mine" in created["Fleet"]["Arn"]


def test_seeding_rejects_values_outside_the_model():
    fake = AppStreamFake()
    with pytest.raises(AssertionError, match="FleetType"):
        fake.add_fleet("f1", fleet_type="ALWAYS-ON")
    with pytest.raises(ValueError):
        fake.add_fleet("f2")
        fake.add_fleet("f2")


def test_list_tags_for_unknown_resource(appstream):
    fake, client = appstream
    fake.add_fleet("tagged", image_name="img", tags={"owner": "a"})
    assert client.list_tags_for_resource(ResourceArn=fake.arn("fleet", "tagged"))["Tags"] == {"owner": "a"}
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_tags_for_resource(ResourceArn=fake.arn("fleet", "ghost"))


def test_latency_is_applied_per_call():
    fake = AppStreamFake(latency_seconds=0.05)
    client = fake.attach(boto3.client("appstream", region_name="us-east-1"))
    started = time.perf_counter()
    client.describe_fleets()
    client.describe_fleets()
    assert time.perf_counter() - started >= 0.1


# ======================================================================
# Security Hub
# ======================================================================


NOW = datetime.datetime(2025, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)


def stamp(minutes: int = 0) -> str:
    return (NOW + datetime.timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def make_finding(finding_id: str, *, compliance="FAILED", record_state="ACTIVE", updated=0, **overrides) -> dict:
    finding = {
        "SchemaVersion": "2018-10-08",
        "Id": finding_id,
        "ProductArn": f"arn:aws:securityhub:us-east-1:{ACCOUNT}:product/{ACCOUNT}/default",
        "GeneratorId": "roleguard/trust-allows-appstream",
        "AwsAccountId": ACCOUNT,
        "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
        "CreatedAt": stamp(0),
        "UpdatedAt": stamp(updated),
        "Severity": {"Label": "HIGH"},
        "Title": f"Title of {finding_id}",
        "Description": "The role cannot be assumed by AppStream.",
        "Resources": [{"Type": "Other", "Id": f"arn:aws:appstream:us-east-1:{ACCOUNT}:fleet/{finding_id}"}],
        "Compliance": {"Status": compliance},
        "RecordState": record_state,
    }
    finding.update(overrides)
    return finding


def minimal_stored_finding() -> dict:
    return {**make_finding("x"), "Region": "us-east-1", "Workflow": {"Status": "NEW"}}


@pytest.fixture
def hub():
    fake = SecurityHubFake()
    return fake, fake.attach(boto3.client("securityhub", region_name="us-east-1"))


def set_workflow(client, finding_id: str, status: str) -> None:
    identifier = {"Id": finding_id, "ProductArn": make_finding(finding_id)["ProductArn"]}
    result = client.batch_update_findings(FindingIdentifiers=[identifier], Workflow={"Status": status})
    assert result["ProcessedFindings"] == [identifier]


def test_import_creates_findings_with_workflow_new_and_region(hub):
    fake, client = hub
    result = client.batch_import_findings(Findings=[make_finding("a", Workflow={"Status": "RESOLVED"})])
    assert (result["SuccessCount"], result["FailedCount"], result["FailedFindings"]) == (1, 0, [])
    stored = fake.get("a")
    assert stored["Workflow"] == {"Status": "NEW"}  # import never sets Workflow
    assert stored["Region"] == "us-east-1"
    assert stored["CreatedAt"] == stamp(0)


def test_101_findings_are_rejected_as_a_request_error(hub):
    fake, client = hub
    with pytest.raises(client.exceptions.InvalidInputException) as raised:
        client.batch_import_findings(Findings=[make_finding(f"f{i}") for i in range(101)])
    assert http_status(raised) == 400
    assert fake.findings() == []
    assert client.batch_import_findings(Findings=[make_finding(f"f{i}") for i in range(100)])["SuccessCount"] == 100


def test_invalid_finding_lands_in_failed_findings_with_http_200(hub):
    fake, client = hub
    result = client.batch_import_findings(Findings=[make_finding("bad", Title="t" * 257), make_finding("good")])
    assert result["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert (result["FailedCount"], result["SuccessCount"]) == (1, 1)
    failure = result["FailedFindings"][0]
    assert failure["Id"] == "bad"
    assert failure["ErrorCode"] == "InvalidInput"
    assert "Title should NOT be longer than 256" in failure["ErrorMessage"]
    assert fake.get("bad") is None and fake.get("good") is not None


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"SchemaVersion": "2019-01-01"}, "SchemaVersion"),
        ({"Severity": {"Original": "7"}}, "Severity.Label"),
        ({"Types": []}, "Types should NOT have fewer than 1"),
        ({"Types": ["Made Up/Thing"]}, "namespaces"),
        ({"Resources": []}, "Resources should have 1 to 32"),
        ({"Resources": [{"Type": "Other", "Id": f"r{i}"} for i in range(33)]}, "Resources should have 1 to 32"),
        ({"Description": "d" * 1025}, "Description should NOT be longer than 1024"),
        ({"Remediation": {"Recommendation": {"Text": "r" * 513}}}, "Recommendation.Text should NOT be longer than 512"),
        ({"GeneratorId": "g" * 513}, "GeneratorId should NOT be longer than 512"),
        ({"Compliance": {"Status": "FAIL"}}, "valid values: PASSED"),
        ({"UpdatedAt": "yesterday"}, "UpdatedAt should match format"),
        ({"Title": "   "}, "must match pattern"),
    ],
)
def test_asff_rules_produce_failed_findings(hub, overrides, message):
    fake, client = hub
    result = client.batch_import_findings(Findings=[make_finding("f", **overrides)])
    assert result["FailedCount"] == 1
    assert result["FailedFindings"][0]["ErrorCode"] == "InvalidInput"
    assert message in result["FailedFindings"][0]["ErrorMessage"]


def test_oversized_finding_fails(hub):
    fake, client = hub
    big = make_finding("big", ProductFields={f"k{i}": "v" * 1000 for i in range(250)})
    result = client.batch_import_findings(Findings=[big])
    assert result["FailedFindings"][0]["ErrorCode"] == "FindingSizeExceeded"


@pytest.mark.parametrize(
    "overrides",
    [
        {"AwsAccountId": OTHER_ACCOUNT},
        {"ProductArn": f"arn:aws:securityhub:us-east-1:{OTHER_ACCOUNT}:product/{OTHER_ACCOUNT}/default"},
        {"ProductArn": f"arn:aws:securityhub:eu-west-1:{ACCOUNT}:product/{ACCOUNT}/default"},
    ],
    ids=["other-aws-account-id", "other-account-product", "other-region-product"],
)
def test_only_own_findings_may_be_imported(hub, overrides):
    fake, client = hub
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        client.batch_import_findings(Findings=[make_finding("f", **overrides)])
    assert error_code(raised) == "AccessDeniedException"
    assert http_status(raised) == 403


def test_update_with_older_or_equal_updated_at_is_ignored(hub):
    fake, client = hub
    client.batch_import_findings(Findings=[make_finding("f", updated=10, Title="current")])
    for stale in (5, 10):
        result = client.batch_import_findings(Findings=[make_finding("f", updated=stale, Title="stale")])
        assert result["SuccessCount"] == 1
    assert fake.get("f")["Title"] == "current"
    assert fake.ignored_updates == [("f", stamp(5)), ("f", stamp(10))]
    client.batch_import_findings(Findings=[make_finding("f", updated=11, Title="newer", CreatedAt=stamp(-60))])
    assert fake.get("f")["Title"] == "newer"
    assert fake.get("f")["CreatedAt"] == stamp(-60)  # stored as sent


def test_resolved_resets_to_new_when_compliance_goes_passed_to_failed(hub):
    fake, client = hub
    client.batch_import_findings(Findings=[make_finding("f", compliance="PASSED")])
    set_workflow(client, "f", "RESOLVED")
    client.batch_import_findings(Findings=[make_finding("f", compliance="FAILED", updated=1)])
    assert fake.get("f")["Workflow"]["Status"] == "NEW"


def test_resolved_stays_without_a_passed_to_failed_transition(hub):
    fake, client = hub
    client.batch_import_findings(Findings=[make_finding("f", compliance="FAILED")])
    set_workflow(client, "f", "RESOLVED")
    client.batch_import_findings(Findings=[make_finding("f", compliance="FAILED", updated=1)])
    client.batch_import_findings(Findings=[make_finding("f", compliance="PASSED", updated=2)])
    assert fake.get("f")["Workflow"]["Status"] == "RESOLVED"


def test_suppressed_is_never_reset(hub):
    fake, client = hub
    client.batch_import_findings(Findings=[make_finding("f", compliance="PASSED", record_state="ARCHIVED")])
    set_workflow(client, "f", "SUPPRESSED")
    client.batch_import_findings(Findings=[make_finding("f", compliance="WARNING", updated=1)])
    assert fake.get("f")["Workflow"]["Status"] == "SUPPRESSED"
    assert fake.get("f")["Compliance"]["Status"] == "WARNING"  # content still updated


def test_notified_resets_to_new_when_archived_finding_becomes_active(hub):
    fake, client = hub
    client.batch_import_findings(Findings=[make_finding("f", record_state="ARCHIVED")])
    set_workflow(client, "f", "NOTIFIED")
    client.batch_import_findings(Findings=[make_finding("f", record_state="ARCHIVED", updated=1)])
    assert fake.get("f")["Workflow"]["Status"] == "NOTIFIED"
    client.batch_import_findings(Findings=[make_finding("f", record_state="ACTIVE", updated=2)])
    assert fake.get("f")["Workflow"]["Status"] == "NEW"


def test_import_cannot_change_customer_fields(hub):
    fake, client = hub
    client.batch_import_findings(Findings=[make_finding("f")])
    identifier = {"Id": "f", "ProductArn": fake.product_arn()}
    client.batch_update_findings(
        FindingIdentifiers=[identifier],
        Workflow={"Status": "NOTIFIED"},
        Note={"Text": "ticket OPS-1", "UpdatedBy": "roleguard"},
        Severity={"Label": "LOW"},
    )
    client.batch_import_findings(
        Findings=[make_finding("f", updated=1, Workflow={"Status": "NEW"}, Note={"Text": "x", "UpdatedBy": "y",
                                                                              "UpdatedAt": stamp(1)})]
    )
    stored = fake.get("f")
    assert stored["Workflow"]["Status"] == "NOTIFIED"
    assert stored["Note"]["Text"] == "ticket OPS-1"
    assert stored["Severity"]["Label"] == "LOW"  # customer-set, kept over the provider's HIGH


def test_batch_update_findings_reports_unknown_and_duplicate_identifiers(hub):
    fake, client = hub
    client.batch_import_findings(Findings=[make_finding("f")])
    known = {"Id": "f", "ProductArn": fake.product_arn()}
    unknown = {"Id": "ghost", "ProductArn": fake.product_arn()}
    result = client.batch_update_findings(
        FindingIdentifiers=[known, unknown, known], Note={"Text": "seen", "UpdatedBy": "me"}
    )
    assert result["ProcessedFindings"] == [known]
    assert [(u["FindingIdentifier"]["Id"], u["ErrorCode"]) for u in result["UnprocessedFindings"]] == [
        ("ghost", "FindingNotFound"),
        ("f", "DuplicatedFindingIdentifier"),
    ]
    stored = fake.get("f")
    assert stored["Note"]["Text"] == "seen" and "UpdatedAt" in stored["Note"]
    assert stored["UpdatedAt"] == stamp(0)  # BatchUpdateFindings does not touch UpdatedAt


@pytest.fixture
def hub_with_findings(hub):
    fake, client = hub
    findings = [
        make_finding("roleguard/fleet/a/trust", compliance="FAILED"),
        make_finding("roleguard/fleet/b/trust", compliance="PASSED"),
        make_finding("roleguard/image-builder/c/agent", compliance="WARNING"),
        make_finding("other/finding", compliance="FAILED", GeneratorId="someone-else"),
    ]
    assert client.batch_import_findings(Findings=findings)["SuccessCount"] == 4
    return fake, client


def ids_of(response: dict) -> list[str]:
    return [finding["Id"] for finding in response["Findings"]]


def test_get_findings_equals_values_are_ored(hub_with_findings):
    fake, client = hub_with_findings
    filters = {"ComplianceStatus": [{"Value": "PASSED", "Comparison": "EQUALS"},
                                    {"Value": "WARNING", "Comparison": "EQUALS"}]}
    assert ids_of(client.get_findings(Filters=filters)) == [
        "roleguard/fleet/b/trust",
        "roleguard/image-builder/c/agent",
    ]


def test_get_findings_prefix_and_other_fields_are_anded(hub_with_findings):
    fake, client = hub_with_findings
    filters = {
        "Id": [{"Value": "roleguard/", "Comparison": "PREFIX"}],
        "ComplianceStatus": [{"Value": "FAILED", "Comparison": "EQUALS"}],
        "ProductArn": [{"Value": fake.product_arn(), "Comparison": "EQUALS"}],
    }
    assert ids_of(client.get_findings(Filters=filters)) == ["roleguard/fleet/a/trust"]


def test_get_findings_not_equals_values_are_anded(hub_with_findings):
    fake, client = hub_with_findings
    filters = {
        "Id": [{"Value": "roleguard/", "Comparison": "PREFIX"}],
        "ComplianceStatus": [{"Value": "PASSED", "Comparison": "NOT_EQUALS"},
                             {"Value": "WARNING", "Comparison": "NOT_EQUALS"}],
    }
    assert ids_of(client.get_findings(Filters=filters)) == ["roleguard/fleet/a/trust"]


def test_get_findings_resource_and_workflow_filters(hub_with_findings):
    fake, client = hub_with_findings
    set_workflow(client, "roleguard/fleet/a/trust", "NOTIFIED")
    by_resource = {"ResourceId": [{"Value": f"arn:aws:appstream:us-east-1:{ACCOUNT}:fleet/roleguard/fleet/b/trust",
                                   "Comparison": "EQUALS"}]}
    assert ids_of(client.get_findings(Filters=by_resource)) == ["roleguard/fleet/b/trust"]
    by_workflow = {"WorkflowStatus": [{"Value": "NOTIFIED", "Comparison": "EQUALS"}],
                   "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}]}
    assert ids_of(client.get_findings(Filters=by_workflow)) == ["roleguard/fleet/a/trust"]


def test_get_findings_pages_with_max_results(hub_with_findings):
    fake, client = hub_with_findings
    first = client.get_findings(MaxResults=3)
    assert len(first["Findings"]) == 3 and "NextToken" in first
    second = client.get_findings(MaxResults=3, NextToken=first["NextToken"])
    assert len(second["Findings"]) == 1 and "NextToken" not in second
    pages = list(client.get_paginator("get_findings").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(page["Findings"]) for page in pages] == [2, 2]


def test_get_findings_rejects_contradictory_filters_and_max_results_over_100(hub_with_findings):
    fake, client = hub_with_findings
    contradictory = {"ComplianceStatus": [{"Value": "FAILED", "Comparison": "EQUALS"},
                                          {"Value": "PASSED", "Comparison": "NOT_EQUALS"}]}
    with pytest.raises(client.exceptions.InvalidInputException):
        client.get_findings(Filters=contradictory)
    with pytest.raises(client.exceptions.InvalidInputException):
        client.get_findings(MaxResults=101)


def test_get_findings_unimplemented_filter_raises_instead_of_matching_everything(hub_with_findings):
    fake, client = hub_with_findings
    with pytest.raises(AssertionError, match="UpdatedAt"):
        client.get_findings(Filters={"UpdatedAt": [{"DateRange": {"Value": 1, "Unit": "DAYS"}}]})


def test_throttle_raises_429_then_recovers(hub):
    fake, client = hub
    fake.throttle(times=2)
    for _ in range(2):
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            client.batch_import_findings(Findings=[make_finding("f")])
        assert error_code(raised) == "TooManyRequestsException"
        assert http_status(raised) == 429
    assert client.batch_import_findings(Findings=[make_finding("f")])["SuccessCount"] == 1
    assert len(fake.calls_to("BatchImportFindings")) == 3


def test_fail_findings_injects_failed_findings_for_the_next_imports(hub):
    fake, client = hub
    fake.fail_findings(["f"], times=1)
    result = client.batch_import_findings(Findings=[make_finding("f"), make_finding("g")])
    assert [(f["Id"], f["ErrorCode"]) for f in result["FailedFindings"]] == [("f", "InvalidInput")]
    assert client.batch_import_findings(Findings=[make_finding("f")])["FailedCount"] == 0
    assert fake.get("f") is not None


def test_security_hub_state_is_per_region(hub):
    fake, client = hub
    west = fake.attach(boto3.client("securityhub", region_name="eu-west-1"))
    west_finding = make_finding("w", ProductArn=fake.product_arn(region="eu-west-1"))
    assert west.batch_import_findings(Findings=[west_finding])["SuccessCount"] == 1
    assert client.get_findings()["Findings"] == []
    assert [f["Region"] for f in fake.findings(region="eu-west-1")] == ["eu-west-1"]


def test_calls_log_records_parameters_as_sent(hub):
    fake, client = hub
    finding = make_finding("f")
    client.batch_import_findings(Findings=[finding])
    client.get_findings(MaxResults=5)
    assert [name for name, _ in fake.calls] == ["BatchImportFindings", "GetFindings"]
    assert fake.calls[0][1] == {"Findings": [copy.deepcopy(finding)]}
    assert fake.calls_to("GetFindings") == [{"MaxResults": 5}]
