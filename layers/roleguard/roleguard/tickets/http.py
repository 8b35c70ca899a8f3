"""HTTP for the ticket APIs (urllib3): explicit timeouts, bounded retries, clear errors, nothing secret logged.

- Connect and read timeouts on every attempt, never longer than the time left.
- At most `attempts` tries. 429 and 5xx (and connection failures) are retried
  with exponential backoff and jitter; a Retry-After header (seconds or an
  HTTP date) is honoured, capped at `max_retry_after`. A wait that would pass
  the deadline (the Lambda's remaining time, less a margin, or the per-request
  budget) is not waited: the error is raised at once, so the invocation fails
  cleanly and the event is retried or dead-lettered instead of timing out.
- A request that is not idempotent (creating a ticket) is not blindly
  re-sent after an ambiguous failure (500/502/504, read timeout: it may have
  taken effect): the error says `ambiguous`, and `create_once_or_find` looks
  the ticket up by its marker before trying again.
- 4xx: TicketApiError with the system's own error text (Jira `errorMessages`
  and `errors`, ServiceNow `error.message`/`error.detail`) and the rejected
  field names, so callers branch on fields and status, never on (localised)
  message text (B22).
- Logs carry method, path (no query), status and timing; never headers, the
  Authorization value or request bodies.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Mapping, TypeVar
from urllib.parse import urlencode, urlsplit

from .base import TicketApiError

log = logging.getLogger("roleguard.tickets.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A 429 or 503 is a refusal: the request was not processed. Other 5xx may have been.
UNPROCESSED_STATUSES = frozenset({429, 503})
MIN_ATTEMPT_SECONDS = 1.0  # no attempt is started with less time than this left
MAX_ERROR_TEXT = 600

T = TypeVar("T")


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body.strip() else None


@dataclass
class HttpClient:
    system: str  # "jira" / "servicenow": in errors and logs
    base_url: str
    authorization: Callable[[], str]  # the Authorization header value, fetched when first needed
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    attempts: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 30.0
    budget_seconds: float = 40.0  # one request (with its retries) never takes longer than this
    deadline: Callable[[], float | None] = lambda: None  # monotonic time the invocation must be done by
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = random.random
    user_agent: str = "appstream-role-guard"
    _pool: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"{self.system}: {self.base_url!r} is not a base URL")
        self.base_url = self.base_url.rstrip("/")

    def __repr__(self) -> str:  # never shows the credentials provider's state
        return f"HttpClient({self.system!r}, {self.base_url!r})"

    # ------------------------------------------------------------------ requests

    def get(self, path: str, query: Mapping[str, Any] | None = None, **kw: Any) -> Response:
        return self.request("GET", path, query=query, **kw)

    def request(self, method: str, path: str, *, body: Any = None, query: Mapping[str, Any] | None = None,
                idempotent: bool | None = None, allow: tuple[int, ...] = ()) -> Response:
        """One API call with bounded retries. Returns 2xx responses (and statuses in `allow`); raises otherwise."""
        import urllib3

        idempotent = method in ("GET", "HEAD", "PUT", "DELETE", "PATCH") if idempotent is None else idempotent
        url = self.base_url + path + (("?" + urlencode(query)) if query else "")
        payload = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        finish_by = self._finish_by()
        for attempt in range(1, self.attempts + 1):
            remaining = finish_by - self.clock()
            if remaining < MIN_ATTEMPT_SECONDS:
                raise TicketApiError(self.system, method, path, None,
                                     "not started: the invocation's time budget is used up", retryable=True)
            headers = {"Authorization": self.authorization(), "Accept": "application/json",
                       "User-Agent": self.user_agent}
            if payload is not None:
                headers["Content-Type"] = "application/json"
            timeout = urllib3.Timeout(connect=min(self.connect_timeout, remaining),
                                      read=min(self.read_timeout, remaining))
            started = self.clock()
            try:
                raw = self._pool_manager().request(method, url, body=payload, headers=headers, timeout=timeout,
                                                   retries=False, redirect=False)
            except urllib3.exceptions.HTTPError as err:
                # Connect failures never reached the server; read timeouts / dropped connections may have.
                sent = not isinstance(err, (urllib3.exceptions.NewConnectionError,
                                            urllib3.exceptions.ConnectTimeoutError))
                error = TicketApiError(self.system, method, path, None, f"{type(err).__name__}: {_short(err)}",
                                       retryable=True)
                error.ambiguous = sent and not idempotent
                log.warning("%s %s %s failed (attempt %d/%d): %s", self.system, method, path, attempt,
                            self.attempts, type(err).__name__)
                self._pause_or_raise(error, attempt, finish_by, None)
                continue
            response = Response(raw.status, {k.lower(): v for k, v in raw.headers.items()}, raw.data or b"")
            log.debug("%s %s %s -> %d in %.0f ms (attempt %d)", self.system, method, path, response.status,
                      (self.clock() - started) * 1000, attempt)
            if 200 <= response.status < 300 or response.status in allow:
                return response
            error = self._error(method, path, response)
            if response.status not in RETRY_STATUSES:
                raise error
            error.ambiguous = response.status not in UNPROCESSED_STATUSES and not idempotent
            log.warning("%s %s %s -> %d (attempt %d/%d)", self.system, method, path, response.status, attempt,
                        self.attempts)
            self._pause_or_raise(error, attempt, finish_by, response.headers.get("retry-after"))
        raise AssertionError("unreachable")  # pragma: no cover

    def pause(self, error: TicketApiError, attempt: int) -> None:
        """Back off before a caller-driven retry (see create_once_or_find), or raise `error` if time is short."""
        self._pause_or_raise(error, attempt, self._finish_by(), None, ambiguous_ok=True)

    # ------------------------------------------------------------------ helpers

    def _finish_by(self) -> float:
        own = self.clock() + self.budget_seconds
        deadline = self.deadline()
        return own if deadline is None else min(own, deadline)

    def _pause_or_raise(self, error: TicketApiError, attempt: int, finish_by: float, retry_after: str | None,
                        *, ambiguous_ok: bool = False) -> None:
        if attempt >= self.attempts or (getattr(error, "ambiguous", False) and not ambiguous_ok):
            raise error
        wait = self._wait(attempt, retry_after)
        if self.clock() + wait + MIN_ATTEMPT_SECONDS > finish_by:
            error.args = (f"{error.args[0]} (not retried: waiting {wait:.1f}s would pass the time budget)",)
            raise error
        self.sleep(wait)

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        asked = parse_retry_after(retry_after, datetime.now(timezone.utc)) if retry_after else None
        if asked is not None:
            return min(asked, self.max_retry_after)
        return min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * (0.5 + self.jitter() / 2)

    def _error(self, method: str, path: str, response: Response) -> TicketApiError:
        message, fields = error_text(response)
        return TicketApiError(self.system, method, path, response.status, message, fields=fields,
                              retryable=response.status in RETRY_STATUSES)

    def _pool_manager(self) -> Any:
        if self._pool is None:
            import urllib3

            self._pool = urllib3.PoolManager(num_pools=4, maxsize=4, retries=False)
        return self._pool


def parse_retry_after(value: str, now: datetime) -> float | None:
    """Retry-After: delay-seconds or an HTTP-date (RFC 9110 §10.2.3); None if unreadable."""
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def error_text(response: Response) -> tuple[str, tuple[str, ...]]:
    """The system's own error message and the names of the fields it rejected."""
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        data = None
    parts: list[str] = []
    fields: tuple[str, ...] = ()
    if isinstance(data, dict):
        # Jira: {"errorMessages": [...], "errors": {"field": "message"}}
        parts += [str(m) for m in data.get("errorMessages") or [] if m]
        errors = data.get("errors")
        if isinstance(errors, dict):
            fields = tuple(sorted(str(k) for k in errors))
            parts += [f"{k}: {v}" for k, v in sorted(errors.items(), key=lambda kv: str(kv[0]))]
        # ServiceNow: {"error": {"message": ..., "detail": ...}, "status": "failure"}
        error = data.get("error")
        if isinstance(error, dict):
            parts += [str(error[k]) for k in ("message", "detail") if error.get(k)]
        elif isinstance(error, str):
            parts.append(error)
        if not parts and isinstance(data.get("message"), str):
            parts.append(data["message"])
    if not parts:
        text = response.body.decode("utf-8", "replace").strip()
        parts.append(text or "(empty body)")
    return _short("; ".join(parts)), fields


def _short(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_ERROR_TEXT else text[: MAX_ERROR_TEXT - 1] + "…"


def create_once_or_find(http: HttpClient, create: Callable[[], T], find: Callable[[], T | None]) -> T:
    """Create a ticket without ever creating it twice.

    After an ambiguous failure the ticket may exist: look it up by its marker
    first and only create again if it is not there.
    """
    for attempt in range(1, http.attempts + 1):
        try:
            return create()
        except TicketApiError as err:
            if not getattr(err, "ambiguous", False) or attempt >= http.attempts:
                raise
            found = find()
            if found is not None:
                return found
            http.pause(err, attempt)
    raise AssertionError("unreachable")  # pragma: no cover
