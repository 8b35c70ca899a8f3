"""Problem -> ticket text for each system. Pure.

Everything a ticket shows is plain text built here; user-controlled text
(role, policy and resource names, tag values, policy excerpts quoted in a
check's detail) can never change its structure:

- `clean`: control, format and bidi-override characters and line breaks
  become spaces, so nothing user-supplied can start a line (no headings,
  lists, tables or quotes of its own).
- URLs in text are defanged (a zero-width space between ``:`` and ``//``,
  and after ``mailto``/``javascript``/``data``), so no system turns them into
  links; the only link-looking text left is our own documentation URL.
- Jira Cloud: ADF with paragraphs of plain text nodes only (no marks, no link
  or mention nodes), the shape B22 expects.
- Jira Data Center/Server: wiki markup characters are escaped (``\\*``,
  ``\\[``, ``\\{`` ...), a ``-`` that could open or close strike-through is
  escaped, and a backslash becomes U+29F5 (``\\\\`` is a line break in wiki
  markup).
- ServiceNow: plain fields; ``[code]`` (which lets journal fields carry HTML)
  is broken up.
- OpsCenter: Title <= 100 characters with a truncation marker, Description
  <= 2048, OperationalData ``/aws/resources`` (the role and every affected
  AppStream resource), ``/aws/dedup`` and our searchable 16-character digest.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from ..checks import get as get_check
from ..model import ResourceKind, Severity
from ..sinks.asff import truncate
from .problems import Problem

PRODUCT = "AppStream Role Guard"
ZWSP = "\u200b"

# Documented limits.
JIRA_SUMMARY = 255
JIRA_TEXT = 32_000  # description / comment body: Jira's 32,767-character field limit, with room for markup
SERVICENOW_SHORT = 160
SERVICENOW_TEXT = 4000
OPSITEM_TITLE = 100  # issue 5 / B23: titles over 100 characters are rejected
OPSITEM_DESCRIPTION = 2048  # botocore model: CreateOpsItem.Description max 2048
OPSITEM_SOURCE = "appstream-role-guard"
MAX_LISTED_RESOURCES = 100  # a ticket lists at most this many resources, then says how many more
OPSITEM_MAX_RESOURCES = 100  # "Each OpsItem can list a maximum of 100 related resource ARNs"

OPSITEM_SEVERITY = {Severity.CRITICAL: "1", Severity.HIGH: "2", Severity.MEDIUM: "3", Severity.LOW: "4",
                    Severity.INFORMATIONAL: "4"}
OPSITEM_PRIORITY = {Severity.CRITICAL: 1, Severity.HIGH: 2, Severity.MEDIUM: 3, Severity.LOW: 4,
                    Severity.INFORMATIONAL: 5}
# ServiceNow computes priority from impact x urgency (1 = high): CRITICAL -> P1, HIGH -> P2, MEDIUM -> P3 ...
SERVICENOW_IMPACT_URGENCY = {Severity.CRITICAL: ("1", "1"), Severity.HIGH: ("1", "2"), Severity.MEDIUM: ("2", "2"),
                             Severity.LOW: ("2", "3"), Severity.INFORMATIONAL: ("3", "3")}
DEFAULT_JIRA_PRIORITIES = (("CRITICAL", "Highest"), ("HIGH", "High"), ("MEDIUM", "Medium"), ("LOW", "Low"),
                           ("INFORMATIONAL", "Lowest"))


@dataclass(frozen=True)
class Link:
    """Our own URL (a check's documentation link): the one piece of text never escaped or defanged."""

    url: str


Line = tuple  # of str | Link segments


# --------------------------------------------------------------------------- sanitising

_WS = re.compile(r"\s+")
_SCHEME = re.compile(r"(?i)([a-z][a-z0-9+.\-]*):(?=/\s*/)")
_BARE_SCHEME = re.compile(r"(?i)\b(mailto|javascript|data|vbscript|file|tel|sms)(?=:)")


def clean(text: object) -> str:
    """One line of plain text: no control / format / bidi characters, no line breaks, single spaces."""
    chars = []
    for ch in str(text):
        category = unicodedata.category(ch)
        chars.append(" " if category in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn") else ch)
    return _WS.sub(" ", "".join(chars)).strip()


def defang(text: str) -> str:
    """Break URLs so no ticket system links them: `https:​//x`, `mailto​:x`."""
    text = _SCHEME.sub(lambda m: m.group(1) + ":" + ZWSP, text)
    return _BARE_SCHEME.sub(lambda m: m.group(1) + ZWSP, text)


def plain(text: object) -> str:
    return defang(clean(text))


_WIKI_SPECIAL = re.compile(r"([*_+^~?{}\[\]|!#])")
_WIKI_DASH = re.compile(r"(?<!\w)-|-(?!\w)")


def wiki_escape(text: str) -> str:
    """Jira wiki markup: the text shows as written and cannot open markup, macros, links or mentions."""
    text = plain(text).replace("\\", "\u29f5")
    text = _WIKI_SPECIAL.sub(r"\\\1", text)
    return _WIKI_DASH.sub(r"\\-", text)


_CODE_TAG = re.compile(r"(?i)\[(\s*/?\s*)(code)(\s*)\]")


def servicenow_text(text: str) -> str:
    """ServiceNow journal fields render `[code]...[/code]` as HTML: break the tag."""
    return _CODE_TAG.sub(lambda m: "[" + m.group(1) + ZWSP + m.group(2) + m.group(3) + "]", plain(text))


def _safe_url(url: str) -> str:
    if not re.fullmatch(r"https://[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]+", url) or any(c in url for c in "|[]{}"):
        raise ValueError(f"not a plain https URL: {url!r}")
    return url


# --------------------------------------------------------------------------- content (system-neutral)


def _subject(problem: Problem) -> str:
    if problem.scope == "role":
        return f"AppStream role {problem.role_name}"
    only = problem.resources[0] if problem.resources else None
    if only is None:  # a resource problem nothing is affected by any more: name it from its key
        arn = problem.key.split("#", 2)[1]
        kind, _, name = arn.split(":", 5)[5].partition("/")
        return f"AppStream {ResourceKind(kind).label} {name}"
    return f"AppStream {only.label}"


_VERB = {"FAILED": "fails", "WARNING": "may fail", "PASSED": "passes"}


def summary(problem: Problem, limit: int = JIRA_SUMMARY) -> str:
    """One plain line naming the problem: `AppStream role FleetRoleA fails trust-allows-appstream (HIGH)`.

    No state words beyond the verb: the ticket's own status says whether it is open or done.
    """
    verb = _VERB.get(problem.status.value, problem.status.value)
    return truncate(plain(f"{_subject(problem)} {verb} {problem.check_id} ({problem.severity.value})"), limit)


def body(problem: Problem) -> list[Line]:
    """The ticket's description as lines of segments."""
    check = get_check(problem.check_id)
    n = len(problem.resources)
    lines: list[Line] = []
    if problem.scope == "role":
        lines.append((f"{PRODUCT}: the IAM role {problem.role_arn} fails the check {check.id} "
                      f"({check.title}): {problem.status.value}, severity {problem.severity.value}.",))
    else:
        subject = _subject(problem).removeprefix("AppStream ")
        lines.append((f"{PRODUCT}: the AppStream {subject} fails the check {check.id} ({check.title}): "
                      f"{problem.status.value}, severity {problem.severity.value}.",))
        if problem.role_arn:
            lines.append((f"Role: {problem.role_arn}",))
    lines.append((f"Affected AppStream resources ({n}):" if n else "No AppStream resource is affected any more.",))
    for affected in problem.resources[:MAX_LISTED_RESOURCES]:
        lines.append((f"{affected.label} in {affected.region} ({affected.arn}): {affected.status} "
                      f"{affected.severity}: {affected.detail}",))
    if n > MAX_LISTED_RESOURCES:
        lines.append((f"... and {n - MAX_LISTED_RESOURCES} more.",))
    lines.append((f"Fix: {check.remediation}",))
    lines.append(("Documentation:", Link(_safe_url(check.documentation_url))))
    lines.append((f"Kept in sync by {PRODUCT} (problem {problem.marker}): updated when the findings change, "
                  "resolved when the check passes for every affected resource.",))
    return lines


def note(lines: Iterable[str]) -> list[Line]:
    return [(line,) for line in lines]


def _text(line: Line, escape) -> str:
    """A line's segments, escaped for the target (our links verbatim), separated by single spaces."""
    return " ".join(t for t in (s.url if isinstance(s, Link) else escape(s) for s in line) if t)


def _fit(texts: list[str], limit: int, joiner: str = "\n") -> list[str]:
    """Keep whole lines while they fit; the cut is marked."""
    kept, size = [], 0
    for text in texts:
        if size + len(text) + len(joiner) > limit - 40:
            kept.append("…[truncated]")
            break
        kept.append(text)
        size += len(text) + len(joiner)
    return kept


# --------------------------------------------------------------------------- Jira


def adf(lines: Sequence[Line]) -> dict[str, Any]:
    """Atlassian Document Format: one paragraph of one plain text node per line (B22)."""
    texts = [t for t in (_text(line, plain) for line in lines) if t]
    return {"type": "doc", "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": t}]} for t in _fit(texts, JIRA_TEXT)]}


def jira_wiki(lines: Sequence[Line]) -> str:
    """Jira Data Center / Server (REST v2): plain text with every wiki markup character escaped."""
    texts = [t for t in (_text(line, wiki_escape) for line in lines) if t]
    return "\n".join(_fit(texts, JIRA_TEXT))


def jira_priority(problem: Problem, mapping: Sequence[tuple[str, str]] = DEFAULT_JIRA_PRIORITIES) -> str | None:
    return dict(mapping).get(problem.severity.value)


# --------------------------------------------------------------------------- ServiceNow


def servicenow_plain(lines: Sequence[Line], limit: int = SERVICENOW_TEXT) -> str:
    texts = [t for t in (_text(line, servicenow_text) for line in lines) if t]
    return "\n".join(_fit(texts, limit))


def servicenow_fields(problem: Problem) -> dict[str, str]:
    impact, urgency = SERVICENOW_IMPACT_URGENCY[problem.severity]
    return {
        "short_description": servicenow_text(summary(problem, SERVICENOW_SHORT)),
        "description": servicenow_plain(body(problem)),
        "correlation_id": problem.marker,
        "impact": impact,
        "urgency": urgency,
    }


# --------------------------------------------------------------------------- OpsCenter


def opsitem_description(problem: Problem, change: Sequence[str] = ()) -> str:
    lines = body(problem)
    if change:
        lines = note(["Latest change:", *change]) + lines
    texts = [t for t in (_text(line, plain) for line in lines) if t]
    text = "\n".join(texts)
    return text if len(text) <= OPSITEM_DESCRIPTION else text[: OPSITEM_DESCRIPTION - 13] + " …[truncated]"


def opsitem_resources(problem: Problem) -> list[dict[str, str]]:
    arns = ([problem.role_arn] if problem.role_name else []) + [a.arn for a in problem.resources]
    return [{"arn": arn} for arn in arns[:OPSITEM_MAX_RESOURCES]]


def opsitem_operational_data(problem: Problem) -> dict[str, dict[str, str]]:
    data = {
        "/aws/dedup": {"Type": "SearchableString", "Value": json.dumps({"dedupString": problem.marker})},
        "/roleguard/problem": {"Type": "SearchableString", "Value": problem.digest},
        "/roleguard/check": {"Type": "SearchableString", "Value": problem.check_id},
    }
    resources = opsitem_resources(problem)
    if resources:
        data["/aws/resources"] = {"Type": "SearchableString", "Value": json.dumps(resources)}
    return data


def opsitem(problem: Problem, change: Sequence[str] = ()) -> dict[str, Any]:
    """Fields of CreateOpsItem / UpdateOpsItem for the problem."""
    return {
        "Title": summary(problem, OPSITEM_TITLE),
        "Description": opsitem_description(problem, change),
        "Severity": OPSITEM_SEVERITY[problem.severity],
        "Priority": OPSITEM_PRIORITY[problem.severity],
        "Category": "Security",
        "OperationalData": opsitem_operational_data(problem),
    }
