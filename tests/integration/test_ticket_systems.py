"""Each ticket client against its double: Jira Cloud / Data Center and ServiceNow over a real socket
(tests/doubles/ticket_servers.py), OpsCenter through a real boto3 ssm client answered by the OpsCenter fake."""

import json

import boto3
import pytest

from roleguard.model import Finding, ResourceKind, ResourceRef, Severity, Status
from roleguard.tickets import jira, servicenow
from roleguard.tickets.base import CannotReopen, TicketApiError, TicketQuotaExceeded
from roleguard.tickets.http import HttpClient
from roleguard.tickets.opscenter import OpsCenterTickets
from roleguard.tickets.problems import Affected, Problem
from tests.doubles.opscenter_fake import OpsCenterFake
from tests.doubles.ticket_servers import JiraServer, ServiceNowServer, adf_nodes

pytestmark = pytest.mark.integration

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/FleetRoleA"


def finding(name="fleet-a", detail="AppStream cannot assume the role", severity=Severity.HIGH):
    return Finding(check_id="trust-allows-appstream", title="t", status=Status.FAILED, severity=severity,
                   detail=detail, resource=ResourceRef(ResourceKind.FLEET, name, ACCOUNT, "us-east-1"),
                   role_arn=ROLE, remediation="fix", documentation_url="https://docs.aws.amazon.com/x")


PROBLEM = Problem.for_finding(finding())
TWO = PROBLEM.with_resource(Affected.from_finding(finding("fleet-b")))


def http_for(server, system, authorization, sleeps):
    return HttpClient(system, server.url, authorization, sleep=sleeps.append, connect_timeout=2, read_timeout=5)


# --------------------------------------------------------------------------- Jira


@pytest.fixture(params=["cloud", "datacenter"])
def jira_env(request):
    with JiraServer(request.param, max_page_size=2) as server:
        sleeps = []
        if request.param == "cloud":
            auth = lambda: jira.cloud_authorization(server.user, server.token)  # noqa: E731
        else:
            auth = lambda: jira.bearer_authorization(server.token)  # noqa: E731
        tickets = jira.JiraTickets(http_for(server, "jira", auth, sleeps), cloud=request.param == "cloud",
                                   project="SEC", labels=("appstream", "security"))
        yield server, tickets, sleeps


def test_jira_create_find_update_resolve_reopen(jira_env):
    server, tickets, _ = jira_env
    ticket = tickets.create(PROBLEM)
    issue = server.issues[ticket.id]
    assert ticket.id == "SEC-1" and ticket.open
    assert issue["summary"] == "AppStream role FleetRoleA fails trust-allows-appstream (HIGH)"
    assert set(issue["labels"]) == {"roleguard", PROBLEM.marker, "appstream", "security"}
    assert issue["priority"] == {"name": "High"} and issue["issuetype"] == "Task"
    if server.cloud:
        assert {n["type"] for n in adf_nodes(issue["description"])} == {"doc", "paragraph", "text"}
    else:
        assert isinstance(issue["description"], str)
    assert "fleet fleet-a in us-east-1" in server.description_text(ticket.id)

    assert tickets.find_by_key(PROBLEM) == ticket
    other = Finding(**{**vars(finding()), "check_id": "least-privilege"})
    assert tickets.find_by_key(Problem.for_finding(other)) is None

    tickets.update(ticket, TWO, ["Now also affects fleet fleet-b (us-east-1): FAILED HIGH: x"])
    assert "fleet fleet-b in us-east-1" in server.description_text(ticket.id)
    assert server.comment_texts(ticket.id) == ["Now also affects fleet fleet-b (us-east-1): FAILED HIGH: x"]

    tickets.resolve(ticket, TWO.without(TWO.resources[0].arn).without(TWO.resources[1].arn), ["fixed"])
    assert server.issues[ticket.id]["status"] == {"name": "Done"}
    assert server.comment_texts(ticket.id)[-1] == "Resolved by AppStream Role Guard.\nfixed"
    assert tickets.find_by_key(PROBLEM).open is False

    reopened = tickets.reopen(ticket, PROBLEM, ["Now also affects fleet fleet-a"])
    assert reopened.open and server.issues[ticket.id]["status"] == {"name": "To Do"}
    assert server.comment_texts(ticket.id)[-1].startswith("Reopened by AppStream Role Guard")


def test_jira_resolve_of_an_issue_someone_closed_only_comments(jira_env):
    server, tickets, _ = jira_env
    ticket = tickets.create(PROBLEM)
    server.set_status(ticket.id, "Done")
    tickets.resolve(ticket, PROBLEM, ["fixed"])
    assert server.issues[ticket.id]["status"] == {"name": "Done"}
    assert len(server.issues[ticket.id]["history"]) == 1  # moved once, by the person
    server.set_status(ticket.id, "In Progress")
    tickets.reopen(ticket, PROBLEM, ["back"])  # already open: not moved back to To Do
    assert server.issues[ticket.id]["status"] == {"name": "In Progress"}


def test_jira_find_pages_through_search_and_prefers_an_open_issue(jira_env):
    server, tickets, _ = jira_env
    for _ in range(5):
        server.seed("old", labels=[PROBLEM.marker], status="Done")
    open_key = server.seed("current", labels=[PROBLEM.marker])
    assert tickets.find_by_key(PROBLEM).id == open_key  # page 3 of 3 (two per page)
    searches = [r for r in server.requests if "search" in r.route]
    assert len(searches) == 3
    if server.cloud:
        assert all(r.route == "/rest/api/3/search/jql" for r in searches)


def test_jira_429_then_200_creates_one_issue(jira_env):
    server, tickets, sleeps = jira_env
    server.fail_next(429, retry_after=2, path_prefix=f"{server.api}/issue")
    tickets.create(PROBLEM)
    assert list(server.issues) == ["SEC-1"] and sleeps == [2.0]


def test_jira_500_on_create_looks_before_creating_again(jira_env):
    server, tickets, _ = jira_env
    server.fail_next(500, times=1, path_prefix=f"{server.api}/issue")
    ticket = tickets.create(PROBLEM)
    assert list(server.issues) == [ticket.id]
    posts = [r for r in server.requests if r.method == "POST" and r.route == f"{server.api}/issue"]
    assert len(posts) == 2  # the first got a 500 and created nothing; a search came in between
    assert any("search" in r.route for r in server.requests)


def test_jira_rejects_wrong_credentials_with_a_clear_error(jira_env):
    server, tickets, _ = jira_env
    bad = jira.JiraTickets(HttpClient("jira", server.url, lambda: "Bearer wrong"), cloud=server.cloud, project="SEC")
    with pytest.raises(TicketApiError) as caught:
        bad.create(PROBLEM)
    assert caught.value.status == 401 and not caught.value.retryable
    assert server.issues == {}


def test_jira_field_errors_come_back_with_the_field_name(jira_env):
    server, _, sleeps = jira_env
    auth = (lambda: jira.cloud_authorization(server.user, server.token)) if server.cloud else \
        (lambda: jira.bearer_authorization(server.token))
    tickets = jira.JiraTickets(http_for(server, "jira", auth, sleeps), cloud=server.cloud, project="SEC",
                               issue_type="Epic")
    with pytest.raises(TicketApiError) as caught:
        tickets.create(PROBLEM)
    assert caught.value.status == 400 and caught.value.fields == ("issuetype",)
    assert "The issue type selected is invalid." in str(caught.value)


# --------------------------------------------------------------------------- ServiceNow


@pytest.fixture
def snow_env():
    with ServiceNowServer() as server:
        sleeps = []
        auth = lambda: servicenow.basic_authorization(server.user, server.password)  # noqa: E731
        yield server, servicenow.ServiceNowTickets(http_for(server, "servicenow", auth, sleeps)), sleeps


def test_servicenow_create_find_update_resolve_reopen(snow_env):
    server, tickets, _ = snow_env
    ticket = tickets.create(PROBLEM)
    record = server.records["incident"][ticket.id]
    assert ticket.display == record["number"] == "INC0010001"
    assert record["correlation_id"] == PROBLEM.marker and record["state"] == "1"
    assert record["short_description"] == "AppStream role FleetRoleA fails trust-allows-appstream (HIGH)"
    assert (record["impact"], record["urgency"]) == ("1", "2") and "fleet fleet-a" in record["description"]
    assert server.ignored_fields == []
    assert tickets.find_by_key(PROBLEM) == ticket

    tickets.update(ticket, TWO, ["Now also affects fleet fleet-b"])
    assert "fleet fleet-b" in server.records["incident"][ticket.id]["description"]
    assert server.journal[ticket.id] == ["Now also affects fleet fleet-b"]

    tickets.resolve(ticket, TWO, ["trust-allows-appstream passes for fleet fleet-a"])
    record = server.records["incident"][ticket.id]
    assert record["state"] == "6" and record["close_code"] == "Resolved by change"
    assert "passes for fleet fleet-a" in record["close_notes"]
    assert tickets.find_by_key(PROBLEM).open is False

    tickets.reopen(ticket, PROBLEM, ["back"])
    assert server.records["incident"][ticket.id]["state"] == "2"

    tickets.resolve(ticket, PROBLEM, ["fixed again"])
    server.autoclose()
    tickets.resolve(ticket, PROBLEM, ["nothing to do"])  # closed records are read-only: left alone
    with pytest.raises(CannotReopen):
        tickets.reopen(ticket, PROBLEM, ["back again"])


def test_servicenow_500_three_times_fails_after_three_attempts(snow_env):
    server, tickets, sleeps = snow_env
    server.fail_next(500, times=3)
    with pytest.raises(TicketApiError) as caught:
        tickets.find_by_key(PROBLEM)
    assert caught.value.status == 500 and len(server.requests) == 3 and len(sleeps) == 2
    assert "Internal Server Error" in str(caught.value)


def test_servicenow_500_on_create_never_makes_two_records(snow_env):
    server, tickets, _ = snow_env
    server.fail_next(500, times=2, path_prefix="/api/now/table/incident")
    ticket = tickets.create(PROBLEM)  # POST 500 (maybe created?) -> look up (500, retried: none) -> POST again
    assert list(server.records["incident"]) == [ticket.id]
    calls = [(r.method, r.route) for r in server.requests]
    assert calls == [("POST", "/api/now/table/incident"), ("GET", "/api/now/table/incident"),
                     ("GET", "/api/now/table/incident"), ("POST", "/api/now/table/incident")]


# --------------------------------------------------------------------------- OpsCenter


@pytest.fixture
def ops_env(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    fake = OpsCenterFake(account_id=ACCOUNT)
    client = fake.attach(boto3.client("ssm", region_name="us-east-1"))
    return fake, OpsCenterTickets(client)


def test_opscenter_create_find_update_resolve_reopen(ops_env):
    fake, tickets = ops_env
    ticket = tickets.create(TWO)
    item = fake.get(ticket.id, region="us-east-1")
    assert len(item["Title"]) <= 100 and item["Severity"] == "2" and item["Category"] == "Security"
    assert item["Source"] == "appstream-role-guard"
    assert json.loads(item["OperationalData"]["/aws/resources"]["Value"]) == [
        {"arn": ROLE}, {"arn": TWO.resources[0].arn}, {"arn": TWO.resources[1].arn}]
    assert tickets.find_by_key(TWO) == ticket

    tickets.update(ticket, PROBLEM, ["No longer affects fleet fleet-b"])
    item = fake.get(ticket.id, region="us-east-1")
    assert item["Description"].startswith("Latest change:\nNo longer affects fleet fleet-b")
    tickets.resolve(ticket, PROBLEM, ["fixed"])
    assert fake.get(ticket.id, region="us-east-1")["Status"] == "Resolved"
    assert tickets.find_by_key(PROBLEM).open is False
    tickets.reopen(ticket, PROBLEM, ["back"])
    assert fake.get(ticket.id, region="us-east-1")["Status"] == "Open"


def test_opscenter_duplicate_create_adopts_the_open_item(ops_env):
    fake, tickets = ops_env
    first = tickets.create(PROBLEM)
    assert tickets.create(PROBLEM) == first  # OpsItemAlreadyExistsException names the open duplicate
    assert len(fake.items(region="us-east-1")) == 1


def test_opscenter_limit_exceeded_is_a_quota_error(ops_env):
    fake, tickets = ops_env
    fake.fail("CreateOpsItem", code="OpsItemLimitExceededException")
    with pytest.raises(TicketQuotaExceeded):
        tickets.create(PROBLEM)
    assert fake.items(region="us-east-1") == []
