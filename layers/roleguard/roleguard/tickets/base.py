"""The one small interface every ticket system implements, and the errors they raise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from .problems import Problem


@dataclass(frozen=True)
class TicketRef:
    id: str  # what the API addresses it by: SEC-12 / a sys_id / oi-0123456789ab
    display: str  # what people call it: SEC-12 / INC0010001 / oi-0123456789ab
    open: bool  # False once resolved / done / closed


class TicketError(RuntimeError):
    """A ticket system or the ledger could not do what was asked; the event must be retried."""

    retryable = True


class TicketApiError(TicketError):
    """An HTTP API answered with an error (or not at all). `message` is the system's own error text."""

    def __init__(self, system: str, method: str, path: str, status: int | None, message: str, *,
                 fields: Sequence[str] = (), retryable: bool = False) -> None:
        where = f"{system} {method} {path}"
        super().__init__(f"{where} -> {status if status is not None else 'no response'}: {message}")
        self.system, self.method, self.path, self.status = system, method, path, status
        self.message = message
        self.fields = tuple(fields)  # which request fields the system rejected (Jira `errors` keys), locale-free
        self.retryable = retryable
        self.ambiguous = False  # the request may have taken effect (5xx / read timeout on a create)


class TicketQuotaExceeded(TicketError):
    """The system refuses new tickets until some are closed (OpsItemLimitExceededException, B23).

    Retrying cannot help: log it, count it, keep the Security Hub finding as the record.
    """

    retryable = False


class CannotReopen(TicketError):
    """The ticket is past reopening (ServiceNow Closed, no Jira transition back): open a new one."""


class LedgerError(TicketError):
    """DynamoDB refused or failed a ledger call other than a lost conditional write."""


class TicketSystem(Protocol):
    name: str

    def find_by_key(self, problem: Problem) -> TicketRef | None:
        """The ticket carrying the problem's marker, if one exists (an open one first)."""

    def create(self, problem: Problem) -> TicketRef: ...

    def update(self, ticket: TicketRef, problem: Problem, note: Sequence[str]) -> None:
        """Show the problem's current details; `note` (if any) says what changed, as a comment."""

    def resolve(self, ticket: TicketRef, problem: Problem, note: Sequence[str]) -> None:
        """Move to done / resolved with a comment saying what changed."""

    def reopen(self, ticket: TicketRef, problem: Problem, note: Sequence[str]) -> TicketRef:
        """Back to open with the current details and a comment; CannotReopen if the system will not."""
