"""`roleguard check-role`: the Lambda's checks on policy files, offline, before anything is deployed.

The command builds the same EvaluationFacts the Lambda's gateways build, from
files instead of IAM and AppStream, and runs the same engine
(`roleguard.engine.evaluate`) with every registered check except those that
need live AWS facts (OFFLINE_EXCLUDED). It never imports boto3 and makes no
network call.

Importing this module is cheap: the engine, the checks and the policy
grammar are imported only when a command runs.

Exit codes: 0 nothing FAILED, 1 something FAILED, 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # pragma: no cover - typing only, keeps `import roleguard.cli` cheap
    from .checks.base import Check
    from .model import EvaluationFacts, Finding, PolicyDocument

PROG = "roleguard"

# Checks that judge facts only live AWS can give. Offline they could only be
# wrong, so they are not run at all (rather than reported as NOT_AVAILABLE):
#   role-exists    - needs iam:GetRole; a policy file says nothing about whether the role exists.
#   agent-version  - needs the image builder's or the fleet image's AppStream agent version (DescribeImages).
#   dedicated-role - needs every fleet, image builder and app block builder of the region (Describe*).
# Every other check in the registry runs, including ones added after this was written.
OFFLINE_EXCLUDED: frozenset[str] = frozenset({"role-exists", "agent-version", "dedicated-role"})

DEFAULT_ACCOUNT = "111122223333"
DEFAULT_ROLE_NAME = "RoleUnderTest"
DEFAULT_FLEET_NAME = "example-fleet"
# The region of the default resource: us-east-1, or the first region of the role's partition.
DEFAULT_REGIONS = {
    "aws": "us-east-1",
    "aws-cn": "cn-north-1",
    "aws-us-gov": "us-gov-west-1",
    "aws-iso": "us-iso-east-1",
    "aws-iso-b": "us-isob-east-1",
}

# What --resource-arn may name: the resource types that take an IAM role.
RESOURCE_KINDS = ("fleet", "image-builder", "app-block-builder")
# AppStream's own name pattern for fleets, image builders and app block builders (CreateFleet etc.).
_RESOURCE_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,100}$")
_ACCOUNT = re.compile(r"^[0-9]{12}$")

# Text output: failures first.
STATUS_ORDER = ("FAILED", "WARNING", "NOT_AVAILABLE", "PASSED")
_SUMMARY_LABELS = {"FAILED": "failed", "WARNING": "warnings", "NOT_AVAILABLE": "not available", "PASSED": "passed"}
FORMATS = ("text", "json")
DEFAULT_FORMAT = "text"


class InputError(ValueError):
    """Bad input found by this module's own validation; str(e) is the one-line message."""


# --------------------------------------------------------------------------- arguments


def _version() -> str:
    from . import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="AppStream Role Guard: checks the IAM roles of AppStream 2.0 fleets, image builders "
        "and app block builders.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    check = commands.add_parser(
        "check-role",
        help="check a role's trust and permission policy files offline, before deployment",
        description=(
            "Check an IAM role for an AppStream resource from policy files, offline: no AWS credentials, "
            "no network. Runs the same checks as the Lambda except those that need live AWS facts "
            f"({', '.join(sorted(OFFLINE_EXCLUDED))}). A policy file may hold the policy as a JSON object, "
            "as a JSON string holding the policy JSON, or as URL-encoded JSON (as the IAM API returns it)."
        ),
        epilog=(
            "Defaults: without --role-arn the role is arn:aws:iam::ACCOUNT:role/RoleUnderTest, where ACCOUNT "
            f"is the --resource-arn's account if given, else {DEFAULT_ACCOUNT}. Without --resource-arn the "
            f"resource is the fleet '{DEFAULT_FLEET_NAME}' in the role's account, region us-east-1 (or the "
            "first region of the role's partition). "
            "Exit status: 0 when no check FAILED, 1 when at least one check FAILED, 2 on bad input "
            "(missing or unreadable file, not JSON, not a policy, invalid ARN) or bad usage. Not one policy, so "
            "bad input: a file holding several policies (a map or list of them) or only managed policy ARNs, "
            "and a CloudFormation template fragment with intrinsics ({\"Ref\": ...}, {\"Fn::Sub\": ...}) "
            "left in; Terraform/CDK ${...} text is a string and is checked as written."
        ),
    )
    check.add_argument("--trust-policy", required=True, metavar="FILE", help="the role's trust (assume-role) policy")
    check.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="FILE",
        help="a permission policy of the role, evaluated as an inline policy named after the file; repeatable",
    )
    check.add_argument("--boundary", metavar="FILE", help="the role's permissions boundary policy")
    check.add_argument(
        "--role-arn",
        metavar="ARN",
        help="the role's ARN: account, path and name (default: arn:aws:iam::ACCOUNT:role/RoleUnderTest, "
        f"ACCOUNT = the --resource-arn's account, else {DEFAULT_ACCOUNT})",
    )
    check.add_argument(
        "--resource-arn",
        metavar="ARN",
        help="the AppStream fleet, image-builder or app-block-builder ARN the role is for; the resource kind "
        f"comes from the ARN (default: fleet/{DEFAULT_FLEET_NAME} in the role's account, us-east-1)",
    )
    check.add_argument(
        "--format",
        choices=FORMATS,
        default=DEFAULT_FORMAT,
        help=f"output: 'text' for people, one line per finding, failures first; 'json' one object with "
        f"\"findings\" (default: {DEFAULT_FORMAT})",
    )
    check.set_defaults(handler=_check_role)
    return parser


# --------------------------------------------------------------------------- inputs


# CloudFormation resolves intrinsic functions ({"Ref": ...}, {"Fn::Sub": ...}, {"Fn::GetAtt": ...}) only when
# it deploys the stack. A file that still holds one is a template fragment, not the policy IAM will store.
# Terraform/CDK `${...}` text is different: it is a string, and is judged as written (it names resources).
_RENDER_HINT = (
    "CloudFormation fills it in only when it deploys the stack, so check the rendered policy instead (the "
    "deployed one: aws iam get-role-policy / get-policy-version), or put the value it stands for in its place"
)
_MANAGED_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/")


def _is_intrinsic(value: object) -> bool:
    return isinstance(value, dict) and any(k == "Ref" or k.startswith("Fn::") for k in value if isinstance(k, str))


def _intrinsics(value: object, path: str = "") -> list[tuple[str, dict]]:
    """Every CloudFormation intrinsic in a decoded document, in document order, with its path."""
    if _is_intrinsic(value):
        return [(path, value)]  # type: ignore[list-item]
    found: list[tuple[str, dict]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _intrinsics(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _intrinsics(item, f"{path}[{index}]")
    return found


def _what_belongs_at(path: str) -> str:
    parts = re.split(r"[.\[]", path)
    if any(p in ("Principal", "NotPrincipal") for p in parts):
        return "a principal"
    if "Condition" in parts:
        return "a condition value"
    if any(p in ("Resource", "NotResource") for p in parts):
        return "an ARN"
    if any(p in ("Action", "NotAction") for p in parts):
        return "an action name"
    return "a literal value"


def _shown(value: object, limit: int = 80) -> str:
    text = json.dumps(value, separators=(", ", ": "))
    return text if len(text) <= limit else text[: limit - 4] + " ...}"


def _intrinsic_problem(document: dict) -> str | None:
    found = _intrinsics(document)
    if not found:
        return None
    path, value = found[0]
    where = path or "the document"
    more = f" (the first of {len(found)} intrinsics in the file)" if len(found) > 1 else ""
    return (f"{where} is a CloudFormation intrinsic ({_shown(value)}), not {_what_belongs_at(path)}{more}: "
            f"{_RENDER_HINT}")


def _is_policy_like(value: object) -> bool:
    return isinstance(value, dict) and ("Statement" in value or isinstance(value.get("PolicyDocument"), dict))


def _policy_arns(value: object) -> list[str]:
    if isinstance(value, str):
        return [value] if _MANAGED_POLICY_ARN.match(value) else []
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return [arn for item in items for arn in _policy_arns(item)]


_ONE_PER_FILE = "write each policy to its own file and give one --policy FILE per policy"


def _not_one_policy(value: object) -> str | None:
    """Why a decoded JSON value is not one policy document, when it is something recognisable instead."""
    if isinstance(value, list):
        if len(value) == 1 and _is_policy_like(value[0]):
            return "holds a list of one policy, not the policy itself: give the policy object alone"
        if value and all(_is_policy_like(v) for v in value):
            return f"holds a list of {len(value)} policies, not one policy: {_ONE_PER_FILE}"
        return None
    if not isinstance(value, dict) or "Statement" in value:
        return None
    for wrapper in ("PolicyDocument", "AssumeRolePolicyDocument"):
        if isinstance(value.get(wrapper), dict):
            return (f"is a policy wrapped in {wrapper} (as CloudFormation's or IAM's API output has it), not the "
                    f"policy itself: give the {wrapper} object alone")
    if value and all(_is_policy_like(v) for v in value.values()):
        names = [str(k) for k in value]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        if len(names) == 1:
            return f"holds one policy keyed by its name ({shown}), not the policy itself: give the policy object alone"
        return f"holds {len(names)} policies keyed by name ({shown}), not one policy: {_ONE_PER_FILE}"
    arns = sorted(set(_policy_arns(value)))
    if arns:
        shown = ", ".join(arns[:2]) + (f" and {len(arns) - 2} more" if len(arns) > 2 else "")
        return (f"names managed policies by ARN ({shown}) but holds no policy document (no Statement): give each "
                "policy's document (aws iam get-policy-version) as its own --policy FILE")
    return None


def _loose_json(text: str) -> object:
    """The JSON value a file holds, however decode_policy would have unwrapped it; None when there is none."""
    from urllib.parse import unquote

    for candidate in (text, unquote(text)):
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return None
        return value
    return None


def _read_policy(option: str, filename: str) -> dict:
    """Read and validate one policy file: the decoded document, or InputError naming the file and saying why.

    Refused as bad input (exit 2), each with what to do instead: text that is not one IAM policy, a file
    holding several policies (a map of inline policies by name, a list), a policy wrapped in PolicyDocument,
    a list of managed policy ARNs, and a template fragment with CloudFormation intrinsics left in it.
    """
    from .policy.document import PolicyError, decode_policy, parse_policy

    try:
        raw = Path(filename).read_bytes()
    except OSError as err:
        raise InputError(f"{option} {filename}: cannot read the file: {err.strerror or err}") from None
    try:
        text = raw.decode("utf-8-sig")  # a BOM from a Windows editor is not part of the policy
    except UnicodeDecodeError as err:
        raise InputError(f"{option} {filename}: not UTF-8 text (byte {err.start})") from None
    try:
        try:
            document = decode_policy(text)
        except PolicyError as err:
            raise InputError(f"{option} {filename}: {_not_one_policy(_loose_json(text.strip())) or err}") from None
        problem = _not_one_policy(document) or _intrinsic_problem(document)
    except RecursionError:  # JSON nested thousands deep: json.loads (or the walk above) gives up
        raise InputError(f"{option} {filename}: JSON nested too deeply to be a policy") from None
    if problem is not None:
        raise InputError(f"{option} {filename}: {problem}")
    try:
        parse_policy(document)  # the whole grammar, so "not a policy" is bad input, not a check result
    except PolicyError as err:
        raise InputError(f"{option} {filename}: {err}") from None
    return document


def _policy_names(filenames: Sequence[str]) -> list[str]:
    """Each --policy is named after its file; the path as given when two files share a name."""
    names = [Path(f).name for f in filenames]
    return [name if names.count(name) == 1 else filename for name, filename in zip(names, filenames)]


def _parse_resource_arn(value: str):
    from .arns import InvalidArn, parse_appstream_arn
    from .model import ResourceKind, ResourceRef

    try:
        arn = parse_appstream_arn(value)
    except InvalidArn as err:
        raise InputError(f"--resource-arn: {err}") from None
    if arn.resource_type not in RESOURCE_KINDS:
        raise InputError(
            f"--resource-arn {value}: unknown resource kind {arn.resource_type!r} "
            f"(expected {', '.join(RESOURCE_KINDS)})"
        )
    if not _ACCOUNT.match(arn.account):
        raise InputError(f"--resource-arn {value}: account {arn.account!r} is not 12 digits")
    if not _RESOURCE_NAME.match(arn.name):
        raise InputError(f"--resource-arn {value}: {arn.name!r} is not a valid AppStream {arn.resource_type} name")
    return ResourceRef(ResourceKind(arn.resource_type), arn.name, arn.account, arn.region, arn.partition)


def build_facts(
    trust_policy: dict,
    policies: Sequence[PolicyDocument] = (),
    boundary: PolicyDocument | None = None,
    role_arn: str | None = None,
    resource_arn: str | None = None,
) -> EvaluationFacts:
    """The facts the Lambda would gather, from decoded documents and ARNs. Raises InputError on a bad ARN."""
    from .arns import InvalidArn, parse_role_arn
    from .model import AppStreamResource, EvaluationFacts, ResourceKind, ResourceRef, RoleFacts, RoleLookup

    ref = _parse_resource_arn(resource_arn) if resource_arn is not None else None
    if role_arn is None:
        partition = ref.partition if ref else "aws"
        account = ref.account if ref else DEFAULT_ACCOUNT
        role_arn = f"arn:{partition}:iam::{account}:role/{DEFAULT_ROLE_NAME}"
    try:
        role = parse_role_arn(role_arn)
    except InvalidArn as err:
        raise InputError(f"--role-arn: {err}") from None
    if ref is None:
        ref = ResourceRef(
            ResourceKind.FLEET, DEFAULT_FLEET_NAME, role.account, DEFAULT_REGIONS[role.partition], role.partition
        )
    role_facts = RoleFacts(
        arn=role_arn,
        name=role.name,
        path=role.path,
        trust_policy=trust_policy,
        inline_policies=tuple(policies),
        permissions_boundary=boundary,
    )
    return EvaluationFacts(
        resource=AppStreamResource(ref=ref, role_arn=role_arn),
        role_lookup=RoleLookup.FOUND,
        role=role_facts,
    )


def offline_checks() -> tuple[Check, ...]:
    """The registry, in its order, minus the checks that need live AWS facts."""
    from .checks import REGISTRY

    return tuple(check for check in REGISTRY if check.id not in OFFLINE_EXCLUDED)


# --------------------------------------------------------------------------- output


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())


def finding_json(finding: Finding) -> dict[str, str]:
    return {
        "check": finding.check_id,
        "status": finding.status.value,
        "severity": finding.severity.value,
        "title": finding.title,
        "detail": finding.detail,
    }


def render_json(role_arn: str, resource_arn: str, findings: Sequence[Finding]) -> str:
    document = {"role_arn": role_arn, "resource_arn": resource_arn, "findings": [finding_json(f) for f in findings]}
    return json.dumps(document, indent=2)


def render_text(role_arn: str, resource_arn: str, findings: Sequence[Finding]) -> str:
    # Failures first; within a status the most severe first; otherwise registry order (the sort is stable).
    ordered = sorted(findings, key=lambda f: (STATUS_ORDER.index(f.status.value), -f.severity.rank))
    status_w = max((len(f.status.value) for f in ordered), default=0) + 2
    severity_w = max((len(f.severity.value) for f in ordered), default=0) + 2
    check_w = max((len(f.check_id) for f in ordered), default=0) + 2
    lines = [
        f"{f.status.value:<{status_w}}{f.severity.value:<{severity_w}}{f.check_id:<{check_w}}{_one_line(f.detail)}"
        for f in ordered
    ]
    counts = {status: sum(1 for f in findings if f.status.value == status) for status in STATUS_ORDER}
    summary = ", ".join(f"{counts[s]} {_SUMMARY_LABELS[s]}" for s in STATUS_ORDER)
    lines.append(f"{len(findings)} checks of role {role_arn} for {resource_arn}: {summary}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- commands


def _check_role(args: argparse.Namespace) -> int:
    from .engine import evaluate
    from .model import PolicyDocument, Status

    trust = _read_policy("--trust-policy", args.trust_policy)
    policies = [
        PolicyDocument(source="inline", name=name, document=_read_policy("--policy", filename))
        for name, filename in zip(_policy_names(args.policy), args.policy)
    ]
    boundary = None
    if args.boundary is not None:
        boundary = PolicyDocument(
            source="boundary", name=Path(args.boundary).name, document=_read_policy("--boundary", args.boundary)
        )
    facts = build_facts(trust, policies, boundary, role_arn=args.role_arn, resource_arn=args.resource_arn)
    findings = evaluate(facts, offline_checks())
    role_arn, resource_arn = facts.resource.role_arn or "", facts.resource.ref.arn
    render = render_json if args.format == "json" else render_text
    print(render(role_arn, resource_arn, findings))
    return 1 if any(f.status is Status.FAILED for f in findings) else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # usage errors: argparse prints usage and exits 2
    try:
        return args.handler(args)
    except InputError as err:
        print(f"{PROG}: error: {_one_line(str(err))}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
