"""Ticket sink: one ticket per problem, kept true as findings change (issue 5).

Per evaluated resource:
- FAILED / WARNING at or above the minimum severity (default HIGH), not
  suppressed: the resource joins its problem. A problem nobody has claimed is
  claimed in the ledger first, then its ticket is created (or an open ticket
  carrying its marker is adopted), then the ticket id is recorded. A problem
  with an open ticket is updated, with a comment saying what changed, only
  when what the ticket shows changed: re-deliveries post nothing.
- Below the minimum severity: joins a problem whose ticket is open (the
  problem is not fixed), never opens or reopens one.
- PASSED, suppressed by tag, resource retired (deleted, role removed), role
  replaced or check no longer applying: the resource leaves its problems. A
  problem no resource is affected by any more is resolved with a comment
  saying what changed.
- NOT_AVAILABLE (facts unreadable): the problem is left as it is.
- A regression of a resolved problem reopens its ticket or opens a new one
  (`on_regression`); a ticket the system will not reopen gets a successor.

One publish call works in two phases: first every outcome's changes go into
the ledger (conditional writes), then each problem touched is synced to its
ticket once. A sweep that finds a role shared by fifty fleets opens one ticket
listing fifty fleets, not one ticket and forty-nine comments.

Failures of the ticket system or the ledger are collected and raised as one
PublishError after every problem was tried, so the invocation fails and the
event is retried / dead-lettered. A failed create releases its claim. A
quota refusal (OpsItemLimitExceededException) is logged and reported, not
raised: retrying cannot help, and the Security Hub finding stays the record
(B23).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Sequence

from ..model import Finding, Severity, Status
from ..sinks.base import PublishError, PublishReport, ResourceOutcome
from .base import CannotReopen, TicketError, TicketQuotaExceeded, TicketRef, TicketSystem
from .ledger import CLAIMED, OPEN, RESOLVED, Entry, Ledger
from .problems import Affected, Problem, changes, problem_key

log = logging.getLogger("roleguard.tickets")

ON_REGRESSION = ("reopen", "new")


@dataclass
class _Touched:
    """A problem this publish call changed: sync it once at the end."""

    previous: Entry | None = None  # the entry before our claim (None: there was none); restored on a failed create
    claimed: bool = False
    leaving: list[str] = field(default_factory=list)  # resources to drop from their index once synced


class TicketSink:
    name = "tickets"

    def __init__(self, system: TicketSystem, ledger: Ledger, *, min_severity: Severity = Severity.HIGH,
                 on_regression: str = "reopen", clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, claim_wait_seconds: float = 10.0,
                 claim_poll_seconds: float = 0.25, stale_claim_seconds: float = 600.0, rounds: int = 8) -> None:
        if on_regression not in ON_REGRESSION:
            raise ValueError(f"on_regression must be one of {ON_REGRESSION}, got {on_regression!r}")
        self._system = system
        self._ledger = ledger
        self._min = min_severity
        self._on_regression = on_regression
        self._clock = clock
        self._sleep = sleep
        self._claim_wait = claim_wait_seconds
        self._claim_poll = claim_poll_seconds
        self._stale = stale_claim_seconds
        self._rounds = rounds

    # ------------------------------------------------------------------ Sink

    def publish(self, outcomes: Sequence[ResourceOutcome], observed_at: datetime) -> PublishReport:
        run = _Run(self, observed_at.isoformat(), uuid.uuid4().hex)
        for outcome in outcomes:
            run.record(outcome)
        run.sync_all()
        if run.errors:
            raise PublishError(f"tickets ({self._system.name}): " + "; ".join(run.errors))
        return run.report


class _Run:
    """One publish call: its claim token, the problems it touched, its report and errors."""

    def __init__(self, sink: TicketSink, now_iso: str, token: str) -> None:
        self.s = sink
        self.now_iso = now_iso
        self.token = token
        self.report = PublishReport(sink.name)
        self.errors: list[str] = []
        self.touched: dict[str, _Touched] = {}

    # ------------------------------------------------------------------ phase 1: the ledger

    def record(self, outcome: ResourceOutcome) -> None:
        ref = outcome.resource
        label = f"{ref.kind.label} {ref.name}"
        try:
            indexed = self.s._ledger.problems_of(ref.arn)
        except TicketError as err:
            self.errors.append(f"{ref.arn}: {err}")
            return
        failing: dict[str, tuple[Finding, bool]] = {}
        leaving: dict[str, str] = {}
        unknown: set[str] = set()
        for finding in outcome.findings:
            key = problem_key(finding)
            if finding.status is Status.NOT_AVAILABLE:
                unknown.add(key)
            elif finding.status is Status.PASSED:
                leaving[key] = f"{finding.check_id} passes for {label}: {finding.detail}"
            elif finding.suppression is not None and outcome.suppression_known:
                leaving[key] = f"{label}: {finding.suppression.note()}"
            else:
                opens = outcome.suppression_known and finding.severity.rank >= self.s._min.rank
                failing[key] = (finding, opens)
        for key in indexed - failing.keys() - leaving.keys() - unknown:
            leaving[key] = (f"{label}: {outcome.retired_reason}" if outcome.retired_reason else
                            f"{label} no longer uses this role, or the check no longer applies to it")

        for key, (finding, opens) in sorted(failing.items()):
            try:
                if key not in indexed:
                    if not opens and not self._has_open_ticket(key):
                        continue
                    self.s._ledger.index(ref.arn, add={key})  # before the problem lists the resource
                self._join(key, finding, opens)
            except TicketError as err:
                self.errors.append(f"{key}: {err}")
        for key, reason in sorted(leaving.items()):
            if key not in indexed:
                continue  # this resource was never part of that problem
            try:
                self._leave(key, ref.arn, reason)
            except TicketError as err:
                self.errors.append(f"{key}: {err}")

    def _has_open_ticket(self, key: str) -> bool:
        entry = self.s._ledger.get(key)
        return entry is not None and entry.state in (OPEN, CLAIMED)

    def _touch(self, key: str) -> _Touched:
        return self.touched.setdefault(key, _Touched())

    def _ours(self, entry: Entry) -> bool:
        return entry.state == CLAIMED and entry.claim_token == self.token

    def _join(self, key: str, finding: Finding, opens: bool) -> None:
        affected = Affected.from_finding(finding)
        waited = 0.0
        for _ in range(self.s._rounds + int(self.s._claim_wait / self.s._claim_poll)):
            entry = self.s._ledger.get(key)
            now = self.s._clock()
            if entry is None:
                if not opens:
                    return
                claim = Entry(key, CLAIMED, 1, Problem.for_finding(finding), claimed_at=now, claim_token=self.token,
                              system=self.s._system.name, updated_at=self.now_iso)
                if self.s._ledger.claim(claim):
                    touched = self._touch(key)
                    touched.claimed, touched.previous = True, None
                    return
                continue  # another delivery claimed it first: join theirs
            if entry.state == CLAIMED and not self._ours(entry):
                if now - (entry.claimed_at or 0.0) < self.s._stale:
                    if waited >= self.s._claim_wait:
                        raise TicketError(f"another delivery has been creating this problem's ticket for "
                                          f"{waited:.0f}s; retry later")
                    self.s._sleep(self.s._claim_poll)
                    waited += self.s._claim_poll
                    continue
                # An abandoned claim (its invocation died): take it over. The create adopts a ticket it may have made.
                log.warning("taking over the abandoned claim on %s", key)
                claim = entry.next(problem=entry.problem.with_resource(affected, finding.role_arn), claimed_at=now,
                                   claim_token=self.token, updated_at=self.now_iso)
                if self.s._ledger.save(claim):
                    touched = self._touch(key)
                    touched.claimed, touched.previous = True, entry
                    return
                continue
            if entry.state == RESOLVED and not entry.problem.resources and not opens:
                return  # below the minimum severity: never reopens
            problem = entry.problem.with_resource(affected, finding.role_arn)
            if problem != entry.problem:
                pending = entry.pending if self._ours(entry) else entry.pending + tuple(changes(entry.problem, problem))
                if not self.s._ledger.save(entry.next(problem=problem, pending=pending, updated_at=self.now_iso)):
                    continue
            self._touch(key)
            return
        raise TicketError("the ledger entry kept changing during this delivery; retry later")

    def _leave(self, key: str, arn: str, reason: str) -> None:
        for _ in range(self.s._rounds):
            entry = self.s._ledger.get(key)
            if entry is None:
                self._touch(key).leaving.append(arn)
                return
            if entry.state == CLAIMED and not self._ours(entry):
                # The creator lists this resource in the new ticket; a later evaluation removes it.
                raise TicketError("its ticket is being created by another delivery; retry later")
            problem = entry.problem.without(arn)
            if problem != entry.problem:
                pending = entry.pending if self._ours(entry) else \
                    entry.pending + tuple(changes(entry.problem, problem, {arn: reason}))
                if not self.s._ledger.save(entry.next(problem=problem, pending=pending, updated_at=self.now_iso)):
                    continue
            self._touch(key).leaving.append(arn)
            return
        raise TicketError("the ledger entry kept changing during this delivery; retry later")

    # ------------------------------------------------------------------ phase 2: the tickets

    def sync_all(self) -> None:
        synced: dict[str, list[str]] = {}
        for key, touched in sorted(self.touched.items()):
            try:
                entry = self.s._ledger.get(key)
                if entry is not None and self._ours(entry):
                    self._create(entry, touched.previous)
                elif entry is not None:
                    self._sync(entry)
            except TicketQuotaExceeded as err:
                log.error("ticket not created, the system refuses new tickets: %s", err)
                self.report.details.append(f"quota exceeded, no ticket for {key}: {err}")
            except TicketError as err:
                self.errors.append(f"{key}: {err}")
            else:
                for arn in touched.leaving:
                    synced.setdefault(arn, []).append(key)
        for arn, keys in sorted(synced.items()):
            try:
                self.s._ledger.index(arn, remove=set(keys))  # only once the problems no longer list it
            except TicketError as err:
                self.errors.append(f"{arn}: {err}")

    def _sync(self, entry: Entry) -> None:
        """Make the ticket show the entry's problem; record what it shows."""
        for _ in range(self.s._rounds):
            want_open = bool(entry.problem.resources)
            note = list(entry.pending) or changes(entry.shown, entry.problem)
            done: Entry | None = None
            if entry.state == OPEN and not want_open:
                self.s._system.resolve(self._ticket(entry), entry.problem, note)
                done = entry.next(state=RESOLVED, shown=entry.problem, pending=(), updated_at=self.now_iso)
                action = "resolved"
            elif entry.state == OPEN:
                if entry.in_sync and not entry.pending:
                    return
                self.s._system.update(self._ticket(entry), entry.problem, note)
                done = entry.next(shown=entry.problem, pending=(), updated_at=self.now_iso)
                action = "updated"
            elif entry.state == RESOLVED and want_open:
                if self.s._on_regression == "reopen" and entry.ticket_id:
                    try:
                        ticket = self.s._system.reopen(self._ticket(entry), entry.problem, note)
                    except CannotReopen as err:
                        log.info("%s; opening a new ticket", err)
                    else:
                        done = entry.next(state=OPEN, ticket_id=ticket.id, ticket_display=ticket.display,
                                          shown=entry.problem, pending=(), updated_at=self.now_iso)
                        action = "reopened"
                if done is None:
                    previous = entry.ticket_display or entry.ticket_id
                    claim = entry.next(state=CLAIMED, ticket_id=None, ticket_display=None, shown=None, pending=(),
                                       history=entry.history + ((previous,) if previous else ()),
                                       claimed_at=self.s._clock(), claim_token=self.token, updated_at=self.now_iso)
                    if self.s._ledger.save(claim):
                        return self._create(claim, entry)
                    entry = self._reread(entry)
                    continue
            else:
                return  # CLAIMED by another delivery, or resolved with nothing affected
            if self.s._ledger.save(done):
                self._count(action, done)
                return
            entry = self._reread(entry)  # changed while we talked to the ticket system: sync the newer state
        raise TicketError("the ledger entry kept changing during this delivery; retry later")

    def _create(self, claim: Entry, previous: Entry | None) -> None:
        """Our claim: find an open ticket with the problem's marker, else create one; then record it."""
        if not claim.problem.resources:  # every resource of this batch left again: nothing to open
            self._release(claim, previous)
            return
        try:
            found = self.s._system.find_by_key(claim.problem)
            if found is not None and found.open:
                self.s._system.update(found, claim.problem,
                                      ["AppStream Role Guard keeps this ticket in sync with the problem again."])
                ticket, action = found, "adopted"
            else:
                ticket, action = self.s._system.create(claim.problem), "opened"
        except Exception as err:  # release on any failure, then re-raise it unchanged
            released = self._release(claim, previous)
            if isinstance(err, TicketError) and not released:
                raise TicketError(f"{err} (and the claim could not be released: it expires after "
                                  f"{self.s._stale:.0f}s)") from err
            raise
        record = claim.next(state=OPEN, ticket_id=ticket.id, ticket_display=ticket.display, shown=claim.problem,
                            pending=(), claimed_at=None, claim_token=None, updated_at=self.now_iso)
        if not self.s._ledger.save(record):
            raise TicketError(f"created {ticket.display}, but the claim was taken over meanwhile; the next "
                              "delivery adopts the ticket by its marker")
        self._count(action, record)

    def _release(self, claim: Entry, previous: Entry | None) -> bool:
        """Undo a claim whose ticket was not created: the ledger never points at a ticket that does not exist."""
        try:
            if previous is not None and previous.state == RESOLVED:
                return self.s._ledger.save(claim.next(
                    state=RESOLVED, problem=previous.problem, shown=previous.shown, pending=previous.pending,
                    ticket_id=previous.ticket_id, ticket_display=previous.ticket_display, history=previous.history,
                    claimed_at=None, claim_token=None))
            if previous is not None and previous.history:
                return self.s._ledger.save(claim.next(state=RESOLVED, problem=previous.problem, claimed_at=None,
                                                      claim_token=None))
            return self.s._ledger.delete(claim)
        except TicketError as err:
            log.error("could not release the claim on %s: %s", claim.key, err)
            return False

    # ------------------------------------------------------------------ helpers

    def _reread(self, entry: Entry) -> Entry:
        fresh = self.s._ledger.get(entry.key)
        if fresh is None:
            raise TicketError("the ledger entry disappeared during this delivery; retry later")
        return fresh

    @staticmethod
    def _ticket(entry: Entry) -> TicketRef:
        assert entry.ticket_id is not None, entry.key
        return TicketRef(entry.ticket_id, entry.ticket_display or entry.ticket_id, entry.state == OPEN)

    def _count(self, action: str, entry: Entry) -> None:
        if action in ("opened", "adopted"):
            self.report.imported += 1
        elif action == "resolved":
            self.report.resolved += 1
        names = ", ".join(a.label for a in entry.problem.resources) or "nothing affected any more"
        self.report.details.append(f"{action} {entry.ticket_display} ({entry.key}: {names})")
        log.info("%s ticket %s for %s", action, entry.ticket_display, entry.key)
