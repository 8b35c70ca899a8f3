"""Wildcard matching as IAM does it: '*' any run of characters, '?' one character."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=4096)
def _glob_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        elif ch == "\ue000":  # a literal '*' from the ${*} policy variable
            parts.append(re.escape("*"))
        elif ch == "\ue001":  # a literal '?' from ${?}
            parts.append(re.escape("?"))
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    if not any(ch in pattern for ch in "*?\ue000\ue001"):
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    return _glob_regex(pattern, ignore_case).fullmatch(value) is not None


def action_matches(pattern: str, action: str) -> bool:
    """Action names are case-insensitive; 'sts:Assume*' and '*' are patterns."""
    return glob_match(pattern, action, ignore_case=True)


def any_action_matches(patterns: tuple[str, ...], action: str) -> bool:
    return any(action_matches(p, action) for p in patterns)


def statement_covers_action(actions: tuple[str, ...] | None, not_actions: tuple[str, ...] | None, action: str) -> bool:
    """True when a statement's Action (or NotAction) element applies to `action`."""
    if actions is not None:
        return any_action_matches(actions, action)
    return not any_action_matches(not_actions or (), action)


def arn_match(pattern: str, arn: str) -> bool:
    """ArnEquals / ArnLike: each of the six colon-separated parts matched on its own, case-sensitively."""
    pattern_parts = pattern.split(":", 5)
    arn_parts = arn.split(":", 5)
    if len(pattern_parts) != 6 or len(arn_parts) != 6:
        # Not ARN-shaped: IAM compares nothing sensible; a lone '*' still matches everything.
        return pattern == "*"
    return all(glob_match(p, a) for p, a in zip(pattern_parts, arn_parts))
