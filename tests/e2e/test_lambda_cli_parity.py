"""The Lambda path and `roleguard check-role` give the same findings for the same role: one test drives both.

Each case creates a role in moto's IAM (trust policy, inline policies, optionally a managed policy as its
permissions boundary) and an AppStream resource using it in the fake, sends a CreateFleet/CreateImageBuilder
event through the template's rule pattern into the real handler, and runs the command in-process on the same
documents written to files, with the same --role-arn and --resource-arn. Each inline policy is named in IAM
after the file the command reads (the command names an inline policy after its file), so the policy labels
in the findings' details agree.

For every check the command runs, (check, status, severity, detail) must be equal. The one label that cannot
agree: the Lambda names the boundary by its managed policy ARN, the command by its file (a file has no ARN);
the comparison puts the file name in place of the ARN and says so.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field

import pytest

from roleguard import cli
from tests.doubles.world import ACCOUNT
from tests.events import load_event
from tests.shared_inputs import PERMISSION_POLICIES, trust_policy

pytestmark = pytest.mark.e2e

REGION = "us-east-1"
VPCE_READ = {"Version": "2012-10-17", "Statement": [
    {"Sid": "ReadAppData", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
     "Resource": ["arn:aws:s3:::euc-app-data", "arn:aws:s3:::euc-app-data/*"],
     "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f67890"}}}]}
ADMIN_ISH = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"},
    {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"},
    {"Sid": "NoBilling", "Effect": "Deny", "Action": "aws-portal:*", "Resource": "*"}]}
WIDE_INLINE = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:*", "iam:PassRole", "ec2:RunInstances", "logs:CreateLogStream"], "Resource": "*"}]}
BOUNDARY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "OnlyReadFromTheVpc", "Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "logs:CreateLogStream"],
     "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-0123456789abcdef0"}}},
    {"Sid": "NeverIam", "Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}


def _real(prefix: str) -> tuple[str, dict]:
    (path,) = PERMISSION_POLICIES.glob(f"{prefix}-*.json")
    return path.name, json.loads(path.read_text())


@dataclass(frozen=True)
class Case:
    role: str  # path/Name
    trust: str | dict
    inline: dict[str, dict]  # file name (= IAM inline policy name) -> document
    boundary: tuple[str, dict] | None = None  # (file name = managed policy name, document)
    kind: str = "fleet"
    expected: dict[str, str] = field(default_factory=dict)  # a few statuses, so that the cases stay what they say
    details: dict[str, str] = field(default_factory=dict)  # and a fragment of some details


CASES = {
    # tp07 (account-wide SourceArn) and one read grant limited to a VPC endpoint: nothing to report.
    "good": Case("appstream/ParityGoodRole", trust_policy("tp07"), {"vpce-read.json": VPCE_READ},
                 expected={"least-privilege": "PASSED", "network-conditions": "PASSED",
                           "trust-confused-deputy": "PASSED", "trust-no-foreign-principals": "PASSED"}),
    # UKHomeOffice's ec2 + appstream trust with p03 (appstream:*, cloudwatch:*, logs:* on *) inline.
    "ec2-and-appstream": Case("ParityEc2AppStreamRole", trust_policy("tp09"), dict([_real("p03")]),
                              expected={"trust-no-foreign-principals": "FAILED", "trust-confused-deputy": "FAILED",
                                        "least-privilege": "FAILED", "network-conditions": "FAILED"}),
    # The docs' 'your AWS account ID' placeholder and an admin-ish inline policy (with NotAction and a Deny).
    "placeholder-admin": Case("ParityPlaceholderRole", trust_policy("tp05"), {"admin-ish.json": ADMIN_ISH},
                              expected={"trust-allows-appstream": "FAILED", "least-privilege": "FAILED"},
                              details={"least-privilege": "worst CRITICAL: CRITICAL full admin: inline policy "
                                                          "admin-ish.json statement 'Everything': * on * grants every "
                                                          "action except 9 known actions"}),
    # Wide inline grants within a boundary that allows only VPC-limited reads and one log write, and denies IAM:
    # no escalation (PassRole and RunInstances are outside the boundary), s3:* is left with reads, the log write
    # on * remains (MEDIUM); every grant is limited to a network by the boundary's condition.
    "boundary": Case("appstream/ParityBoundaryRole", trust_policy("tp07"),
                     {"a-wide.json": WIDE_INLINE, "b-vpce-read.json": VPCE_READ},
                     boundary=("vpc-read-boundary.json", BOUNDARY),
                     expected={"least-privilege": "FAILED", "network-conditions": "PASSED"},
                     details={"least-privilege": "worst MEDIUM: MEDIUM write on *: inline policy a-wide.json statement "
                                                 "#1: logs:CreateLogStream; note: read-only wildcard s3:* on *",
                              "network-conditions": "network condition of boundary policy vpc-read-boundary.json"}),
    # An image builder whose role also runs p02 (s3 List/Get/Put on every bucket).
    "image-builder": Case("ParityImageBuilderRole", trust_policy("tp07"), dict([_real("p02")]), kind="image-builder",
                          expected={"trust-allows-appstream": "PASSED", "least-privilege": "FAILED"}),
}

EVENTS = {"fleet": ("create-fleet-good-role", "fleet"), "image-builder": ("create-image-builder-latest-agent",
                                                                            "imageBuilder")}


def _event(kind: str, name: str, role_arn: str) -> dict:
    event_file, response_key = EVENTS[kind]
    event = load_event(event_file)
    detail = event["detail"]
    detail["requestParameters"].update(name=name, iamRoleArn=role_arn)
    detail["requestParameters"].pop("displayName", None)
    detail["responseElements"][response_key].update(
        name=name, arn=f"arn:aws:appstream:{REGION}:{ACCOUNT}:{kind}/{name}", iamRoleArn=role_arn)
    return event


def _lambda_findings(world, invoke, case: Case, name: str) -> tuple[str, list[dict]]:
    iam = world.client("iam")
    role_arn = world.create_role(case.role, case.trust, inline=case.inline)
    if case.boundary is not None:
        policy_name, document = case.boundary
        boundary_arn = iam.create_policy(PolicyName=policy_name, PolicyDocument=json.dumps(document))["Policy"]["Arn"]
        iam.put_role_permissions_boundary(RoleName=case.role.rpartition("/")[2], PermissionsBoundary=boundary_arn)
    if case.kind == "fleet":
        world.appstream.add_fleet(name, image_name="image-agent-2023", iam_role_arn=role_arn)
    else:
        world.appstream.add_image_builder(name, image_name="image-agent-2023", iam_role_arn=role_arn)
    result = invoke(_event(case.kind, name, role_arn))
    assert result is not None and result["outcome"] == "evaluated", result
    return role_arn, result["findings"]


def _cli_findings(tmp_path, case: Case, role_arn: str, resource_arn: str) -> tuple[int, list[dict]]:
    trust_file = tmp_path / "trust.json"
    trust_file.write_text(case.trust if isinstance(case.trust, str) else json.dumps(case.trust))
    argv = ["check-role", "--trust-policy", str(trust_file), "--role-arn", role_arn, "--resource-arn", resource_arn,
            "--format", "json"]
    for file_name, document in sorted(case.inline.items()):  # IAM lists inline policies by name
        (tmp_path / file_name).write_text(json.dumps(document, indent=2))
        argv += ["--policy", str(tmp_path / file_name)]
    if case.boundary is not None:
        file_name, document = case.boundary
        (tmp_path / file_name).write_text(json.dumps(document))
        argv += ["--boundary", str(tmp_path / file_name)]
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(argv)
    assert err.getvalue() == "", err.getvalue()
    return code, json.loads(out.getvalue())["findings"]


def _tuples(findings: list[dict], checks) -> dict[str, tuple[str, str, str, str]]:
    return {f["check"]: (f["check"], f["status"], f["severity"], f["detail"]) for f in findings if f["check"] in checks}


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_the_lambda_and_the_command_give_the_same_findings(world, invoke, tmp_path, case_id):
    case = CASES[case_id]
    name = f"parity-{case_id}"
    role_arn, from_lambda = _lambda_findings(world, invoke, case, name)
    resource_arn = f"arn:aws:appstream:{REGION}:{ACCOUNT}:{case.kind}/{name}"
    code, from_cli = _cli_findings(tmp_path, case, role_arn, resource_arn)

    cli_checks = [f["check"] for f in from_cli]
    lambda_checks = [f["check"] for f in from_lambda]
    # The command runs every check the Lambda runs except the ones that need live AWS facts, in the same order.
    assert cli_checks == [c for c in lambda_checks if c not in cli.OFFLINE_EXCLUDED]
    assert set(lambda_checks) - set(cli_checks) <= cli.OFFLINE_EXCLUDED

    lambda_tuples = _tuples(from_lambda, cli_checks)
    if case.boundary is not None:
        file_name = case.boundary[0]
        arn = f"arn:aws:iam::{ACCOUNT}:policy/{file_name}"
        assert any(arn in t[3] for t in lambda_tuples.values()), "the boundary shows in some detail"
        lambda_tuples = {c: (*t[:3], t[3].replace(arn, file_name)) for c, t in lambda_tuples.items()}
    assert _tuples(from_cli, cli_checks) == lambda_tuples

    statuses = {f["check"]: f["status"] for f in from_cli}
    assert {c: statuses.get(c) for c in case.expected} == case.expected
    shown = {f["check"]: f["detail"] for f in from_cli}
    for check, fragment in case.details.items():
        assert fragment in shown[check]
    assert code == (1 if "FAILED" in statuses.values() else 0)


def test_the_labels_name_the_same_policies(world, invoke, tmp_path):
    # Not only equal: the details really point at the inline policy by the file's name.
    case = CASES["ec2-and-appstream"]
    role_arn, from_lambda = _lambda_findings(world, invoke, case, "parity-labels")
    (file_name,) = case.inline
    detail = {f["check"]: f["detail"] for f in from_lambda}["least-privilege"]
    assert f"inline policy {file_name} statement #1" in detail
