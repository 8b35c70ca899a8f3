"""`roleguard check-role` on every file of ../shared/real-inputs: the recorded verdict of every offline check.

Two tables, one row per file, each with its exit code and the reason in one line:

(a) every trust policy tp01..tp16 as --trust-policy, for the fleet my-fleet and the role FleetRole (path /) in
    111122223333, no permission policy;
(b) every permission policy p01..p15 as --policy, beside tp07 (a trust that passes every offline check for
    that fleet), so that least-privilege and network-conditions alone decide the exit code.

The verdicts the unit tests of each check already record for these files are imported, not copied:
trust-allows-appstream from test_trust_allows_appstream.REAL_TRUST_EXPECTED, trust-confused-deputy and
trust-no-foreign-principals from test_trust_best_practices.REAL_EXPECTED, least-privilege from
test_least_privilege.REAL_EXPECTED (same fleet, same role). What is new here is what only the command decides:
the checks it adds from the ARNs, which checks run, the exit code, and the files it refuses.

Files it refuses (exit 2, one line saying why and what to do): CloudFormation template fragments, whose
intrinsics ({"Ref": ...}, {"Fn::GetAtt": ...}) CloudFormation fills in only at deployment (p05-p08, p13); a
map of several inline policies (p09); a list of managed policy ARNs (p14). Through the Lambda such a file
cannot occur: IAM stores only rendered policies. Terraform/CDK `${...}` text is a string to IAM and is judged
as written (p04, p09's policies, p10).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from roleguard import cli
from roleguard.checks import REGISTRY
from roleguard.model import Severity, Status
from tests.shared_inputs import PERMISSION_POLICIES, TRUST_POLICIES
from tests.unit.test_least_privilege import REAL_EXPECTED as LEAST_PRIVILEGE_EXPECTED
from tests.unit.test_trust_allows_appstream import REAL_TRUST_EXPECTED
from tests.unit.test_trust_best_practices import REAL_EXPECTED as TRUST_BEST_PRACTICE_EXPECTED

pytestmark = pytest.mark.unit

ACCOUNT = "111122223333"
RESOURCE_ARN = f"arn:aws:appstream:us-east-1:{ACCOUNT}:fleet/my-fleet"  # the fleet of the imported tables
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/FleetRole"
TARGET = ("--resource-arn", RESOURCE_ARN, "--role-arn", ROLE_ARN)
OFFLINE_CHECKS = ("role-same-account", "role-not-service-role", "trust-allows-appstream", "least-privilege",
                  "trust-confused-deputy", "trust-no-foreign-principals", "network-conditions")

P = (Status.PASSED, Severity.INFORMATIONAL)
FAILED_HIGH, FAILED_MEDIUM, FAILED_LOW = ((Status.FAILED, s) for s in (Severity.HIGH, Severity.MEDIUM, Severity.LOW))


def _file(folder: Path, prefix: str) -> Path:
    (path,) = sorted(folder.glob(f"{prefix}-*.json"))
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["check-role", *argv, *TARGET, "--format", "json"])
    out, err = capsys.readouterr()
    return code, out, err


def verdicts(out: str) -> dict[str, tuple[Status, Severity]]:
    return {f["check"]: (Status(f["status"]), Severity(f["severity"])) for f in json.loads(out)["findings"]}


def details(out: str) -> dict[str, str]:
    return {f["check"]: f["detail"] for f in json.loads(out)["findings"]}


def test_the_offline_checks_are_the_registry_minus_the_live_ones():
    # The tables below name every offline check; a check added to the registry must get a column here.
    assert tuple(c.id for c in REGISTRY if c.id not in cli.OFFLINE_EXCLUDED) == OFFLINE_CHECKS


# =========================================================================== (a) trust policies

# What the command adds for every trust policy here: the ARNs are the same account and a plain role name and
# path; there is no permission policy, so least-privilege checks 0 statements and network-conditions has
# nothing to limit.
TRUST_FILE_FIXED = {"role-same-account": P, "role-not-service-role": P, "least-privilege": P,
                    "network-conditions": P}

# prefix -> (exit code, why), the statuses of the trust checks coming from the imported tables.
TRUST_TABLE = {
    "tp01": (1, "AWS docs' instance-role trust: AppStream may assume it, but for any account's resource "
                "(no aws:SourceAccount/SourceArn: confused deputy FAILED LOW)"),
    "tp02": (1, "the service-role trust, Service as a string: same verdict as tp01"),
    "tp03": (1, "trusts only application-autoscaling.amazonaws.com: AppStream cannot assume it (HIGH), the other "
                "service is foreign (MEDIUM); no AppStream statement, so no confused-deputy finding"),
    "tp04": (1, "the autoscaling service-linked role's principal: as tp03 (the ARN given here has path /; the real "
                "SLR's /aws-service-role/ path fails role-not-service-role, see test_cli)"),
    "tp05": (1, "AWS docs' literal 'your AWS account ID' never equals 111122223333: AppStream cannot assume it; "
                "the SourceAccount condition is there, so confused-deputy PASSED"),
    "tp06": (1, "aws:SourceArn names fleet/your-fleet-name, not my-fleet: AppStream cannot assume it for this "
                "fleet; the condition protects against the confused deputy"),
    "tp07": (0, "ArnLike aws:SourceArn arn:aws:appstream:us-east-1:111122223333:* covers my-fleet: every offline "
                "check passes"),
    "tp08": (1, "trusts only prod.euc.ecm.amazonaws.com (its empty Condition changes nothing): as tp03"),
    "tp09": (1, "ec2.amazonaws.com beside appstream: AppStream may assume it, but EC2 shares the role (MEDIUM) and "
                "nothing limits the account (LOW)"),
    "tp10": (1, "Statement as one object is valid IAM grammar: same verdict as tp01"),
    "tp11": (1, 'an empty "Sid" is valid (the statement is labelled #1): same verdict as tp01'),
    "tp12": (1, "scalars everywhere: same verdict as tp01"),
    "tp13": (1, "Service and Action as one-element lists: same verdict as tp01"),
    "tp14": (1, "CDK's ServicePrincipal rendering (Action, Effect, Principal order): same verdict as tp01"),
    "tp15": (1, "EC2 Image Builder role trusting only ec2.amazonaws.com: as tp03"),
    "tp16": (1, "boto3 json.dumps compact one-line text: same verdict as tp01"),
}


def _status_severity(status: Status | None, severity: Severity | None, default: Severity):
    if status is None:
        return None
    if status is Status.PASSED:
        return P
    return status, severity or default


def trust_row(prefix: str) -> dict[str, tuple[Status, Severity]]:
    """Every offline check's (status, severity) for one trust policy file, in registry order."""
    allows, _ = REAL_TRUST_EXPECTED[prefix]
    deputy, foreign, foreign_severity = TRUST_BEST_PRACTICE_EXPECTED[prefix]
    row = {
        **TRUST_FILE_FIXED,
        "trust-allows-appstream": _status_severity(allows, None, Severity.HIGH),  # a prerequisite: HIGH
        "trust-confused-deputy": _status_severity(deputy, None, Severity.LOW),  # None: not applicable
        "trust-no-foreign-principals": _status_severity(foreign, foreign_severity, Severity.HIGH),
    }
    return {check: row[check] for check in OFFLINE_CHECKS if row[check] is not None}


def test_every_real_trust_policy_has_a_row():
    assert {p.name[:4] for p in TRUST_POLICIES.glob("tp*.json")} == set(TRUST_TABLE)


@pytest.mark.parametrize("prefix", sorted(TRUST_TABLE))
def test_the_trust_table_is_consistent(prefix):
    code, reason = TRUST_TABLE[prefix]
    assert reason and "\n" not in reason
    assert code == (1 if any(s is Status.FAILED for s, _ in trust_row(prefix).values()) else 0)


@pytest.mark.parametrize("prefix", sorted(TRUST_TABLE))
def test_real_trust_policy(capsys, prefix):
    code, reason = TRUST_TABLE[prefix]
    got, out, err = run(capsys, "--trust-policy", str(_file(TRUST_POLICIES, prefix)))
    assert err == ""
    assert verdicts(out) == trust_row(prefix), reason
    assert list(verdicts(out)) == list(trust_row(prefix))  # registry order
    assert REAL_TRUST_EXPECTED[prefix][1] in details(out)["trust-allows-appstream"]
    assert got == code, reason


def test_trust_table_in_brief():
    # The same table, spelt out, for a reader of this file; asserted so that it cannot drift.
    def short(prefix):
        row = trust_row(prefix)
        return {c: (s.value if s is Status.PASSED else f"{s.value} {v.value}") for c, (s, v) in row.items()
                if c not in TRUST_FILE_FIXED}
    assert short("tp01") == {"trust-allows-appstream": "PASSED", "trust-confused-deputy": "FAILED LOW",
                             "trust-no-foreign-principals": "PASSED"}
    assert short("tp03") == {"trust-allows-appstream": "FAILED HIGH", "trust-no-foreign-principals": "FAILED MEDIUM"}
    assert short("tp05") == short("tp06") == {"trust-allows-appstream": "FAILED HIGH",
                                              "trust-confused-deputy": "PASSED",
                                              "trust-no-foreign-principals": "PASSED"}
    assert short("tp07") == {"trust-allows-appstream": "PASSED", "trust-confused-deputy": "PASSED",
                             "trust-no-foreign-principals": "PASSED"}
    assert short("tp09") == {"trust-allows-appstream": "PASSED", "trust-confused-deputy": "FAILED LOW",
                             "trust-no-foreign-principals": "FAILED MEDIUM"}
    same = {p for p in TRUST_TABLE if short(p) == short("tp01")}
    assert same == {"tp01", "tp02", "tp10", "tp11", "tp12", "tp13", "tp14", "tp16"}
    assert {p for p in TRUST_TABLE if short(p) == short("tp03")} == {"tp03", "tp04", "tp08", "tp15"}


# =========================================================================== (b) permission policies

GOOD_TRUST = _file(TRUST_POLICIES, "tp07")  # passes every offline check for my-fleet (table (a))
PERMISSION_FILE_FIXED = {"role-same-account": P, "role-not-service-role": P, "trust-allows-appstream": P,
                         "trust-confused-deputy": P, "trust-no-foreign-principals": P}

# Evaluated files: prefix -> (network-conditions, exit code, why). least-privilege comes from
# test_least_privilege.REAL_EXPECTED. No real policy carries a network condition, so network-conditions fails
# (LOW) for all of them, and each exits 1.
EVALUATED = {
    "p01": (FAILED_LOW, 1, "AmazonAppStreamServiceAccess: ENI create/delete and EIP associate/disassociate on * "
                           "(write on *, MEDIUM); its S3 writes name AppStream's bucket prefixes"),
    "p02": (FAILED_LOW, 1, "s3:PutObject on arn:aws:s3:::*/* is every object of every bucket (write on *, MEDIUM); "
                           "List/Get are reads"),
    "p03": (FAILED_LOW, 1, "appstream:*, cloudwatch:*, logs:* (service-wide wildcards, MEDIUM) and ENI/S3 writes on *"),
    "p04": (FAILED_LOW, 1, "SSM/ec2messages scoped to one account's instance/* (the ${var} text is taken as "
                           "written): least-privilege PASSED; no network condition"),
    "p10": (FAILED_LOW, 1, "sessions on named instance/document/session ARNs, Describe/Get on *: least-privilege "
                           "PASSED; no network condition"),
    "p11": (FAILED_LOW, 1, "ec2:ModifyImageAttribute on * despite the Sid's 'WithTagCondition' (MEDIUM)"),
    "p12": (FAILED_LOW, 1, "ec2:CopyImage on * (MEDIUM); ec2:CreateTags is Tagging, not a finding"),
    "p15": (FAILED_LOW, 1, "the autoscaling SLR policy: appstream:UpdateFleet and CloudWatch alarm writes on * (MEDIUM)"),
}

# Refused files (exit 2): prefix -> (what the one-line error says, why). Through IAM the least-privilege check
# would call the CloudFormation ones WARNING (statement unreadable) or judge what is readable (p13); a file
# holding them is a template, so the command says so instead of guessing.
REFUSED = {
    "p05": ('Statement[0].Resource is a CloudFormation intrinsic ({"Fn::Sub": "${Bucket.Arn}/*"}), not an ARN',
            "the S3 bucket ARN is a Fn::Sub CloudFormation fills in at deployment"),
    "p06": ('Statement[0].Resource is a CloudFormation intrinsic ({"Fn::GetAtt": ["DCVMetricsStream", "Arn"]})',
            "the Kinesis stream ARN is a Fn::GetAtt"),
    "p07": ('Statement[0].Resource is a CloudFormation intrinsic ({"Fn::GetAtt": '
            '["AppStream2SessionExpirationProxy", "Arn"]}), not an ARN', "the Lambda function ARN is a Fn::GetAtt"),
    "p08": ('Statement[1].Resource[0] is a CloudFormation intrinsic ({"Ref": "ImageBuilderSecret"}), not an ARN '
            "(the first of 3 intrinsics in the file)", "three of its four statements hold Ref/Fn::GetAtt/Fn::Join"),
    "p09": ("holds 2 policies keyed by name (AllowSSMAccess, AllowS3Access), not one policy: write each policy to "
            "its own file and give one --policy FILE per policy", "a CDK role's two inline policies in one map"),
    "p13": ('Statement[0].Resource[0] is a CloudFormation intrinsic ({"Fn::GetAtt": '
            '["LambdaFunction01CreateBuilder", "Arn"]}), not an ARN (the first of 4 intrinsics in the file)',
            "its first statement's four Lambda ARNs are Fn::GetAtt"),
    "p14": ("names managed policies by ARN (arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore, "
            "arn:aws:iam::aws:policy/service-role/AmazonAppStreamServiceAccess and 1 more) but holds no policy "
            "document (no Statement): give each policy's document (aws iam get-policy-version) as its own --policy "
            "FILE", "a list of managed-policy attachments, not a policy"),
}
INTRINSIC_ADVICE = "CloudFormation fills it in only when it deploys the stack, so check the rendered policy instead"


def test_every_real_permission_policy_has_a_row():
    prefixes = {p.name[:3] for p in PERMISSION_POLICIES.glob("p*.json")}
    assert prefixes == set(EVALUATED) | set(REFUSED) and not set(EVALUATED) & set(REFUSED)
    # Every file the least-privilege unit test records and the command evaluates reuses that record.
    assert set(EVALUATED) <= set(LEAST_PRIVILEGE_EXPECTED)


def least_privilege_expected(prefix: str, policy_name: str) -> tuple[tuple[Status, Severity], str]:
    status, severity, fragment = LEAST_PRIVILEGE_EXPECTED[prefix]
    # The unit test names its inline policy p0; the command names it after the file.
    fragment = fragment.replace("inline policy p0 ", f"inline policy {policy_name} ")
    return _status_severity(status, severity, Severity.MEDIUM), fragment


def permission_row(prefix: str) -> dict[str, tuple[Status, Severity]]:
    network, _, _ = EVALUATED[prefix]
    (least, _) = least_privilege_expected(prefix, "")
    row = {**PERMISSION_FILE_FIXED, "least-privilege": least, "network-conditions": network}
    return {check: row[check] for check in OFFLINE_CHECKS}


@pytest.mark.parametrize("prefix", sorted(EVALUATED))
def test_the_permission_table_is_consistent(prefix):
    _, code, reason = EVALUATED[prefix]
    assert reason and "\n" not in reason
    assert code == (1 if any(s is Status.FAILED for s, _ in permission_row(prefix).values()) else 0)


@pytest.mark.parametrize("prefix", sorted(EVALUATED))
def test_real_permission_policy(capsys, prefix):
    _, code, reason = EVALUATED[prefix]
    path = _file(PERMISSION_POLICIES, prefix)
    got, out, err = run(capsys, "--trust-policy", str(GOOD_TRUST), "--policy", str(path))
    assert err == ""
    assert verdicts(out) == permission_row(prefix), reason
    _, fragment = least_privilege_expected(prefix, path.name)
    assert fragment in details(out)["least-privilege"]
    assert got == code, reason


@pytest.mark.parametrize("prefix", sorted(REFUSED))
def test_real_file_that_is_not_one_policy_is_refused_with_one_clear_line(capsys, prefix):
    message, reason = REFUSED[prefix]
    path = _file(PERMISSION_POLICIES, prefix)
    got, out, err = run(capsys, "--trust-policy", str(GOOD_TRUST), "--policy", str(path))
    assert (got, out) == (2, ""), reason
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"roleguard: error: --policy {path}: {message}"), err
    if "intrinsic" in message:
        assert INTRINSIC_ADVICE in err and "aws iam get-role-policy" in err


def test_permission_table_in_brief():
    def short(prefix):
        return {c: (s.value if s is Status.PASSED else f"{s.value} {v.value}")
                for c, (s, v) in permission_row(prefix).items() if c not in PERMISSION_FILE_FIXED}
    medium = {"least-privilege": "FAILED MEDIUM", "network-conditions": "FAILED LOW"}
    assert {p for p in EVALUATED if short(p) == medium} == {"p01", "p02", "p03", "p11", "p12", "p15"}
    assert short("p04") == short("p10") == {"least-privilege": "PASSED", "network-conditions": "FAILED LOW"}


# --------------------------------------------------------------------------- doing what the errors say


def test_p09_split_as_the_error_says_gives_the_least_privilege_record(capsys, tmp_path):
    files = []
    for name, document in json.loads(_file(PERMISSION_POLICIES, "p09").read_text()).items():
        files += ["--policy", str(tmp_path / f"{name}.json")]
        (tmp_path / f"{name}.json").write_text(json.dumps(document))
    got, out, err = run(capsys, "--trust-policy", str(GOOD_TRUST), *files)
    (least, fragment) = least_privilege_expected("p09", "")
    assert verdicts(out)["least-privilege"] == least and fragment in details(out)["least-privilege"]
    assert verdicts(out)["network-conditions"] == FAILED_LOW
    assert "inline policy AllowSSMAccess.json statement #1" in details(out)["network-conditions"]
    assert got == 1


def _rendered(value, service="s3"):
    """The document with every intrinsic replaced by an ARN of this account, as CloudFormation would render it."""
    if cli._is_intrinsic(value):
        ((function, argument),) = value.items()
        logical_id = {"Ref": argument, "Fn::GetAtt": argument[0]}.get(function, "rendered")
        return f"arn:aws:{service}:us-east-1:{ACCOUNT}:{logical_id}"
    if isinstance(value, dict):
        if "Action" in value:
            first = value["Action"] if isinstance(value["Action"], str) else value["Action"][0]
            service = first.split(":")[0]
        return {k: _rendered(v, service) for k, v in value.items()}
    if isinstance(value, list):
        return [_rendered(v, service) for v in value]
    return value


# After rendering: the files whose only problem was an unreadable statement pass least-privilege; p13 keeps the
# failure its readable statement already has (test_least_privilege records it FAILED MEDIUM).
RENDERED_LEAST_PRIVILEGE = {"p05": P, "p06": P, "p07": P, "p08": P, "p13": FAILED_MEDIUM}


@pytest.mark.parametrize("prefix", sorted(RENDERED_LEAST_PRIVILEGE))
def test_a_rendered_template_fragment_is_evaluated(capsys, tmp_path, prefix):
    rendered = tmp_path / _file(PERMISSION_POLICIES, prefix).name
    rendered.write_text(json.dumps(_rendered(json.loads(_file(PERMISSION_POLICIES, prefix).read_text()))))
    got, out, err = run(capsys, "--trust-policy", str(GOOD_TRUST), "--policy", str(rendered))
    assert err == "", err
    assert verdicts(out)["least-privilege"] == RENDERED_LEAST_PRIVILEGE[prefix], details(out)["least-privilege"]
    if prefix == "p13":
        assert LEAST_PRIVILEGE_EXPECTED["p13"][:2] == RENDERED_LEAST_PRIVILEGE["p13"]
        assert LEAST_PRIVILEGE_EXPECTED["p13"][2] in details(out)["least-privilege"]
    assert verdicts(out)["network-conditions"] == FAILED_LOW and got == 1
