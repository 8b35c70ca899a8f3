"""Ticket text per system (pure): B22's ADF shape, length limits, and user text that cannot break out."""

import json
import re

import pytest

from roleguard.model import Finding, ResourceKind, ResourceRef, Severity, Status
from roleguard.tickets import render
from roleguard.tickets.problems import Affected, Problem
from tests.doubles.botocore_model import request_problems
from tests.doubles.ticket_servers import _adf_doc_problem, adf_nodes
from tests.shared_inputs import case

pytestmark = pytest.mark.unit

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/FleetRoleA"
HOSTILE = ("*bold* _em_ +u+ ^sup^ ~sub~ ??cite?? -strike- {code}x{code} {noformat} [click|https://evil.example/x] "
           "[~admin] !https://evil.example/i.png! ||h||\nh1. Heading\r\nbq. quote\n# list\n---- \\\\ "
           "mailto:a@evil.example javascript:alert(1) [code]<script>alert(1)</script>[/code] [ CODE ] "
           "\u202eevil\u200b\x00\x1b[31m")


def ref(name="fleet-a", kind=ResourceKind.FLEET, region="eu-west-1"):
    return ResourceRef(kind, name, ACCOUNT, region)


def finding(check_id="trust-allows-appstream", resource=None, detail="AppStream cannot assume the role",
            role_arn=ROLE, severity=Severity.HIGH, status=Status.FAILED):
    return Finding(check_id=check_id, title="t", status=status, severity=severity, detail=detail,
                   resource=resource or ref(), role_arn=role_arn, remediation="fix",
                   documentation_url="https://docs.aws.amazon.com/x")


def problem(*findings):
    p = Problem.for_finding(findings[0])
    for f in findings[1:]:
        p = p.with_resource(Affected.from_finding(f))
    return p


# --------------------------------------------------------------------------- B22


def test_b22_jira_cloud_description_is_adf_paragraphs_of_plain_text():
    expected = case("B22")["expected"]
    text = case("B22")["input"]["request"]["body"]["fields"]["description"]
    lines = [(line,) for line in text.split("\n")]
    assert render.adf(lines) == expected["v3_description"]
    assert render.jira_wiki(lines) == expected["v2_description"]


def test_summary_stays_one_plain_line():
    p = problem(finding(detail=HOSTILE))
    s = render.summary(p)
    assert s == "AppStream role FleetRoleA fails trust-allows-appstream (HIGH)"
    assert "\n" not in s and len(s) <= 255
    resource = problem(finding("agent-version", ref("fleet-a")))
    assert render.summary(resource) == "AppStream fleet fleet-a fails agent-version (HIGH)"


def test_titles_are_cut_to_each_systems_limit_with_a_marker():
    long_name = "n" * 100
    p = problem(finding("agent-version", ref(long_name)))
    for limit in (render.JIRA_SUMMARY, render.SERVICENOW_SHORT, render.OPSITEM_TITLE):
        s = render.summary(p, limit)
        assert len(s) <= limit
    assert render.summary(p, render.OPSITEM_TITLE).endswith("…[truncated]")


def test_body_names_the_role_every_resource_its_detail_the_fix_and_the_marker():
    p = problem(finding(resource=ref("fleet-a")), finding(resource=ref("fleet-b"), detail="other reason"))
    text = "\n".join(render._text(line, str) for line in render.body(p))
    assert ROLE in text and "Affected AppStream resources (2):" in text
    assert f"fleet fleet-a in eu-west-1 (arn:aws:appstream:eu-west-1:{ACCOUNT}:fleet/fleet-a)" in text
    assert "other reason" in text and "Fix: " in text and p.marker in text
    assert "Documentation: https://docs.aws.amazon.com/appstream2/" in text


# --------------------------------------------------------------------------- injection


def test_adf_carries_only_paragraphs_of_plain_text_whatever_the_user_text():
    doc = render.adf(render.body(problem(finding(detail=HOSTILE))))
    assert _adf_doc_problem(doc) is None  # the Jira double's validator
    types = {n["type"] for n in adf_nodes(doc)}
    assert types == {"doc", "paragraph", "text"}
    texts = [n["text"] for n in adf_nodes(doc) if n["type"] == "text"]
    assert not any("marks" in n for n in adf_nodes(doc))
    assert all("://" not in t or t.startswith("Documentation: https://docs.aws.amazon.com/") for t in texts)
    assert not any(re.search(r"https?://evil", t) for t in texts)
    assert not any(re.search(r"[\x00-\x1f\u202e]", t) for t in texts)


def test_jira_wiki_escapes_every_markup_character_of_user_text():
    escaped = render.wiki_escape(HOSTILE)
    assert "\n" not in escaped and "\r" not in escaped
    assert re.search(r"(?<!\\)[*_+^~?{}\[\]|!#]", escaped) is None, escaped
    assert re.search(r"(?<!\\)(?<!\w)-|(?<!\\)-(?!\w)", escaped) is None, escaped
    assert "\\\\" not in escaped  # a double backslash is a line break in wiki markup
    assert "://" not in escaped and "mailto:" not in escaped and "javascript:" not in escaped
    # ordinary text is left alone (B22's v2 description is plain)
    assert render.wiki_escape("fleet fleet-a in us-east-1, role arn:aws:iam::1:role/x") == \
        "fleet fleet-a in us-east-1, role arn:aws:iam::1:role/x"


def test_jira_wiki_body_keeps_our_documentation_link_and_escapes_the_rest():
    text = render.jira_wiki(render.body(problem(finding(detail=HOSTILE))))
    assert "Documentation: https://docs.aws.amazon.com/appstream2/" in text
    assert re.search(r"(?<!\\)\[click", text) is None and "\\[click\\|https:" in text
    assert "https:" + render.ZWSP + "//evil" in text
    assert "\nh1." not in text and "\nbq." not in text and "\n#" not in text


def test_servicenow_fields_are_plain_and_code_tags_are_broken():
    fields = render.servicenow_fields(problem(finding(detail=HOSTILE)))
    assert set(fields) == {"short_description", "description", "correlation_id", "impact", "urgency"}
    assert len(fields["short_description"]) <= 160 and "\n" not in fields["short_description"]
    assert len(fields["correlation_id"]) <= 100
    assert re.search(r"(?i)\[\s*/?\s*code\s*\]", fields["description"]) is None
    assert "<script>" in fields["description"]  # shown as text, not removed
    assert "https://evil" not in fields["description"]
    assert (fields["impact"], fields["urgency"]) == ("1", "2")  # HIGH -> P2


def test_servicenow_priority_follows_severity():
    crit = render.servicenow_fields(problem(finding(severity=Severity.CRITICAL)))
    assert (crit["impact"], crit["urgency"]) == ("1", "1")


# --------------------------------------------------------------------------- OpsCenter


def test_opsitem_fields_fit_the_service_limits_and_list_role_and_resources():
    fleets = [finding(resource=ref(f"fleet-{i:03d}-" + "x" * 60)) for i in range(120)]
    p = problem(*fleets)
    fields = render.opsitem(p, ["Now also affects " + HOSTILE])
    assert len(fields["Title"]) <= 100
    assert 1 <= len(fields["Description"]) <= 2048
    assert fields["Severity"] == "2" and fields["Category"] == "Security" and fields["Priority"] == 2
    data = fields["OperationalData"]
    resources = json.loads(data["/aws/resources"]["Value"])
    assert resources[0] == {"arn": ROLE} and len(resources) == 100  # OpsCenter lists at most 100 ARNs
    assert {"arn": p.resources[0].arn} in resources
    assert json.loads(data["/aws/dedup"]["Value"]) == {"dedupString": p.marker}
    assert data["/roleguard/problem"] == {"Type": "SearchableString", "Value": p.digest}
    assert all(len(v["Value"].encode()) <= 20 * 1024 for v in data.values())
    # and botocore's own model has nothing to object to
    assert request_problems("ssm", "CreateOpsItem", {"Source": render.OPSITEM_SOURCE, **fields}) == ""


def test_opsitem_without_a_parseable_role_lists_only_the_resource():
    p = problem(finding("role-exists", role_arn="arn:aws:iam:: 111122223333:role/Admin"))
    resources = json.loads(render.opsitem(p)["OperationalData"]["/aws/resources"]["Value"])
    assert resources == [{"arn": f"arn:aws:appstream:eu-west-1:{ACCOUNT}:fleet/fleet-a"}]


def test_a_problem_nothing_is_affected_by_still_renders():
    p = problem(finding("agent-version"))
    empty = p.without(p.resources[0].arn)
    assert render.summary(empty) == "AppStream fleet fleet-a passes agent-version (HIGH)"
    assert "No AppStream resource is affected any more." in render.jira_wiki(render.body(empty))
