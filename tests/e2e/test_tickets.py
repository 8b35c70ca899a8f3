"""Issue 5's Must show, through the real handler: events routed by the template's rule, Security Hub and the
ticket sink configured by the composition root, the ledger in moto's DynamoDB, credentials in moto's Secrets
Manager, and the ticket systems as local servers over a socket (OpsCenter: the validated fake)."""

import json
import logging

import pytest

from roleguard import root
from roleguard.sinks.base import PublishError
from roleguard.tickets.ledger import OPEN, RESOLVED
from tests.doubles import estate
from tests.doubles.opscenter_fake import OpsCenterFake
from tests.doubles.ticket_servers import JiraServer, ServiceNowServer
from tests.doubles.ticket_world import (LEDGER_TABLE, jira_secret, jira_settings, servicenow_settings,
                                        tickets_world)
from tests.doubles.world import EmbeddedAws, EventRoute, template_rule_pattern
from tests.e2e.conftest import LambdaContext, stored
from tests.events import load_event, load_iam_event
from tests.shared_inputs import trust_policy

pytestmark = pytest.mark.e2e

ACCOUNT = "111122223333"
EC2_ONLY = f"arn:aws:iam::{ACCOUNT}:role/Ec2OnlyRole"
TRUST_PROBLEM = f"role#aws#{ACCOUNT}#us-east-1#ec2onlyrole#trust-allows-appstream"


@pytest.fixture
def ticket_system():
    return "jira-cloud"


@pytest.fixture
def ticket_settings():
    return {}


@pytest.fixture
def world(monkeypatch, ticket_system, ticket_settings):
    """The e2e world (overrides conftest's), with the ticket sink on `ticket_system`."""
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "AppStreamRoleGuard")
    with EmbeddedAws() as aws:
        estate.seed(aws)
        if ticket_system == "opscenter":
            aws.server = OpsCenterFake(account_id=ACCOUNT)
            aws.server.attach(aws.client("ssm", "us-east-1"))
            services = tickets_world(aws, dict(sinks=("securityhub", "tickets"), ticket_system="opscenter",
                                               ledger_table=LEDGER_TABLE, **ticket_settings), None)
            yield _ready(aws, services, monkeypatch)
            return
        server = (JiraServer("cloud" if ticket_system == "jira-cloud" else "datacenter")
                  if ticket_system.startswith("jira") else ServiceNowServer())
        with server:
            aws.server = server
            if ticket_system.startswith("jira"):
                services = tickets_world(aws, jira_settings(server, **ticket_settings), jira_secret(server))
            else:
                services = tickets_world(aws, servicenow_settings(server, **ticket_settings),
                                         {"user": server.user, "password": server.password})
            yield _ready(aws, services, monkeypatch)


def _ready(aws, services, monkeypatch):
    monkeypatch.setattr(root, "services", lambda: services)
    aws.route = EventRoute(aws)
    aws.services_ = services
    return aws


def ledger(world):
    return world.services_.ledger()


def second_fleet_on_the_bad_role(world, name="fleet-bad-trust-2"):
    world.appstream.add_fleet(name, fleet_type="ON_DEMAND", image_name="image-agent-2023", iam_role_arn=EC2_ONLY)
    event = load_event("create-fleet-bad-trust")
    event["detail"]["requestParameters"]["name"] = name
    event["detail"]["eventID"] = "0f6b1a7e-0000-4b7a-8e1d-" + name.encode().hex()[-12:].rjust(12, "0")
    return event


def iam_change(world, role="Ec2OnlyRole", trust=None):
    """Change the role's trust, then deliver the IAM event as the us-east-1 IAM rule and SNS would."""
    import app

    world.client("iam").update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust))
    event = load_iam_event("update-assume-role-policy")
    event["detail"]["requestParameters"]["roleName"] = role
    delivered = EventRoute(world, name="IamRoleChangeRule").deliver(event)
    assert delivered is not None
    sns = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(delivered)}}]}
    return app.lambda_handler(sns, LambdaContext())


def jira_issues(world):
    return world.server.issues


# --------------------------------------------------------------------------- one problem, one ticket


def test_the_same_event_three_times_makes_exactly_one_ticket(world, invoke):
    for _ in range(3):
        result = invoke("create-fleet-bad-trust")
        assert result["outcome"] == "evaluated"
    issues = jira_issues(world)
    assert list(issues) == ["SEC-1"]
    issue = issues["SEC-1"]
    assert issue["summary"] == "AppStream role Ec2OnlyRole fails trust-allows-appstream (HIGH)"
    assert issue["comments"] == []  # nothing changed: re-deliveries post nothing
    creates = [r for r in world.server.requests if r.method == "POST" and r.route == "/rest/api/3/issue"]
    assert len(creates) == 1
    # MEDIUM and LOW failures of the same fleet stay below the default minimum severity (HIGH)
    assert stored(world, "fleet/fleet-bad-trust")["trust-no-foreign-principals"]["Severity"]["Label"] == "MEDIUM"


def test_two_fleets_sharing_one_bad_role_make_one_ticket_listing_both(world, invoke):
    invoke("create-fleet-bad-trust")
    second = second_fleet_on_the_bad_role(world)
    for _ in range(2):
        invoke(second)
    assert list(jira_issues(world)) == ["SEC-1"]
    text = world.server.description_text("SEC-1")
    assert "fleet fleet-bad-trust in us-east-1" in text and "fleet fleet-bad-trust-2 in us-east-1" in text
    assert world.server.comment_texts("SEC-1") == [
        "Now also affects fleet fleet-bad-trust-2 (us-east-1): FAILED HIGH: AppStream cannot assume the role for "
        f"arn:aws:appstream:us-east-1:{ACCOUNT}:fleet/fleet-bad-trust-2: " +
        stored(world, "fleet/fleet-bad-trust-2")["trust-allows-appstream"]["Description"].split(": ", 1)[1]]
    entry = ledger(world).get(TRUST_PROBLEM)
    assert entry.state == OPEN and entry.ticket_id == "SEC-1" and len(entry.problem.resources) == 2


def test_fix_closes_the_ticket_with_a_comment_and_regression_reopens_it(world, invoke):
    invoke("create-fleet-bad-trust")
    invoke(second_fleet_on_the_bad_role(world))
    result = iam_change(world, trust=estate.FIXED_TRUST)  # one IAM event re-evaluates both fleets
    assert result["outcome"] == "evaluated"
    issue = jira_issues(world)["SEC-1"]
    assert issue["status"] == {"name": "Done"}
    # the first fleet passing is an update; the last one resolves the ticket
    *_, update, closing = world.server.comment_texts("SEC-1")
    assert update.startswith("No longer affects fleet fleet-bad-trust (us-east-1): trust-allows-appstream passes")
    assert closing.startswith("Resolved by AppStream Role Guard.\nNo longer affects fleet fleet-bad-trust-2 "
                              "(us-east-1): trust-allows-appstream passes for fleet fleet-bad-trust-2")
    assert ledger(world).get(TRUST_PROBLEM).state == RESOLVED
    # regress: the default reopens the same ticket
    iam_change(world, trust=json.loads(trust_policy("tp15")))
    assert list(jira_issues(world)) == ["SEC-1"]
    assert jira_issues(world)["SEC-1"]["status"] == {"name": "To Do"}
    reopened = [c for c in world.server.comment_texts("SEC-1") if c.startswith("Reopened by AppStream Role Guard")]
    assert len(reopened) == 1 and "Now also affects fleet fleet-bad-trust (us-east-1)" in reopened[0]
    assert ledger(world).get(TRUST_PROBLEM).state == OPEN


@pytest.mark.parametrize("ticket_settings", [{"ticket_on_regression": "new"}])
def test_regression_opens_a_new_ticket_when_configured(world, invoke):
    invoke("create-fleet-bad-trust")
    iam_change(world, trust=estate.FIXED_TRUST)
    assert jira_issues(world)["SEC-1"]["status"] == {"name": "Done"}
    iam_change(world, trust=json.loads(trust_policy("tp15")))
    assert list(jira_issues(world)) == ["SEC-1", "SEC-2"]
    assert jira_issues(world)["SEC-1"]["status"] == {"name": "Done"}  # the old one stays closed
    assert jira_issues(world)["SEC-2"]["status"] == {"name": "To Do"}
    entry = ledger(world).get(TRUST_PROBLEM)
    assert entry.ticket_id == "SEC-2" and entry.history == ("SEC-1",)


def test_deleting_the_last_affected_fleet_resolves_the_ticket(world, invoke):
    invoke("create-fleet-bad-trust")
    invoke("delete-fleet")
    assert jira_issues(world)["SEC-1"]["status"] == {"name": "Done"}
    assert "No longer affects fleet fleet-bad-trust (us-east-1): fleet fleet-bad-trust" in \
        world.server.comment_texts("SEC-1")[-1]


def test_a_suppressed_finding_opens_no_ticket(world, invoke):
    world.client("iam").tag_role(RoleName="Ec2OnlyRole", Tags=[
        {"Key": "roleguard:suppress", "Value": "trust-allows-appstream"},
        {"Key": "roleguard:reason", "Value": "EC2 pipeline role, retired next sprint"}])
    invoke("create-fleet-bad-trust")
    assert jira_issues(world) == {}
    assert stored(world, "fleet/fleet-bad-trust")["trust-allows-appstream"]["Workflow"]["Status"] == "SUPPRESSED"


# --------------------------------------------------------------------------- HTTP failures


def test_jira_answering_429_then_200_makes_one_ticket(world, invoke):
    world.server.fail_next(429, retry_after=3)
    invoke("create-fleet-bad-trust")
    assert list(jira_issues(world)) == ["SEC-1"]
    assert 3.0 in world.sleeps  # Retry-After honoured (the test doubles record waits instead of sleeping)


def lambda_async_invoke(world, event, retries=2):
    """What Lambda does with an asynchronous invocation (template: MaximumRetryAttempts, OnFailure SQS)."""
    import app

    sqs = world.client("sqs")
    queue = sqs.create_queue(QueueName="FunctionFailureQueue")["QueueUrl"]
    for _ in range(1 + retries):
        try:
            return app.lambda_handler(event, LambdaContext())
        except Exception as err:  # Lambda records the function error, then retries or gives up
            error = err
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({
        "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 1 + retries},
        "requestPayload": event, "responseContext": {"functionError": "Unhandled"},
        "responsePayload": {"errorType": type(error).__name__, "errorMessage": str(error)}}))
    return None


@pytest.mark.parametrize("ticket_system", ["servicenow"])
def test_servicenow_answering_500_three_times_fails_the_invocation_without_a_phantom_claim(world, invoke):
    world.server.fail_next(500, times=3)
    with pytest.raises(PublishError, match="servicenow .* -> 500: Internal Server Error"):
        invoke("create-fleet-bad-trust")
    assert ledger(world).get(TRUST_PROBLEM) is None  # never claims a ticket that does not exist
    assert world.server.records["incident"] == {}
    # Security Hub (the first sink) has the finding already; the event is retried by Lambda
    assert stored(world, "fleet/fleet-bad-trust")["trust-allows-appstream"]["Compliance"]["Status"] == "FAILED"
    invoke("create-fleet-bad-trust")  # Lambda's retry
    assert len(world.server.records["incident"]) == 1
    assert ledger(world).get(TRUST_PROBLEM).state == OPEN


@pytest.mark.parametrize("ticket_system", ["servicenow"])
def test_servicenow_down_for_every_retry_sends_the_event_to_the_failure_queue(world):
    world.server.fail_next(500, times=3 * 3)
    estate.apply_call(world, "create-fleet-bad-trust")
    delivered = world.route.deliver(load_event("create-fleet-bad-trust"))
    assert lambda_async_invoke(world, delivered) is None
    sqs = world.client("sqs")
    url = sqs.get_queue_url(QueueName="FunctionFailureQueue")["QueueUrl"]
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    record = json.loads(message["Body"])
    assert record["responsePayload"]["errorType"] == "PublishError"
    assert "500" in record["responsePayload"]["errorMessage"]
    assert record["requestPayload"]["detail"]["eventID"] == delivered["detail"]["eventID"]
    assert ledger(world).get(TRUST_PROBLEM) is None and world.server.records["incident"] == {}


def test_template_sends_failed_invocations_to_the_failure_queue():
    from samtranslator.yaml_helper import yaml_parse

    from tests.doubles.world import REPO

    template = yaml_parse((REPO / "template.yaml").read_text())
    config = template["Resources"]["EvaluateFunction"]["Properties"]["EventInvokeConfig"]
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["FunctionFailureQueue", "Arn"]}
    assert template_rule_pattern()["source"] == ["aws.appstream"]


# --------------------------------------------------------------------------- other systems, end to end


@pytest.mark.parametrize("ticket_system", ["jira-dc", "servicenow", "opscenter"])
def test_every_system_opens_one_ticket_per_problem_and_closes_it_on_the_fix(world, invoke, ticket_system):
    invoke("create-fleet-bad-trust")
    invoke(second_fleet_on_the_bad_role(world))
    invoke("create-fleet-bad-trust")
    entry = ledger(world).get(TRUST_PROBLEM)
    assert entry.state == OPEN and len(entry.problem.resources) == 2
    if ticket_system == "opscenter":
        (item,) = world.server.items(region="us-east-1")
        arns = [r["arn"] for r in json.loads(item["OperationalData"]["/aws/resources"]["Value"])]
        assert arns == [EC2_ONLY, *sorted(a.arn for a in entry.problem.resources)]
    iam_change(world, trust=estate.FIXED_TRUST)
    assert ledger(world).get(TRUST_PROBLEM).state == RESOLVED
    if ticket_system == "jira-dc":
        assert list(world.server.issues) == ["SEC-1"]
        assert world.server.issues["SEC-1"]["status"] == {"name": "Done"}
        assert isinstance(world.server.issues["SEC-1"]["description"], str)
    elif ticket_system == "servicenow":
        (record,) = world.server.records["incident"].values()
        assert record["state"] == "6" and "trust-allows-appstream passes" in record["close_notes"]
    else:
        (item,) = world.server.items(region="us-east-1")
        assert item["Status"] == "Resolved" and len(item["Title"]) <= 100
        assert "trust-allows-appstream passes" in item["Description"]


@pytest.mark.parametrize("ticket_system", ["opscenter"])
def test_opsitem_limit_exceeded_is_reported_not_raised_and_the_finding_stays(world, invoke):
    world.server.fail("CreateOpsItem", code="OpsItemLimitExceededException")
    result = invoke("create-fleet-bad-trust")
    tickets = next(r for r in result["published"] if r["sink"] == "tickets")
    assert any(d.startswith("quota exceeded") for d in tickets["details"])
    assert ledger(world).get(TRUST_PROBLEM) is None
    assert stored(world, "fleet/fleet-bad-trust")["trust-allows-appstream"]["Compliance"]["Status"] == "FAILED"
    invoke("create-fleet-bad-trust")  # the next delivery tries again
    assert len(world.server.items(region="us-east-1")) == 1


# --------------------------------------------------------------------------- secrets


def test_the_secret_appears_in_no_log_of_a_whole_run(world, invoke, caplog, capfd):
    import app

    token = world.server.token
    encoded = __import__("base64").b64encode(f"{world.server.user}:{token}".encode()).decode()
    caplog.clear()
    caplog.set_level(logging.DEBUG)  # every logger: ours, botocore's (response bodies), urllib3's, Powertools'
    app.logger.setLevel(logging.DEBUG)
    try:
        outputs = [invoke("create-fleet-bad-trust"), invoke(second_fleet_on_the_bad_role(world))]
        outputs.append(iam_change(world, trust=estate.FIXED_TRUST))
        world.services_.secrets()._provider.clear_cache()  # fetch again: a second GetSecretValue at DEBUG
        outputs.append(invoke("create-fleet-bad-trust"))
    finally:
        app.logger.setLevel(logging.INFO)
    out, err = capfd.readouterr()
    everything = caplog.text + out + err + json.dumps(outputs) + repr(world.services_.settings)
    assert any(r.name == "botocore.parsers" for r in caplog.records)  # DEBUG really was on
    assert any("GetSecretValue" in r.getMessage() for r in caplog.records)  # and the secret was read
    assert jira_issues(world)["SEC-1"]["status"] == {"name": "Done"}  # the run did its job
    assert token not in everything and encoded not in everything
    # the environment holds only the secret's name
    import os
    assert token not in json.dumps(dict(os.environ))
