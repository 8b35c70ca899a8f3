"""Effective permissions of a role: what its identity policies grant, after Deny and the boundary.

Rules (IAM's evaluation logic, applied conservatively so that a doubt keeps a
grant rather than hiding it; least-privilege must never be wrong in the
safe-looking direction):

* Grants are the Allow statements of the attached managed and inline
  policies. Their conditions are kept but not evaluated: a conditional grant
  still exists in some request context.
* An explicit Deny in any of the role's policies (managed, inline or the
  permissions boundary) removes an action from a grant only when we can prove
  it always applies to every request that grant allows:
    - its Action/NotAction covers the action;
    - its Resource covers every resource the grant names ("*", an equal
      pattern, or a "prefix*" pattern the grant's resources start with); a
      Deny with NotResource is never taken to cover a grant;
    - it has no condition, or every one of its conditions appears verbatim
      in the grant's own Condition (then any request the grant allows meets
      the Deny's conditions too). Any other conditional Deny removes nothing.
* A permissions boundary, when there is one, limits the grant: an action that
  no Allow statement of the boundary covers is not granted. Boundary Allows
  count whatever their conditions (they allow in some context). When the
  boundary allows an action only on named resources, that action no longer
  counts as granted on all resources. A boundary that could not be parsed
  completely limits nothing (its parsed Denies still apply).
* Actions are compared as sets of known actions from the bundled IAM action
  table (policy/actions.py). Action entries the table does not know are kept
  as written (`unknown`) and removed only by a Deny that literally covers them.

A document that is not a valid policy is salvaged statement by statement:
the readable statements are used, the others are reported as `problems`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Iterable

from ..model import PolicyDocument, RoleFacts
from . import actions as action_table
from .document import Condition, PolicyError, Statement, parse_policy
from .matching import glob_match


@dataclass(frozen=True)
class Problem:
    """A policy (or one statement of it) that could not be parsed."""

    policy: str  # PolicyDocument.label
    statement: str | None  # Statement label, None when the whole document failed
    reason: str

    def describe(self) -> str:
        where = f"{self.policy} {self.statement}" if self.statement else self.policy
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class Located:
    """A statement and the policy it came from."""

    policy: str
    statement: Statement

    @property
    def where(self) -> str:
        return f"{self.policy} {self.statement.label}"


@dataclass(frozen=True)
class Removal:
    by: str  # where the Deny (or the boundary) is
    actions: frozenset[str]
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class Grant:
    policy: str  # PolicyDocument.label
    statement: Statement  # the Allow statement as written
    actions: frozenset[str]  # known actions still granted ("prefix:Name")
    unknown: tuple[str, ...]  # Action entries that match no known action and were not removed
    all_resources: bool  # Resource "*" (or every resource of its types), NotResource, or no Resource
    boundary_scoped: frozenset[str] = frozenset()  # allowed by the boundary only on named resources
    removed: tuple[Removal, ...] = ()

    @property
    def where(self) -> str:
        return f"{self.policy} {self.statement.label}"

    @property
    def empty(self) -> bool:
        return not self.actions and not self.unknown

    def on_all_resources(self, action: str) -> bool:
        return self.all_resources and action not in self.boundary_scoped

    @property
    def written(self) -> str:
        """The action element as written, for messages."""
        s = self.statement
        if s.actions is not None:
            return ", ".join(s.actions)
        return "NotAction " + ", ".join(s.not_actions or ())

    @property
    def resources_written(self) -> str:
        s = self.statement
        if s.resources is not None:
            return ", ".join(s.resources)
        if s.not_resources is not None:
            return "NotResource " + ", ".join(s.not_resources)
        return "(no Resource)"


@dataclass(frozen=True)
class EffectivePermissions:
    grants: tuple[Grant, ...]  # only grants that still grant something
    denies: tuple[Located, ...]  # every parsed Deny statement (identity policies and boundary)
    boundary: str | None  # label of the boundary in effect, None when none limits
    boundary_allows: tuple[Located, ...] | None  # the boundary's Allow statements; None when no boundary limits
    problems: tuple[Problem, ...]
    statements: int  # statements parsed in the identity policies
    policies: int  # identity policies looked at
    removed_grants: tuple[Grant, ...] = ()  # grants that Deny or the boundary removed entirely

    @property
    def complete(self) -> bool:
        return not self.problems


# ------------------------------------------------------------------ parsing


def parse_salvaging(doc: PolicyDocument) -> tuple[list[Statement], list[Problem]]:
    """Parse a document; if it is not valid as a whole, keep the statements that are."""
    try:
        return list(parse_policy(doc.document).statements), []
    except PolicyError as whole:
        raw = doc.document.get("Statement") if isinstance(doc.document, dict) else None
        if isinstance(raw, dict):
            raw = [raw]
        if not isinstance(raw, list) or not raw:
            return [], [Problem(doc.label, None, str(whole))]
    statements, problems = [], []
    for index, item in enumerate(raw):
        sid = item.get("Sid") if isinstance(item, dict) else None
        label = f"statement {sid!r}" if isinstance(sid, str) and sid else f"statement #{index + 1}"
        try:
            parsed = parse_policy({"Statement": [item]}).statements[0]
        except PolicyError as err:
            problems.append(Problem(doc.label, label, str(err).replace("Statement[0]", f"Statement[{index}]")))
            continue
        statements.append(replace(parsed, index=index))
    return statements, problems


# ------------------------------------------------------------------ actions


def statement_actions(stmt: Statement) -> frozenset[str]:
    """Known actions a statement's Action or NotAction element applies to."""
    if stmt.actions is not None:
        return _union(action_table.expand_set(p) for p in stmt.actions)
    excluded = _union(action_table.expand_set(p) for p in stmt.not_actions or ())
    return action_table.all_actions() - excluded


def unknown_entries(stmt: Statement) -> tuple[str, ...]:
    """Action entries that match no action in the table (misspelt, made up, or newer than the table)."""
    if stmt.actions is None:
        return ()
    return tuple(p for p in stmt.actions if not action_table.expand_set(p))


def _union(sets: Iterable[frozenset[str]]) -> frozenset[str]:
    out: set[str] = set()
    for s in sets:
        out |= s
    return frozenset(out)


def _covers(outer: str, inner: str, *, ignore_case: bool) -> bool:
    """Does every string `inner` (a pattern) matches also match `outer`? Sound, not complete."""
    if outer == "*":
        return True
    if "*" not in inner and "?" not in inner:
        return glob_match(outer, inner, ignore_case=ignore_case)
    a, b = (outer.lower(), inner.lower()) if ignore_case else (outer, inner)
    if a == b:
        return True
    head = a[:-1]
    return a.endswith("*") and "*" not in head and "?" not in head and b.startswith(head)


def deny_covers_entry(deny: Statement, entry: str) -> bool:
    """Does a Deny literally cover an Action entry the table does not know?"""
    if deny.actions is not None:
        return any(_covers(p, entry, ignore_case=True) for p in deny.actions)
    if "*" in entry or "?" in entry:
        return False
    return not any(glob_match(p, entry, ignore_case=True) for p in deny.not_actions or ())


# ------------------------------------------------------------------ resources

_ALL_RESOURCE_PART = re.compile(r"\*(/\*)?|[A-Za-z0-9_.-]+[/:]\*")


def resource_is_all(resource: str) -> bool:
    """'*', or an ARN pattern naming every resource of a type in every account ('arn:aws:s3:::*', 'arn:aws:iam::*:role/*').

    A pattern with a named account or region is scoped, even to 'instance/*'.
    S3 bucket and object ARNs have no type prefix, so there only '*' and '*/*' count.
    """
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return False
    _, _partition, service, region, account, rest = parts
    if service == "*":
        return True
    if region not in ("", "*") or account not in ("", "*"):
        return False
    if service.lower() == "s3" and region == "" and account == "":
        return rest in ("*", "*/*")
    return _ALL_RESOURCE_PART.fullmatch(rest) is not None


def grants_all_resources(stmt: Statement) -> bool:
    if stmt.resources is None:
        return True  # NotResource: everything but some; no Resource at all: treat as everything
    return any(resource_is_all(r) for r in stmt.resources)


def deny_covers_resources(deny: Statement, grant: Statement) -> bool:
    """Does the Deny's Resource cover every resource the grant names? NotResource Denies never do."""
    if deny.resources is None:
        return False
    if "*" in deny.resources:
        return True
    if grant.resources is None:
        return False
    return all(any(_covers(d, g, ignore_case=False) for d in deny.resources) for g in grant.resources)


def _condition_key(c: Condition) -> tuple[str, str, frozenset[str]]:
    return (c.operator.lower(), c.key.lower(), frozenset(c.values))


def deny_always_applies(deny: Statement, grant: Statement) -> bool:
    """True when every request the grant allows meets the Deny's conditions (see the module docstring)."""
    if not deny.conditions:
        return True
    own = {_condition_key(c) for c in grant.conditions}
    return all(_condition_key(c) in own for c in deny.conditions)


# ------------------------------------------------------------------ evaluation


def effective_permissions(role: RoleFacts) -> EffectivePermissions:
    problems: list[Problem] = []
    allows: list[Located] = []
    denies: list[Located] = []
    statements = 0
    identity = (*role.managed_policies, *role.inline_policies)
    for doc in identity:
        parsed, bad = parse_salvaging(doc)
        problems.extend(bad)
        statements += len(parsed)
        for stmt in parsed:
            (allows if stmt.allows else denies).append(Located(doc.label, stmt))

    boundary_label = None
    boundary_allows: list[Located] | None = None
    if role.permissions_boundary is not None:
        doc = role.permissions_boundary
        parsed, bad = parse_salvaging(doc)
        problems.extend(bad)
        denies.extend(Located(doc.label, s) for s in parsed if not s.allows)
        if not bad:
            boundary_label = doc.label
            boundary_allows = [Located(doc.label, s) for s in parsed if s.allows]

    grants, gone = [], []
    for located in allows:
        grant = _grant(located, denies, boundary_label, boundary_allows)
        (gone if grant.empty else grants).append(grant)
    return EffectivePermissions(
        grants=tuple(grants),
        denies=tuple(denies),
        boundary=boundary_label,
        boundary_allows=tuple(boundary_allows) if boundary_allows is not None else None,
        problems=tuple(problems),
        statements=statements,
        policies=len(identity),
        removed_grants=tuple(gone),
    )


def _grant(located: Located, denies: list[Located], boundary_label: str | None,
           boundary_allows: list[Located] | None) -> Grant:
    stmt = located.statement
    granted = statement_actions(stmt)
    unknown = list(unknown_entries(stmt))
    removals: list[Removal] = []

    for deny in denies:
        d = deny.statement
        if not (deny_covers_resources(d, stmt) and deny_always_applies(d, stmt)):
            continue
        hit = granted & statement_actions(d)
        hit_unknown = tuple(u for u in unknown if deny_covers_entry(d, u))
        if hit or hit_unknown:
            removals.append(Removal(deny.where, hit, hit_unknown))
            granted -= hit
            unknown = [u for u in unknown if u not in hit_unknown]

    scoped: frozenset[str] = frozenset()
    if boundary_allows is not None:
        allowed = _union(statement_actions(b.statement) for b in boundary_allows)
        on_all = _union(statement_actions(b.statement) for b in boundary_allows if grants_all_resources(b.statement))
        outside = granted - allowed
        outside_unknown = tuple(u for u in unknown if not any(_boundary_may_allow(b.statement, u) for b in boundary_allows))
        if outside or outside_unknown:
            removals.append(Removal(f"permissions boundary ({boundary_label})", outside, outside_unknown))
            granted -= outside
            unknown = [u for u in unknown if u not in outside_unknown]
        scoped = granted - on_all

    return Grant(
        policy=located.policy,
        statement=stmt,
        actions=frozenset(granted),
        unknown=tuple(unknown),
        all_resources=grants_all_resources(stmt),
        boundary_scoped=frozenset(scoped),
        removed=tuple(removals),
    )


def _boundary_may_allow(allow: Statement, entry: str) -> bool:
    # Conservative: a wildcard entry, or any overlap in either direction, keeps it.
    if allow.actions is None:
        return True
    return any(glob_match(p, entry, ignore_case=True) or glob_match(entry, p, ignore_case=True) for p in allow.actions)
