"""The ticket-system doubles keep the documented contracts.

Jira and ServiceNow are exercised as HTTP servers through urllib3 over a real
socket; the OpsCenter fake through a real boto3 ``ssm`` client. Each rule the
doubles claim has a test here that fails if the rule is dropped.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import urllib.parse

import boto3
import botocore.exceptions
import pytest
import urllib3

from tests.doubles.botocore_model import UnimplementedOperation
from tests.doubles.opscenter_fake import OpsCenterFake
from tests.doubles.ticket_servers import JiraServer, ServiceNowServer, adf_text

pytestmark = pytest.mark.integration

ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/FleetRoleA"
FLEET_ARN = f"arn:aws:appstream:us-east-1:{ACCOUNT}:fleet/fleet-a"

# Case B22 (/work/shared/cases/B22.json): the v3 request with a plain-text description...
B22_FIELDS = {
    "project": {"key": "SEC"},
    "issuetype": {"name": "Task"},
    "summary": "AppStream fleet fleet-a: IAM role trust policy does not allow appstream.amazonaws.com",
    "description": (
        "Role arn:aws:iam::111122223333:role/FleetRoleA attached to fleet fleet-a is not assumable by "
        "appstream.amazonaws.com.\nFix: add appstream.amazonaws.com to the trust policy."
    ),
}
# ... Jira's answer to it ...
B22_RESPONSE = {
    "errorMessages": [],
    "errors": {"description": "Operation value must be an Atlassian Document (see the Atlassian Document Format)"},
}
# ... and the description that works.
B22_V3_DESCRIPTION = {
    "type": "doc",
    "version": 1,
    "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": (
            "Role arn:aws:iam::111122223333:role/FleetRoleA attached to fleet fleet-a is not assumable by "
            "appstream.amazonaws.com."
        )}]},
        {"type": "paragraph", "content": [{"type": "text", "text": "Fix: add appstream.amazonaws.com to the trust policy."}]},
    ],
}
# Case B23 (/work/shared/cases/B23.json).
B23_TITLE = (
    "AppStream fleet fleet-a in eu-west-1: attached IAM role FleetRoleA trust policy does not allow "
    "appstream.amazonaws.com sts:AssumeRole"
)
B23_DEDUP_HASH = "f0612cbe18a5cb0656de3835738431c4"


def adf(*paragraphs: str) -> dict:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": p}]} for p in paragraphs],
    }


# ======================================================================
# HTTP plumbing
# ======================================================================


class Response:
    def __init__(self, raw: urllib3.BaseHTTPResponse):
        self.status = raw.status
        self.headers = raw.headers
        self.text = raw.data.decode()
        try:
            self.json = json.loads(self.text) if self.text else None
        except ValueError:
            self.json = None


@pytest.fixture(scope="module")
def http():
    pool = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=2, read=5))
    yield pool
    pool.clear()


def call(http, server, method, path, body=None, *, auth=True, headers=None, fields=None, raw_body=None):
    sent = dict(server.auth_header()) if auth else {}
    if body is not None or raw_body is not None:
        sent["Content-Type"] = "application/json"
    sent.update(headers or {})
    payload = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    if fields:
        path = f"{path}?{urllib.parse.urlencode(fields)}"
    return Response(http.request(method, server.url + path, body=payload, headers=sent))


@pytest.fixture
def jira():
    with JiraServer() as server:
        yield server


@pytest.fixture
def jira_dc():
    with JiraServer("datacenter") as server:
        yield server


@pytest.fixture
def snow():
    with ServiceNowServer() as server:
        yield server


def create(http, jira, **fields):
    base = {"project": {"key": "SEC"}, "issuetype": {"name": "Task"}, "summary": "A problem"}
    if jira.cloud:
        base["description"] = adf("details")
    else:
        base["description"] = "details"
    base.update(fields)
    return call(http, jira, "POST", f"{jira.api}/issue", {"fields": {k: v for k, v in base.items() if v is not None}})


# ======================================================================
# Jira Cloud (REST v3)
# ======================================================================


def test_jira_create_returns_201_with_sequential_keys_and_stores_the_issue(http, jira):
    first = create(http, jira, labels=["roleguard-abc"], priority={"name": "High"})
    second = create(http, jira)
    assert first.status == 201 and second.status == 201
    assert first.json["key"] == "SEC-1" and second.json["key"] == "SEC-2"
    assert first.json["self"] == f"{jira.url}/rest/api/3/issue/{first.json['id']}"
    issue = jira.issues["SEC-1"]
    assert issue["summary"] == "A problem"
    assert issue["description"] == adf("details")
    assert issue["labels"] == ["roleguard-abc"]
    assert issue["priority"] == {"name": "High"}
    assert issue["status"] == {"name": "To Do"}
    assert issue["comments"] == []


def test_jira_cloud_rejects_a_plain_text_description_as_in_case_b22(http, jira):
    response = call(http, jira, "POST", "/rest/api/3/issue", {"fields": B22_FIELDS})
    assert response.status == 400
    assert response.json == B22_RESPONSE
    assert jira.issues == {}


def test_jira_cloud_accepts_the_adf_description_of_case_b22(http, jira):
    response = call(http, jira, "POST", "/rest/api/3/issue", {"fields": {**B22_FIELDS, "description": B22_V3_DESCRIPTION}})
    assert response.status == 201
    assert jira.description_text(response.json["key"]) == B22_FIELDS["description"]


@pytest.mark.parametrize(
    "description",
    [
        {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": ""}]}]},
        {"type": "doc", "version": 1, "content": [{"type": "script", "content": []}]},
        {"type": "doc", "version": 2, "content": []},
        {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
            {"type": "text", "text": "x", "marks": [{"type": "link"}]}]}]},
    ],
    ids=["empty-text-node", "unknown-node", "wrong-version", "link-without-href"],
)
def test_jira_cloud_rejects_a_malformed_adf_document(http, jira, description):
    response = create(http, jira, description=description)
    assert response.status == 400
    assert response.json["errorMessages"][0].startswith("We can't create this issue for you right now")
    assert jira.issues == {}


@pytest.mark.parametrize(
    "fields, field_name, message",
    [
        ({"project": None}, "project", "Specify a valid project ID or key"),
        ({"project": {"key": "NOPE"}}, "project", "Specify a valid project ID or key"),
        ({"issuetype": None}, "issuetype", "Specify an issue type"),
        ({"issuetype": {"name": "Epic"}}, "issuetype", "The issue type selected is invalid."),
        ({"summary": None}, "summary", "You must specify a summary of the issue."),
        ({"summary": "two\nlines"}, "summary", "The summary is invalid because it contains newline characters."),
        ({"summary": "x" * 256}, "summary", "Summary can't exceed 255 characters."),
        ({"summary": 42}, "summary", "Operation value must be a string"),
        ({"priority": {"name": "Blocker"}}, "priority", "The priority selected is invalid."),
        ({"labels": ["has space"]}, "labels", "The label 'has space' can't contain spaces."),
        ({"customfield_10010": "x"}, "customfield_10010",
         "Field 'customfield_10010' cannot be set. It is not on the appropriate screen, or unknown."),
        ({"assignee": {"id": "me"}}, "assignee",
         "Field 'assignee' cannot be set. It is not on the appropriate screen, or unknown."),
    ],
)
def test_jira_create_validates_fields_like_jira(http, jira, fields, field_name, message):
    response = create(http, jira, **fields)
    assert response.status == 400
    assert response.json["errors"][field_name] == message
    assert jira.issues == {}


def test_jira_summary_of_exactly_255_characters_and_a_priority_by_id_are_accepted(http, jira):
    response = create(http, jira, summary="x" * 255, priority={"id": "1"})
    assert response.status == 201
    assert jira.issues["SEC-1"]["priority"] == {"name": "Highest"}


def test_jira_cloud_authentication(http, jira):
    fields = {"fields": {**B22_FIELDS, "description": B22_V3_DESCRIPTION}}
    missing = call(http, jira, "POST", "/rest/api/3/issue", fields, auth=False)
    assert missing.status == 401
    assert missing.text == "Client must be authenticated to access this resource."
    wrong = base64.b64encode(f"{jira.user}:wrong".encode()).decode()
    bad = call(http, jira, "POST", "/rest/api/3/issue", fields, auth=False, headers={"Authorization": f"Basic {wrong}"})
    assert bad.status == 401 and bad.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    bearer = call(http, jira, "GET", "/rest/api/3/issue/SEC-1", auth=False, headers={"Authorization": f"Bearer {jira.token}"})
    assert bearer.status == 401
    assert jira.issues == {}


def test_jira_needs_a_json_content_type_and_a_json_body(http, jira):
    body = json.dumps({"fields": {**B22_FIELDS, "description": B22_V3_DESCRIPTION}})
    form = call(http, jira, "POST", "/rest/api/3/issue", raw_body=body, headers={"Content-Type": "text/plain"})
    assert form.status == 415
    broken = call(http, jira, "POST", "/rest/api/3/issue", raw_body="{not json")
    assert broken.status == 400 and broken.json["errorMessages"]
    assert jira.issues == {}


def test_jira_get_issue_returns_fields_and_honours_the_fields_parameter(http, jira):
    key = create(http, jira, labels=["a"]).json["key"]
    full = call(http, jira, "GET", f"/rest/api/3/issue/{key}")
    assert full.status == 200
    assert full.json["key"] == key
    assert full.json["fields"]["status"]["name"] == "To Do"
    assert full.json["fields"]["status"]["statusCategory"]["key"] == "new"
    assert full.json["fields"]["description"] == adf("details")
    some = call(http, jira, "GET", f"/rest/api/3/issue/{key}", fields={"fields": "labels,status"})
    assert set(some.json["fields"]) == {"labels", "status"}
    by_id = call(http, jira, "GET", f"/rest/api/3/issue/{full.json['id']}")
    assert by_id.json["key"] == key
    missing = call(http, jira, "GET", "/rest/api/3/issue/SEC-999")
    assert missing.status == 404
    assert missing.json == {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}


def test_jira_edit_sets_fields_and_applies_label_operations(http, jira):
    key = create(http, jira, labels=["keep", "drop"]).json["key"]
    response = call(http, jira, "PUT", f"/rest/api/3/issue/{key}", {
        "fields": {"summary": "New summary", "description": adf("new details"), "priority": {"name": "Low"}},
        "update": {"labels": [{"add": "added"}, {"remove": "drop"}]},
    })
    assert response.status == 204 and response.text == ""
    issue = jira.issues[key]
    assert issue["summary"] == "New summary"
    assert issue["description"] == adf("new details")
    assert issue["priority"] == {"name": "Low"}
    assert issue["labels"] == ["keep", "added"]


@pytest.mark.parametrize(
    "body, field_name",
    [
        ({"fields": {"summary": "a\r\nb"}}, "summary"),
        ({"fields": {"description": "plain"}}, "description"),
        ({"fields": {"project": {"key": "SEC"}}}, "project"),
        ({"update": {"labels": [{"add": "with space"}]}}, "labels"),
        ({"update": {"customfield_1": [{"set": "x"}]}}, "customfield_1"),
    ],
)
def test_jira_edit_validates_like_create_and_changes_nothing_on_error(http, jira, body, field_name):
    key = create(http, jira, labels=["keep"]).json["key"]
    before = json.loads(json.dumps(jira.issues[key]))
    response = call(http, jira, "PUT", f"/rest/api/3/issue/{key}", body)
    assert response.status == 400
    assert field_name in response.json["errors"]
    assert jira.issues[key] == before


def test_jira_edit_of_an_unknown_issue_is_404(http, jira):
    assert call(http, jira, "PUT", "/rest/api/3/issue/SEC-7", {"fields": {"summary": "x"}}).status == 404


def test_jira_cloud_comments_must_be_adf(http, jira):
    key = create(http, jira).json["key"]
    ok = call(http, jira, "POST", f"/rest/api/3/issue/{key}/comment", {"body": adf("Fixed: trust policy updated.")})
    assert ok.status == 201
    assert ok.json["body"] == adf("Fixed: trust policy updated.")
    assert ok.json["id"] and ok.json["author"]["emailAddress"] == jira.user
    plain = call(http, jira, "POST", f"/rest/api/3/issue/{key}/comment", {"body": "plain text"})
    assert plain.status == 400
    assert plain.json == {"errorMessages": [], "errors": {"comment": "Comment body is not valid!"}}
    empty = call(http, jira, "POST", f"/rest/api/3/issue/{key}/comment", {})
    assert empty.status == 400
    listed = call(http, jira, "GET", f"/rest/api/3/issue/{key}/comment")
    assert listed.json["total"] == 1
    assert [c["body"] for c in listed.json["comments"]] == [adf("Fixed: trust policy updated.")]
    assert jira.comment_texts(key) == ["Fixed: trust policy updated."]


def test_jira_edit_may_add_a_comment_through_update(http, jira):
    key = create(http, jira).json["key"]
    response = call(http, jira, "PUT", f"/rest/api/3/issue/{key}", {"update": {"comment": [{"add": {"body": adf("new detail")}}]}})
    assert response.status == 204
    assert jira.comment_texts(key) == ["new detail"]
    rejected = call(http, jira, "PUT", f"/rest/api/3/issue/{key}", {"update": {"comment": [{"add": {"body": "plain"}}]}})
    assert rejected.status == 400
    assert jira.comment_texts(key) == ["new detail"]


def test_jira_transitions_follow_the_workflow(http, jira):
    key = create(http, jira).json["key"]
    listed = call(http, jira, "GET", f"/rest/api/3/issue/{key}/transitions")
    assert listed.status == 200
    assert [(t["id"], t["to"]["name"]) for t in listed.json["transitions"]] == [("21", "In Progress"), ("31", "Done")]
    done = call(http, jira, "POST", f"/rest/api/3/issue/{key}/transitions", {
        "transition": {"id": "31"},
        "update": {"comment": [{"add": {"body": adf("Resolved: role fixed.")}}]},
    })
    assert done.status == 204
    assert jira.issues[key]["status"] == {"name": "Done"}
    assert jira.issues[key]["resolution"] == {"name": "Done"}
    assert jira.comment_texts(key) == ["Resolved: role fixed."]
    assert [t["id"] for t in call(http, jira, "GET", f"/rest/api/3/issue/{key}/transitions").json["transitions"]] == ["11", "21"]
    again = call(http, jira, "POST", f"/rest/api/3/issue/{key}/transitions", {"transition": {"id": "31"}})
    assert again.status == 400
    assert again.json["errorMessages"] == ["Transition id '31' is not valid for this issue."]
    unknown = call(http, jira, "POST", f"/rest/api/3/issue/{key}/transitions", {"transition": {"id": "99"}})
    assert unknown.status == 400
    missing = call(http, jira, "POST", f"/rest/api/3/issue/{key}/transitions", {})
    assert missing.status == 400
    reopened = call(http, jira, "POST", f"/rest/api/3/issue/{key}/transitions", {"transition": {"id": "11"}})
    assert reopened.status == 204
    assert jira.issues[key]["status"] == {"name": "To Do"} and jira.issues[key]["resolution"] is None
    assert jira.issues[key]["history"] == [("To Do", "Done"), ("Done", "To Do")]


def test_jira_transition_with_a_plain_text_comment_moves_nothing(http, jira):
    key = create(http, jira).json["key"]
    response = call(http, jira, "POST", f"/rest/api/3/issue/{key}/transitions", {
        "transition": {"id": "31"}, "update": {"comment": [{"add": {"body": "plain"}}]},
    })
    assert response.status == 400
    assert jira.issues[key]["status"] == {"name": "To Do"}


def search(http, jira, jql, **params):
    return call(http, jira, "GET", "/rest/api/3/search/jql", fields={"jql": jql, **params})


def test_jira_search_finds_an_issue_by_a_unique_label(http, jira):
    create(http, jira, labels=["rg-1111"])
    create(http, jira, labels=["rg-2222", "other"])
    found = search(http, jira, 'project = SEC AND labels = "rg-2222"', fields="summary,labels")
    assert found.status == 200
    assert [i["key"] for i in found.json["issues"]] == ["SEC-2"]
    assert found.json["issues"][0]["fields"]["labels"] == ["rg-2222", "other"]
    assert found.json["isLast"] is True and "nextPageToken" not in found.json
    bare = search(http, jira, 'labels = "rg-1111"')
    assert [i["key"] for i in bare.json["issues"]] == ["SEC-1"]
    assert "fields" not in bare.json["issues"][0]  # the enhanced search returns ids unless fields are asked for
    assert search(http, jira, 'labels = "rg-9999"').json["issues"] == []


def test_jira_search_excludes_done_issues_with_status_category(http, jira):
    key = create(http, jira, labels=["rg-x"]).json["key"]
    jql = 'project = SEC AND labels = "rg-x" AND statusCategory != Done'
    assert [i["key"] for i in search(http, jira, jql).json["issues"]] == [key]
    jira.set_status(key, "Done")
    assert search(http, jira, jql).json["issues"] == []
    assert [i["key"] for i in search(http, jira, 'labels = "rg-x" AND statusCategory = "Done"').json["issues"]] == [key]


def test_jira_search_pages_with_next_page_token(http):
    with JiraServer(max_page_size=2) as jira:
        for _ in range(5):
            create(http, jira, labels=["rg-page"])
        keys, token, pages = [], None, 0
        while True:
            params = {"maxResults": "50"}
            if token:
                params["nextPageToken"] = token
            page = search(http, jira, 'labels = "rg-page"', **params).json
            pages += 1
            keys += [issue["key"] for issue in page["issues"]]
            assert len(page["issues"]) <= 2
            if page["isLast"]:
                assert "nextPageToken" not in page
                break
            token = page["nextPageToken"]
        assert pages == 3
        assert keys == [f"SEC-{n}" for n in range(1, 6)]
        foreign = search(http, jira, 'labels = "other"', nextPageToken=token)
        assert foreign.status == 400


def test_jira_search_by_post_and_its_body_rules(http, jira):
    create(http, jira, labels=["rg-post"])
    found = call(http, jira, "POST", "/rest/api/3/search/jql", {"jql": 'labels = "rg-post"', "fields": ["status"], "maxResults": 10})
    assert found.status == 200
    assert found.json["issues"][0]["fields"]["status"]["name"] == "To Do"
    legacy = call(http, jira, "POST", "/rest/api/3/search/jql", {"jql": 'labels = "rg-post"', "startAt": 0})
    assert legacy.status == 400 and "startAt" in legacy.json["errorMessages"][0]


@pytest.mark.parametrize(
    "jql",
    [
        'labels = "a" OR labels = "b"',
        'labels in ("a", "b")',
        'summary ~ "role"',
        'assignee = currentUser()',
        'labels != "a"',
        '(labels = "a")',
        'labels = "a" AND',
        'labels = "a" ORDER BY priority',
        "",
    ],
)
def test_jira_search_answers_400_for_jql_outside_the_supported_subset(http, jira, jql):
    response = search(http, jira, jql)
    assert response.status == 400
    assert response.json["errorMessages"]


def test_jira_search_unknown_project_is_an_error_not_an_empty_result(http, jira):
    response = search(http, jira, 'project = NOPE AND labels = "x"')
    assert response.status == 400
    assert response.json["errorMessages"] == ["The value 'NOPE' does not exist for the field 'project'."]


def test_jira_search_order_by(http, jira):
    for _ in range(3):
        create(http, jira, labels=["rg-o"])
    keys = [i["key"] for i in search(http, jira, 'labels = "rg-o" ORDER BY key DESC').json["issues"]]
    assert keys == ["SEC-3", "SEC-2", "SEC-1"]


@pytest.mark.parametrize("path", ["/rest/api/3/search", "/rest/api/2/search"])
def test_jira_cloud_removed_search_endpoints_answer_410(http, jira, path):
    response = call(http, jira, "GET", path, fields={"jql": 'labels = "x"'})
    assert response.status == 410
    assert response.json["errorMessages"][0].startswith("The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.")


def test_jira_cloud_does_not_serve_v2(http, jira):
    response = call(http, jira, "POST", "/rest/api/2/issue", {"fields": {**B22_FIELDS}})
    assert response.status == 404
    assert jira.issues == {}


def test_jira_fail_next_429_with_retry_after_then_success(http, jira):
    jira.fail_next(429, retry_after=3)
    throttled = create(http, jira)
    assert throttled.status == 429
    assert throttled.headers["Retry-After"] == "3"
    assert throttled.json == {"errorMessages": ["Rate limit exceeded."], "errors": {}}
    assert jira.issues == {}
    assert create(http, jira).status == 201
    assert list(jira.issues) == ["SEC-1"]


def test_jira_fail_next_times_path_prefix_and_body(http, jira):
    key = create(http, jira).json["key"]
    jira.fail_next(503, times=2, path_prefix="/rest/api/3/search")
    jira.fail_next(500, body={"errorMessages": ["custom"], "errors": {}})
    assert call(http, jira, "GET", f"/rest/api/3/issue/{key}").json == {"errorMessages": ["custom"], "errors": {}}
    assert call(http, jira, "GET", f"/rest/api/3/issue/{key}").status == 200
    assert search(http, jira, 'labels = "x"').status == 503
    second = search(http, jira, 'labels = "x"')
    assert second.status == 503 and second.json == {"errorMessages": ["Service Unavailable"], "errors": {}}
    assert search(http, jira, 'labels = "x"').status == 200
    with pytest.raises(ValueError):
        jira.fail_next(500, times=0)


def test_jira_default_5xx_body(http, jira):
    jira.fail_next(502)
    response = create(http, jira)
    assert response.status == 502
    assert response.json == {"errorMessages": ["Internal server error"], "errors": {}}


def test_jira_records_every_request(http, jira):
    create(http, jira, labels=["rg-r"])
    search(http, jira, 'labels = "rg-r"')
    method, path, body, headers = jira.requests[0]
    assert (method, path) == ("POST", "/rest/api/3/issue")
    assert body["fields"]["labels"] == ["rg-r"]
    assert headers["content-type"] == "application/json"
    assert headers["AUTHORIZATION"].startswith("Basic ")
    search_request = jira.requests[1]
    assert search_request.route == "/rest/api/3/search/jql"
    assert search_request.query["jql"] == 'labels = "rg-r"'
    assert [r.method for r in jira.requests_to(route_prefix="/rest/api/3/issue")] == ["POST"]


def test_jira_server_stops_listening_after_the_block(http):
    with JiraServer() as jira:
        url = jira.url
        assert call(http, jira, "GET", "/rest/api/3/issue/SEC-1").status == 404
    with pytest.raises(urllib3.exceptions.HTTPError):
        urllib3.PoolManager(retries=False, timeout=1).request("GET", url + "/rest/api/3/issue/SEC-1")


# ======================================================================
# Jira Data Center / Server (REST v2)
# ======================================================================


def test_jira_dc_uses_a_bearer_pat_and_refuses_basic(http, jira_dc):
    assert create(http, jira_dc).status == 201
    basic = base64.b64encode(f"{jira_dc.user}:{jira_dc.token}".encode()).decode()
    refused = call(http, jira_dc, "GET", "/rest/api/2/issue/SEC-1", auth=False, headers={"Authorization": f"Basic {basic}"})
    assert refused.status == 401
    assert refused.json["errorMessages"] == ["You are not authenticated. Authentication required to perform this operation."]
    wrong = call(http, jira_dc, "GET", "/rest/api/2/issue/SEC-1", auth=False, headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401


def test_jira_dc_description_and_comments_are_plain_text(http, jira_dc):
    response = create(http, jira_dc, description=B22_FIELDS["description"])
    assert response.status == 201
    assert jira_dc.issues["SEC-1"]["description"] == B22_FIELDS["description"]
    as_adf = create(http, jira_dc, description=B22_V3_DESCRIPTION)
    assert as_adf.status == 400
    assert as_adf.json["errors"]["description"] == "Operation value must be a string"
    comment = call(http, jira_dc, "POST", "/rest/api/2/issue/SEC-1/comment", {"body": "Fixed."})
    assert comment.status == 201 and comment.json["body"] == "Fixed."
    adf_comment = call(http, jira_dc, "POST", "/rest/api/2/issue/SEC-1/comment", {"body": adf("Fixed.")})
    assert adf_comment.status == 400
    assert jira_dc.comment_texts("SEC-1") == ["Fixed."]


def test_jira_dc_messages_for_labels_and_summary(http, jira_dc):
    labels = create(http, jira_dc, labels=["a b"])
    assert labels.json["errors"]["labels"] == "The label 'a b' contains spaces which is invalid."
    summary = create(http, jira_dc, summary="x" * 256)
    assert summary.json["errors"]["summary"] == "Summary must be less than 255 characters."


def test_jira_dc_search_pages_with_start_at_and_total(http):
    with JiraServer("datacenter", max_page_size=2) as jira_dc:
        for _ in range(3):
            create(http, jira_dc, labels=["rg-dc"])
        first = call(http, jira_dc, "GET", "/rest/api/2/search", fields={"jql": 'project = SEC AND labels = "rg-dc"'})
        assert first.status == 200
        assert (first.json["startAt"], first.json["maxResults"], first.json["total"]) == (0, 2, 3)
        assert [i["key"] for i in first.json["issues"]] == ["SEC-1", "SEC-2"]
        assert first.json["issues"][0]["fields"]["labels"] == ["rg-dc"]
        second = call(http, jira_dc, "POST", "/rest/api/2/search", {"jql": 'labels = "rg-dc"', "startAt": 2, "maxResults": 2})
        assert [i["key"] for i in second.json["issues"]] == ["SEC-3"]
        assert call(http, jira_dc, "GET", "/rest/api/2/search", fields={"jql": 'labels = "a" OR labels = "b"'}).status == 400


def test_jira_dc_has_no_v3(http, jira_dc):
    assert call(http, jira_dc, "POST", "/rest/api/3/issue", {"fields": B22_FIELDS}).status == 404
    assert call(http, jira_dc, "GET", "/rest/api/3/search/jql", fields={"jql": 'labels = "x"'}).status == 404


def test_jira_dc_transitions(http, jira_dc):
    key = create(http, jira_dc).json["key"]
    assert call(http, jira_dc, "POST", f"/rest/api/2/issue/{key}/transitions", {"transition": {"id": "21"}}).status == 204
    assert jira_dc.issues[key]["status"] == {"name": "In Progress"}


# ======================================================================
# ServiceNow Table API
# ======================================================================


def sn_create(http, snow, table="incident", **fields):
    body = {"short_description": "AppStream role problem", "correlation_id": "rg-0001", **fields}
    return call(http, snow, "POST", f"/api/now/table/{table}", body)


def test_servicenow_create_returns_201_with_the_record(http, snow):
    first = sn_create(http, snow, description="details")
    second = sn_create(http, snow, correlation_id="rg-0002")
    assert first.status == 201 and second.status == 201
    record = first.json["result"]
    assert re.fullmatch(r"[0-9a-f]{32}", record["sys_id"])
    assert record["number"] == "INC0010001" and second.json["result"]["number"] == "INC0010002"
    assert record["state"] == "1" and record["active"] == "true"
    assert record["short_description"] == "AppStream role problem"
    assert record["correlation_id"] == "rg-0001"
    assert all(isinstance(value, str) for value in record.values())
    assert first.headers["Location"] == f"{snow.url}/api/now/table/incident/{record['sys_id']}"
    assert snow.records["incident"][record["sys_id"]]["description"] == "details"


def test_servicenow_authentication(http, snow):
    expected = {"error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"},
                "status": "failure"}
    missing = call(http, snow, "GET", "/api/now/table/incident", auth=False)
    assert missing.status == 401 and missing.json == expected
    wrong = base64.b64encode(b"roleguard:wrong").decode()
    bad = call(http, snow, "POST", "/api/now/table/incident", {"short_description": "x"}, auth=False,
               headers={"Authorization": f"Basic {wrong}"})
    assert bad.status == 401 and bad.json == expected
    assert snow.records["incident"] == {}


def test_servicenow_unknown_table_and_unknown_record(http, snow):
    table = sn_create(http, snow, table="incidentx")
    assert table.status == 400
    assert table.json == {"error": {"message": "Invalid table incidentx", "detail": None}, "status": "failure"}
    missing = call(http, snow, "GET", "/api/now/table/incident/" + "0" * 32)
    assert missing.status == 404
    assert missing.json["error"] == {"message": "No Record found",
                                     "detail": "Record doesn't exist or ACL restricts the record retrieval"}


def test_servicenow_get_one_and_sysparm_fields(http, snow):
    sys_id = sn_create(http, snow).json["result"]["sys_id"]
    one = call(http, snow, "GET", f"/api/now/table/incident/{sys_id}", fields={"sysparm_fields": "number,state"})
    assert one.status == 200 and one.json == {"result": {"number": "INC0010001", "state": "1"}}


def test_servicenow_query_by_correlation_id_and_active(http, snow):
    wanted = sn_create(http, snow, correlation_id="rg-wanted").json["result"]["sys_id"]
    sn_create(http, snow, correlation_id="rg-other")
    closed = snow.seed(correlation_id="rg-wanted", state="7", close_code="Solution provided", close_notes="done")
    snow.records["incident"][closed]["active"] = "false"
    response = call(http, snow, "GET", "/api/now/table/incident",
                    fields={"sysparm_query": "correlation_id=rg-wanted^active=true"})
    assert response.status == 200
    assert [r["sys_id"] for r in response.json["result"]] == [wanted]
    assert response.headers["X-Total-Count"] == "1"
    both = call(http, snow, "GET", "/api/now/table/incident", fields={"sysparm_query": "correlation_id=rg-wanted"})
    assert {r["sys_id"] for r in both.json["result"]} == {wanted, closed}
    none = call(http, snow, "GET", "/api/now/table/incident", fields={"sysparm_query": "correlation_id=rg-nothing"})
    assert none.json == {"result": []}


def test_servicenow_paging_with_limit_offset_and_link_header(http, snow):
    for n in range(5):
        sn_create(http, snow, correlation_id=f"rg-{n}")
    numbers, offset = [], 0
    while True:
        page = call(http, snow, "GET", "/api/now/table/incident",
                    fields={"sysparm_limit": "2", "sysparm_offset": str(offset), "sysparm_query": "ORDERBYnumber"})
        assert page.headers["X-Total-Count"] == "5"
        numbers += [r["number"] for r in page.json["result"]]
        if 'rel="next"' not in page.headers["Link"]:
            break
        offset += 2
    assert numbers == [f"INC00{10001 + n}" for n in range(5)]
    descending = call(http, snow, "GET", "/api/now/table/incident", fields={"sysparm_query": "ORDERBYDESCnumber", "sysparm_limit": "1"})
    assert descending.json["result"][0]["number"] == "INC0010005"


def test_servicenow_patch_updates_and_work_notes_go_to_the_journal(http, snow):
    sys_id = sn_create(http, snow).json["result"]["sys_id"]
    response = call(http, snow, "PATCH", f"/api/now/table/incident/{sys_id}",
                    {"state": "2", "description": "more", "work_notes": "Second fleet fleet-b uses the role."})
    assert response.status == 200
    result = response.json["result"]
    assert (result["state"], result["description"], result["sys_mod_count"]) == ("2", "more", "1")
    assert result["work_notes"] == ""
    call(http, snow, "PATCH", f"/api/now/table/incident/{sys_id}", {"work_notes": "Another note."})
    assert snow.journal[sys_id] == ["Second fleet fleet-b uses the role.", "Another note."]
    missing = call(http, snow, "PATCH", "/api/now/table/incident/" + "f" * 32, {"state": "2"})
    assert missing.status == 404


def test_servicenow_resolving_requires_close_code_and_close_notes(http, snow):
    sys_id = sn_create(http, snow).json["result"]["sys_id"]
    refused = call(http, snow, "PATCH", f"/api/now/table/incident/{sys_id}", {"state": "6", "close_notes": "fixed"})
    assert refused.status == 403
    assert refused.json["error"]["message"] == "Operation Failed"
    assert "Data Policy Exception" in refused.json["error"]["detail"]
    assert "Resolution code" in refused.json["error"]["detail"]
    assert snow.records["incident"][sys_id]["state"] == "1"
    resolved = call(http, snow, "PATCH", f"/api/now/table/incident/{sys_id}",
                    {"state": "6", "close_code": "Solution provided", "close_notes": "Trust policy fixed."})
    assert resolved.status == 200
    assert resolved.json["result"]["state"] == "6"
    assert resolved.json["result"]["active"] == "true"  # a Resolved incident stays active until Closed
    assert resolved.json["result"]["resolved_at"]
    created_resolved = sn_create(http, snow, state="6")
    assert created_resolved.status == 403


def test_servicenow_reopen_close_and_closed_is_read_only(http, snow):
    sys_id = sn_create(http, snow).json["result"]["sys_id"]
    call(http, snow, "PATCH", f"/api/now/table/incident/{sys_id}",
         {"state": "6", "close_code": "Solution provided", "close_notes": "fixed"})
    reopened = call(http, snow, "PATCH", f"/api/now/table/incident/{sys_id}", {"state": "2"})
    assert reopened.status == 200 and reopened.json["result"]["resolved_at"] == ""
    closed = call(http, snow, "PATCH", f"/api/now/table/incident/{sys_id}", {"state": "7"})
    assert closed.status == 200  # close_code/close_notes are still on the record
    assert closed.json["result"]["active"] == "false"
    refused = call(http, snow, "PATCH", f"/api/now/table/incident/{sys_id}", {"state": "2"})
    assert refused.status == 403 and "ACL" in refused.json["error"]["detail"]
    invalid = call(http, snow, "POST", "/api/now/table/incident", {"short_description": "x", "state": "5"})
    assert invalid.status == 400


def test_servicenow_autoclose(http, snow):
    sys_id = snow.seed(short_description="x", state="6", close_code="Solution provided", close_notes="n")
    assert snow.autoclose() == [sys_id]
    assert snow.records["incident"][sys_id]["state"] == "7"
    assert snow.records["incident"][sys_id]["active"] == "false"


def test_servicenow_truncates_long_values_silently(http, snow):
    long_id = "r" * 101
    response = sn_create(http, snow, short_description="s" * 161, correlation_id=long_id)
    assert response.status == 201
    assert len(response.json["result"]["short_description"]) == 160
    assert response.json["result"]["correlation_id"] == long_id[:100]
    lookup = call(http, snow, "GET", "/api/now/table/incident", fields={"sysparm_query": f"correlation_id={long_id}"})
    assert lookup.json["result"] == []


def test_servicenow_ignores_fields_the_table_does_not_have(http, snow):
    response = sn_create(http, snow, u_not_a_field="x")
    assert response.status == 201
    assert "u_not_a_field" not in response.json["result"]
    assert snow.ignored_fields == [("incident", "u_not_a_field")]


def test_servicenow_invalid_query_terms_are_dropped_by_default(http, snow):
    sn_create(http, snow, correlation_id="rg-a")
    sn_create(http, snow, correlation_id="rg-b")
    typo = call(http, snow, "GET", "/api/now/table/incident", fields={"sysparm_query": "correlaton_id=rg-a"})
    assert len(typo.json["result"]) == 2  # ServiceNow ignores the unknown field: every record matches
    with ServiceNowServer(invalid_query_returns_no_rows=True) as strict:
        sn_create(http, strict, correlation_id="rg-a")
        strict_typo = call(http, strict, "GET", "/api/now/table/incident", fields={"sysparm_query": "correlaton_id=rg-a"})
        assert strict_typo.json["result"] == []


def test_servicenow_query_operators_and_unsupported_or(http, snow):
    sn_create(http, snow, correlation_id="rg-a")
    sn_create(http, snow, correlation_id="rg-b")
    sn_create(http, snow, correlation_id="xx-c")

    def ids(query):
        return sorted(r["correlation_id"] for r in call(http, snow, "GET", "/api/now/table/incident",
                                                        fields={"sysparm_query": query}).json["result"])

    assert ids("correlation_idINrg-a,xx-c") == ["rg-a", "xx-c"]
    assert ids("correlation_idSTARTSWITHrg-") == ["rg-a", "rg-b"]
    assert ids("correlation_id!=rg-a^stateIN1,2") == ["rg-b", "xx-c"]
    assert ids("correlation_idLIKEB") == ["rg-b"]
    assert ids("close_codeISEMPTY^correlation_idENDSWITHc") == ["xx-c"]
    unsupported = call(http, snow, "GET", "/api/now/table/incident", fields={"sysparm_query": "correlation_id=rg-a^ORcorrelation_id=rg-b"})
    assert unsupported.status == 400


def test_servicenow_needs_json(http, snow):
    form = call(http, snow, "POST", "/api/now/table/incident", raw_body='{"short_description":"x"}',
                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status == 415
    broken = call(http, snow, "POST", "/api/now/table/incident", raw_body="{broken")
    assert broken.status == 400 and broken.json["status"] == "failure"
    assert snow.records["incident"] == {}


def test_servicenow_fail_next_500_three_times_then_success(http, snow):
    snow.fail_next(500, times=3)
    for _ in range(3):
        failed = sn_create(http, snow)
        assert failed.status == 500
        assert failed.json == {"error": {"message": "Internal Server Error", "detail": None}, "status": "failure"}
    assert snow.records["incident"] == {}
    assert sn_create(http, snow).status == 201
    assert len(snow.requests_to("POST", "/api/now/table/incident")) == 4


def test_servicenow_fail_next_429_with_retry_after(http, snow):
    snow.fail_next(429, retry_after=7, path_prefix="/api/now/table/incident")
    throttled = call(http, snow, "GET", "/api/now/table/incident")
    assert throttled.status == 429 and throttled.headers["Retry-After"] == "7"
    assert throttled.json["error"]["message"] == "Rate limit exceeded"
    assert call(http, snow, "GET", "/api/now/table/incident").status == 200


def test_servicenow_records_requests(http, snow):
    sn_create(http, snow, work_notes="note")
    method, path, body, headers = snow.requests[0]
    assert (method, path) == ("POST", "/api/now/table/incident")
    assert body["work_notes"] == "note"
    assert headers["authorization"] == snow.auth_header()["Authorization"]


def test_servicenow_other_tables_and_versioned_path(http):
    with ServiceNowServer(tables=("incident", "sn_si_incident")) as snow:
        response = call(http, snow, "POST", "/api/now/v2/table/sn_si_incident", {"short_description": "x"})
        assert response.status == 201 and response.json["result"]["number"] == "SIR0010001"
        assert snow.records["incident"] == {}


# ======================================================================
# OpsCenter
# ======================================================================


@pytest.fixture
def ops():
    return OpsCenterFake()


@pytest.fixture
def ssm(ops, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return ops.attach(boto3.client("ssm", region_name="us-east-1"))


def dedup(value: str) -> dict:
    return {"Type": "SearchableString", "Value": json.dumps({"dedupString": value})}


def resources(*arns: str) -> dict:
    return {"Type": "SearchableString", "Value": json.dumps([{"arn": arn} for arn in arns])}


def create_item(ssm, **overrides):
    params = {
        "Title": "AppStream role FleetRoleA: trust policy does not allow appstream.amazonaws.com",
        "Description": "Role FleetRoleA attached to fleet fleet-a is not assumable by AppStream.",
        "Source": "appstream-role-guard",
        "Severity": "2",
        "Category": "Security",
        "OperationalData": {
            "/aws/resources": resources(ROLE_ARN, FLEET_ARN),
            "/aws/dedup": dedup("rg-0123456789abcdef"),
            "roleguard-key": {"Type": "SearchableString", "Value": "0123456789abcdef"},
        },
    }
    params.update(overrides)
    return ssm.create_ops_item(**{k: v for k, v in params.items() if v is not None})


def error_code(raised) -> str:
    return raised.value.response["Error"]["Code"]


def test_opscenter_create_and_get(ssm, ops):
    created = create_item(ssm)
    assert re.fullmatch(r"oi-[0-9a-f]{12}", created["OpsItemId"])
    assert created["OpsItemArn"] == f"arn:aws:ssm:us-east-1:{ACCOUNT}:opsitem/{created['OpsItemId']}"
    item = ssm.get_ops_item(OpsItemId=created["OpsItemId"])["OpsItem"]
    assert item["Status"] == "Open" and item["Severity"] == "2" and item["Category"] == "Security"
    assert item["OpsItemType"] == "/aws/issue"
    assert isinstance(item["CreatedTime"], datetime.datetime)
    assert json.loads(item["OperationalData"]["/aws/resources"]["Value"]) == [{"arn": ROLE_ARN}, {"arn": FLEET_ARN}]
    assert [i["OpsItemId"] for i in ops.items()] == [created["OpsItemId"]]
    assert ops.get(created["OpsItemId"])["Title"] == item["Title"]
    with pytest.raises(ssm.exceptions.OpsItemNotFoundException):
        ssm.get_ops_item(OpsItemId="oi-000000000000")


def test_opscenter_title_limit_is_100_not_the_models_1024(ssm, ops):
    assert create_item(ssm, Title="t" * 100)["OpsItemId"]
    with pytest.raises(ssm.exceptions.OpsItemInvalidParameterException) as raised:
        create_item(ssm, Title=B23_TITLE)  # case B23: 133 characters
    assert raised.value.response["ParameterNames"] == ["Title"]
    with pytest.raises(botocore.exceptions.ClientError) as model:
        create_item(ssm, Title="t" * 1025)
    assert error_code(model) == "ValidationException"
    with pytest.raises(botocore.exceptions.ParamValidationError):
        create_item(ssm, Title="")
    assert len(ops.items()) == 1


def test_opscenter_description_and_priority_follow_the_model(ssm):
    with pytest.raises(botocore.exceptions.ClientError) as long_description:
        create_item(ssm, Description="d" * 2049)
    assert error_code(long_description) == "ValidationException"
    with pytest.raises(botocore.exceptions.ClientError) as priority:
        create_item(ssm, Priority=6)
    assert error_code(priority) == "ValidationException"
    assert create_item(ssm, Description="d" * 2048, Priority=5)["OpsItemId"]
    with pytest.raises(botocore.exceptions.ParamValidationError):
        ssm.create_ops_item(Title="t", Source="s")  # Description is required


@pytest.mark.parametrize("severity", ["1", "2", "3", "4"])
def test_opscenter_severity_one_to_four_is_accepted(ssm, severity):
    assert create_item(ssm, Severity=severity)["OpsItemId"]


@pytest.mark.parametrize(
    "overrides, parameter",
    [
        ({"Severity": "5"}, "Severity"),
        ({"Severity": "High"}, "Severity"),
        ({"Category": "Compliance"}, "Category"),
        ({"Source": "aws-config"}, "Source"),
        ({"Source": "My Amazon checker"}, "Source"),
        ({"OperationalData": {"/aws/custom": {"Type": "String", "Value": "x"}}}, "OperationalData"),
        ({"OperationalData": {"ssm-thing": {"Type": "String", "Value": "x"}}}, "OperationalData"),
        ({"OperationalData": {"big": {"Type": "String", "Value": "x" * (20 * 1024 + 1)}}}, "OperationalData"),
        ({"OperationalData": {"/aws/resources": {"Type": "SearchableString", "Value": ROLE_ARN}}}, "OperationalData"),
        ({"OperationalData": {"/aws/resources": {"Type": "SearchableString", "Value": json.dumps([ROLE_ARN])}}},
         "OperationalData"),
        ({"OperationalData": {"/aws/resources": resources(*[f"{ROLE_ARN}{n}" for n in range(101)])}},
         "OperationalData"),
        ({"OperationalData": {"/aws/dedup": {"Type": "SearchableString", "Value": "plain-string"}}},
         "OperationalData"),
    ],
    ids=["severity-5", "severity-word", "category", "source-aws", "source-amazon", "reserved-aws-key",
         "reserved-ssm-key", "value-over-20kb", "resources-not-json", "resources-not-objects",
         "resources-over-100", "dedup-not-json"],
)
def test_opscenter_rejects_what_the_service_rejects(ssm, ops, overrides, parameter):
    with pytest.raises(ssm.exceptions.OpsItemInvalidParameterException) as raised:
        create_item(ssm, **overrides)
    assert raised.value.response["ParameterNames"] == [parameter]
    assert ops.items() == []


def test_opscenter_accepts_a_20kb_value_and_100_resources(ssm):
    data = {
        "big": {"Type": "String", "Value": "x" * (20 * 1024)},
        "/aws/resources": resources(*[f"{ROLE_ARN}{n}" for n in range(100)]),
    }
    assert create_item(ssm, OperationalData=data)["OpsItemId"]


def test_opscenter_dedup_against_an_open_item_raises_already_exists_with_its_id(ssm, ops):
    first = create_item(ssm)["OpsItemId"]
    with pytest.raises(ssm.exceptions.OpsItemAlreadyExistsException) as raised:
        create_item(ssm, OperationalData={
            "/aws/resources": resources(ROLE_ARN, FLEET_ARN), "/aws/dedup": dedup("RG-0123456789ABCDEF"),
        })  # dedup strings are not case sensitive
    assert raised.value.response["OpsItemId"] == first
    ssm.update_ops_item(OpsItemId=first, Status="InProgress")
    with pytest.raises(ssm.exceptions.OpsItemAlreadyExistsException):
        create_item(ssm)
    assert len(ops.items()) == 1


def test_opscenter_dedup_creates_a_new_item_when_resolved_or_resources_differ(ssm, ops):
    first = create_item(ssm)["OpsItemId"]
    other_resources = create_item(ssm, OperationalData={
        "/aws/resources": resources(ROLE_ARN), "/aws/dedup": dedup("rg-0123456789abcdef"),
    })["OpsItemId"]
    assert other_resources != first
    ssm.update_ops_item(OpsItemId=first, Status="Resolved")
    after_resolve = create_item(ssm)["OpsItemId"]
    assert after_resolve not in (first, other_resources)
    without_dedup = [create_item(ssm, OperationalData={"k": {"Type": "String", "Value": "v"}})["OpsItemId"]
                     for _ in range(2)]
    assert len(set(without_dedup)) == 2
    assert len(ops.items()) == 5


def test_opscenter_dedup_can_answer_with_the_existing_item(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    fake = OpsCenterFake(on_duplicate="return_existing")
    ssm = fake.attach(boto3.client("ssm", region_name="us-east-1"))
    first = create_item(ssm)
    again = create_item(ssm)
    assert (again["OpsItemId"], again["OpsItemArn"]) == (first["OpsItemId"], first["OpsItemArn"])
    assert len(fake.items()) == 1
    with pytest.raises(ValueError):
        OpsCenterFake(on_duplicate="ignore")


def test_opscenter_update_status_data_and_version(ssm, ops):
    ops_item_id = create_item(ssm)["OpsItemId"]
    ssm.update_ops_item(
        OpsItemId=ops_item_id,
        Status="Resolved",
        Description="Fixed: trust policy now allows appstream.amazonaws.com.",
        OperationalData={"/aws/resources": resources(ROLE_ARN), "resolution": {"Type": "String", "Value": "fixed"}},
        OperationalDataToDelete=["roleguard-key"],
    )
    item = ssm.get_ops_item(OpsItemId=ops_item_id)["OpsItem"]
    assert item["Status"] == "Resolved" and item["Version"] == "2"
    assert item["Description"].startswith("Fixed:")
    assert set(item["OperationalData"]) == {"/aws/resources", "/aws/dedup", "resolution"}
    assert json.loads(item["OperationalData"]["/aws/resources"]["Value"]) == [{"arn": ROLE_ARN}]
    ssm.update_ops_item(OpsItemId=ops_item_id, Status="Open")  # reopen
    assert ops.get(ops_item_id)["Status"] == "Open" and ops.get(ops_item_id)["Version"] == "3"


def test_opscenter_update_rules(ssm):
    ops_item_id = create_item(ssm)["OpsItemId"]
    with pytest.raises(ssm.exceptions.OpsItemInvalidParameterException):
        ssm.update_ops_item(OpsItemId=ops_item_id, Status="Closed")  # a change-request status
    with pytest.raises(ssm.exceptions.OpsItemInvalidParameterException):
        ssm.update_ops_item(OpsItemId=ops_item_id, OperationalData={"/aws/dedup": dedup("something-else")})
    with pytest.raises(ssm.exceptions.OpsItemInvalidParameterException):
        ssm.update_ops_item(OpsItemId=ops_item_id, OperationalDataToDelete=["/aws/dedup"])
    with pytest.raises(ssm.exceptions.OpsItemInvalidParameterException):
        ssm.update_ops_item(OpsItemId=ops_item_id, Title="t" * 101)
    with pytest.raises(botocore.exceptions.ClientError) as enum:
        ssm.update_ops_item(OpsItemId=ops_item_id, Status="Done")
    assert error_code(enum) == "ValidationException"
    ssm.update_ops_item(OpsItemId=ops_item_id, OperationalData={"/aws/dedup": dedup("RG-0123456789ABCDEF")})
    with pytest.raises(ssm.exceptions.OpsItemNotFoundException):
        ssm.update_ops_item(OpsItemId="oi-000000000000", Status="Resolved")


def test_opscenter_describe_by_searchable_value_status_and_title(ssm):
    wanted = create_item(ssm)["OpsItemId"]
    create_item(ssm, Title="Another problem", OperationalData={
        "roleguard-key": {"Type": "SearchableString", "Value": "fedcba9876543210"},
        "hidden": {"Type": "String", "Value": "0123456789abcdef"},
    })

    def ids(*filters):
        return [s["OpsItemId"] for s in ssm.describe_ops_items(OpsItemFilters=list(filters))["OpsItemSummaries"]]

    by_value = {"Key": "OperationalDataValue", "Values": ["0123456789abcdef"], "Operator": "Equal"}
    assert ids(by_value) == [wanted]  # the String-typed copy on the other item is not searchable
    open_only = {"Key": "Status", "Values": ["Open"], "Operator": "Equal"}
    assert ids(by_value, open_only) == [wanted]
    assert len(ids({"Key": "Title", "Values": ["trust policy"], "Operator": "Contains"})) == 1
    assert ids({"Key": "OperationalDataKey", "Values": ["/aws/dedup"], "Operator": "Equal"}) == [wanted]
    assert ids({"Key": "OperationalData", "Operator": "Equal",
                "Values": [json.dumps({"key": "roleguard-key", "value": "0123456789abcdef"})]}) == [wanted]
    assert len(ids({"Key": "Source", "Values": ["appstream-role-guard"], "Operator": "Equal"})) == 2
    assert ids({"Key": "Severity", "Values": ["2"], "Operator": "Equal"}, by_value) == [wanted]
    ssm.update_ops_item(OpsItemId=wanted, Status="Resolved")
    assert ids(by_value, open_only) == []
    assert ids(by_value, {"Key": "Status", "Values": ["Open", "Resolved"], "Operator": "Equal"}) == [wanted]
    summary = ssm.describe_ops_items(OpsItemFilters=[by_value])["OpsItemSummaries"][0]
    assert summary["Status"] == "Resolved" and summary["Title"].startswith("AppStream role")


def test_opscenter_summaries_carry_only_searchable_data(ssm):
    create_item(ssm, OperationalData={
        "visible": {"Type": "SearchableString", "Value": "abcd"}, "hidden": {"Type": "String", "Value": "secret"},
    })
    summary = ssm.describe_ops_items()["OpsItemSummaries"][0]
    assert set(summary["OperationalData"]) == {"visible"}


def test_opscenter_operational_data_value_filter_must_be_4_to_20_characters(ssm):
    create_item(ssm)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        ssm.describe_ops_items(OpsItemFilters=[
            {"Key": "OperationalDataValue", "Values": [B23_DEDUP_HASH], "Operator": "Equal"},  # case B23: 32 hex
        ])
    assert error_code(raised) == "OpsCenterInvalidArgumentException"
    assert "length of the value must be between 4 and 20" in raised.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError):
        ssm.describe_ops_items(OpsItemFilters=[{"Key": "OperationalDataValue", "Values": ["abc"], "Operator": "Equal"}])
    ok = ssm.describe_ops_items(OpsItemFilters=[{"Key": "OperationalDataValue", "Values": ["x" * 20], "Operator": "Equal"}])
    assert ok["OpsItemSummaries"] == []


def test_opscenter_filter_operators_and_title_equal_limit(ssm):
    create_item(ssm)
    with pytest.raises(botocore.exceptions.ClientError) as operator:
        ssm.describe_ops_items(OpsItemFilters=[{"Key": "Status", "Values": ["Open"], "Operator": "Contains"}])
    assert error_code(operator) == "OpsCenterInvalidArgumentException"
    with pytest.raises(botocore.exceptions.ClientError) as title:
        ssm.describe_ops_items(OpsItemFilters=[{"Key": "Title", "Values": ["t" * 101], "Operator": "Equal"}])
    assert error_code(title) == "OpsCenterInvalidArgumentException"
    with pytest.raises(AssertionError, match="does not implement"):
        ssm.describe_ops_items(OpsItemFilters=[{"Key": "CreatedTime", "Values": ["2024-01-01"], "Operator": "GreaterThan"}])


def test_opscenter_describe_pages(ssm):
    created = [create_item(ssm, OperationalData={"n": {"Type": "SearchableString", "Value": f"item-{n}"}})["OpsItemId"]
               for n in range(5)]
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"MaxResults": 50}
        if token:
            kwargs["NextToken"] = token
        page = ssm.describe_ops_items(**kwargs)
        pages += 1
        seen += [s["OpsItemId"] for s in page["OpsItemSummaries"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == created and pages == 3  # page_size 2
    assert len(ssm.describe_ops_items(MaxResults=1)["OpsItemSummaries"]) == 1
    with pytest.raises(botocore.exceptions.ClientError) as too_many:
        ssm.describe_ops_items(MaxResults=51)
    assert error_code(too_many) == "ValidationException"


def test_opscenter_limit_exceeded_is_injectable(ssm, ops):
    ops.fail("CreateOpsItem", "OpsItemLimitExceededException", message="The request caused OpsItems to exceed one or more quotas.")
    with pytest.raises(ssm.exceptions.OpsItemLimitExceededException) as raised:
        create_item(ssm)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert ops.items() == []
    assert create_item(ssm)["OpsItemId"]
    assert len(ops.calls_to("CreateOpsItem")) == 2


def test_opscenter_state_is_per_region_and_other_operations_are_refused(ops, ssm):
    create_item(ssm)
    west = ops.attach(boto3.client("ssm", region_name="eu-west-1"))
    assert west.describe_ops_items()["OpsItemSummaries"] == []
    assert len(ops.items(region="us-east-1")) == 1 and ops.items(region="eu-west-1") == []
    with pytest.raises(UnimplementedOperation):
        ssm.delete_ops_item(OpsItemId="oi-000000000000")


def test_opscenter_b23_create_input_is_rejected_for_its_title_only(ssm):
    b23 = {
        "Title": B23_TITLE,
        "Source": "appstream-iam-checker",
        "Description": "see finding appstream-iam/111122223333/eu-west-1/fleet/fleet-a/trust-policy",
        "OperationalData": {"dedup": {"Type": "SearchableString", "Value": B23_DEDUP_HASH}},
    }
    with pytest.raises(ssm.exceptions.OpsItemInvalidParameterException):
        ssm.create_ops_item(**b23)
    fixed = ssm.create_ops_item(**{**b23, "Title": B23_TITLE[:97] + "..."})
    assert fixed["OpsItemId"]


def test_adf_text_flattens_blocks_and_hard_breaks():
    doc = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "a"}, {"type": "hardBreak"}, {"type": "text", "text": "b"}]},
        {"type": "bulletList", "content": [{"type": "listItem", "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "c"}]}]}]},
    ]}
    assert adf_text(doc) == "a\nb\nc"
