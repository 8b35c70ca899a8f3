"""Jira Cloud (REST v3, ADF) and Jira Data Center / Server (REST v2, wiki text) behind TicketSystem.

- Create: POST /rest/api/{3|2}/issue with project, issue type, summary (one
  plain line <= 255), description (ADF on Cloud, B22; escaped text on DC),
  labels (`roleguard` + the problem marker + configured ones) and priority.
- Find: the marker label, through the current JQL search endpoint on Cloud
  (POST /rest/api/3/search/jql, paged by nextPageToken; /rest/api/3/search was
  removed) and /rest/api/2/search (startAt/maxResults) on DC.
- Update: PUT the issue's fields, then a comment saying what changed.
- Resolve / reopen: the comment, then the issue's own transition to a status
  in the done (resp. to-do) category, found through GET .../transitions.
- Auth: Cloud basic auth (account email + API token); DC a personal access
  token as Bearer.
"""

from __future__ import annotations

import base64
from typing import Any, Callable, Sequence

from . import render
from .base import CannotReopen, TicketApiError, TicketRef
from .http import HttpClient, create_once_or_find
from .problems import Problem

DONE_NAMES = frozenset({"done", "closed", "resolved"})
TO_DO_STATUS_NAMES = ("to do", "open", "reopened", "backlog", "in progress")
PAGE_SIZE = 50
MAX_PAGES = 10


def cloud_authorization(user: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{token}".encode("utf-8")).decode("ascii")


def bearer_authorization(token: str) -> str:
    return f"Bearer {token}"


class JiraTickets:
    def __init__(self, http: HttpClient, *, cloud: bool, project: str, issue_type: str = "Task",
                 labels: Sequence[str] = (), priorities: Sequence[tuple[str, str]] = render.DEFAULT_JIRA_PRIORITIES,
                 ) -> None:
        self.name = "jira-cloud" if cloud else "jira-dc"
        self._http = http
        self._cloud = cloud
        self._api = "/rest/api/3" if cloud else "/rest/api/2"
        self._project = project
        self._issue_type = issue_type
        self._labels = tuple(labels)
        self._priorities = tuple(priorities)

    # ------------------------------------------------------------------ content

    def _text(self, lines: Sequence[render.Line]) -> Any:
        return render.adf(lines) if self._cloud else render.jira_wiki(lines)

    def _fields(self, problem: Problem) -> dict[str, Any]:
        fields: dict[str, Any] = {"summary": render.summary(problem, render.JIRA_SUMMARY),
                                  "description": self._text(render.body(problem))}
        priority = render.jira_priority(problem, self._priorities)
        if priority:
            fields["priority"] = {"name": priority}
        return fields

    def _labels_for(self, problem: Problem) -> list[str]:
        return sorted({"roleguard", problem.marker, *self._labels})

    # ------------------------------------------------------------------ TicketSystem

    def find_by_key(self, problem: Problem) -> TicketRef | None:
        jql = f'project = {self._project} AND labels = "{problem.marker}"'
        issues = self._search(jql)
        refs = [TicketRef(i["key"], i["key"], self._is_open(i)) for i in issues if i.get("key")]
        return next((r for r in refs if r.open), refs[0] if refs else None)

    def create(self, problem: Problem) -> TicketRef:
        fields = {"project": {"key": self._project}, "issuetype": {"name": self._issue_type},
                  "labels": self._labels_for(problem), **self._fields(problem)}

        def once() -> TicketRef:
            data = self._http.request("POST", f"{self._api}/issue", body={"fields": fields}, idempotent=False).json()
            return TicketRef(data["key"], data["key"], True)

        return create_once_or_find(self._http, once, lambda: self._open_or_none(problem))

    def update(self, ticket: TicketRef, problem: Problem, note: Sequence[str]) -> None:
        self._http.request("PUT", f"{self._api}/issue/{ticket.id}", body={"fields": self._fields(problem)})
        if note:
            self._comment(ticket, note)

    def resolve(self, ticket: TicketRef, problem: Problem, note: Sequence[str]) -> None:
        self._comment(ticket, ["Resolved by AppStream Role Guard.", *note])
        if not self._is_open(self._issue(ticket)):
            return  # someone already moved it to done
        self._transition(ticket, lambda t: _category(t) == "done" or _to_name(t) in DONE_NAMES, "done")

    def reopen(self, ticket: TicketRef, problem: Problem, note: Sequence[str]) -> TicketRef:
        def back(t: dict) -> bool:
            return _category(t) in ("new", "indeterminate") or (not _category(t) and _to_name(t) in TO_DO_STATUS_NAMES)

        if not self._is_open(self._issue(ticket)):
            transitions = self._transitions(ticket)
            wanted = sorted((t for t in transitions if back(t)), key=lambda t: _category(t) != "new")
            if not wanted:
                raise CannotReopen(f"{self.name} {ticket.display} has no transition back to an open status")
            self._http.request("POST", f"{self._api}/issue/{ticket.id}/transitions",
                               body={"transition": {"id": wanted[0]["id"]}}, idempotent=True)
        self._http.request("PUT", f"{self._api}/issue/{ticket.id}", body={"fields": self._fields(problem)})
        self._comment(ticket, ["Reopened by AppStream Role Guard: the problem is back.", *note])
        return TicketRef(ticket.id, ticket.display, True)

    # ------------------------------------------------------------------ helpers

    def _open_or_none(self, problem: Problem) -> TicketRef | None:
        found = self.find_by_key(problem)
        return found if found is not None and found.open else None

    def _issue(self, ticket: TicketRef) -> dict:
        return self._http.get(f"{self._api}/issue/{ticket.id}", {"fields": "status"}).json() or {}

    def _comment(self, ticket: TicketRef, lines: Sequence[str]) -> None:
        self._http.request("POST", f"{self._api}/issue/{ticket.id}/comment",
                           body={"body": self._text(render.note(lines))}, idempotent=True)

    def _transitions(self, ticket: TicketRef) -> list[dict]:
        return list((self._http.get(f"{self._api}/issue/{ticket.id}/transitions").json() or {}).get("transitions", []))

    def _transition(self, ticket: TicketRef, wanted: Callable[[dict], bool], what: str) -> None:
        transitions = self._transitions(ticket)
        match = next((t for t in transitions if wanted(t)), None)
        if match is None:
            names = ", ".join(sorted(_to_name(t) or str(t.get("name")) for t in transitions)) or "none"
            raise TicketApiError(self.name, "POST", f"{self._api}/issue/{ticket.id}/transitions", None,
                                 f"no transition to a {what} status (available: {names})")
        self._http.request("POST", f"{self._api}/issue/{ticket.id}/transitions",
                           body={"transition": {"id": match["id"]}}, idempotent=True)

    def _search(self, jql: str) -> list[dict]:
        issues: list[dict] = []
        if self._cloud:
            token: str | None = None
            for _ in range(MAX_PAGES):
                body: dict[str, Any] = {"jql": jql, "fields": ["status", "labels"], "maxResults": PAGE_SIZE}
                if token:
                    body["nextPageToken"] = token
                data = self._http.request("POST", f"{self._api}/search/jql", body=body, idempotent=True).json() or {}
                issues += data.get("issues", [])
                token = data.get("nextPageToken")
                if not token or data.get("isLast"):
                    break
            return issues
        start = 0
        for _ in range(MAX_PAGES):
            data = self._http.get(f"{self._api}/search", {"jql": jql, "fields": "status,labels",
                                                          "startAt": start, "maxResults": PAGE_SIZE}).json() or {}
            page = data.get("issues", [])
            issues += page
            start += len(page)
            if not page or start >= int(data.get("total", 0)):
                break
        return issues

    @staticmethod
    def _is_open(issue: dict) -> bool:
        status = ((issue.get("fields") or {}).get("status") or {})
        category = (status.get("statusCategory") or {}).get("key")
        if category:
            return category != "done"
        return str(status.get("name", "")).lower() not in DONE_NAMES


def _to(t: dict) -> dict:
    return t.get("to") or {}


def _category(t: dict) -> str:
    return str((_to(t).get("statusCategory") or {}).get("key") or "")


def _to_name(t: dict) -> str:
    return str(_to(t).get("name") or t.get("name") or "").lower()

