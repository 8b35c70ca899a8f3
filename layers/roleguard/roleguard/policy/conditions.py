"""Condition evaluation with three answers: holds, cannot hold, cannot tell.

The request context names the keys we know (with their values) and the keys
we know are absent; any other key is unknown and its condition gives UNKNOWN,
never TRUE. Semantics follow the IAM User Guide's condition operator page:
values of one key are OR'ed (negated operators: none may match), keys and
operators are AND'ed, an absent key fails a positive operator and satisfies a
negated one or ...IfExists, ForAllValues is true on an empty set.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum

from .document import Condition
from .matching import arn_match, glob_match


class Truth(Enum):
    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Outcome:
    truth: Truth
    reasons: tuple[str, ...] = ()

    @staticmethod
    def all_of(outcomes: list["Outcome"]) -> "Outcome":
        false = [r for o in outcomes if o.truth is Truth.FALSE for r in o.reasons]
        if false:
            return Outcome(Truth.FALSE, tuple(false))
        unknown = [r for o in outcomes if o.truth is Truth.UNKNOWN for r in o.reasons]
        if unknown:
            return Outcome(Truth.UNKNOWN, tuple(unknown))
        return Outcome(Truth.TRUE)


@dataclass(frozen=True)
class RequestContext:
    """Keys (lower-cased) with known values, and keys known to be absent."""

    values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    absent: frozenset[str] = frozenset()

    @staticmethod
    def of(values: dict[str, str | tuple[str, ...]], absent: tuple[str, ...] = ()) -> "RequestContext":
        norm = {k.lower(): (v,) if isinstance(v, str) else tuple(v) for k, v in values.items()}
        return RequestContext(norm, frozenset(a.lower() for a in absent))

    def lookup(self, key: str) -> tuple[str, ...] | None:
        """Values, () when known absent, None when unknown."""
        low = key.lower()
        if low in self.values:
            return self.values[low]
        if low in self.absent:
            return ()
        return None


_STRING_OPS = {"stringequals", "stringnotequals", "stringequalsignorecase", "stringnotequalsignorecase",
               "stringlike", "stringnotlike"}
_ARN_OPS = {"arnequals", "arnlike", "arnnotequals", "arnnotlike"}
_NUMERIC_OPS = {"numericequals", "numericnotequals", "numericlessthan", "numericlessthanequals",
                "numericgreaterthan", "numericgreaterthanequals"}
_DATE_OPS = {op.replace("numeric", "date") for op in _NUMERIC_OPS}
_OTHER_OPS = {"bool", "binaryequals", "ipaddress", "notipaddress"}
KNOWN_OPERATORS = _STRING_OPS | _ARN_OPS | _NUMERIC_OPS | _DATE_OPS | _OTHER_OPS | {"null"}

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
# ${*} ${?} ${$} stand for the literal characters; kept as these markers so a Like never treats them as wildcards.
LITERAL_STAR, LITERAL_QUESTION = "\ue000", "\ue001"
_LITERALS = {"*": LITERAL_STAR, "?": LITERAL_QUESTION, "$": "$"}


@dataclass(frozen=True)
class ParsedOperator:
    base: str  # lower-case, without qualifier and IfExists
    qualifier: str | None  # "foranyvalue" | "forallvalues" | None
    if_exists: bool

    @property
    def negated(self) -> bool:
        return "not" in self.base


def parse_operator(operator: str) -> ParsedOperator | None:
    low = operator.lower()
    qualifier = None
    for prefix in ("foranyvalue:", "forallvalues:"):
        if low.startswith(prefix):
            qualifier, low = prefix[:-1], low[len(prefix):]
    if_exists = low.endswith("ifexists") and low != "ifexists"
    if if_exists:
        low = low[: -len("ifexists")]
    if low not in KNOWN_OPERATORS:
        return None
    return ParsedOperator(low, qualifier, if_exists)


def is_negated(operator: str) -> bool:
    parsed = parse_operator(operator)
    return bool(parsed and parsed.negated)


def _substitute(value: str, context: RequestContext) -> str | None:
    """Resolve ${key} policy variables; None when one is unknown."""
    if "${" not in value:
        return value
    unresolved = False

    def repl(match: re.Match[str]) -> str:
        nonlocal unresolved
        name = match.group(1)
        if name in _LITERALS:
            return _LITERALS[name]
        known = context.lookup(name.split(",")[0].strip())
        if known is None or len(known) != 1:
            unresolved = True
            return ""
        return known[0]

    result = _VARIABLE.sub(repl, value)
    return None if unresolved else result


def _positive_match(base: str, request_value: str, policy_value: str) -> bool | None:
    """Does one request value satisfy one policy value under the positive form of `base`?"""
    if base in ("stringequals", "stringnotequals"):
        return request_value == _literal(policy_value)
    if base in ("stringequalsignorecase", "stringnotequalsignorecase"):
        return request_value.casefold() == _literal(policy_value).casefold()
    if base in ("stringlike", "stringnotlike"):
        return glob_match(policy_value, request_value)
    if base in _ARN_OPS:
        return arn_match(policy_value, request_value)
    if base == "bool":
        return request_value.lower() == _literal(policy_value).lower()
    if base == "binaryequals":
        return request_value == _literal(policy_value)
    if base in ("ipaddress", "notipaddress"):
        try:
            return ipaddress.ip_address(request_value) in ipaddress.ip_network(policy_value, strict=False)
        except ValueError:
            return None
    if base in _NUMERIC_OPS:
        try:
            return _compare(base.removeprefix("numeric"), float(request_value), float(policy_value))
        except ValueError:
            return None
    if base in _DATE_OPS:
        try:
            return _compare(base.removeprefix("date"), _date(request_value), _date(policy_value))
        except (ValueError, OverflowError, OSError):
            return None
    return None


def _compare(kind: str, a, b) -> bool:
    return {
        "equals": a == b, "notequals": a == b, "lessthan": a < b, "lessthanequals": a <= b,
        "greaterthan": a > b, "greaterthanequals": a >= b,
    }[kind]


def _date(value: str) -> datetime:
    if value.isdigit():
        return datetime.fromtimestamp(int(value), tz=timezone.utc)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _literal(value: str) -> str:
    return value.replace(LITERAL_STAR, "*").replace(LITERAL_QUESTION, "?")


def evaluate_condition(condition: Condition, context: RequestContext, *, variables: bool = True) -> Outcome:
    """`variables`: the policy's Version is 2012-10-17; older versions treat ${...} as literal text."""
    op = parse_operator(condition.operator)
    shown = f"{condition.operator} {condition.key} {list(condition.values)}"
    if op is None:
        return Outcome(Truth.UNKNOWN, (f"unknown condition operator {condition.operator!r}",))
    request = context.lookup(condition.key)
    if request is None:
        return Outcome(Truth.UNKNOWN, (f"condition key {condition.key} cannot be evaluated here ({shown})",))

    if op.base == "null":
        wants_absent = [v.lower() == "true" for v in condition.values]
        is_absent = len(request) == 0
        ok = any(w == is_absent for w in wants_absent)
        return _result(ok, f"{condition.key} is {'absent' if is_absent else 'present'}; {shown}")

    if not request:
        if op.if_exists or op.qualifier == "forallvalues" or (op.negated and op.qualifier is None):
            return Outcome(Truth.TRUE)
        return Outcome(Truth.FALSE, (f"{condition.key} is not in the request; {shown} requires it",))

    policy_values = []
    for raw in condition.values:
        resolved = _substitute(raw, context) if variables else raw
        if resolved is None:
            return Outcome(Truth.UNKNOWN, (f"policy variable in {raw!r} cannot be resolved here",))
        policy_values.append(resolved)

    def value_matches(req: str) -> bool | None:
        answers = [_positive_match(op.base, req, pv) for pv in policy_values]
        if None in answers:
            return None
        return any(answers)

    per_value = [value_matches(r) for r in request]
    if None in per_value:
        return Outcome(Truth.UNKNOWN, (f"cannot compare {condition.key} values under {condition.operator}",))
    if op.negated:
        per_value = [not m for m in per_value]
    if op.qualifier == "forallvalues":
        ok = all(per_value)
    else:
        # Single-valued keys and ForAnyValue: any request value that satisfies.
        ok = any(per_value)
    shown_request = request[0] if len(request) == 1 else list(request)
    return _result(ok, f"{condition.key} is {shown_request!r} here; {shown} does not match")


def _result(ok: bool, reason_if_false: str) -> Outcome:
    return Outcome(Truth.TRUE) if ok else Outcome(Truth.FALSE, (reason_if_false,))


def evaluate_conditions(conditions: tuple[Condition, ...], context: RequestContext, *, variables: bool = True) -> Outcome:
    return Outcome.all_of([evaluate_condition(c, context, variables=variables) for c in conditions])
