"""Who may assume a role: a trust policy evaluated for one principal and one request.

Deny wins over Allow; an Allow whose conditions cannot hold for this request
does not count; a condition we cannot evaluate makes the answer UNKNOWN.
"""

from __future__ import annotations

from dataclasses import dataclass

from .conditions import Outcome, RequestContext, Truth, evaluate_conditions
from .document import Policy, Principals, Statement
from .matching import statement_covers_action

APPSTREAM_PRINCIPAL = "appstream.amazonaws.com"
ASSUME_ROLE = "sts:AssumeRole"


def _listed(principals: Principals, principal_type: str, value: str) -> bool:
    if principals.everyone:
        return True
    # Service principal names are DNS names; IAM stores them as written, compare case-insensitively.
    return any(v == "*" or v.lower() == value.lower() for v in principals.values(principal_type))


def principal_applies(stmt: Statement, principal_type: str, value: str) -> bool:
    if stmt.principal is not None:
        return _listed(stmt.principal, principal_type, value)
    if stmt.not_principal is not None:
        return not _listed(stmt.not_principal, principal_type, value)
    return False


@dataclass(frozen=True)
class AssumeVerdict:
    truth: Truth
    reasons: tuple[str, ...]
    allowing: tuple[Statement, ...] = ()  # Allow statements that (may) let the principal in

    @property
    def can_assume(self) -> bool:
        return self.truth is Truth.TRUE


def can_assume(
    policy: Policy,
    principal_type: str,
    principal: str,
    context: RequestContext,
    action: str = ASSUME_ROLE,
) -> AssumeVerdict:
    allow_true: list[Statement] = []
    allow_unknown: list[tuple[Statement, Outcome]] = []
    allow_false: list[tuple[Statement, Outcome]] = []
    deny_true: list[Statement] = []
    deny_unknown: list[tuple[Statement, Outcome]] = []
    other_actions: list[Statement] = []

    for stmt in policy.statements:
        if not principal_applies(stmt, principal_type, principal):
            continue
        if not statement_covers_action(stmt.actions, stmt.not_actions, action):
            if stmt.allows:
                other_actions.append(stmt)
            continue
        outcome = evaluate_conditions(stmt.conditions, context, variables=policy.version == "2012-10-17")
        if stmt.allows:
            {Truth.TRUE: lambda: allow_true.append(stmt),
             Truth.UNKNOWN: lambda: allow_unknown.append((stmt, outcome)),
             Truth.FALSE: lambda: allow_false.append((stmt, outcome))}[outcome.truth]()
        elif outcome.truth is Truth.TRUE:
            deny_true.append(stmt)
        elif outcome.truth is Truth.UNKNOWN:
            deny_unknown.append((stmt, outcome))

    if deny_true:
        return AssumeVerdict(
            Truth.FALSE, tuple(f"explicit Deny in {s.label} blocks {principal} from {action}" for s in deny_true)
        )
    if allow_true:
        if deny_unknown:
            return AssumeVerdict(
                Truth.UNKNOWN,
                tuple(f"Deny in {s.label} may apply: {r}" for s, o in deny_unknown for r in o.reasons),
                tuple(allow_true),
            )
        return AssumeVerdict(Truth.TRUE, (), tuple(allow_true))
    if allow_unknown:
        return AssumeVerdict(
            Truth.UNKNOWN,
            tuple(f"{s.label} allows {principal} only if: {r}" for s, o in allow_unknown for r in o.reasons),
            tuple(s for s, _ in allow_unknown),
        )
    if allow_false:
        return AssumeVerdict(
            Truth.FALSE,
            tuple(f"{s.label} names {principal} but its condition can never match: {r}"
                  for s, o in allow_false for r in o.reasons),
        )
    if other_actions:
        shown = sorted({a for s in other_actions for a in (s.actions or ("NotAction " + ",".join(s.not_actions or ()),))})
        return AssumeVerdict(Truth.FALSE, (f"{principal} is trusted only for {', '.join(shown)}, not {action}",))
    trusted = sorted({value for _, _, value in trusted_principals(policy)})
    only = f"; it trusts only {', '.join(trusted)}" if trusted else ""
    return AssumeVerdict(Truth.FALSE, (f"no statement lets {principal} call {action}{only}",))


def trusted_principals(policy: Policy) -> list[tuple[Statement, str, str]]:
    """(statement, type, value) for every principal an Allow statement names."""
    out = []
    for stmt in policy.statements:
        if not stmt.allows or stmt.principal is None:
            continue
        if stmt.principal.everyone:
            out.append((stmt, "AWS", "*"))
        for kind, values in stmt.principal.by_type:
            out.extend((stmt, kind, v) for v in values if not (kind == "AWS" and v == "*"))
    return out


def appstream_context(resource_arn: str, account: str) -> RequestContext:
    """What AppStream's AssumeRole request carries, as far as a trust policy can see it.

    AWS's AppStream guide recommends aws:SourceAccount and aws:SourceArn in the
    machine-role trust: AppStream sends them. STS is HTTPS-only, so
    aws:SecureTransport is true. Every other key stays unknown.
    """
    return RequestContext.of(
        {
            "aws:SourceAccount": account,
            "aws:SourceArn": resource_arn,
            "aws:PrincipalServiceName": APPSTREAM_PRINCIPAL,
            "aws:PrincipalIsAWSService": "true",
            "aws:SecureTransport": "true",
        }
    )
