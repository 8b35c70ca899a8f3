"""ServiceNow Table API (incident by default) behind TicketSystem.

- Find: GET /api/now/table/<table>?sysparm_query=correlation_id=<marker>.
- Create: POST with short_description (<= 160), description, correlation_id
  (<= 100: the 26-character marker), impact and urgency from the severity.
- Update: PATCH the fields with a work note saying what changed.
- Resolve: PATCH state 6 (Resolved) with close_code and close_notes, which
  ServiceNow requires to resolve.
- Reopen: a Resolved incident goes back to 2 (In Progress); a Closed (7) or
  Canceled (8) one cannot be reopened: CannotReopen, and the sink opens a new one.
- Auth: basic (user:password).
"""

from __future__ import annotations

import base64
from typing import Any, Sequence

from . import render
from .base import CannotReopen, TicketRef
from .http import HttpClient, create_once_or_find
from .problems import Problem

NEW, IN_PROGRESS, RESOLVED, CLOSED, CANCELED = "1", "2", "6", "7", "8"
FINISHED = frozenset({RESOLVED, CLOSED, CANCELED})


def basic_authorization(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode("utf-8")).decode("ascii")


class ServiceNowTickets:
    name = "servicenow"

    def __init__(self, http: HttpClient, *, table: str = "incident", close_code: str = "Resolved by change") -> None:
        self._http = http
        self._path = f"/api/now/table/{table}"
        self._close_code = close_code

    def find_by_key(self, problem: Problem) -> TicketRef | None:
        data = self._http.get(self._path, {"sysparm_query": f"correlation_id={problem.marker}",
                                           "sysparm_fields": "sys_id,number,state", "sysparm_limit": "20"}).json()
        refs = [self._ref(r) for r in (data or {}).get("result", []) if r.get("sys_id")]
        return next((r for r in refs if r.open), refs[0] if refs else None)

    def create(self, problem: Problem) -> TicketRef:
        def once() -> TicketRef:
            data = self._http.request("POST", self._path, body=render.servicenow_fields(problem), idempotent=False).json()
            return self._ref(data["result"])

        def find() -> TicketRef | None:
            found = self.find_by_key(problem)
            return found if found is not None and found.open else None

        return create_once_or_find(self._http, once, find)

    def update(self, ticket: TicketRef, problem: Problem, note: Sequence[str]) -> None:
        fields: dict[str, Any] = render.servicenow_fields(problem)
        fields.pop("correlation_id")
        if note:
            fields["work_notes"] = render.servicenow_plain(render.note(note))
        self._patch(ticket, fields)

    def resolve(self, ticket: TicketRef, problem: Problem, note: Sequence[str]) -> None:
        text = render.servicenow_plain(render.note(["Resolved by AppStream Role Guard.", *note]))
        state = self._state(ticket)
        if state in (CLOSED, CANCELED):
            return  # finished by someone else; closed records take no more changes
        if state == RESOLVED:
            self._patch(ticket, {"work_notes": text})
            return
        self._patch(ticket, {"state": RESOLVED, "close_code": self._close_code, "close_notes": text,
                             "work_notes": text})

    def reopen(self, ticket: TicketRef, problem: Problem, note: Sequence[str]) -> TicketRef:
        state = self._state(ticket)
        if state in (CLOSED, CANCELED):
            raise CannotReopen(f"servicenow {ticket.display} is {'Closed' if state == CLOSED else 'Canceled'}")
        fields: dict[str, Any] = render.servicenow_fields(problem)
        fields.pop("correlation_id")
        if state in FINISHED:
            fields["state"] = IN_PROGRESS
        fields["work_notes"] = render.servicenow_plain(
            render.note(["Reopened by AppStream Role Guard: the problem is back.", *note]))
        self._patch(ticket, fields)
        return TicketRef(ticket.id, ticket.display, True)

    def _state(self, ticket: TicketRef) -> str:
        data = self._http.get(f"{self._path}/{ticket.id}", {"sysparm_fields": "sys_id,number,state"}).json()
        return str(((data or {}).get("result") or {}).get("state", ""))

    def _patch(self, ticket: TicketRef, fields: dict[str, Any]) -> None:
        self._http.request("PATCH", f"{self._path}/{ticket.id}", body=fields)

    @staticmethod
    def _ref(record: dict[str, Any]) -> TicketRef:
        return TicketRef(str(record["sys_id"]), str(record.get("number") or record["sys_id"]),
                         str(record.get("state", NEW)) not in FINISHED)
