"""Best practice: nobody but AppStream can assume the role.

Reads the trust policy's Allow statements whose Action covers an assume
action (sts:AssumeRole, sts:AssumeRoleWithSAML, sts:AssumeRoleWithWebIdentity;
sts:TagSession or sts:SetSourceIdentity alone assume nothing). Deny
statements are restrictions, never grants; an unconditional Deny that covers
a principal and the same assume actions takes that principal out.

Severity by who else gets in:
* CRITICAL: Principal "*" / {"AWS": "*"} or Allow+NotPrincipal (everyone but
  a few), unless a condition pins the caller's identity (aws:PrincipalOrgID,
  aws:PrincipalAccount, aws:PrincipalArn, aws:SourceAccount, ...) with a
  positive, non-IfExists operator: then HIGH, still reported, since the door
  is as wide as that organisation or account. Conditions on anything else
  (MFA, IP, ExternalId) do not say who the caller is.
* HIGH: an AWS account or IAM principal (the role's own account included:
  any principal there allowed by its own policy can then assume the role),
  a federated provider, a canonical user.
* MEDIUM: another AWS service (a role shared with EC2 is not one role per
  resource).
"""

from __future__ import annotations

import re

from ..model import CheckResult, EvaluationFacts, Severity, Status
from ..policy.conditions import parse_operator
from ..policy.document import Policy, PolicyError, Statement, parse_policy
from ..policy.matching import statement_covers_action
from ..policy.trust import APPSTREAM_PRINCIPAL, principal_applies
from .base import ROLE_GUIDE_URL, Check, Scope, not_available, role_unavailable

ASSUME_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity")
IDENTITY_KEYS = frozenset({
    "aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount", "aws:principalarn",
    "aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths", "aws:principalservicename",
})
_ACCOUNT = re.compile(r"^\d{12}$")
_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM)


def assume_actions(stmt: Statement) -> tuple[str, ...]:
    return tuple(a for a in ASSUME_ACTIONS if statement_covers_action(stmt.actions, stmt.not_actions, a))


def read_trust_policy(facts: EvaluationFacts) -> tuple[Policy | None, CheckResult | None]:
    """(policy, None) when there is one to judge; (None, result) otherwise; (None, None): not applicable."""
    unavailable = role_unavailable(facts)
    if unavailable is not None:
        return None, unavailable
    assert facts.role is not None
    if facts.role.trust_policy is None:
        if facts.role.trust_error is not None:
            return None, not_available(facts.role.trust_error)
        return None, None  # no trust policy at all: trust-allows-appstream already fails the role
    try:
        return parse_policy(facts.role.trust_policy), None
    except PolicyError as err:
        return None, CheckResult(Status.WARNING, f"the trust policy could not be read: {err}")


def _narrowing(stmt: Statement) -> list[str]:
    """Conditions that pin down who the caller is (positive operator, key always evaluated)."""
    out = []
    for cond in stmt.conditions:
        op = parse_operator(cond.operator)
        if (op is None or op.negated or op.if_exists or op.qualifier == "forallvalues" or op.base in ("null", "bool")
                or cond.key.lower() not in IDENTITY_KEYS):
            continue
        if all(v.strip("*?") == "" for v in cond.values):
            continue
        out.append(f"{cond.key} {', '.join(cond.values)}")
    return out


def _own_account(facts: EvaluationFacts) -> str | None:
    parts = facts.role.arn.split(":") if facts.role else []
    return parts[4] if len(parts) > 4 else None


def _aws_principal(value: str, own: str | None) -> str:
    account = value if _ACCOUNT.match(value) else (value.split(":")[4] if value.count(":") >= 5 else "")
    if account and account == own:
        return f"{value} (the role's own account)"
    if account:
        return f"{value} (account {account})"
    return value


def _denied(policy: Policy, kind: str, value: str, actions: tuple[str, ...]) -> bool:
    for stmt in policy.statements:
        if stmt.allows or stmt.conditions or not principal_applies(stmt, kind, value):
            continue
        if all(statement_covers_action(stmt.actions, stmt.not_actions, a) for a in actions):
            return True
    return False


def foreign_principals(policy: Policy, own_account: str | None) -> list[tuple[Severity, str, Statement]]:
    """(severity, who, statement) for everyone besides AppStream an Allow lets assume the role."""
    out = []
    for stmt in policy.statements:
        if not stmt.allows:
            continue
        actions = assume_actions(stmt)
        if not actions:
            continue
        narrowing = _narrowing(stmt)
        narrowed = f", narrowed by {'; '.join(narrowing)}" if narrowing else ""
        wide = Severity.HIGH if narrowing else Severity.CRITICAL
        if stmt.not_principal is not None:
            if not stmt.not_principal.everyone:
                shown = ", ".join(v for _, vs in stmt.not_principal.by_type for v in vs)
                out.append((wide, f"everyone except {shown} (Allow with NotPrincipal{narrowed})", stmt))
            continue
        if stmt.principal is None:
            continue
        if stmt.principal.everyone and not _denied(policy, "AWS", "*", actions):
            out.append((wide, f"anyone (Principal \"*\"{narrowed})", stmt))
        for kind, values in stmt.principal.by_type:
            for value in values:
                low = kind.lower()
                if low == "aws" and value == "*":
                    continue  # reported as anyone above
                if low == "service" and value.lower() == APPSTREAM_PRINCIPAL:
                    continue
                if _denied(policy, kind, value, actions):
                    continue
                if low == "service":
                    out.append((Severity.MEDIUM, f"{value} (another service)", stmt))
                elif low == "aws":
                    out.append((Severity.HIGH, f"{_aws_principal(value, own_account)} (IAM principal)", stmt))
                elif low == "federated":
                    out.append((Severity.HIGH, f"{value} (federated identity provider)", stmt))
                else:
                    out.append((Severity.HIGH, f"{kind} {value}", stmt))
    return sorted(out, key=lambda t: _ORDER.index(t[0]))


def run(facts: EvaluationFacts) -> CheckResult | None:
    policy, result = read_trust_policy(facts)
    if policy is None:
        return result
    others = foreign_principals(policy, _own_account(facts))
    evidence = {"principals": [{"severity": s.value, "who": who, "statement": stmt.label,
                                "actions": list(assume_actions(stmt))} for s, who, stmt in others]}
    if not others:
        where = [s.label for s in policy.statements if s.allows and assume_actions(s)]
        if not where:
            return CheckResult(Status.PASSED, "no statement lets anyone assume the role", evidence=evidence)
        return CheckResult(Status.PASSED, f"only {APPSTREAM_PRINCIPAL} can assume the role ({', '.join(where)})",
                           evidence=evidence)
    worst = others[0][0]
    shown = "; ".join(f"{who} in {stmt.label}" for _, who, stmt in others)
    if len(shown) > 850:
        shown = shown[:850] + " …"
    return CheckResult(Status.FAILED, f"besides AppStream, the trust policy lets in: {shown}", severity=worst,
                       evidence=evidence)


CHECK = Check(
    id="trust-no-foreign-principals",
    title="Nobody but AppStream can assume the role",
    severity=Severity.HIGH,
    scope=Scope.ROLE,
    remediation=(
        "Make appstream.amazonaws.com the only principal in the trust policy: remove Principal \"*\", "
        "NotPrincipal, other accounts, IAM users and roles, federated providers and other services (give them "
        "their own roles), and keep aws:SourceAccount / aws:SourceArn conditions on the AppStream statement."
    ),
    documentation_url=ROLE_GUIDE_URL,
    run=run,
)
