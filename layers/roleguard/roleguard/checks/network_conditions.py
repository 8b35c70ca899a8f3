"""Best practice: the role's grants are usable only from a stated network.

AWS's AppStream guide asks for conditions limiting where the role's
credentials can be used. A grant counts as limited when every request it
allows must come from a stated network (aws:SourceIp, aws:SourceVpc,
aws:SourceVpce, aws:VpcSourceIp), in one of three ways:

* its own Condition has a positive operator on such a key (StringEquals,
  StringEqualsIgnoreCase, StringLike; IpAddress for the IP keys), plain or
  ForAnyValue. Not ...IfExists and not ForAllValues: both hold when the key is
  absent (a call from outside any VPC has no aws:SourceVpc), so they do not
  limit;
* a Deny guard in any of the role's policies (boundary included) covers the
  grant's actions and resources, and its conditions are negated operators on
  such keys (StringNotEquals, StringNotLike, NotIpAddress, ...). Such a Deny
  applies when the key is absent (IAM: a negated operator is true for a
  missing key), so requests from anywhere else are denied. The ...IfExists
  form behaves the same for a negated operator (absent key: true), so it is a
  guard too; ForAnyValue: is not (false for a missing key). The guard may
  also exempt calls AWS services make on the role's behalf
  (Bool[IfExists] aws:ViaAWSService / aws:PrincipalIsAWSService "false"), as
  AWS's data-perimeter policies do; any other condition weakens it and it is
  not counted;
* every Allow of the permissions boundary that covers the action is limited
  in the first sense.

A value that states no network ("*" with StringLike, 0.0.0.0/0, ::/0) does not
limit. Grants are the effective ones (policy/effective.py). No grants at all:
PASSED, nothing to limit.
"""

from __future__ import annotations

import ipaddress

from ..model import CheckResult, EvaluationFacts, Severity, Status
from ..policy.conditions import parse_operator
from ..policy.document import Condition, Statement
from ..policy.effective import (EffectivePermissions, Grant, Located, deny_covers_entry, deny_covers_resources,
                                effective_permissions, statement_actions)
from .base import ROLE_GUIDE_URL, Check, Scope, role_unavailable, unreadable_policies

NETWORK_KEYS = frozenset({"aws:sourceip", "aws:sourcevpc", "aws:sourcevpce", "aws:vpcsourceip"})
IP_KEYS = frozenset({"aws:sourceip", "aws:vpcsourceip"})
_POSITIVE_STRING = frozenset({"stringequals", "stringequalsignorecase", "stringlike"})
_NEGATED_STRING = frozenset({"stringnotequals", "stringnotequalsignorecase", "stringnotlike"})
_SERVICE_EXEMPTIONS = frozenset({"aws:viaawsservice", "aws:principalisawsservice"})
DETAIL_LIMIT = 900


def _states_network(cond: Condition, base: str) -> bool:
    values = [v.strip() for v in cond.values]
    if not values:
        return False
    for value in values:
        if base in ("ipaddress", "notipaddress"):
            try:
                if ipaddress.ip_network(value, strict=False).prefixlen == 0:
                    return False
            except ValueError:
                return False
        elif base in ("stringlike", "stringnotlike") and value.strip("*?") == "":
            return False
    return True


def _right_operator(base: str, key: str, string_ops: frozenset[str], ip_op: str) -> bool:
    return base in string_ops or (base == ip_op and key in IP_KEYS)


def limiting_condition(cond: Condition) -> bool:
    """Does this condition, in an Allow, confine every request it lets through to a stated network?"""
    op = parse_operator(cond.operator)
    key = cond.key.lower()
    if op is None or key not in NETWORK_KEYS or op.negated or op.if_exists or op.qualifier == "forallvalues":
        return False
    return _right_operator(op.base, key, _POSITIVE_STRING, "ipaddress") and _states_network(cond, op.base)


def guard_condition(cond: Condition) -> bool:
    """Does this condition, in a Deny, hold for every request from outside the stated network (key absent too)?"""
    op = parse_operator(cond.operator)
    key = cond.key.lower()
    if op is None or key not in NETWORK_KEYS or not op.negated or op.qualifier == "foranyvalue":
        return False
    return _right_operator(op.base, key, _NEGATED_STRING, "notipaddress") and _states_network(cond, op.base)


def _service_exemption(cond: Condition) -> bool:
    op = parse_operator(cond.operator)
    return (op is not None and op.base == "bool" and op.qualifier is None and cond.key.lower() in _SERVICE_EXEMPTIONS
            and [v.lower() for v in cond.values] == ["false"])


def is_guard(deny: Statement) -> bool:
    conds = deny.conditions
    return (not deny.allows and any(guard_condition(c) for c in conds)
            and all(guard_condition(c) or _service_exemption(c) for c in conds))


def _own_limit(stmt: Statement) -> Condition | None:
    return next((c for c in stmt.conditions if limiting_condition(c)), None)


def _unlimited_part(grant: Grant, guards: list[Located], eff: EffectivePermissions) -> tuple[frozenset[str], tuple[str, ...], list[str]]:
    """The grant's actions (and unknown entries) no guard or boundary limit covers, and what limited the rest."""
    remaining = set(grant.actions)
    unknown = list(grant.unknown)
    by: list[str] = []
    for guard in guards:
        if not deny_covers_resources(guard.statement, grant.statement):
            continue
        hit = remaining & statement_actions(guard.statement)
        hit_unknown = [u for u in unknown if deny_covers_entry(guard.statement, u)]
        if hit or hit_unknown:
            by.append(f"Deny guard in {guard.where}")
            remaining -= hit
            unknown = [u for u in unknown if u not in hit_unknown]
    if remaining and eff.boundary_allows is not None:
        unlimited = set()
        for b in eff.boundary_allows:
            if _own_limit(b.statement) is None:
                unlimited |= statement_actions(b.statement)
        limited = remaining - unlimited
        if limited:
            by.append(f"network condition of {eff.boundary}")
            remaining -= limited
    return frozenset(remaining), tuple(unknown), by


def _shown(grant: Grant, remaining: frozenset[str], unknown: tuple[str, ...]) -> str:
    total = len(grant.actions) + len(grant.unknown)
    left = len(remaining) + len(unknown)
    written = grant.written if len(grant.written) <= 120 else grant.written[:117] + "..."
    part = "" if left == total else f"; {left} of {total} actions not guarded"
    return f"{grant.where} ({written}{part})"


def run(facts: EvaluationFacts) -> CheckResult:
    unavailable = role_unavailable(facts)
    if unavailable is not None:
        return unavailable
    assert facts.role is not None
    eff = effective_permissions(facts.role)
    guards = [d for d in eff.denies if is_guard(d.statement)]
    limited, unlimited = [], []
    for grant in eff.grants:
        own = _own_limit(grant.statement)
        if own is not None:
            limited.append((grant, f"own condition {own.operator} {own.key}"))
            continue
        remaining, unknown, by = _unlimited_part(grant, guards, eff)
        if remaining or unknown:
            unlimited.append((grant, remaining, unknown))
        else:
            limited.append((grant, ", ".join(by)))
    unread = unreadable_policies(facts, eff)
    evidence = {
        "not_limited": [{"where": g.where, "actions": g.written, "unguarded": sorted(r) [:50] + list(u)}
                        for g, r, u in unlimited],
        "limited": [{"where": g.where, "by": by} for g, by in limited],
        "unreadable": unread,
    }
    if unlimited:
        head = (f"{len(unlimited)} of {len(eff.grants)} grant(s) not limited to a network (aws:SourceIp, aws:SourceVpc,"
                " aws:SourceVpce, aws:VpcSourceIp): ")
        shown = []
        for grant, remaining, unknown in unlimited:
            piece = _shown(grant, remaining, unknown)
            if len(head) + sum(len(s) + 2 for s in shown) + len(piece) > DETAIL_LIMIT:
                shown.append(f"… and {len(unlimited) - len(shown)} more")
                break
            shown.append(piece)
        partial = f" (partial: could not read {'; '.join(unread)})"[:200] if unread else ""
        return CheckResult(Status.FAILED, head + "; ".join(shown) + partial, evidence=evidence)
    if facts.role.read_errors:
        return CheckResult(Status.NOT_AVAILABLE, "could not read all the role's permission policies: "
                           + "; ".join(unread), evidence=evidence)
    if eff.problems:
        rest = "what could be read is limited" if eff.grants else "nothing else grants anything"
        return CheckResult(Status.WARNING, "some permission policies are not valid IAM policies, so they were not "
                           f"judged ({rest}): " + "; ".join(unread), evidence=evidence)
    if not eff.grants:
        return CheckResult(Status.PASSED, "the role grants nothing, so there is nothing to limit", evidence=evidence)
    how = sorted({by for _, by in limited})
    return CheckResult(Status.PASSED, f"all {len(eff.grants)} grant(s) are limited to a stated network ("
                       + "; ".join(how)[:600] + ")", evidence=evidence)


CHECK = Check(
    id="network-conditions",
    title="The role's permissions are usable only from a stated network",
    severity=Severity.LOW,
    scope=Scope.ROLE,
    remediation=(
        "Limit where the role's credentials work: add a condition such as StringEquals aws:SourceVpc (or "
        "aws:SourceVpce, or IpAddress aws:SourceIp) to each Allow, or add a Deny on the same actions and "
        "resources with StringNotEquals aws:SourceVpc / NotIpAddress aws:SourceIp. Do not use ...IfExists on "
        "an Allow: it holds when the key is absent."
    ),
    documentation_url=ROLE_GUIDE_URL,
    run=run,
)
