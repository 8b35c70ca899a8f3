"""The ticket ledger on moto's DynamoDB: conditional writes, claim before create, release on failure,
and concurrent deliveries that still make exactly one ticket."""

import threading
from datetime import datetime, timezone

import pytest

from roleguard.model import Finding, ResourceKind, ResourceRef, Severity, Status
from roleguard.sinks.base import PublishError, ResourceOutcome
from roleguard.tickets import jira
from roleguard.tickets.base import LedgerError, TicketError
from roleguard.tickets.http import HttpClient
from roleguard.tickets.ledger import CLAIMED, OPEN, Entry, Ledger
from roleguard.tickets.problems import Problem, problem_key
from roleguard.tickets.sink import TicketSink
from tests.doubles.ticket_servers import JiraServer
from tests.doubles.ticket_world import create_ledger

pytestmark = pytest.mark.integration

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/FleetRoleA"
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


def finding(name="fleet-a", status=Status.FAILED):
    return Finding(check_id="trust-allows-appstream", title="t", status=status, severity=Severity.HIGH,
                   detail="AppStream cannot assume the role", role_arn=ROLE, remediation="fix",
                   resource=ResourceRef(ResourceKind.FLEET, name, ACCOUNT, "us-east-1"),
                   documentation_url="https://docs.aws.amazon.com/x")


def outcome(name="fleet-a", status=Status.FAILED):
    f = finding(name, status)
    return ResourceOutcome(f.resource, (f,))


@pytest.fixture
def ledger(moto_inprocess):
    client = moto_inprocess("dynamodb")
    return Ledger(client, create_ledger(client))


@pytest.fixture
def jira_server():
    with JiraServer("cloud") as server:
        yield server


def tickets(server, **kw):
    http = HttpClient("jira", server.url, lambda: jira.cloud_authorization(server.user, server.token))
    return jira.JiraTickets(http, cloud=True, project="SEC", **kw)


def test_claim_is_won_once_and_every_later_write_is_conditional_on_the_version(ledger):
    problem = Problem.for_finding(finding())
    claim = Entry(problem.key, CLAIMED, 1, problem, claimed_at=1.0)
    assert ledger.claim(claim) is True
    assert ledger.claim(claim) is False  # attribute_not_exists(pk)
    stored = ledger.get(problem.key)
    assert stored == claim
    opened = stored.next(state=OPEN, ticket_id="SEC-1", ticket_display="SEC-1", shown=problem)
    assert ledger.save(opened) is True
    assert ledger.save(opened) is False  # the stored item is at version 2 now, not 1
    assert ledger.save(stored.next(state=OPEN, ticket_id="SEC-2")) is False  # a stale writer loses
    assert ledger.get(problem.key).ticket_id == "SEC-1" and ledger.get(problem.key).in_sync
    assert ledger.delete(stored) is False and ledger.delete(opened) is True
    assert ledger.get(problem.key) is None


def test_resource_index_adds_and_removes_atomically(ledger):
    arn = finding().resource.arn
    assert ledger.problems_of(arn) == set()
    ledger.index(arn, add={"a", "b"})
    ledger.index(arn, add={"b", "c"})
    ledger.index(arn, remove={"a"})
    assert ledger.problems_of(arn) == {"b", "c"}


def test_a_missing_table_is_a_ledger_error(moto_inprocess):
    with pytest.raises(LedgerError, match="ResourceNotFoundException"):
        Ledger(moto_inprocess("dynamodb"), "nope").get("k")


def test_a_failed_create_releases_the_claim(ledger, jira_server):
    jira_server.fail_next(400, body={"errorMessages": ["Project is archived"], "errors": {}},
                          path_prefix="/rest/api/3/issue")
    sink = TicketSink(tickets(jira_server), ledger)
    with pytest.raises(PublishError, match="Project is archived"):
        sink.publish([outcome()], NOW)
    assert ledger.get(problem_key(finding())) is None  # no claim of a ticket that does not exist
    assert jira_server.issues == {}
    sink.publish([outcome()], NOW)  # the retry creates it
    assert list(jira_server.issues) == ["SEC-1"] and ledger.get(problem_key(finding())).ticket_id == "SEC-1"


def test_an_abandoned_claim_is_taken_over_and_adopts_the_ticket_it_made(ledger, jira_server):
    """An invocation died after creating SEC-1 but before recording it: the next one must not make SEC-2."""
    system = tickets(jira_server)
    problem = Problem.for_finding(finding())
    system.create(problem)
    ledger.claim(Entry(problem.key, CLAIMED, 1, problem, claimed_at=0.0))  # claimed long ago
    ledger.index(finding().resource.arn, add={problem.key})
    TicketSink(system, ledger, clock=lambda: 10_000.0).publish([outcome()], NOW)
    assert list(jira_server.issues) == ["SEC-1"]
    assert ledger.get(problem.key).state == OPEN and ledger.get(problem.key).ticket_id == "SEC-1"


def test_a_fresh_claim_of_another_delivery_is_waited_for_then_joined(ledger, jira_server):
    problem = Problem.for_finding(finding())
    ledger.claim(Entry(problem.key, CLAIMED, 1, problem, claimed_at=100.0))
    waits = []
    sink = TicketSink(tickets(jira_server), ledger, clock=lambda: 101.0, sleep=waits.append, claim_wait_seconds=1.0)
    with pytest.raises(PublishError, match="another delivery has been creating"):
        sink.publish([outcome("fleet-b")], NOW)
    assert sum(waits) == pytest.approx(1.0) and jira_server.issues == {}


def _race(n, target):
    barrier = threading.Barrier(n)
    errors = []

    def run(i):
        try:
            barrier.wait()
            target(i)
        except Exception as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return errors


def test_concurrent_deliveries_of_one_event_make_one_ticket(ledger, jira_server):
    system = tickets(jira_server)

    def deliver(_):
        TicketSink(system, ledger, claim_poll_seconds=0.02).publish([outcome()], NOW)

    assert _race(8, deliver) == []
    assert list(jira_server.issues) == ["SEC-1"]
    assert len([r for r in jira_server.requests if r.method == "POST" and r.route == "/rest/api/3/issue"]) == 1
    assert jira_server.comment_texts("SEC-1") == []  # identical re-deliveries post nothing


def test_two_fleets_sharing_a_role_evaluated_at_once_make_one_ticket_listing_both(ledger, jira_server):
    system = tickets(jira_server)
    names = ["fleet-a", "fleet-b"]

    def deliver(i):
        TicketSink(system, ledger, claim_poll_seconds=0.02).publish([outcome(names[i])], NOW)

    assert _race(2, deliver) == []
    assert list(jira_server.issues) == ["SEC-1"]
    entry = ledger.get(problem_key(finding()))
    assert [a.name for a in entry.problem.resources] == names and entry.in_sync
    text = jira_server.description_text("SEC-1")
    assert "fleet fleet-a" in text and "fleet fleet-b" in text


def test_ledger_errors_surface_as_publish_errors(moto_inprocess, jira_server):
    sink = TicketSink(tickets(jira_server), Ledger(moto_inprocess("dynamodb"), "missing-table"))
    with pytest.raises(PublishError, match="ResourceNotFoundException"):
        sink.publish([outcome()], NOW)
    assert isinstance(LedgerError("x"), TicketError) and jira_server.issues == {}


def test_one_batch_of_fifty_fleets_on_one_role_opens_one_ticket_without_comments(ledger, jira_server):
    """A sweep chunk publishes many outcomes at once: the problem is synced to its ticket once, at the end."""
    sink = TicketSink(tickets(jira_server), ledger)
    report = sink.publish([outcome(f"fleet-{i:02d}") for i in range(50)], NOW)
    assert list(jira_server.issues) == ["SEC-1"] and jira_server.comment_texts("SEC-1") == []
    assert report.imported == 1 and len(ledger.get(problem_key(finding())).problem.resources) == 50
    assert jira_server.description_text("SEC-1").count(" in us-east-1 (arn:") == 50
    # the next batch: half pass, half still fail -> one update with one comment listing what changed
    sink.publish([outcome(f"fleet-{i:02d}", Status.PASSED if i % 2 else Status.FAILED) for i in range(50)], NOW)
    (comment,) = jira_server.comment_texts("SEC-1")
    assert comment.count("No longer affects") == 25
    # the last ones pass: resolved, the resource index forgets the problem
    sink.publish([outcome(f"fleet-{i:02d}", Status.PASSED) for i in range(0, 50, 2)], NOW)
    assert jira_server.issues["SEC-1"]["status"] == {"name": "Done"}
    assert ledger.problems_of(finding("fleet-00").resource.arn) == set()


def test_a_problem_claimed_and_left_in_one_batch_opens_nothing(ledger, jira_server):
    sink = TicketSink(tickets(jira_server), ledger)
    sink.publish([outcome("fleet-a"), outcome("fleet-a", Status.PASSED)], NOW)
    assert jira_server.issues == {} and ledger.get(problem_key(finding())) is None
