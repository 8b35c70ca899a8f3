"""`roleguard check-role`: offline checks of policy files, exit codes, output formats, bad input.

Calls `main(argv)` in-process; one test runs the installed console script.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

import roleguard
import roleguard.checks
from roleguard import cli
from roleguard.checks import REGISTRY
from roleguard.checks.base import Check, Scope
from roleguard.model import CheckResult, Severity, Status
from tests.shared_inputs import PERMISSION_POLICIES, TRUST_POLICIES

pytestmark = pytest.mark.unit

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
FLEET_ARN = f"arn:aws:appstream:us-east-1:{ACCOUNT}:fleet/your-fleet-name"  # the fleet tp06's condition names
FINDING_KEYS = {"check", "status", "severity", "title", "detail"}
STATUSES = {s.value for s in Status}
SEVERITIES = {s.value for s in Severity}


def tp(prefix: str) -> Path:
    (path,) = sorted(TRUST_POLICIES.glob(f"{prefix}-*.json"))
    return path


def pp(prefix: str) -> Path:
    (path,) = sorted(PERMISSION_POLICIES.glob(f"{prefix}-*.json"))
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code, out, err = run(capsys, *argv, "--format", "json")
    assert err == ""
    return code, json.loads(out)


def by_check(document: dict) -> dict[str, dict]:
    return {f["check"]: f for f in document["findings"]}


def expected_ids() -> list[str]:
    return [c.id for c in REGISTRY if c.id not in cli.OFFLINE_EXCLUDED]


def fake_check(check_id: str, status: Status, detail: str = "fake", run=None) -> Check:
    return Check(
        id=check_id,
        title=f"fake {check_id}",
        severity=Severity.LOW,
        scope=Scope.ROLE,
        remediation="none",
        documentation_url="https://docs.aws.amazon.com/",
        run=run or (lambda facts: CheckResult(status, detail)),
    )


# --------------------------------------------------------------------------- version and usage


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"roleguard {roleguard.__version__}"


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["check-role"],
        ["check-role", "--trust-policy"],
        ["check-role", "--trust-policy", "x.json", "--format", "yaml"],
        ["no-such-command"],
    ],
    ids=["no-command", "no-trust-policy", "option-without-value", "unknown-format", "unknown-command"],
)
def test_usage_errors_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "roleguard" in err and "error:" in err and "Traceback" not in err


def test_help_documents_the_defaults_and_excluded_checks(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["check-role", "--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "RoleUnderTest" in text and ACCOUNT in text and "example-fleet" in text
    assert "(default: text)" in text
    for check_id in cli.OFFLINE_EXCLUDED:
        assert check_id in text


# --------------------------------------------------------------------------- which checks run


def test_runs_the_registry_minus_the_live_aws_checks_in_registry_order(capsys):
    _, document = run_json(capsys, "check-role", "--trust-policy", str(tp("tp01")))
    ids = [f["check"] for f in document["findings"]]
    assert ids == expected_ids()
    assert not set(ids) & {"role-exists", "agent-version", "dedicated-role"}
    assert {"role-same-account", "role-not-service-role", "trust-allows-appstream"} <= set(ids)


def test_checks_added_to_the_registry_later_run_and_excluded_ones_do_not(capsys, monkeypatch):
    extra = (fake_check("new-offline-check", Status.PASSED, "ran"), fake_check("dedicated-role", Status.FAILED))
    monkeypatch.setattr(roleguard.checks, "REGISTRY", REGISTRY + extra)
    code, document = run_json(capsys, "check-role", "--trust-policy", str(tp("tp06")), "--resource-arn", FLEET_ARN)
    findings = by_check(document)
    assert findings["new-offline-check"]["detail"] == "ran"
    assert "dedicated-role" not in findings
    assert code == (1 if any(f["status"] == "FAILED" for f in document["findings"]) else 0)


def test_policy_files_reach_the_checks_as_inline_policies_and_boundary(capsys, monkeypatch, tmp_path):
    seen = {}

    def spy(facts):
        seen["facts"] = facts
        return CheckResult(Status.PASSED, "seen")

    monkeypatch.setattr(roleguard.checks, "REGISTRY", (fake_check("spy", Status.PASSED, run=spy),))
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    duplicate = other_dir / pp("p02").name
    duplicate.write_text(pp("p03").read_text())
    code, _, _ = run(
        capsys, "check-role", "--trust-policy", str(tp("tp06")),
        "--policy", str(pp("p02")), "--policy", str(pp("p11")), "--policy", str(duplicate),
        "--boundary", str(pp("p12")), "--resource-arn", FLEET_ARN,
    )
    assert code == 0
    role = seen["facts"].role
    assert role.trust_policy == json.loads(tp("tp06").read_text())
    assert [p.source for p in role.inline_policies] == ["inline", "inline", "inline"]
    # Each policy is named after its file; two files of the same name keep their paths apart.
    assert [p.name for p in role.inline_policies] == [str(pp("p02")), pp("p11").name, str(duplicate)]
    assert role.inline_policies[0].document == json.loads(pp("p02").read_text())
    assert role.inline_policies[2].document == json.loads(pp("p03").read_text())
    assert role.permissions_boundary.source == "boundary"
    assert role.permissions_boundary.name == pp("p12").name
    assert role.permissions_boundary.document == json.loads(pp("p12").read_text())
    assert seen["facts"].resource.role_arn == role.arn == f"arn:aws:iam::{ACCOUNT}:role/RoleUnderTest"
    assert seen["facts"].role_lookup.value == "found"


# --------------------------------------------------------------------------- exit codes on real inputs


@pytest.mark.parametrize("path", sorted(TRUST_POLICIES.glob("tp*.json")), ids=lambda p: p.name[:4])
def test_every_real_trust_policy_exits_1_exactly_when_a_check_failed(capsys, path):
    code, document = run_json(capsys, "check-role", "--trust-policy", str(path))
    assert document["findings"], "no findings"
    assert code == (1 if any(f["status"] == "FAILED" for f in document["findings"]) else 0)


@pytest.mark.parametrize("prefix", ["tp03", "tp04", "tp05", "tp08", "tp15"])
def test_trust_policies_that_do_not_let_appstream_in_fail_and_exit_1(capsys, prefix):
    code, document = run_json(capsys, "check-role", "--trust-policy", str(tp(prefix)))
    assert by_check(document)["trust-allows-appstream"]["status"] == "FAILED"
    assert by_check(document)["trust-allows-appstream"]["severity"] == "HIGH"
    assert code == 1


@pytest.mark.parametrize(
    "prefix, resource_arn",
    [("tp06", FLEET_ARN), ("tp07", f"arn:aws:appstream:us-east-1:{ACCOUNT}:image-builder/ib-1")],
)
def test_a_role_that_passes_every_offline_check_exits_0(capsys, prefix, resource_arn):
    code, document = run_json(capsys, "check-role", "--trust-policy", str(tp(prefix)), "--resource-arn", resource_arn)
    assert code == 0
    assert {f["status"] for f in document["findings"]} == {"PASSED"}


# Real permission policy files that are not one IAM policy as they stand: bad input, exit 2. The recorded
# messages and reasons are in test_cli_real_inputs.py.
NOT_A_POLICY = {"p05", "p06", "p07", "p08", "p09", "p13", "p14"}


@pytest.mark.parametrize("path", sorted(PERMISSION_POLICIES.glob("p*.json")), ids=lambda p: p.name[:3])
def test_every_real_permission_policy_is_evaluated_or_refused_as_bad_input(capsys, path):
    code, out, err = run(capsys, "check-role", "--trust-policy", str(tp("tp06")), "--resource-arn", FLEET_ARN,
                         "--policy", str(path), "--format", "json")
    if path.name[:3] in NOT_A_POLICY:
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and err.startswith(f"roleguard: error: --policy {path}: ")
    else:
        document = json.loads(out)
        assert err == ""
        assert code == (1 if any(f["status"] == "FAILED" for f in document["findings"]) else 0)


# --------------------------------------------------------------------------- ARNs and resources


def test_tp06_passes_for_the_fleet_its_condition_names(capsys):
    code, document = run_json(capsys, "check-role", "--trust-policy", str(tp("tp06")), "--resource-arn", FLEET_ARN)
    assert by_check(document)["trust-allows-appstream"]["status"] == "PASSED"
    assert document["resource_arn"] == FLEET_ARN


def test_tp06_fails_for_another_fleet(capsys):
    other = f"arn:aws:appstream:us-east-1:{ACCOUNT}:fleet/another-fleet"
    code, document = run_json(capsys, "check-role", "--trust-policy", str(tp("tp06")), "--resource-arn", other)
    finding = by_check(document)["trust-allows-appstream"]
    assert finding["status"] == "FAILED" and code == 1
    assert other in finding["detail"]


def test_tp06_fleet_arn_condition_fails_for_an_image_builder_of_the_same_name(capsys):
    builder = f"arn:aws:appstream:us-east-1:{ACCOUNT}:image-builder/your-fleet-name"
    code, document = run_json(capsys, "check-role", "--trust-policy", str(tp("tp06")), "--resource-arn", builder)
    finding = by_check(document)["trust-allows-appstream"]
    assert finding["status"] == "FAILED" and code == 1
    assert builder in finding["detail"]
    assert "image builder" in by_check(document)["role-same-account"]["detail"]


def test_app_block_builder_arn_is_a_resource_kind(capsys):
    abb = f"arn:aws:appstream:eu-west-1:{ACCOUNT}:app-block-builder/abb-1"
    code, document = run_json(capsys, "check-role", "--trust-policy", str(tp("tp07")), "--resource-arn", abb)
    assert "app block builder" in by_check(document)["role-same-account"]["detail"]
    # tp07 allows arn:aws:appstream:us-east-1:111122223333:* only: a builder in eu-west-1 is not covered.
    assert by_check(document)["trust-allows-appstream"]["status"] == "FAILED" and code == 1


def test_role_from_another_account_fails_role_same_account(capsys):
    code, document = run_json(
        capsys, "check-role", "--trust-policy", str(tp("tp06")), "--resource-arn", FLEET_ARN,
        "--role-arn", f"arn:aws:iam::{OTHER_ACCOUNT}:role/FleetRole",
    )
    finding = by_check(document)["role-same-account"]
    assert finding["status"] == "FAILED" and finding["severity"] == "HIGH" and code == 1
    assert OTHER_ACCOUNT in finding["detail"] and ACCOUNT in finding["detail"]
    assert document["role_arn"] == f"arn:aws:iam::{OTHER_ACCOUNT}:role/FleetRole"


def test_default_role_is_in_the_resource_account_and_default_fleet_in_the_role_account(capsys):
    resource = f"arn:aws:appstream:eu-west-1:{OTHER_ACCOUNT}:fleet/f1"
    _, document = run_json(capsys, "check-role", "--trust-policy", str(tp("tp01")), "--resource-arn", resource)
    assert document["role_arn"] == f"arn:aws:iam::{OTHER_ACCOUNT}:role/RoleUnderTest"
    assert by_check(document)["role-same-account"]["status"] == "PASSED"

    role = f"arn:aws:iam::{OTHER_ACCOUNT}:role/team/MyRole"
    _, document = run_json(capsys, "check-role", "--trust-policy", str(tp("tp01")), "--role-arn", role)
    assert document["resource_arn"] == f"arn:aws:appstream:us-east-1:{OTHER_ACCOUNT}:fleet/example-fleet"
    assert by_check(document)["role-same-account"]["status"] == "PASSED"
    assert "path /team/" in by_check(document)["role-not-service-role"]["detail"]

    _, document = run_json(capsys, "check-role", "--trust-policy", str(tp("tp01")))
    assert document["role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/RoleUnderTest"
    assert document["resource_arn"] == f"arn:aws:appstream:us-east-1:{ACCOUNT}:fleet/example-fleet"


def test_service_linked_role_arn_fails_role_not_service_role(capsys):
    slr = (f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/appstream.application-autoscaling.amazonaws.com/"
           "AWSServiceRoleForApplicationAutoScaling_AppStreamFleet")
    code, document = run_json(capsys, "check-role", "--trust-policy", str(tp("tp04")), "--role-arn", slr)
    finding = by_check(document)["role-not-service-role"]
    assert finding["status"] == "FAILED" and finding["severity"] == "HIGH" and code == 1
    assert "/aws-service-role/" in finding["detail"]


def test_service_role_path_alone_is_evaluated_normally(capsys):
    role = f"arn:aws:iam::{ACCOUNT}:role/service-role/StreamingRole"
    code, document = run_json(capsys, "check-role", "--trust-policy", str(tp("tp06")), "--role-arn", role,
                              "--resource-arn", FLEET_ARN)
    assert by_check(document)["role-not-service-role"]["status"] == "PASSED"


# --------------------------------------------------------------------------- file encodings


@pytest.fixture
def tp06_plain(capsys):
    code, document = run_json(capsys, "check-role", "--trust-policy", str(tp("tp06")), "--resource-arn", FLEET_ARN)
    assert code == 0
    return document


def test_url_encoded_file_gives_the_same_findings(capsys, tmp_path, tp06_plain):
    encoded = tmp_path / "tp06.urlencoded"
    encoded.write_text(quote(tp("tp06").read_text(), safe=""))
    with pytest.raises(json.JSONDecodeError):
        json.loads(encoded.read_text())  # really not JSON as it stands
    code, document = run_json(capsys, "check-role", "--trust-policy", str(encoded), "--resource-arn", FLEET_ARN)
    assert code == 0 and document == tp06_plain


def test_json_string_file_gives_the_same_findings(capsys, tmp_path, tp06_plain):
    wrapped = tmp_path / "tp06.string.json"
    wrapped.write_text(json.dumps(tp("tp06").read_text()))
    assert isinstance(json.loads(wrapped.read_text()), str)
    code, document = run_json(capsys, "check-role", "--trust-policy", str(wrapped), "--resource-arn", FLEET_ARN)
    assert code == 0 and document == tp06_plain


def test_utf8_bom_is_not_part_of_the_policy(capsys, tmp_path, tp06_plain):
    bom = tmp_path / "tp06.bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + tp("tp06").read_bytes())
    code, document = run_json(capsys, "check-role", "--trust-policy", str(bom), "--resource-arn", FLEET_ARN)
    assert code == 0 and document == tp06_plain


def test_url_encoded_permission_policy_is_decoded(capsys, monkeypatch, tmp_path):
    seen = {}

    def spy(facts):
        seen["r"] = facts.role
        return CheckResult(Status.PASSED, "seen")

    monkeypatch.setattr(roleguard.checks, "REGISTRY", (fake_check("spy", Status.PASSED, run=spy),))
    encoded = tmp_path / "p02.txt"
    encoded.write_text(quote(pp("p02").read_text(), safe=""))
    code, _, _ = run(capsys, "check-role", "--trust-policy", str(tp("tp01")), "--policy", str(encoded))
    assert code == 0
    assert seen["r"].inline_policies[0].document == json.loads(pp("p02").read_text())


# --------------------------------------------------------------------------- output formats


def test_json_output_is_one_object_with_exactly_the_documented_keys(capsys):
    code, out, err = run(capsys, "check-role", "--trust-policy", str(tp("tp05")), "--format", "json")
    document = json.loads(out)  # the whole of stdout is one JSON value
    assert set(document) == {"role_arn", "resource_arn", "findings"}
    assert document["findings"]
    for finding in document["findings"]:
        assert set(finding) == FINDING_KEYS
        assert finding["status"] in STATUSES and finding["severity"] in SEVERITIES
        assert all(isinstance(finding[k], str) and finding[k] for k in FINDING_KEYS)
    titles = {c.id: c.title for c in REGISTRY}
    assert all(f["title"] == titles[f["check"]] for f in document["findings"])
    assert by_check(document)["trust-allows-appstream"]["status"] == "FAILED"
    assert "your AWS account ID" in by_check(document)["trust-allows-appstream"]["detail"]
    assert code == 1


def test_text_is_the_default_format(capsys):
    code, out, err = run(capsys, "check-role", "--trust-policy", str(tp("tp05")))
    assert err == "" and code == 1
    assert not out.lstrip().startswith("{")
    lines = out.splitlines()
    assert len(lines) == len(expected_ids()) + 1
    assert lines[0].split()[:3] == ["FAILED", "HIGH", "trust-allows-appstream"]


def _text_statuses(out: str) -> list[str]:
    return [line.split()[0] for line in out.splitlines()[:-1]]


def test_text_puts_failures_first_on_a_real_input(capsys):
    # In registry order trust-allows-appstream comes after two PASSED checks.
    _, document = run_json(capsys, "check-role", "--trust-policy", str(tp("tp05")))
    json_order = [f["status"] for f in document["findings"]]
    assert json_order.index("FAILED") > 0
    code, out, _ = run(capsys, "check-role", "--trust-policy", str(tp("tp05")), "--format", "text")
    statuses = _text_statuses(out)
    assert statuses[0] == "FAILED"
    assert statuses == sorted(statuses, key=cli.STATUS_ORDER.index)
    assert sorted(statuses) == sorted(json_order)


def test_text_orders_failed_warning_not_available_passed(capsys, monkeypatch):
    monkeypatch.setattr(roleguard.checks, "REGISTRY", (
        fake_check("c-passed", Status.PASSED),
        fake_check("c-na", Status.NOT_AVAILABLE),
        fake_check("c-warning", Status.WARNING),
        fake_check("c-failed", Status.FAILED, "bad\nthing"),
        fake_check("c-passed-2", Status.PASSED),
    ))
    code, out, err = run(capsys, "check-role", "--trust-policy", str(tp("tp01")), "--format", "text")
    lines = out.splitlines()
    assert [line.split()[2] for line in lines[:-1]] == ["c-failed", "c-warning", "c-na", "c-passed", "c-passed-2"]
    assert lines[0].split() == ["FAILED", "LOW", "c-failed", "bad", "thing"]  # a detail stays on its line
    assert lines[-1].endswith("5 checks of role arn:aws:iam::111122223333:role/RoleUnderTest for "
                              "arn:aws:appstream:us-east-1:111122223333:fleet/example-fleet: "
                              "1 failed, 1 warnings, 1 not available, 2 passed")
    assert code == 1


def test_warning_and_not_available_alone_exit_0(capsys, monkeypatch):
    monkeypatch.setattr(roleguard.checks, "REGISTRY", (
        fake_check("c-na", Status.NOT_AVAILABLE), fake_check("c-warning", Status.WARNING)))
    code, _, _ = run(capsys, "check-role", "--trust-policy", str(tp("tp01")))
    assert code == 0


def test_text_failures_first_with_a_real_warning(capsys, tmp_path):
    trust = tmp_path / "org-condition.json"
    trust.write_text(json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": {"Service": "appstream.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-123example"}}}]}))
    code, out, _ = run(capsys, "check-role", "--trust-policy", str(trust), "--format", "text",
                       "--role-arn", f"arn:aws:iam::{OTHER_ACCOUNT}:role/X", "--resource-arn", FLEET_ARN)
    lines = out.splitlines()[:-1]
    by_id = {line.split()[2]: line.split()[0] for line in lines}
    assert by_id["role-same-account"] == "FAILED" and by_id["trust-allows-appstream"] == "WARNING"
    statuses = _text_statuses(out)
    assert statuses == sorted(statuses, key=cli.STATUS_ORDER.index) and statuses[0] == "FAILED"
    assert code == 1


# --------------------------------------------------------------------------- bad input: exit 2, one line


def _assert_bad_input(capsys, argv, *expected_in_message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("roleguard: error: ")
    assert "Traceback" not in err
    for text in expected_in_message:
        assert text in err, err


def test_missing_file(capsys, tmp_path):
    missing = tmp_path / "nope.json"
    _assert_bad_input(capsys, ["check-role", "--trust-policy", str(missing)], str(missing), "No such file")


def test_directory_instead_of_file(capsys, tmp_path):
    _assert_bad_input(capsys, ["check-role", "--trust-policy", str(tmp_path)], "--trust-policy", str(tmp_path))


def test_missing_policy_file_names_the_option(capsys, tmp_path):
    _assert_bad_input(capsys, ["check-role", "--trust-policy", str(tp("tp01")), "--policy", str(tmp_path / "p.json")],
                      "--policy", "p.json")


def test_not_json(capsys):
    prose = TRUST_POLICIES / "provenance.md"
    _assert_bad_input(capsys, ["check-role", "--trust-policy", str(prose)], "not JSON")


def test_not_utf8(capsys, tmp_path):
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00{")
    _assert_bad_input(capsys, ["check-role", "--trust-policy", str(binary)], "UTF-8")


def test_not_a_policy_real_file(capsys):
    # p14 is a list of managed-policy attachments, valid JSON but no policy.
    _assert_bad_input(capsys, ["check-role", "--trust-policy", str(pp("p14"))], "no Statement")


def test_cloudformation_intrinsic_in_a_permission_policy_is_not_a_policy(capsys):
    _assert_bad_input(capsys, ["check-role", "--trust-policy", str(tp("tp01")), "--policy", str(pp("p05"))],
                      "--policy", 'Statement[0].Resource is a CloudFormation intrinsic ({"Fn::Sub": "${Bucket.Arn}/*"}), '
                      "not an ARN: ", "deploys the stack", "aws iam get-role-policy")


def _policy_file(tmp_path, document, name="policy.json"):
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


APPSTREAM_TRUST = {"Effect": "Allow", "Principal": {"Service": "appstream.amazonaws.com"}, "Action": "sts:AssumeRole"}


@pytest.mark.parametrize(
    "document, fragments",
    [
        # Where the intrinsic sits decides what the message says belongs there.
        ({"Statement": [{**APPSTREAM_TRUST, "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]},
         ('Statement[0].Condition.StringEquals.aws:SourceAccount is a CloudFormation intrinsic ({"Ref": "AWS::AccountId"}), '
          "not a condition value",)),
        ({"Statement": {**APPSTREAM_TRUST, "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}}}},
         ("Statement.Principal.AWS is a CloudFormation intrinsic", "not a principal")),
        ({"Statement": [{**APPSTREAM_TRUST, "Action": [{"Fn::If": ["C", "sts:AssumeRole", "sts:TagSession"]}]}]},
         ('Statement[0].Action[0] is a CloudFormation intrinsic ({"Fn::If": ', "not an action name")),
        # Valid IAM grammar everywhere else, yet not the policy IAM will store: still refused.
        ({"Statement": [{**APPSTREAM_TRUST, "Sid": {"Fn::Sub": "${AWS::StackName}"}}]},
         ("Statement[0].Sid is a CloudFormation intrinsic", "not a literal value")),
        ({"Fn::GetAtt": ["Role", "AssumeRolePolicyDocument"]}, ("the document is a CloudFormation intrinsic",)),
        ({"Statement": [{"Fn::If": ["C", APPSTREAM_TRUST, {"Ref": "AWS::NoValue"}]}]},
         ("Statement[0] is a CloudFormation intrinsic",)),
    ],
    ids=["condition-ref", "principal-sub", "action-if", "sid-sub", "whole-document", "statement-if"],
)
def test_cloudformation_intrinsics_anywhere_are_refused_with_the_place(capsys, tmp_path, document, fragments):
    _assert_bad_input(capsys, ["check-role", "--trust-policy", _policy_file(tmp_path, document)],
                      "--trust-policy", *fragments, "deploys the stack")


def test_a_long_intrinsic_is_shortened_and_counted(capsys, tmp_path):
    join = {"Fn::Join": ["", ["arn:aws:s3:::", {"Ref": "BucketWithAVeryLongLogicalIdIndeed"}, "/prefix/", "*" * 60]]}
    doc = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": [join, {"Ref": "Other"}]}]}
    code, out, err = run(capsys, "check-role", "--trust-policy", str(tp("tp01")), "--policy", _policy_file(tmp_path, doc))
    assert code == 2 and err.count("\n") == 1
    assert '({"Fn::Join": ["", ["arn:aws:s3:::", ' in err and " ...}), not an ARN" in err
    assert "(the first of 2 intrinsics in the file)" in err


def test_terraform_and_cdk_interpolation_is_literal_text(capsys, tmp_path):
    # `${var.x}` is a string to IAM: judged as written, like p04 and p10 (not refused like an intrinsic).
    doc = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                          "Resource": "arn:aws:s3:::${var.bucket}/*", "Condition": {"StringEquals": {
                              "aws:SourceVpce": "${aws_vpc_endpoint.s3.id}"}}}]}
    code, document = run_json(capsys, "check-role", "--trust-policy", str(tp("tp07")), "--policy",
                              _policy_file(tmp_path, doc), "--resource-arn", FLEET_ARN)
    assert code == 0
    assert by_check(document)["least-privilege"]["status"] == "PASSED"
    assert by_check(document)["network-conditions"]["status"] == "PASSED"


@pytest.mark.parametrize(
    "content, message",
    [
        ([{"Statement": [APPSTREAM_TRUST]}, {"Version": "2012-10-17", "Statement": []}],
         "holds a list of 2 policies, not one policy: write each policy to its own file"),
        ({"A": {"Statement": [APPSTREAM_TRUST]}, "B": {"Statement": []}},
         "holds 2 policies keyed by name (A, B), not one policy: write each policy to its own file"),
        ([{"Statement": [APPSTREAM_TRUST]}], "holds a list of one policy, not the policy itself: give the policy "
                                             "object alone"),
        ({"TrustPolicy": {"Statement": [APPSTREAM_TRUST]}}, "holds one policy keyed by its name (TrustPolicy)"),
        ({f"P{i}": {"Statement": []} for i in range(7)}, "holds 7 policies keyed by name (P0, P1, P2, P3, P4 and 2 more)"),
        ({"PolicyName": "x", "PolicyDocument": {"Statement": []}}, "policy wrapped in PolicyDocument"),
        ({"RoleName": "x", "AssumeRolePolicyDocument": {"Statement": [APPSTREAM_TRUST]}},
         "give the AssumeRolePolicyDocument object alone"),
        ({"PolicyArns": ["arn:aws:iam::111122223333:policy/Mine"]},
         "names managed policies by ARN (arn:aws:iam::111122223333:policy/Mine) but holds no policy document"),
        ({"Version": "2012-10-17"}, "policy has no Statement"),
        ([1, 2], "must be a JSON object, got list"),
    ],
    ids=["list", "map", "list-of-one", "map-of-one", "map-of-seven", "policy-document-wrapper", "role-wrapper", "arns", "no-statement", "list-of-junk"],
)
def test_several_or_wrapped_policies_are_refused_with_what_to_do(capsys, tmp_path, content, message):
    _assert_bad_input(capsys, ["check-role", "--trust-policy", _policy_file(tmp_path, content)], message)


@pytest.mark.parametrize("content", ["[" * 100_000 + "]" * 100_000, '{"a":' * 5_000 + "1" + "}" * 5_000],
                         ids=["deep-list", "deep-object"])
def test_json_nested_too_deeply(capsys, tmp_path, content):
    _assert_bad_input(capsys, ["check-role", "--trust-policy", _policy_file(tmp_path, content)],
                      "JSON nested too deeply to be a policy")


def test_a_url_encoded_list_of_policies_is_recognised(capsys, tmp_path):
    encoded = quote(json.dumps([{"Statement": [APPSTREAM_TRUST]}] * 3), safe="")
    _assert_bad_input(capsys, ["check-role", "--trust-policy", _policy_file(tmp_path, encoded)],
                      "holds a list of 3 policies")


@pytest.mark.parametrize(
    "content, message",
    [
        ("[]", "must be a JSON object"),
        ('"just text"', "JSON string that does not hold JSON"),
        ("", "empty"),
        ('{"Statement": [{"Effect": "Maybe", "Action": "sts:AssumeRole"}]}', "Effect"),
        (quote('{"Statement": 1}'), "Statement must be"),
    ],
    ids=["array", "string", "empty", "bad-effect", "url-encoded-bad"],
)
def test_not_a_policy(capsys, tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    _assert_bad_input(capsys, ["check-role", "--trust-policy", str(bad)], message)


def test_bad_boundary(capsys, tmp_path):
    bad = tmp_path / "boundary.json"
    bad.write_text("{}")
    _assert_bad_input(capsys, ["check-role", "--trust-policy", str(tp("tp01")), "--boundary", str(bad)],
                      "--boundary", "no Statement")


@pytest.mark.parametrize(
    "role_arn",
    ["not-an-arn", "arn:aws:iam::1234:role/x", "arn:aws:iam::111122223333:user/alice",
     "arn:aws:s3:::bucket", "arn:aws:iam::111122223333:role/has space"],
)
def test_invalid_role_arn(capsys, role_arn):
    _assert_bad_input(capsys, ["check-role", "--trust-policy", str(tp("tp01")), "--role-arn", role_arn], "--role-arn")


@pytest.mark.parametrize(
    "resource_arn, message",
    [
        ("not-an-arn", "not an AppStream ARN"),
        ("arn:aws:appstream:us-east-1:111122223333:stack/my-stack", "unknown resource kind 'stack'"),
        ("arn:aws:appstream:us-east-1:111122223333:image/img", "unknown resource kind 'image'"),
        ("arn:aws:appstream:us-east-1::fleet/f", "not 12 digits"),
        ("arn:aws:appstream:us-east-1:111122223333:fleet/bad/name", "not a valid AppStream fleet name"),
        ("arn:aws:ec2:us-east-1:111122223333:instance/i-1", "not an AppStream ARN"),
    ],
)
def test_invalid_resource_arn(capsys, resource_arn, message):
    _assert_bad_input(capsys, ["check-role", "--trust-policy", str(tp("tp01")), "--resource-arn", resource_arn],
                      "--resource-arn", message)


# --------------------------------------------------------------------------- installed command, cheap import


def test_installed_console_script_runs_offline_without_boto3(tmp_path):
    script = Path(sys.executable).parent / "roleguard"
    assert script.is_file(), f"console script not installed at {script}: run pip install -e ."
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PYTHONPROFILEIMPORTTIME="1", HOME=str(tmp_path))  # import log on stderr; no AWS config in reach
    result = subprocess.run(
        [str(script), "check-role", "--trust-policy", str(tp("tp05")), "--format", "json"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    document = json.loads(result.stdout)
    assert by_check(document)["trust-allows-appstream"]["status"] == "FAILED"
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "roleguard.engine" in imported  # the import log is really there
    assert not {m for m in imported if m.split(".")[0] in ("boto3", "botocore")}


def test_importing_the_cli_imports_nothing_heavy():
    code = ("import sys, roleguard.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('roleguard', 'boto3', 'botocore')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "['roleguard', 'roleguard.cli']"
