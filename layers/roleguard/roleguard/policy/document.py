"""IAM policy grammar: decode a document once, normalise it into statements.

IAM accepts scalars or lists in most places and a single object for
Statement; everything downstream sees tuples only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote


class PolicyError(ValueError):
    """The document is not a policy; str(e) says why, in one line."""


def decode_policy(raw: Any) -> dict[str, Any]:
    """Turn what an API or a file gave us into a dict, decoding exactly once.

    IAM returns documents URL-encoded on the wire, boto3 hands back dicts,
    files hold JSON text (sometimes a JSON string wrapping the JSON). A value
    inside the policy that itself contains %3A must survive, so text that is
    already valid JSON is never unquoted.
    """
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise PolicyError("policy document is not UTF-8 text") from None
    if not isinstance(raw, str):
        raise PolicyError(f"policy document must be an object or text, got {type(raw).__name__}")
    text = raw.strip()
    if not text:
        raise PolicyError("policy document is empty")
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):  # JSONDecodeError, ints past Python's digit limit, absurd nesting
        if "%" not in text:
            raise PolicyError("policy document is not JSON") from None
        try:
            parsed = json.loads(unquote(text))
        except (ValueError, RecursionError):
            raise PolicyError("policy document is neither JSON nor URL-encoded JSON") from None
    if isinstance(parsed, str):
        # A JSON string holding the policy text: one more level, and only one.
        try:
            parsed = json.loads(parsed)
        except (ValueError, RecursionError):
            raise PolicyError("policy document is a JSON string that does not hold JSON") from None
    if not isinstance(parsed, dict):
        raise PolicyError(f"policy document must be a JSON object, got {type(parsed).__name__}")
    return parsed


@dataclass(frozen=True)
class Condition:
    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    key: str  # as written; compare lower-cased
    values: tuple[str, ...]


@dataclass(frozen=True)
class Principals:
    """Principal or NotPrincipal. `everyone` is "*" or {"AWS": "*"}."""

    everyone: bool = False
    by_type: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (("Service", (...)), ("AWS", (...)))

    def values(self, principal_type: str) -> tuple[str, ...]:
        for kind, vals in self.by_type:
            if kind.lower() == principal_type.lower():
                return vals
        return ()


@dataclass(frozen=True)
class Statement:
    index: int
    sid: str | None
    effect: str  # "Allow" | "Deny"
    actions: tuple[str, ...] | None  # None when NotAction is used
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    principal: Principals | None
    not_principal: Principals | None
    conditions: tuple[Condition, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        return f"statement {self.sid!r}" if self.sid else f"statement #{self.index + 1}"

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"


@dataclass(frozen=True)
class Policy:
    version: str | None
    statements: tuple[Statement, ...]


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise PolicyError(f"{where} must be a string or a list of strings")


def _condition_value(value: Any, where: str) -> tuple[str, ...]:
    # IAM accepts numbers and booleans in condition values and compares them as text.
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, (str, int, float)):
            out.append(str(item))
        else:
            raise PolicyError(f"{where} has a value that is not a string, number or boolean")
    return tuple(out)


def _principals(value: Any, where: str) -> Principals:
    if value == "*":
        return Principals(everyone=True)
    if not isinstance(value, dict) or not value:
        raise PolicyError(f'{where} must be "*" or an object such as {{"Service": ...}}')
    by_type = tuple((kind, _strings(vals, f"{where}.{kind}")) for kind, vals in value.items())
    everyone = any(kind == "AWS" and "*" in vals for kind, vals in by_type)
    return Principals(everyone=everyone, by_type=by_type)


def _conditions(value: Any, where: str) -> tuple[Condition, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise PolicyError(f"{where}.Condition must be an object")
    out = []
    for operator, block in value.items():
        if not isinstance(block, dict):
            raise PolicyError(f"{where}.Condition.{operator} must be an object of keys to values")
        for key, vals in block.items():
            out.append(Condition(operator, key, _condition_value(vals, f"{where}.Condition.{operator}.{key}")))
    return tuple(out)


def _one_of(stmt: dict, a: str, b: str, where: str, required: bool) -> tuple[Any, Any]:
    has_a, has_b = a in stmt, b in stmt
    if has_a and has_b:
        raise PolicyError(f"{where} has both {a} and {b}")
    if required and not (has_a or has_b):
        raise PolicyError(f"{where} has neither {a} nor {b}")
    return stmt.get(a), stmt.get(b)


def parse_policy(document: Any) -> Policy:
    """Decode (once) and normalise. Raises PolicyError with the first problem found."""
    doc = decode_policy(document)
    if "Statement" not in doc:
        raise PolicyError("policy has no Statement")
    raw_statements = doc["Statement"]
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        raise PolicyError("Statement must be an object or a list of objects")
    statements = []
    for index, stmt in enumerate(raw_statements):
        where = f"Statement[{index}]"
        if not isinstance(stmt, dict):
            raise PolicyError(f"{where} is not an object")
        effect = stmt.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise PolicyError(f'{where}.Effect must be "Allow" or "Deny", got {effect!r}')
        action, not_action = _one_of(stmt, "Action", "NotAction", where, required=True)
        resource, not_resource = _one_of(stmt, "Resource", "NotResource", where, required=False)
        principal, not_principal = _one_of(stmt, "Principal", "NotPrincipal", where, required=False)
        sid = stmt.get("Sid")
        statements.append(
            Statement(
                index=index,
                sid=sid if isinstance(sid, str) and sid else None,
                effect=effect,
                actions=_strings(action, f"{where}.Action") if action is not None else None,
                not_actions=_strings(not_action, f"{where}.NotAction") if not_action is not None else None,
                resources=_strings(resource, f"{where}.Resource") if resource is not None else None,
                not_resources=_strings(not_resource, f"{where}.NotResource") if not_resource is not None else None,
                principal=_principals(principal, f"{where}.Principal") if principal is not None else None,
                not_principal=_principals(not_principal, f"{where}.NotPrincipal") if not_principal is not None else None,
                conditions=_conditions(stmt.get("Condition"), where),
            )
        )
    version = doc.get("Version")
    return Policy(version=version if isinstance(version, str) else None, statements=tuple(statements))


def _principals_document(principals: Principals) -> Any:
    if principals.everyone and not principals.by_type:
        return "*"
    return {kind: list(values) for kind, values in principals.by_type}


def to_document(policy: Policy) -> dict[str, Any]:
    """The normal form of a parsed policy as a JSON-ready document: parse_policy(to_document(p)) == p.

    Every multi-valued element becomes a list, Statement is always a list, an empty or non-string Sid and a
    non-string Version are left out (parse_policy drops them), conditions are grouped back by operator and key.
    """
    statements = []
    for stmt in policy.statements:
        out: dict[str, Any] = {}
        if stmt.sid is not None:
            out["Sid"] = stmt.sid
        out["Effect"] = stmt.effect
        for key, value in (("Principal", stmt.principal), ("NotPrincipal", stmt.not_principal)):
            if value is not None:
                out[key] = _principals_document(value)
        for key, values in (("Action", stmt.actions), ("NotAction", stmt.not_actions),
                            ("Resource", stmt.resources), ("NotResource", stmt.not_resources)):
            if values is not None:
                out[key] = list(values)
        if stmt.conditions:
            blocks: dict[str, dict[str, list[str]]] = {}
            for cond in stmt.conditions:
                blocks.setdefault(cond.operator, {})[cond.key] = list(cond.values)
            out["Condition"] = blocks
        statements.append(out)
    document: dict[str, Any] = {"Statement": statements}
    if policy.version is not None:
        document = {"Version": policy.version, **document}
    return document
