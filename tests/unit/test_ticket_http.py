"""The ticket HTTP client: timeouts, bounded retries honouring Retry-After within the deadline, clear errors,
nothing secret in logs. urllib3's pool is replaced by a scripted one (no network); the integration tests run
the same client against the local Jira / ServiceNow servers over a socket."""

import logging
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import urllib3

from roleguard.tickets.base import TicketApiError
from roleguard.tickets.http import HttpClient, create_once_or_find, parse_retry_after

pytestmark = pytest.mark.unit

SECRET_HEADER = "Basic cm9sZWd1YXJkOnMzY3IzdC10b2tlbg=="


class Clock:
    def __init__(self):
        self.t = 1000.0
        self.sleeps = []

    def now(self):
        return self.t

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.t += seconds


class Raw:
    def __init__(self, status, headers=None, data=b""):
        self.status, self.headers, self.data = status, headers or {}, data


class ScriptedPool:
    """Answers urllib3 requests from a script; each entry a Raw or an exception."""

    def __init__(self, *script, clock=None, takes=0.0):
        self.script = list(script)
        self.calls = []
        self.clock, self.takes = clock, takes

    def request(self, method, url, body=None, headers=None, timeout=None, retries=None, redirect=None):
        self.calls.append({"method": method, "url": url, "headers": headers, "timeout": timeout, "body": body,
                           "retries": retries})
        if self.clock:
            self.clock.t += self.takes
        answer = self.script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(pool, clock, **kw):
    http = HttpClient("jira-cloud", "https://example.atlassian.net/", lambda: SECRET_HEADER, sleep=clock.sleep,
                      clock=clock.now, jitter=lambda: 1.0, **kw)
    http._pool = pool
    return http


def test_429_then_200_waits_what_retry_after_says_once():
    clock = Clock()
    pool = ScriptedPool(Raw(429, {"Retry-After": "2"}, b'{"errorMessages":["Rate limit exceeded."]}'),
                        Raw(201, {}, b'{"key":"SEC-1"}'))
    response = client(pool, clock).request("POST", "/rest/api/3/issue", body={"fields": {}})
    assert response.status == 201 and response.json() == {"key": "SEC-1"}
    assert clock.sleeps == [2.0] and len(pool.calls) == 2
    assert all(c["retries"] is False for c in pool.calls)  # urllib3 never retries on its own


def test_retry_after_is_capped_and_may_be_an_http_date():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) == 0.0  # in the past
    assert parse_retry_after("soon", now) is None
    clock = Clock()
    pool = ScriptedPool(Raw(503, {"Retry-After": "3600"}), Raw(200, {}, b"{}"))
    client(pool, clock, max_retry_after=20.0, budget_seconds=100.0).get("/rest/api/3/myself")
    assert clock.sleeps == [20.0]


def test_5xx_is_retried_a_bounded_number_of_times_then_raised():
    clock = Clock()
    pool = ScriptedPool(*[Raw(500, {}, b'{"error":{"message":"Internal Server Error","detail":null}}')] * 3)
    with pytest.raises(TicketApiError) as caught:
        client(pool, clock).get("/api/now/table/incident")
    assert len(pool.calls) == 3 and len(clock.sleeps) == 2
    assert clock.sleeps == sorted(clock.sleeps) and max(clock.sleeps) <= 8.0  # exponential, capped
    err = caught.value
    assert err.status == 500 and err.retryable and "Internal Server Error" in str(err)


def test_4xx_is_not_retried_and_carries_the_systems_own_message_and_fields():
    clock = Clock()
    body = (b'{"errorMessages":[],"errors":{"description":"Operation value must be an Atlassian Document '
            b'(see the Atlassian Document Format)"}}')
    pool = ScriptedPool(Raw(400, {}, body))
    with pytest.raises(TicketApiError) as caught:
        client(pool, clock).request("POST", "/rest/api/3/issue", body={})
    err = caught.value
    assert len(pool.calls) == 1 and clock.sleeps == []
    assert err.status == 400 and not err.retryable
    assert err.fields == ("description",)  # branch on the field, not the (localised) text (B22)
    assert "description: Operation value must be an Atlassian Document" in str(err)


def test_servicenow_error_body_and_plain_text_bodies_are_reported():
    clock = Clock()
    pool = ScriptedPool(Raw(403, {}, b'{"error":{"message":"Operation Failed","detail":"Data Policy Exception: '
                                     b'The following fields are mandatory: Resolution code"},"status":"failure"}'),
                        Raw(401, {}, b"Client must be authenticated to access this resource."))
    http = client(pool, clock)
    with pytest.raises(TicketApiError, match="Operation Failed; Data Policy Exception"):
        http.request("PATCH", "/api/now/table/incident/x", body={"state": "6"})
    with pytest.raises(TicketApiError, match="401: Client must be authenticated"):
        http.get("/rest/api/3/myself")


def test_a_wait_that_would_pass_the_deadline_is_not_waited():
    clock = Clock()
    pool = ScriptedPool(Raw(429, {"Retry-After": "10"}), Raw(200))
    http = client(pool, clock, deadline=lambda: clock.t + 5.0)
    with pytest.raises(TicketApiError, match="would pass the time budget") as caught:
        http.get("/rest/api/3/myself")
    assert clock.sleeps == [] and len(pool.calls) == 1 and caught.value.retryable


def test_no_attempt_starts_after_the_deadline_and_timeouts_shrink_to_the_time_left():
    clock = Clock()
    http = client(ScriptedPool(), clock, deadline=lambda: clock.t + 0.5)
    with pytest.raises(TicketApiError, match="time budget is used up"):
        http.get("/x")
    pool = ScriptedPool(Raw(200))
    client(pool, clock, deadline=lambda: clock.t + 3.0).get("/x")
    timeout = pool.calls[0]["timeout"]
    assert isinstance(timeout, urllib3.Timeout)
    assert timeout.connect_timeout == 3.0 and timeout.read_timeout == 3.0
    pool = ScriptedPool(Raw(200))
    client(pool, clock).get("/x")
    assert (pool.calls[0]["timeout"].connect_timeout, pool.calls[0]["timeout"].read_timeout) == (5.0, 15.0)


def test_an_ambiguous_failure_of_a_create_is_looked_up_before_creating_again():
    clock = Clock()
    pool = ScriptedPool(Raw(502, {}, b"bad gateway"))
    http = client(pool, clock)
    found = []

    def create():
        return http.request("POST", "/rest/api/3/issue", body={}, idempotent=False).json()

    result = create_once_or_find(http, create, lambda: found.append(1) or "SEC-7")
    assert result == "SEC-7" and len(pool.calls) == 1 and found == [1]  # it existed: no second POST

    pool2 = ScriptedPool(urllib3.exceptions.ReadTimeoutError(None, "/", "read timed out"), Raw(201, {}, b'{"key":"SEC-8"}'))
    http2 = client(pool2, clock)
    result = create_once_or_find(http2, lambda: http2.request("POST", "/i", body={}, idempotent=False).json(),
                                 lambda: None)
    assert result == {"key": "SEC-8"} and len(pool2.calls) == 2  # not there: created once more


def test_refusals_and_connect_failures_of_a_create_are_retried_directly():
    clock = Clock()
    pool = ScriptedPool(urllib3.exceptions.NewConnectionError(None, "refused"), Raw(429, {"Retry-After": "1"}),
                        Raw(201, {}, b'{"key":"SEC-1"}'))
    response = client(pool, clock).request("POST", "/rest/api/3/issue", body={}, idempotent=False)
    assert response.json() == {"key": "SEC-1"} and len(pool.calls) == 3


def test_logs_and_errors_never_carry_the_authorization_header_or_bodies(caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="roleguard.tickets.http")  # whatever level "roleguard" was left at
    clock = Clock()
    pool = ScriptedPool(Raw(500), Raw(200, {}, b'{"ok":true}'), Raw(404, {}, b'{"errorMessages":["Issue does not exist"]}'))
    http = client(pool, clock)
    http.request("PUT", "/rest/api/3/issue/SEC-1", body={"fields": {"summary": "private-body-text"}})
    with pytest.raises(TicketApiError) as caught:
        http.get("/rest/api/3/issue/SEC-9", {"fields": "status"})
    assert pool.calls[0]["headers"]["Authorization"] == SECRET_HEADER  # it is sent ...
    logged = caplog.text + str(caught.value) + repr(http)
    assert SECRET_HEADER not in logged and "cm9sZWd1YXJk" not in logged  # ... and never shown
    assert "private-body-text" not in logged and "fields=status" not in logged
    assert "PUT /rest/api/3/issue/SEC-1 -> 200" in caplog.text


def test_base_url_must_be_a_plain_base_url():
    for bad in ("ftp://x", "https://", "https://x/?q=1", "x.atlassian.net"):
        with pytest.raises(ValueError):
            HttpClient("jira", bad, lambda: "")
    assert HttpClient("jira", "https://x.example/jira/", lambda: "").base_url == "https://x.example/jira"


def test_the_invocation_deadline_comes_from_the_lambda_context():
    import time

    from roleguard.config import Settings
    from roleguard.root import Services

    class Context:
        def get_remaining_time_in_millis(self):
            return 30_000

    services = Services(Settings(), lambda *_: None)
    before = time.monotonic()
    services.start_invocation(Context())
    assert before + 30 - services.DEADLINE_MARGIN_SECONDS <= services.deadline <= time.monotonic() + 25
    services.start_invocation(object())  # no remaining time known (CLI, tests): no deadline
    assert services.deadline is None
