"""Best practice: the AppStream trust statement carries aws:SourceAccount or aws:SourceArn.

Without them any AppStream resource, in any account, that names this role's
ARN could get AppStream to assume it (the confused deputy problem). Applies
to the Allow statements that name appstream.amazonaws.com and cover an assume
action; Principal "*" statements are trust-no-foreign-principals' business.
When no statement names AppStream the check does not apply (None):
trust-allows-appstream already fails the role, and a second finding would
only repeat it.

A statement counts as protected when its Condition uses a positive operator
(StringEquals, StringEqualsIgnoreCase, StringLike, ArnEquals, ArnLike) on
aws:SourceAccount or aws:SourceArn (key in any case) with a value that names
an account (not "*", not an ARN whose account part is a wildcard), or when a
Deny on AppStream whose only conditions are the negated forms of these
(StringNotEquals aws:SourceAccount, ArnNotLike aws:SourceArn) guards it.
The ...IfExists (and ForAllValues) forms count: AppStream always sends both
keys when it assumes a role for a resource, so the comparison is made; the
detail still recommends the plain form, which does not rely on that.
"""

from __future__ import annotations

from ..model import CheckResult, EvaluationFacts, Severity, Status
from ..policy.conditions import parse_operator
from ..policy.document import Condition, Policy, Statement
from ..policy.trust import APPSTREAM_PRINCIPAL, principal_applies
from .base import Check, Scope
from .trust_no_foreign_principals import assume_actions, read_trust_policy

DOC_URL = "https://docs.aws.amazon.com/appstream2/latest/developerguide/example-confused-deputy.html"
KEYS = frozenset({"aws:sourceaccount", "aws:sourcearn"})
_POSITIVE = frozenset({"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"})
_NEGATED = frozenset({"stringnotequals", "stringnotequalsignorecase", "stringnotlike", "arnnotequals", "arnnotlike"})


def _names_account(cond: Condition) -> bool:
    for value in cond.values:
        if cond.key.lower() == "aws:sourcearn":
            parts = value.split(":")
            if len(parts) >= 6 and (parts[4] == "" or "*" in parts[4] or "?" in parts[4]):
                return False
        if value.strip("*?") == "":
            return False
    return bool(cond.values)


def _protecting(cond: Condition, ops: frozenset[str]) -> bool:
    op = parse_operator(cond.operator)
    return op is not None and op.base in ops and cond.key.lower() in KEYS and _names_account(cond)


def _names_appstream(stmt: Statement) -> bool:
    return stmt.principal is not None and any(v.lower() == APPSTREAM_PRINCIPAL
                                               for v in stmt.principal.values("Service"))


def _guards(policy: Policy) -> list[Statement]:
    out = []
    for stmt in policy.statements:
        if stmt.allows or not stmt.conditions or not principal_applies(stmt, "Service", APPSTREAM_PRINCIPAL):
            continue
        if all(_protecting(c, _NEGATED) and parse_operator(c.operator).qualifier != "foranyvalue"
               for c in stmt.conditions):
            out.append(stmt)
    return out


def run(facts: EvaluationFacts) -> CheckResult | None:
    policy, result = read_trust_policy(facts)
    if policy is None:
        return result
    doors = [s for s in policy.statements if s.allows and _names_appstream(s) and assume_actions(s)]
    if not doors:
        return None
    guards = _guards(policy)
    protected, open_ = [], []
    for stmt in doors:
        conds = [c for c in stmt.conditions if _protecting(c, _POSITIVE)]
        guard = next((g for g in guards if set(assume_actions(stmt)) <= set(assume_actions(g))), None)
        if conds:
            c = conds[0]
            op = parse_operator(c.operator)
            note = (f" ({c.operator} relies on AppStream always sending {c.key}; prefer the plain operator)"
                    if op.if_exists or op.qualifier == "forallvalues" else "")
            protected.append(f"{stmt.label} requires {c.key} ({c.operator}){note}")
        elif guard is not None:
            protected.append(f"{stmt.label} is guarded by the Deny in {guard.label} on "
                             + ", ".join(c.key for c in guard.conditions))
        else:
            open_.append(stmt)
    evidence = {"protected": protected, "unprotected": [s.label for s in open_]}
    if not open_:
        return CheckResult(Status.PASSED, "; ".join(protected), evidence=evidence)
    ref = facts.resource.ref
    where = ", ".join(s.label for s in open_)
    return CheckResult(
        Status.FAILED,
        f"{where} lets {APPSTREAM_PRINCIPAL} assume the role without aws:SourceAccount or aws:SourceArn: add "
        f'"Condition": {{"StringEquals": {{"aws:SourceAccount": "{ref.account}"}}}} or '
        f'{{"ArnLike": {{"aws:SourceArn": "{ref.arn}"}}}}',
        evidence=evidence,
    )


CHECK = Check(
    id="trust-confused-deputy",
    title="The AppStream trust statement is limited to this account or resource",
    severity=Severity.LOW,
    scope=Scope.ROLE,
    remediation=(
        "Add to the statement that trusts appstream.amazonaws.com a condition StringEquals aws:SourceAccount "
        "<your account ID>, and/or ArnLike aws:SourceArn arn:aws:appstream:<region>:<account>:fleet/<name> "
        "(or image-builder/<name>, app-block-builder/<name>), so that AppStream assumes the role only for "
        "your resources."
    ),
    documentation_url=DOC_URL,
    run=run,
)
