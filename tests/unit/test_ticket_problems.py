"""One problem, one ticket: problem keys and the Problem model (pure)."""

import hashlib
import re

import pytest

from roleguard.checks import REGISTRY, Scope
from roleguard.model import Finding, ResourceKind, ResourceRef, Severity, Status
from roleguard.tickets.problems import Affected, Problem, changes, digest, marker, problem_key

pytestmark = pytest.mark.unit

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/FleetRoleA"


def ref(name="fleet-a", kind=ResourceKind.FLEET, region="eu-west-1", account=ACCOUNT, partition="aws"):
    return ResourceRef(kind, name, account, region, partition)


def finding(check_id="trust-allows-appstream", resource=None, role_arn=ROLE, status=Status.FAILED,
            severity=Severity.HIGH, detail="AppStream cannot assume the role"):
    return Finding(check_id=check_id, title="t", status=status, severity=severity, detail=detail,
                   resource=resource or ref(), role_arn=role_arn, remediation="fix",
                   documentation_url="https://docs.aws.amazon.com/x")


def test_a_role_problem_is_one_problem_however_many_fleets_share_the_role():
    keys = {problem_key(finding(resource=ref(f"fleet-{n}"))) for n in range(5)}
    assert keys == {f"role#aws#{ACCOUNT}#eu-west-1#fleetrolea#trust-allows-appstream"}
    # image builders and app block builders with the same role: still the same problem
    assert problem_key(finding(resource=ref("ib", ResourceKind.IMAGE_BUILDER))) in keys


def test_role_key_ignores_case_and_path_of_the_role_name_but_not_account_partition_or_check():
    base = problem_key(finding())
    assert problem_key(finding(role_arn=f"arn:aws:iam::{ACCOUNT}:role/team/app/FLEETROLEA")) == base
    assert problem_key(finding(role_arn="arn:aws:iam::444455556666:role/FleetRoleA")) != base
    assert problem_key(finding(role_arn=f"arn:aws-us-gov:iam::{ACCOUNT}:role/FleetRoleA")) != base
    assert problem_key(finding(check_id="least-privilege")) != base
    # the ledger is regional: another region's stack owns its own tickets
    assert problem_key(finding(resource=ref(region="us-east-1"))) != base


def test_resource_problems_are_one_per_resource_and_check():
    a = problem_key(finding("agent-version", ref("fleet-a")))
    b = problem_key(finding("agent-version", ref("fleet-b")))
    assert a == f"resource#arn:aws:appstream:eu-west-1:{ACCOUNT}:fleet/fleet-a#agent-version"
    assert a != b
    assert problem_key(finding("dedicated-role", ref("fleet-a"))) != a


def test_an_unparseable_role_arn_falls_back_to_the_resource_key():
    key = problem_key(finding(role_arn="arn:aws:iam:: 111122223333:role/Admin"))
    assert key.startswith("resource#arn:aws:appstream:eu-west-1:")


@pytest.mark.parametrize("check", REGISTRY, ids=lambda c: c.id)
def test_every_registered_check_is_keyed_by_its_scope(check):
    key = problem_key(finding(check.id))
    assert key.startswith("role#" if check.scope is Scope.ROLE else "resource#")
    assert key.endswith("#" + check.id)


def test_digest_and_marker_are_short_stable_and_fit_every_system():
    key = problem_key(finding())
    assert digest(key) == hashlib.sha256(key.encode()).hexdigest()[:16]
    assert digest(key) == "59b822d417758a0d"  # pinned: changing it would orphan every ticket in every ledger
    m = marker(key)
    assert m == "roleguard-" + digest(key)
    assert re.fullmatch(r"[a-z0-9-]+", m)  # a Jira label: no spaces
    assert 4 <= len(digest(key)) <= 20  # DescribeOpsItems OperationalDataValue filter (B23)
    assert len(m) <= 100  # ServiceNow correlation_id


def test_problem_lists_every_affected_resource_and_takes_the_highest_severity():
    p = Problem.for_finding(finding(resource=ref("fleet-b")))
    p = p.with_resource(Affected.from_finding(finding(resource=ref("fleet-a"), severity=Severity.CRITICAL)))
    assert [a.name for a in p.resources] == ["fleet-a", "fleet-b"]  # sorted by ARN: deterministic
    assert p.severity is Severity.CRITICAL and p.status is Status.FAILED
    assert p.without(p.resources[0].arn).severity is Severity.HIGH
    assert p.without(p.resources[0].arn).without(p.resources[1].arn).resources == ()
    assert p.without(p.resources[0].arn).without(p.resources[1].arn).status is Status.PASSED


def test_problem_round_trips_and_fingerprint_ignores_arrival_order():
    a, b = finding(resource=ref("fleet-a")), finding(resource=ref("fleet-b"))
    one = Problem.for_finding(a).with_resource(Affected.from_finding(b))
    two = Problem.for_finding(b).with_resource(Affected.from_finding(a))
    assert one == two and one.fingerprint() == two.fingerprint()
    assert Problem.from_dict(one.to_dict()) == one
    changed = one.with_resource(Affected.from_finding(finding(resource=ref("fleet-a"), detail="other")))
    assert changed.fingerprint() != one.fingerprint()


def test_changes_say_what_changed():
    a, b = finding(resource=ref("fleet-a")), finding(resource=ref("fleet-b"))
    one = Problem.for_finding(a)
    two = one.with_resource(Affected.from_finding(b))
    assert changes(one, two) == ["Now also affects fleet fleet-b (eu-west-1): FAILED HIGH: AppStream cannot assume the role"]
    gone = two.without(two.resources[0].arn)
    assert changes(two, gone, {two.resources[0].arn: "trust-allows-appstream passes for fleet fleet-a: ok"}) == [
        "No longer affects fleet fleet-a (eu-west-1): trust-allows-appstream passes for fleet fleet-a: ok"]
    worse = one.with_resource(Affected.from_finding(finding(resource=ref("fleet-a"), severity=Severity.CRITICAL,
                                                            detail="worse")))
    assert changes(one, worse) == ["fleet fleet-a (eu-west-1) now FAILED CRITICAL: worse",
                                   "Severity changed from HIGH to CRITICAL."]
    assert changes(one, one) == []


def test_long_details_are_capped_for_the_ledger():
    long = finding(detail="x" * 5000)
    assert len(Affected.from_finding(long).detail) == 1000


def test_the_pure_ticket_modules_import_no_sdk_and_build_nothing():
    import subprocess
    import sys

    code = ("import sys\nimport roleguard.tickets.problems, roleguard.tickets.render, roleguard.tickets.base\n"
            "import roleguard.tickets.sink, roleguard.tickets.http, roleguard.tickets.jira\n"
            "import roleguard.tickets.servicenow, roleguard.config\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('urllib3', 'aws_lambda_powertools'))\n"
            "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""  # no HTTP pool, no Powertools parameters until first use
    pure = ("import sys\nimport roleguard.tickets.problems, roleguard.tickets.render\n"
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'urllib3'))))\n")
    out = subprocess.run([sys.executable, "-c", pure], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
