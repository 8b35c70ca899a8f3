"""Local HTTP servers that speak the Jira and ServiceNow REST contracts.

The ticket sink is tested over a real socket, not through mocks: each server
is a `http.server.ThreadingHTTPServer` on ``127.0.0.1:0`` in a daemon thread,
started and stopped as a context manager::

    with JiraServer() as jira:                # flavor="cloud" | "datacenter"
        post(f"{jira.url}/rest/api/3/issue", ...)
        assert jira.issues["SEC-1"]["status"] == {"name": "To Do"}

    with ServiceNowServer() as snow:
        post(f"{snow.url}/api/now/table/incident", ...)

Both record every request in ``.requests`` (`RecordedRequest`: method, path
with query string, parsed JSON body, case-insensitive headers) and take
injected failures with ``.fail_next(status, times=, retry_after=, body=,
path_prefix=)``: the next matching requests are answered with that status
(``Retry-After`` header when given) and the system's own error body, before
authentication and before any state changes.

What each server implements, and where it comes from, is in the class
docstrings. Where the real system and the brief disagreed, the real system
won; those places say so.
"""

from __future__ import annotations

import base64
import copy
import datetime
import hashlib
import itertools
import json
import re
import secrets
import threading
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

__all__ = [
    "Headers",
    "JiraServer",
    "RecordedRequest",
    "ServiceNowServer",
    "adf_nodes",
    "adf_text",
]


# ======================================================================
# Shared machinery
# ======================================================================


class Headers(Mapping):
    """Request headers as received; lookups ignore case."""

    def __init__(self, pairs):
        self._items = list(pairs)
        self._lower = {}
        for name, value in self._items:
            self._lower.setdefault(name.lower(), value)

    def __getitem__(self, name: str) -> str:
        return self._lower[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(dict(self._items))

    def __len__(self) -> int:
        return len(dict(self._items))

    def __repr__(self) -> str:
        return f"Headers({dict(self._items)!r})"


class RecordedRequest(NamedTuple):
    """One request as the server saw it: ``(method, path, body, headers)``.

    ``path`` is the request target as sent (query string included); ``body``
    is the parsed JSON body, ``None`` without a body, or the raw text when the
    body was not JSON.
    """

    method: str
    path: str
    body: Any
    headers: Headers

    @property
    def route(self) -> str:
        """The path without its query string, percent-decoded."""
        return urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)

    @property
    def query(self) -> dict[str, str]:
        """The query parameters (last value wins)."""
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query, keep_blank_values=True))


@dataclass
class _Reply:
    status: int
    body: Any = None  # dict/list → JSON, str → text/plain, None → empty
    headers: dict[str, str] | None = None


class _Abort(Exception):
    """Raised inside a handler to answer with `reply` at once."""

    def __init__(self, reply: _Reply):
        super().__init__(reply.status)
        self.reply = reply


@dataclass
class _Failure:
    status: int
    remaining: int
    retry_after: int | float | str | None
    body: Any
    path_prefix: str | None


_BODY_METHODS = {"POST", "PUT", "PATCH"}


class _TicketServer:
    """Base of the servers: socket, thread, request log, failure injection."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._failures: list[_Failure] = []
        self._lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        if self._httpd is not None:
            raise RuntimeError(f"{type(self).__name__} is already running")
        handler = type(f"{type(self).__name__}Handler", (_Handler,), {"server_double": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}-{self._httpd.server_address[1]}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    @property
    def url(self) -> str:
        """Base URL, no trailing slash."""
        if self._httpd is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # -- test controls -------------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: int | float | str | None = None,
        body: Any = None,
        path_prefix: str | None = None,
    ) -> None:
        """Answer the next `times` matching requests with `status`.

        A request matches when its path (without query) starts with
        `path_prefix` (any request when None). `retry_after` adds a
        ``Retry-After`` header; `body` replaces the system's default error
        body (dict → JSON, str → text). Injected failures are answered before
        authentication and change nothing; they are consumed in the order
        they were added.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._failures.append(_Failure(status, times, retry_after, body, path_prefix))

    def requests_to(self, method: str | None = None, route_prefix: str = "") -> list[RecordedRequest]:
        """The recorded requests with this method (any when None) under `route_prefix`."""
        with self._lock:
            return [
                request
                for request in self.requests
                if (method is None or request.method == method) and request.route.startswith(route_prefix)
            ]

    # -- hooks for the subclasses ----------------------------------------------

    def _failure_body(self, status: int) -> Any:
        raise NotImplementedError

    def _unsupported_media_type(self) -> _Reply:
        raise NotImplementedError

    def _invalid_json(self, error: json.JSONDecodeError) -> _Reply:
        raise NotImplementedError

    def _authenticate(self, headers: Headers) -> _Reply | None:
        raise NotImplementedError

    def _dispatch(self, method: str, route: str, query: dict[str, str], body: Any, headers: Headers) -> _Reply:
        raise NotImplementedError

    # -- the request pipeline ----------------------------------------------------

    def _handle(self, method: str, target: str, raw_body: bytes, headers: Headers) -> _Reply:
        body, json_error = self._parse_body(raw_body)
        recorded_body = raw_body.decode("utf-8", "replace") if json_error else body
        with self._lock:
            self.requests.append(RecordedRequest(method, target, recorded_body, headers))
            route = urllib.parse.unquote(urllib.parse.urlsplit(target).path)
            injected = self._take_failure(route)
            if injected is not None:
                return injected
            denied = self._authenticate(headers)
            if denied is not None:
                return denied
            if method in _BODY_METHODS and raw_body:
                content_type = headers.get("Content-Type", "")
                if not content_type.split(";")[0].strip().lower() == "application/json":
                    return self._unsupported_media_type()
                if json_error:
                    return self._invalid_json(json_error)
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(target).query, keep_blank_values=True))
            try:
                return self._dispatch(method, route, query, None if json_error else body, headers)
            except _Abort as abort:
                return abort.reply

    @staticmethod
    def _parse_body(raw_body: bytes) -> tuple[Any, json.JSONDecodeError | None]:
        """(parsed body, None) or (None, the decoding error); (None, None) without a body."""
        if not raw_body:
            return None, None
        try:
            return json.loads(raw_body), None
        except json.JSONDecodeError as error:
            return None, error
        except UnicodeDecodeError:
            return None, json.JSONDecodeError("the body is not UTF-8", "", 0)

    def _take_failure(self, route: str) -> _Reply | None:
        for failure in self._failures:
            if failure.remaining <= 0:
                continue
            if failure.path_prefix is not None and not route.startswith(failure.path_prefix):
                continue
            failure.remaining -= 1
            headers = {}
            if failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
            body = failure.body if failure.body is not None else self._failure_body(failure.status)
            return _Reply(failure.status, copy.deepcopy(body), headers)
        return None


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP/1.1 requests into `_TicketServer._handle` calls."""

    server_double: _TicketServer
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections are dropped after this
    disable_nagle_algorithm = True  # headers and body go out in two writes; no 40 ms stalls

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        headers = Headers(self.headers.items())
        try:
            reply = self.server_double._handle(self.command, self.path, raw_body, headers)
        except Exception as error:  # a bug in the double: answer 500 and say so
            reply = _Reply(500, {"double_error": f"{type(error).__name__}: {error}"})
        self._send(reply)

    def _send(self, reply: _Reply) -> None:
        headers = dict(reply.headers or {})
        if reply.body is None:
            payload = b""
        elif isinstance(reply.body, (bytes, bytearray)):
            payload = bytes(reply.body)
            headers.setdefault("Content-Type", "application/octet-stream")
        elif isinstance(reply.body, str):
            payload = reply.body.encode()
            headers.setdefault("Content-Type", "text/plain;charset=UTF-8")
        else:
            payload = json.dumps(reply.body).encode()
            headers.setdefault("Content-Type", "application/json;charset=UTF-8")
        self.send_response(reply.status)
        for name, value in headers.items():
            self.send_header(name, value)
        if reply.status not in (204, 304):
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD" and reply.status not in (204, 304):
            self.wfile.write(payload)

    def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
        pass


def _basic_credentials(headers: Headers) -> tuple[str, str] | None:
    value = headers.get("Authorization", "")
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        user, sep, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (user, secret) if sep else None


def _bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


# ======================================================================
# Atlassian Document Format
# ======================================================================

# Node types this double accepts and what each may contain. A subset of
# https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/
# (doc, the common block nodes, text, hardBreak, mention, emoji, inlineCard).
_ADF_BLOCK = {"paragraph", "heading", "bulletList", "orderedList", "codeBlock", "blockquote", "rule", "panel"}
_ADF_INLINE = {"text", "hardBreak", "mention", "emoji", "inlineCard"}
_ADF_CHILDREN = {
    "doc": _ADF_BLOCK,
    "paragraph": _ADF_INLINE,
    "heading": _ADF_INLINE,
    "bulletList": {"listItem"},
    "orderedList": {"listItem"},
    "listItem": {"paragraph", "bulletList", "orderedList", "codeBlock"},
    "codeBlock": {"text"},
    "blockquote": {"paragraph", "bulletList", "orderedList", "codeBlock"},
    "panel": {"paragraph", "heading", "bulletList", "orderedList"},
    "rule": set(),
    "text": set(),
    "hardBreak": set(),
    "mention": set(),
    "emoji": set(),
    "inlineCard": set(),
}
_ADF_NEEDS_CONTENT = {"bulletList", "orderedList", "listItem", "blockquote", "panel"}
_ADF_MARKS = {"code", "em", "strong", "strike", "underline", "link", "subsup", "textColor"}
_ADF_NODE_KEYS = {"type", "content", "attrs", "marks", "text"}


def _adf_problem(node: Any, expected: set[str], where: str) -> str | None:
    """Why `node` is not a valid ADF node of one of the `expected` types (None if valid)."""
    if not isinstance(node, dict):
        return f"{where}: a node must be an object"
    node_type = node.get("type")
    if node_type not in expected:
        return f"{where}: node type {node_type!r} is not allowed here"
    extra = set(node) - _ADF_NODE_KEYS
    if extra:
        return f"{where}: unknown properties {sorted(extra)}"
    if node_type == "text":
        text = node.get("text")
        if not isinstance(text, str) or not text:
            return f"{where}: a text node needs a non-empty 'text'"
        marks = node.get("marks", [])
        if not isinstance(marks, list):
            return f"{where}: 'marks' must be a list"
        for mark in marks:
            if not isinstance(mark, dict) or mark.get("type") not in _ADF_MARKS:
                return f"{where}: unknown mark {mark!r}"
            if mark["type"] == "link" and not isinstance(mark.get("attrs", {}).get("href"), str):
                return f"{where}: a link mark needs attrs.href"
        return None
    if "text" in node or "marks" in node:
        return f"{where}: only text nodes carry 'text' and 'marks'"
    if node_type == "heading":
        level = node.get("attrs", {}).get("level") if isinstance(node.get("attrs"), dict) else None
        if level not in (1, 2, 3, 4, 5, 6):
            return f"{where}: a heading needs attrs.level 1..6"
    content = node.get("content", [])
    if not isinstance(content, list):
        return f"{where}: 'content' must be a list"
    if node_type in _ADF_NEEDS_CONTENT and not content:
        return f"{where}: {node_type} must not be empty"
    if not _ADF_CHILDREN[node_type] and content:
        return f"{where}: {node_type} has no content"
    for index, child in enumerate(content):
        problem = _adf_problem(child, _ADF_CHILDREN[node_type], f"{where}.content[{index}]")
        if problem:
            return problem
    return None


def _is_adf_document(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") == "doc"


def _adf_doc_problem(value: Any) -> str | None:
    if value.get("version") != 1:
        return "doc: version must be 1"
    if not isinstance(value.get("content"), list):
        return "doc: 'content' must be a list"
    if set(value) - {"type", "version", "content"}:
        return f"doc: unknown properties {sorted(set(value) - {'type', 'version', 'content'})}"
    for index, child in enumerate(value["content"]):
        problem = _adf_problem(child, _ADF_BLOCK, f"doc.content[{index}]")
        if problem:
            return problem
    return None


def adf_nodes(document: Any) -> Iterator[dict]:
    """Every node of an ADF document, depth first (the document itself first)."""
    if isinstance(document, dict):
        yield document
        for child in document.get("content", []) or []:
            yield from adf_nodes(child)


def adf_text(document: Any) -> str:
    """The plain text of an ADF document: blocks on their own lines."""
    if isinstance(document, str):
        return document
    lines: list[str] = []

    def inline_text(node: dict) -> str:
        parts = []
        for child in node.get("content", []) or []:
            if child.get("type") == "text":
                parts.append(child.get("text", ""))
            elif child.get("type") == "hardBreak":
                parts.append("\n")
            elif child.get("content"):
                parts.append(inline_text(child))
        return "".join(parts)

    def walk(node: dict) -> None:
        if node.get("type") in ("paragraph", "heading", "codeBlock"):
            lines.append(inline_text(node))
            return
        for child in node.get("content", []) or []:
            walk(child)

    if isinstance(document, dict):
        walk(document)
    return "\n".join(lines)


# ======================================================================
# JQL (the subset the product needs)
# ======================================================================


class _JqlError(ValueError):
    pass


_JQL_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|!~|>=|<=|=|~|>|<)
      | (?P<punct>[(),])
      | (?P<word>[^\s"'(),=!~<>]+)
    )""",
    re.VERBOSE,
)


def _jql_tokens(jql: str) -> list[tuple[str, str, int]]:
    tokens, position = [], 0
    while position < len(jql):
        if jql[position:].strip() == "":
            break
        match = _JQL_TOKEN.match(jql, position)
        if not match:
            raise _JqlError(f"Unexpected character at position {position + 1}")
        kind = match.lastgroup
        text = match.group(kind)
        start = match.start(kind)
        if kind == "string":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        tokens.append((kind, text, start))
        position = match.end()
    return tokens


@dataclass(frozen=True)
class _JqlQuery:
    clauses: tuple[tuple[str, str, str], ...]  # (field, operator, value)
    order_by: tuple[str, bool] | None  # (field, descending)


_JQL_FIELDS = {"project": {"="}, "labels": {"="}, "statuscategory": {"=", "!="}, "status": {"=", "!="}}
_JQL_ORDER_FIELDS = {"created", "updated", "key"}


def _parse_jql(jql: str) -> _JqlQuery:
    """Parse the supported subset: AND-joined ``field op value`` clauses.

    Supported: ``project = KEY``, ``labels = "label"``, ``status[Category] =|!=
    value`` joined by AND, optionally ``ORDER BY created|updated|key
    [ASC|DESC]``. Anything else (OR, NOT, IN, ~, functions, parentheses, other
    fields) raises `_JqlError`, answered as HTTP 400.
    """
    tokens = _jql_tokens(jql)
    if not tokens:
        raise _JqlError("empty query")
    clauses, order_by, index = [], None, 0

    def take(kind: str | None = None) -> tuple[str, str, int]:
        nonlocal index
        if index >= len(tokens):
            raise _JqlError("Expecting more input at the end of the query")
        token = tokens[index]
        if kind and token[0] != kind:
            raise _JqlError(f"Unexpected {token[1]!r} at position {token[2] + 1}")
        index += 1
        return token

    while True:
        kind, field_name, start = take()
        if kind != "word":
            raise _JqlError(f"Expecting a field name but got {field_name!r} at position {start + 1}")
        if field_name.lower() == "order" and clauses:
            index -= 1
            break
        field_key = field_name.lower()
        if field_key not in _JQL_FIELDS:
            raise _JqlError(f"field {field_name!r} is not supported by this double")
        op_kind, operator, op_start = take()
        if op_kind != "op" and operator.lower() in ("in", "not", "is", "was", "changed"):
            raise _JqlError(f"operator {operator!r} is not supported by this double")
        if op_kind != "op" or operator not in _JQL_FIELDS[field_key]:
            raise _JqlError(f"operator {operator!r} is not supported for {field_name!r} by this double")
        value_kind, value, value_start = take()
        if value_kind not in ("string", "word"):
            raise _JqlError(f"Expecting a value but got {value!r} at position {value_start + 1}")
        if value_kind == "word" and value.endswith(")"):
            raise _JqlError("functions are not supported by this double")
        clauses.append((field_key, operator, value))
        if index == len(tokens):
            break
        kind, word, start = tokens[index]
        if kind == "word" and word.upper() == "AND":
            index += 1
            continue
        if kind == "word" and word.upper() == "ORDER":
            break
        raise _JqlError(f"{word!r} at position {start + 1} is not supported by this double (only AND)")
    if index < len(tokens):
        take("word")  # ORDER
        by = take("word")
        if by[1].upper() != "BY":
            raise _JqlError("Expecting 'BY' after 'ORDER'")
        order_field = take("word")[1].lower()
        if order_field not in _JQL_ORDER_FIELDS:
            raise _JqlError(f"ORDER BY {order_field!r} is not supported by this double")
        descending = False
        if index < len(tokens):
            direction = take("word")[1].upper()
            if direction not in ("ASC", "DESC"):
                raise _JqlError(f"Expecting ASC or DESC, got {direction!r}")
            descending = direction == "DESC"
        if index < len(tokens):
            raise _JqlError(f"Unexpected {tokens[index][1]!r} after ORDER BY")
        order_by = (order_field, descending)
    return _JqlQuery(tuple(clauses), order_by)


# ======================================================================
# Jira
# ======================================================================

_STATUSES = {  # name → (id, statusCategory key, statusCategory id, statusCategory name)
    "To Do": ("10000", "new", 2, "To Do"),
    "In Progress": ("3", "indeterminate", 4, "In Progress"),
    "Done": ("10001", "done", 3, "Done"),
}
_TRANSITIONS = {"11": "To Do", "21": "In Progress", "31": "Done"}
_STATUS_CATEGORY_NAMES = {
    "to do": "To Do", "new": "To Do", "in progress": "In Progress", "indeterminate": "In Progress", "done": "Done",
}
_CREATE_FIELDS = {"project", "issuetype", "summary", "description", "labels", "priority"}
_EDIT_FIELDS = {"summary", "description", "labels", "priority"}
_SEARCH_BODY_KEYS = {
    "jql", "nextPageToken", "maxResults", "fields", "expand", "properties", "fieldsByKeys", "failFast",
    "reconcileIssues",
}
_JIRA_CANNOT_CREATE = (
    "We can't create this issue for you right now, it could be due to unsupported content you've entered "
    "into one or more of the issue fields. If this situation persists, contact your administrator as "
    "they'll be able to access more specific information in the log file."
)
_JIRA_NOT_FOUND = "Issue does not exist or you do not have permission to see it."
_JIRA_SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration "
    "guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)


def _jira_time(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _jira_errors(errors: dict | None = None, messages: list | None = None, status: int = 400) -> _Reply:
    return _Reply(status, {"errorMessages": list(messages or []), "errors": dict(errors or {})})


class JiraServer(_TicketServer):
    """Jira Cloud (REST v3) or Jira Data Center/Server (REST v2) over HTTP.

    ``flavor="cloud"`` serves ``/rest/api/3``; rich-text fields (description,
    comment bodies) must be Atlassian Document Format, a plain string is
    answered 400 ``{"errorMessages":[],"errors":{"description":"Operation
    value must be an Atlassian Document (see the Atlassian Document
    Format)"}}`` (case B22; lesstif/php-jira-rest-client#280) or, for comments,
    ``{"errors":{"comment":"Comment body is not valid!"}}``
    (lesstif/php-jira-rest-client#412); a malformed document (unknown node,
    empty text node) gets Jira's "We can't create this issue for you right
    now..." 400 (tenable/integration-jira-cloud#82). Auth: Basic
    ``user:token`` (API token). The removed search endpoints
    ``/rest/api/{2,3}/search`` answer 410 with Atlassian's migration message
    (CHANGE-2046, quoted from real responses in adyscorpius/logseq-jira#34);
    other ``/rest/api/2`` paths answer 404, so a Cloud client cannot fall back
    to plain-text v2 unnoticed.

    ``flavor="datacenter"`` serves ``/rest/api/2``; description and comment
    bodies are plain strings (an object is answered 400 "Operation value must
    be a string"). Auth: ``Authorization: Bearer <personal access token>``
    only (Basic is refused, so the product's PAT path is what gets tested).
    Search is ``/rest/api/2/search`` with startAt/maxResults/total.

    Endpoints (both flavors, under the flavor's prefix): POST ``issue``
    (201 ``{"id","key","self"}``), GET/PUT ``issue/{key}`` (PUT → 204; ``fields``
    and ``update`` with labels add/remove/set, summary/description/priority
    set, comment add), GET/POST ``issue/{key}/comment``, GET/POST
    ``issue/{key}/transitions``; search as above. Unknown issue → 404 "Issue
    does not exist or you do not have permission to see it."

    Validation (messages as Jira returns them, collected per field into
    ``errors``): project must exist; issuetype required and known; summary
    required, a string, no newline ("The summary is invalid because it
    contains newline characters."), at most 255 characters; priority must be a
    known name or id ("The priority selected is invalid."); labels must be
    strings without whitespace (Cloud: "The label 'x' can't contain spaces.",
    DC: "The label 'x' contains spaces which is invalid."); any other field:
    "Field 'x' cannot be set. It is not on the appropriate screen, or
    unknown." POST/PUT bodies need ``Content-Type: application/json`` (415
    otherwise).

    Workflow: statuses "To Do", "In Progress", "Done"; transitions "11" → To
    Do, "21" → In Progress, "31" → Done, each available from the other two
    statuses (GET lists only those); an unavailable or unknown id → 400
    "Transition id 'x' is not valid for this issue." Moving to Done sets
    resolution Done, leaving Done clears it; a transition may carry
    ``update.comment`` and ``fields.resolution``.

    JQL: see `_parse_jql`: only AND-joined ``project = X``, ``labels = "L"``,
    ``statusCategory = / != Done`` (and ``status``), optional ``ORDER BY
    created|updated|key [ASC|DESC]``; anything else is answered 400 "Error in
    the JQL Query: ...". An unknown project → 400 "The value 'X' does not
    exist for the field 'project'." Label match is exact. Without ORDER BY,
    results come in creation order. Cloud ``search/jql`` (GET or POST):
    ``nextPageToken`` paging with ``isLast``; issues carry id/key/self and only
    the requested ``fields`` (none by default, as the enhanced search returns
    just ids unless asked); an empty query → 400 (unbounded); POST with
    ``startAt`` → 400 (not a field of the new endpoint). ``max_page_size``
    caps maxResults so paging shows with few issues.

    State: ``issues`` maps key → a flat issue dict (id, key, project,
    issuetype, summary, description, labels, priority {"name"}, status
    {"name"}, resolution, comments [{"id","body","created",...}], created,
    updated, history [(from, to)]).
    """

    def __init__(
        self,
        flavor: str = "cloud",
        *,
        user: str = "roleguard@example.com",
        token: str = "s3cr3t-token",
        projects: tuple[str, ...] = ("SEC",),
        issue_types: tuple[str, ...] = ("Task", "Bug"),
        priorities: tuple[str, ...] = ("Highest", "High", "Medium", "Low", "Lowest"),
        max_page_size: int = 50,
    ) -> None:
        super().__init__()
        if flavor not in ("cloud", "datacenter"):
            raise ValueError(f"flavor must be 'cloud' or 'datacenter', not {flavor!r}")
        self.flavor = flavor
        self.user = user
        self.token = token
        self.projects = tuple(projects)
        self.issue_types = tuple(issue_types)
        self.priorities = tuple(priorities)
        self.max_page_size = max_page_size
        self.issues: dict[str, dict] = {}
        self._issue_ids = itertools.count(10001)
        self._comment_ids = itertools.count(10000)
        self._key_counters = {project: itertools.count(1) for project in self.projects}

    # -- helpers for tests ---------------------------------------------------

    @property
    def api(self) -> str:
        """The REST prefix of this flavor: ``/rest/api/3`` or ``/rest/api/2``."""
        return "/rest/api/3" if self.flavor == "cloud" else "/rest/api/2"

    @property
    def cloud(self) -> bool:
        return self.flavor == "cloud"

    def auth_header(self) -> dict[str, str]:
        """The Authorization header this server accepts."""
        if self.cloud:
            encoded = base64.b64encode(f"{self.user}:{self.token}".encode()).decode()
            return {"Authorization": f"Basic {encoded}"}
        return {"Authorization": f"Bearer {self.token}"}

    def seed(
        self,
        summary: str,
        *,
        labels: tuple[str, ...] | list[str] = (),
        status: str = "To Do",
        project: str | None = None,
        issuetype: str | None = None,
        priority: str = "Medium",
        description: Any = None,
    ) -> str:
        """Create an issue directly (no HTTP, no validation); returns its key."""
        with self._lock:
            issue = self._new_issue(
                project or self.projects[0], issuetype or self.issue_types[0], summary, description,
                list(labels), priority,
            )
            if status != "To Do":
                self._move(issue, status)
            return issue["key"]

    def set_status(self, key: str, status: str) -> None:
        """Move an issue as a person would in the UI (no HTTP)."""
        with self._lock:
            self._move(self.issues[key], status)

    def comment_texts(self, key: str) -> list[str]:
        """The comments of an issue as plain text (ADF flattened)."""
        with self._lock:
            return [adf_text(comment["body"]) for comment in self.issues[key]["comments"]]

    def description_text(self, key: str) -> str:
        with self._lock:
            return adf_text(self.issues[key]["description"]) if self.issues[key]["description"] else ""

    # -- protocol hooks ------------------------------------------------------

    def _failure_body(self, status: int) -> Any:
        if status == 429:
            return {"errorMessages": ["Rate limit exceeded."], "errors": {}}
        if status == 503:
            return {"errorMessages": ["Service Unavailable"], "errors": {}}
        if status >= 500:
            return {"errorMessages": ["Internal server error"], "errors": {}}
        return {"errorMessages": [f"Injected HTTP {status}"], "errors": {}}

    def _unsupported_media_type(self) -> _Reply:
        return _Reply(415, {"errorMessages": ["Unsupported Media Type"], "errors": {}})

    def _invalid_json(self, error: json.JSONDecodeError) -> _Reply:
        return _jira_errors(messages=[f"Unexpected character in the JSON body (line {error.lineno}, column {error.colno})"])

    def _authenticate(self, headers: Headers) -> _Reply | None:
        if self.cloud:
            credentials = _basic_credentials(headers)
            if credentials == (self.user, self.token):
                return None
            extra = {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"} if credentials else {}
            return _Reply(
                401,
                "Client must be authenticated to access this resource.",
                {"WWW-Authenticate": 'Basic realm="protected-area"', **extra},
            )
        token = _bearer_token(headers)
        if token == self.token:
            return None
        extra = {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"} if token or "Authorization" in headers else {}
        return _Reply(
            401,
            {"errorMessages": ["You are not authenticated. Authentication required to perform this operation."],
             "errors": {}},
            {"WWW-Authenticate": 'OAuth realm="Jira"', **extra},
        )

    def _dispatch(self, method, route, query, body, headers) -> _Reply:
        route = route.rstrip("/") or "/"
        if self.cloud and route in ("/rest/api/3/search", "/rest/api/2/search"):
            return _jira_errors(messages=[_JIRA_SEARCH_REMOVED], status=410)
        if not route.startswith(self.api + "/"):
            return _jira_errors(messages=[f"null for uri: {self.url}{route}"], status=404)
        rest = route[len(self.api) + 1:]
        parts = rest.split("/")
        if self.cloud and rest == "search/jql":
            return self._route(method, ("GET", "POST"), lambda: self._search_jql(method, query, body))
        if not self.cloud and rest == "search":
            return self._route(method, ("GET", "POST"), lambda: self._search_v2(method, query, body))
        if parts == ["issue"]:
            return self._route(method, ("POST",), lambda: self._create(body))
        if len(parts) == 2 and parts[0] == "issue":
            return self._route(
                method, ("GET", "PUT"),
                lambda: self._get_issue(parts[1], query) if method == "GET" else self._edit(parts[1], body),
            )
        if len(parts) == 3 and parts[0] == "issue" and parts[2] == "comment":
            return self._route(
                method, ("GET", "POST"),
                lambda: self._list_comments(parts[1], query) if method == "GET" else self._add_comment(parts[1], body),
            )
        if len(parts) == 3 and parts[0] == "issue" and parts[2] == "transitions":
            return self._route(
                method, ("GET", "POST"),
                lambda: self._list_transitions(parts[1]) if method == "GET" else self._transition(parts[1], body),
            )
        return _jira_errors(messages=[f"null for uri: {self.url}{route}"], status=404)

    @staticmethod
    def _route(method: str, allowed: tuple[str, ...], action) -> _Reply:
        if method not in allowed:
            return _Reply(405, {"errorMessages": [f"Method {method} not allowed"], "errors": {}},
                          {"Allow": ", ".join(allowed)})
        return action()

    # -- issues --------------------------------------------------------------

    def _new_issue(self, project, issuetype, summary, description, labels, priority) -> dict:
        now = _utcnow()
        issue_id = str(next(self._issue_ids))
        key = f"{project}-{next(self._key_counters[project])}"
        issue = {
            "id": issue_id,
            "key": key,
            "project": project,
            "issuetype": issuetype,
            "summary": summary,
            "description": copy.deepcopy(description),
            "labels": list(labels),
            "priority": {"name": priority},
            "status": {"name": "To Do"},
            "resolution": None,
            "comments": [],
            "created": _jira_time(now),
            "updated": _jira_time(now),
            "history": [],
        }
        self.issues[key] = issue
        return issue

    def _find(self, key_or_id: str) -> dict:
        issue = self.issues.get(key_or_id) or next(
            (candidate for candidate in self.issues.values() if candidate["id"] == key_or_id), None
        )
        if issue is None:
            raise _Abort(_jira_errors(messages=[_JIRA_NOT_FOUND], status=404))
        return issue

    def _fields_object(self, body: Any) -> dict:
        if not isinstance(body, dict):
            raise _Abort(_jira_errors(messages=["The request body must be a JSON object"]))
        return body

    def _create(self, body: Any) -> _Reply:
        body = self._fields_object(body)
        fields = body.get("fields")
        if not isinstance(fields, dict):
            return _jira_errors(messages=["Request must contain 'fields'"] if "fields" not in body
                                else ["Can not deserialize 'fields': expected an object"])
        errors: dict[str, str] = {}
        for name in fields:
            if name not in _CREATE_FIELDS:
                errors[name] = f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
        project = self._check_project(fields.get("project"), errors)
        issuetype = self._check_issuetype(fields.get("issuetype"), errors)
        summary = self._check_summary(fields.get("summary"), errors, required=True)
        priority = self._check_priority(fields.get("priority"), errors) if "priority" in fields else "Medium"
        labels = self._check_labels(fields.get("labels"), errors) if "labels" in fields else []
        description = fields.get("description")
        messages = self._check_rich_text("description", description, errors) if description is not None else []
        if "update" in body:
            errors.update(self._check_update_keys(body["update"], allowed={"labels", "comment"}))
            if not errors and isinstance(body["update"], dict):
                errors.update(self._check_update_operations(body["update"], messages))
        if errors or messages:
            return _jira_errors(errors, messages)
        issue = self._new_issue(project, issuetype, summary, description, labels, priority)
        if isinstance(body.get("update"), dict):
            self._apply_update(issue, body["update"])
        return _Reply(201, {"id": issue["id"], "key": issue["key"], "self": f"{self.url}{self.api}/issue/{issue['id']}"})

    def _check_project(self, value: Any, errors: dict) -> str | None:
        missing = "Specify a valid project ID or key" if self.cloud else "project is required"
        if not isinstance(value, dict) or not (value.get("key") or value.get("id")):
            errors["project"] = missing
            return None
        if "key" in value:
            match = next((p for p in self.projects if p.upper() == str(value["key"]).upper()), None)
        else:
            ids = {str(10000 + index): p for index, p in enumerate(self.projects)}
            match = ids.get(str(value["id"]))
        if match is None:
            errors["project"] = "Specify a valid project ID or key" if self.cloud else "Could not find project by id or key."
        return match

    def _check_issuetype(self, value: Any, errors: dict) -> str | None:
        if not isinstance(value, dict) or not (value.get("name") or value.get("id")):
            errors["issuetype"] = "Specify an issue type" if self.cloud else "issue type is required"
            return None
        if "name" in value:
            match = value["name"] if value["name"] in self.issue_types else None
        else:
            ids = {str(10001 + index): name for index, name in enumerate(self.issue_types)}
            match = ids.get(str(value["id"]))
        if match is None:
            errors["issuetype"] = "The issue type selected is invalid."
        return match

    def _check_summary(self, value: Any, errors: dict, *, required: bool) -> str | None:
        if value is None or value == "":
            if required:
                errors["summary"] = "You must specify a summary of the issue."
            return None
        if not isinstance(value, str):
            errors["summary"] = "Operation value must be a string"
            return None
        if "\n" in value or "\r" in value:
            errors["summary"] = "The summary is invalid because it contains newline characters."
            return None
        if len(value) > 255:
            errors["summary"] = (
                "Summary can't exceed 255 characters." if self.cloud else "Summary must be less than 255 characters."
            )
            return None
        if not value.strip():
            errors["summary"] = "You must specify a summary of the issue."
            return None
        return value

    def _check_priority(self, value: Any, errors: dict) -> str | None:
        if not isinstance(value, dict) or not (value.get("name") or value.get("id")):
            errors["priority"] = "The priority selected is invalid."
            return None
        if "name" in value:
            match = value["name"] if value["name"] in self.priorities else None
        else:
            ids = {str(index + 1): name for index, name in enumerate(self.priorities)}
            match = ids.get(str(value["id"]))
        if match is None:
            errors["priority"] = "The priority selected is invalid."
        return match

    def _check_labels(self, value: Any, errors: dict) -> list[str]:
        if not isinstance(value, list):
            errors["labels"] = "Operation value must be an array of strings" if self.cloud else "data was not an array"
            return []
        for label in value:
            problem = self._label_problem(label)
            if problem:
                errors["labels"] = problem
                return []
        return list(dict.fromkeys(value))

    def _label_problem(self, label: Any) -> str | None:
        if not isinstance(label, str) or not label:
            return "Operation value must be a string"
        if re.search(r"\s", label):
            return (f"The label '{label}' can't contain spaces." if self.cloud
                    else f"The label '{label}' contains spaces which is invalid.")
        if len(label) > 255:
            return f"The label '{label}' exceeds the 255 character limit."
        return None

    def _check_rich_text(self, field_name: str, value: Any, errors: dict) -> list[str]:
        """Validate a description-like value; returns errorMessages (errors filled in place)."""
        if self.cloud:
            if not _is_adf_document(value):
                errors[field_name] = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
                return []
            if _adf_doc_problem(value):
                return [_JIRA_CANNOT_CREATE]
            return []
        if not isinstance(value, str):
            errors[field_name] = "Operation value must be a string"
        return []

    def _comment_body_problem(self, value: Any) -> _Reply | None:
        if value is None or value == "":
            return _jira_errors({"comment": "Comment body can not be empty!"})
        if self.cloud:
            if not _is_adf_document(value) or _adf_doc_problem(value):
                return _jira_errors({"comment": "Comment body is not valid!"})
            return None
        if not isinstance(value, str):
            return _jira_errors(messages=[
                "Cannot deserialize value of type `java.lang.String` from Object value (token "
                "`JsonToken.START_OBJECT`) (through reference chain: "
                "com.atlassian.jira.issue.fields.rest.json.beans.CommentJsonBean[\"body\"])"
            ])
        return None

    def _check_update_keys(self, update: Any, *, allowed: set[str]) -> dict[str, str]:
        if not isinstance(update, dict):
            return {"update": "Operation value must be an object"}
        return {
            name: f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
            for name in update
            if name not in allowed
        }

    def _get_issue(self, key: str, query: dict[str, str]) -> _Reply:
        issue = self._find(key)
        wanted = query.get("fields")
        return _Reply(200, self._issue_json(issue, wanted.split(",") if wanted else None))

    def _issue_json(self, issue: dict, wanted: list[str] | None) -> dict:
        status_id, category_key, category_id, category_name = _STATUSES[issue["status"]["name"]]
        priority_id = str(self.priorities.index(issue["priority"]["name"]) + 1) if issue["priority"]["name"] in self.priorities else "3"
        all_fields = {
            "summary": issue["summary"],
            "description": copy.deepcopy(issue["description"]),
            "labels": list(issue["labels"]),
            "priority": {"name": issue["priority"]["name"], "id": priority_id,
                         "self": f"{self.url}{self.api}/priority/{priority_id}"},
            "status": {
                "name": issue["status"]["name"],
                "id": status_id,
                "self": f"{self.url}{self.api}/status/{status_id}",
                "statusCategory": {"key": category_key, "id": category_id, "name": category_name},
            },
            "issuetype": {"name": issue["issuetype"], "id": str(10001 + self.issue_types.index(issue["issuetype"]))
                          if issue["issuetype"] in self.issue_types else "10001"},
            "project": {"key": issue["project"], "id": str(10000 + self.projects.index(issue["project"])),
                        "name": issue["project"]},
            "resolution": copy.deepcopy(issue["resolution"]),
            "created": issue["created"],
            "updated": issue["updated"],
            "comment": {
                "comments": [self._comment_json(issue, c) for c in issue["comments"]],
                "maxResults": len(issue["comments"]),
                "total": len(issue["comments"]),
                "startAt": 0,
            },
        }
        if wanted is None or any(name in ("*all", "*navigable") for name in wanted):
            fields = all_fields
        else:
            fields = {name: all_fields[name] for name in wanted if name in all_fields}
        return {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": issue["id"],
            "self": f"{self.url}{self.api}/issue/{issue['id']}",
            "key": issue["key"],
            "fields": fields,
        }

    def _edit(self, key: str, body: Any) -> _Reply:
        issue = self._find(key)
        body = self._fields_object(body)
        fields = body.get("fields", {})
        update = body.get("update", {})
        if not isinstance(fields, dict):
            return _jira_errors(messages=["Can not deserialize 'fields': expected an object"])
        errors: dict[str, str] = {}
        messages: list[str] = []
        for name in fields:
            if name not in _EDIT_FIELDS:
                errors[name] = f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
        changes: dict[str, Any] = {}
        if "summary" in fields:
            changes["summary"] = self._check_summary(fields["summary"], errors, required=True)
        if "priority" in fields:
            changes["priority"] = self._check_priority(fields["priority"], errors)
        if "labels" in fields:
            changes["labels"] = self._check_labels(fields["labels"], errors)
        if "description" in fields and fields["description"] is not None:
            messages += self._check_rich_text("description", fields["description"], errors)
        if "description" in fields:
            changes["description"] = fields["description"]
        errors.update(self._check_update_keys(update, allowed={"labels", "summary", "description", "priority", "comment"}))
        if isinstance(update, dict) and not errors:
            errors.update(self._check_update_operations(update, messages))
        if errors or messages:
            return _jira_errors(errors, messages)
        for name, value in changes.items():
            issue[name] = {"name": value} if name == "priority" else copy.deepcopy(value)
        self._apply_update(issue, update)
        issue["updated"] = _jira_time(_utcnow())
        return _Reply(204)

    def _check_update_operations(self, update: dict, messages: list[str]) -> dict[str, str]:
        errors: dict[str, str] = {}
        for name, operations in update.items():
            if not isinstance(operations, list):
                errors[name] = "Operation value must be a list of operations"
                continue
            for operation in operations:
                if not isinstance(operation, dict) or len(operation) != 1:
                    errors[name] = "Each operation must be an object with one verb"
                    break
                verb, value = next(iter(operation.items()))
                valid_verbs = {"labels": {"add", "remove", "set"}, "comment": {"add"}}.get(name, {"set"})
                if verb not in valid_verbs:
                    errors[name] = f"Operation '{verb}' is not supported for field '{name}'"
                    break
                if name == "labels":
                    for label in value if verb == "set" and isinstance(value, list) else [value]:
                        problem = self._label_problem(label)
                        if problem:
                            errors["labels"] = problem
                elif name == "comment":
                    problem = self._comment_body_problem(value.get("body") if isinstance(value, dict) else None)
                    if problem:
                        errors.update(problem.body["errors"])
                        messages.extend(problem.body["errorMessages"])
                elif name == "summary":
                    self._check_summary(value, errors, required=True)
                elif name == "priority":
                    self._check_priority(value, errors)
                elif name == "description" and value is not None:
                    messages.extend(self._check_rich_text("description", value, errors))
        return errors

    def _apply_update(self, issue: dict, update: dict) -> None:
        for name, operations in (update or {}).items():
            for operation in operations:
                verb, value = next(iter(operation.items()))
                if name == "labels":
                    if verb == "add" and value not in issue["labels"]:
                        issue["labels"].append(value)
                    elif verb == "remove" and value in issue["labels"]:
                        issue["labels"].remove(value)
                    elif verb == "set":
                        issue["labels"] = list(dict.fromkeys(value))
                elif name == "comment":
                    self._append_comment(issue, value["body"])
                elif name == "priority":
                    issue["priority"] = {"name": self._check_priority(value, {})}
                else:
                    issue[name] = copy.deepcopy(value)

    # -- comments ------------------------------------------------------------

    def _append_comment(self, issue: dict, body: Any) -> dict:
        now = _jira_time(_utcnow())
        comment = {"id": str(next(self._comment_ids)), "body": copy.deepcopy(body), "created": now, "updated": now}
        issue["comments"].append(comment)
        issue["updated"] = now
        return comment

    def _comment_json(self, issue: dict, comment: dict) -> dict:
        author = (
            {"accountId": "5b10ac8d82e05b22cc7d4ef5", "emailAddress": self.user, "displayName": "Role Guard"}
            if self.cloud
            else {"name": self.user, "key": self.user, "displayName": "Role Guard"}
        )
        return {
            "self": f"{self.url}{self.api}/issue/{issue['id']}/comment/{comment['id']}",
            "id": comment["id"],
            "author": author,
            "updateAuthor": author,
            "body": copy.deepcopy(comment["body"]),
            "created": comment["created"],
            "updated": comment["updated"],
        }

    def _add_comment(self, key: str, body: Any) -> _Reply:
        issue = self._find(key)
        body = self._fields_object(body)
        problem = self._comment_body_problem(body.get("body"))
        if problem:
            return problem
        comment = self._append_comment(issue, body["body"])
        return _Reply(201, self._comment_json(issue, comment))

    def _list_comments(self, key: str, query: dict[str, str]) -> _Reply:
        issue = self._find(key)
        start = _int_param(query.get("startAt"), 0)
        limit = min(_int_param(query.get("maxResults"), 5000), 5000)
        page = issue["comments"][start : start + limit]
        return _Reply(200, {
            "startAt": start,
            "maxResults": limit,
            "total": len(issue["comments"]),
            "comments": [self._comment_json(issue, c) for c in page],
        })

    # -- workflow -------------------------------------------------------------

    def _move(self, issue: dict, status: str) -> None:
        if status not in _STATUSES:
            raise ValueError(f"unknown status {status!r}")
        previous = issue["status"]["name"]
        issue["status"] = {"name": status}
        issue["history"].append((previous, status))
        if status == "Done" and issue["resolution"] is None:
            issue["resolution"] = {"name": "Done"}
        elif status != "Done":
            issue["resolution"] = None
        issue["updated"] = _jira_time(_utcnow())

    def _available_transitions(self, issue: dict) -> list[str]:
        return [tid for tid, target in _TRANSITIONS.items() if target != issue["status"]["name"]]

    def _list_transitions(self, key: str) -> _Reply:
        issue = self._find(key)
        transitions = []
        for transition_id in self._available_transitions(issue):
            target = _TRANSITIONS[transition_id]
            status_id, category_key, category_id, category_name = _STATUSES[target]
            transitions.append({
                "id": transition_id,
                "name": target,
                "to": {
                    "name": target,
                    "id": status_id,
                    "self": f"{self.url}{self.api}/status/{status_id}",
                    "statusCategory": {"key": category_key, "id": category_id, "name": category_name},
                },
                "hasScreen": False,
                "isGlobal": True,
                "isInitial": False,
                "isAvailable": True,
                "isConditional": False,
                "isLooped": False,
            })
        return _Reply(200, {"expand": "transitions", "transitions": transitions})

    def _transition(self, key: str, body: Any) -> _Reply:
        issue = self._find(key)
        body = self._fields_object(body)
        transition = body.get("transition")
        if not isinstance(transition, dict) or "id" not in transition:
            return _jira_errors(messages=["Missing 'transition' identifier"])
        transition_id = str(transition["id"])
        if transition_id not in self._available_transitions(issue):
            return _jira_errors(messages=[f"Transition id '{transition_id}' is not valid for this issue."])
        fields = body.get("fields", {}) or {}
        errors: dict[str, str] = {}
        messages: list[str] = []
        for name in fields:
            if name != "resolution":
                errors[name] = f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
        if "resolution" in fields and not isinstance(fields["resolution"], dict):
            errors["resolution"] = "Could not find valid 'id' or 'name' in resolution object."
        update = body.get("update", {}) or {}
        errors.update(self._check_update_keys(update, allowed={"comment"}))
        if not errors and isinstance(update, dict):
            errors.update(self._check_update_operations(update, messages))
        if errors or messages:
            return _jira_errors(errors, messages)
        self._move(issue, _TRANSITIONS[transition_id])
        if "resolution" in fields and _TRANSITIONS[transition_id] == "Done":
            issue["resolution"] = {"name": fields["resolution"].get("name") or "Done"}
        self._apply_update(issue, update)
        return _Reply(204)

    # -- search --------------------------------------------------------------

    def _run_jql(self, jql: Any) -> list[dict]:
        if not isinstance(jql, str) or not jql.strip():
            raise _Abort(_jira_errors(messages=[
                "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
            ]))
        try:
            parsed = _parse_jql(jql)
        except _JqlError as error:
            raise _Abort(_jira_errors(messages=[f"Error in the JQL Query: {error}"])) from None
        predicates = []
        for field_name, operator, value in parsed.clauses:
            if field_name == "project":
                project = next((p for p in self.projects if p.upper() == value.upper()), None)
                if project is None:
                    raise _Abort(_jira_errors(messages=[f"The value '{value}' does not exist for the field 'project'."]))
                predicates.append(lambda issue, project=project: issue["project"] == project)
            elif field_name == "labels":
                predicates.append(lambda issue, value=value: value in issue["labels"])
            else:
                if field_name == "statuscategory":
                    target = _STATUS_CATEGORY_NAMES.get(value.lower())
                    label = "statusCategory"
                else:
                    target = next((s for s in _STATUSES if s.lower() == value.lower()), None)
                    label = "status"
                if target is None:
                    raise _Abort(_jira_errors(messages=[f"The value '{value}' does not exist for the field '{label}'."]))
                if operator == "=":
                    predicates.append(lambda issue, target=target: issue["status"]["name"] == target)
                else:
                    predicates.append(lambda issue, target=target: issue["status"]["name"] != target)
        found = [issue for issue in self.issues.values() if all(p(issue) for p in predicates)]
        found.sort(key=lambda issue: int(issue["id"]))
        if parsed.order_by:
            order_field, descending = parsed.order_by
            key_of = {
                "created": lambda issue: (issue["created"], int(issue["id"])),
                "updated": lambda issue: (issue["updated"], int(issue["id"])),
                "key": lambda issue: (issue["project"], int(issue["key"].rsplit("-", 1)[1])),
            }[order_field]
            found.sort(key=key_of, reverse=descending)
        return found

    @staticmethod
    def _wanted_fields(value: Any) -> list[str] | None:
        if value is None:
            return None
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        if isinstance(value, list) and all(isinstance(name, str) for name in value):
            return value
        raise _Abort(_jira_errors(messages=["'fields' must be a list of field names"]))

    def _search_jql(self, method: str, query: dict[str, str], body: Any) -> _Reply:
        if method == "POST":
            body = self._fields_object(body)
            unknown = set(body) - _SEARCH_BODY_KEYS
            if unknown:
                name = sorted(unknown)[0]
                return _jira_errors(messages=[
                    f'Unrecognized field "{name}" (class SearchAndReconcileRequestBean), not marked as ignorable'
                ])
            params = body
        else:
            params = dict(query)
        jql = params.get("jql")
        found = self._run_jql(jql)
        wanted = self._wanted_fields(params.get("fields"))
        limit = _int_param(params.get("maxResults"), 50)
        if limit < 1:
            return _jira_errors(messages=["maxResults must be at least 1"])
        limit = min(limit, self.max_page_size)
        offset = 0
        token = params.get("nextPageToken")
        if token:
            offset = self._decode_page_token(token, jql)
        page = found[offset : offset + limit]
        issues = []
        for issue in page:
            entry = {"id": issue["id"], "key": issue["key"], "self": f"{self.url}{self.api}/issue/{issue['id']}"}
            if wanted and wanted != ["id"]:
                entry["fields"] = self._issue_json(issue, wanted)["fields"]
            issues.append(entry)
        result: dict[str, Any] = {"issues": issues}
        if offset + limit < len(found):
            result["nextPageToken"] = self._page_token(offset + limit, jql)
            result["isLast"] = False
        else:
            result["isLast"] = True
        return _Reply(200, result)

    @staticmethod
    def _query_digest(jql: str) -> str:
        return hashlib.sha256(jql.encode()).hexdigest()[:16]

    def _page_token(self, offset: int, jql: str) -> str:
        raw = json.dumps({"o": offset, "q": self._query_digest(jql)}).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _decode_page_token(self, token: Any, jql: str) -> int:
        try:
            padded = str(token) + "=" * (-len(str(token)) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            if data["q"] != self._query_digest(jql):
                raise ValueError("token of another query")
            return int(data["o"])
        except (ValueError, KeyError, TypeError):
            raise _Abort(_jira_errors(messages=["The provided next page token is invalid or expired."])) from None

    def _search_v2(self, method: str, query: dict[str, str], body: Any) -> _Reply:
        params = self._fields_object(body) if method == "POST" else dict(query)
        found = self._run_jql(params.get("jql"))
        wanted = self._wanted_fields(params.get("fields"))
        start = _int_param(params.get("startAt"), 0)
        limit = min(_int_param(params.get("maxResults"), 50), self.max_page_size)
        if start < 0 or limit < 0:
            return _jira_errors(messages=["startAt and maxResults must not be negative"])
        page = found[start : start + limit]
        return _Reply(200, {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": limit,
            "total": len(found),
            "issues": [self._issue_json(issue, wanted) for issue in page],
        })


def _int_param(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _Abort(_Reply(400, {"errorMessages": [f"'{value}' is not a valid number"], "errors": {}})) from None


# ======================================================================
# ServiceNow
# ======================================================================

_SN_STATES = {"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed", "8": "Canceled"}
_SN_INACTIVE_STATES = {"7", "8"}
_SN_RESOLVING_STATES = {"6", "7"}
# Field → dictionary max length (None: no limit modelled). Values longer than the
# max length are truncated on save, as ServiceNow does.
_SN_FIELDS: dict[str, int | None] = {
    "sys_id": 32, "number": 40, "state": 40, "short_description": 160, "description": 4000,
    "correlation_id": 100, "correlation_display": 100, "close_code": 40, "close_notes": 4000,
    "active": None, "priority": 40, "impact": 40, "urgency": 40, "category": 40, "subcategory": 40,
    "caller_id": 32, "assignment_group": 32, "assigned_to": 32, "cmdb_ci": 32, "contact_type": 40,
    "opened_at": None, "resolved_at": None, "closed_at": None, "sys_created_on": None, "sys_updated_on": None,
    "sys_created_by": 40, "sys_updated_by": 40, "sys_mod_count": None, "sys_class_name": 80,
    "work_notes": None, "comments": None,
}
_SN_SYSTEM_FIELDS = {"sys_id", "number", "sys_created_on", "sys_updated_on", "sys_created_by", "sys_updated_by",
                     "sys_mod_count", "sys_class_name", "active", "opened_at", "resolved_at", "closed_at"}
_SN_JOURNAL_FIELDS = {"work_notes", "comments"}
_SN_PREFIXES = {"incident": "INC", "problem": "PRB", "sn_si_incident": "SIR", "change_request": "CHG",
                "sc_task": "SCTASK"}
_SN_QUERY_TERM = re.compile(
    r"^(?P<field>[A-Za-z_][A-Za-z0-9_.]*?)(?P<op>ISNOTEMPTY|ISEMPTY|NOT IN|STARTSWITH|ENDSWITH|NOT LIKE|LIKE|IN|!=|=)(?P<value>.*)$"
)


def _sn_error(status: int, message: str, detail: Any = None) -> _Reply:
    return _Reply(status, {"error": {"message": message, "detail": detail}, "status": "failure"})


def _sn_time(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _sn_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    if isinstance(value, dict) and "value" in value:  # reference written as {"value": sys_id}
        return _sn_string(value["value"])
    return json.dumps(value)


class ServiceNowServer(_TicketServer):
    """ServiceNow Table API (``/api/now/table/{table}``, also ``/api/now/v1|v2/table``).

    POST (201), GET list, GET one, PATCH/PUT (200), DELETE (204); every answer
    is ``{"result": ...}`` with string values, errors are ``{"error":
    {"message", "detail"}, "status": "failure"}``: unknown table → 400 "Invalid
    table x"; unknown sys_id → 404 "No Record found" / "Record doesn't exist
    or ACL restricts the record retrieval"; missing/wrong Basic auth → 401
    "User Not Authenticated" / "Required to provide Auth information"
    (panoramicdata/ServiceNow.Api#16). Bodies need ``Content-Type:
    application/json`` (415 otherwise); invalid JSON → 400.

    Records: ``sys_id`` (32 hex), ``number`` (INC0010001, ... per table
    prefix), ``state`` ("1" New, "2" In Progress, "3" On Hold, "6" Resolved,
    "7" Closed, "8" Canceled; default "1"), ``active`` derived from state
    ("false" only for Closed/Canceled: a Resolved incident stays active,
    https://www.servicenow.com/community/developer-forum/clarify-table-elements-incident-state-vs-state-active/m-p/1908553),
    short_description (160), description, correlation_id (100),
    correlation_display (100), close_code, close_notes, sys_created_on,
    sys_updated_on, sys_mod_count. Values longer than the field's max length
    are truncated on save, silently, as ServiceNow stores them. Fields the
    table does not have are ignored (ServiceNow drops them; they are listed in
    ``ignored_fields``). Journal fields ``work_notes`` and ``comments`` are
    appended to ``journal[sys_id]`` / ``comments[sys_id]`` and read back as "".

    Data policy: setting state "6" (Resolved) or "7" (Closed) without
    close_code and close_notes on the resulting record is refused with **403**
    ``{"error":{"message":"Operation Failed","detail":"Data Policy Exception:
    The following fields are mandatory: Resolution code, Resolution notes"}}``.
    This mirrors the data policy of the base incident table ("Close code and
    Close notes fields are mandatory whenever an incident is Resolved or
    Closed",
    https://docs.servicenow.com/bundle/helsinki-it-service-management/page/product/incident-management/reference/r_BestPracticeIncidentResolutionWorkflow.html);
    the status is 403, not 400, as ServiceNow answers data policy violations
    (seen in DefectDojo's ServiceNow integration docs). It applies to every
    table here. Closed records are read-only for the integration user: a write
    is refused 403 "ACL Exception Update Failed due to security constraints".

    Queries: ``sysparm_query`` terms joined by ``^``: ``field=value``,
    ``!=``, ``IN``, ``NOT IN``, ``STARTSWITH``, ``ENDSWITH``, ``LIKE``,
    ``NOT LIKE``, ``ISEMPTY``, ``ISNOTEMPTY``, ``ORDERBYfield`` /
    ``ORDERBYDESCfield``; ``^OR`` / ``^NQ`` are answered 400 (not implemented
    by the double). A term naming a field the table does not have is
    **dropped**, so the rest of the query decides, as ServiceNow does by
    default (glide.invalid_query.returns_no_rows=false,
    https://community.servicenow.com/community/develop/blog/authors/catie.carmody);
    pass ``invalid_query_returns_no_rows=True`` for the strict setting.
    ``sysparm_limit`` (default 10000) / ``sysparm_offset`` page the result,
    with ``X-Total-Count`` and a ``Link`` header (first/prev/next/last) as the
    Table API sends them; ``sysparm_fields`` selects fields.

    Rate limits: `fail_next(429, retry_after=...)` answers as ServiceNow's
    inbound REST rate limiting does (429 + Retry-After,
    https://www.servicenow.com/docs/bundle/australia-api-reference/page/integrate/inbound-rest/concept/inbound-REST-API-rate-limiting.html).
    """

    def __init__(
        self,
        *,
        user: str = "roleguard",
        password: str = "s3cr3t-pass",
        tables: tuple[str, ...] = ("incident",),
        invalid_query_returns_no_rows: bool = False,
    ) -> None:
        super().__init__()
        self.user = user
        self.password = password
        self.tables = tuple(tables)
        self.invalid_query_returns_no_rows = invalid_query_returns_no_rows
        self.records: dict[str, dict[str, dict]] = {table: {} for table in self.tables}
        self.journal: dict[str, list[str]] = {}
        self.comments: dict[str, list[str]] = {}
        self.ignored_fields: list[tuple[str, str]] = []  # (table, field) dropped on write
        self._numbers = {table: itertools.count(10001) for table in self.tables}

    # -- helpers for tests ---------------------------------------------------

    def auth_header(self) -> dict[str, str]:
        encoded = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {encoded}"}

    def seed(self, table: str = "incident", **fields: Any) -> str:
        """Insert a record directly (no HTTP, no data policy); returns its sys_id."""
        with self._lock:
            return self._insert(table, {k: _sn_string(v) for k, v in fields.items()})["sys_id"]

    def find(self, table: str = "incident", **conditions: str) -> list[dict]:
        """Records of `table` whose fields equal `conditions` (copies)."""
        with self._lock:
            return [
                copy.deepcopy(record)
                for record in self.records[table].values()
                if all(record.get(name) == value for name, value in conditions.items())
            ]

    def autoclose(self, table: str = "incident") -> list[str]:
        """Close every Resolved record, as the base system's incident autoclose does; returns sys_ids."""
        closed = []
        with self._lock:
            for record in self.records[table].values():
                if record["state"] == "6":
                    self._set_state_fields(record, "7")
                    closed.append(record["sys_id"])
        return closed

    # -- protocol hooks ------------------------------------------------------

    def _failure_body(self, status: int) -> Any:
        if status == 429:
            return {"error": {"message": "Rate limit exceeded",
                              "detail": "The number of requests exceeded the rate limit rule for this user"},
                    "status": "failure"}
        if status == 503:
            return {"error": {"message": "Service Unavailable", "detail": None}, "status": "failure"}
        if status >= 500:
            return {"error": {"message": "Internal Server Error", "detail": None}, "status": "failure"}
        return {"error": {"message": f"Injected HTTP {status}", "detail": None}, "status": "failure"}

    def _unsupported_media_type(self) -> _Reply:
        return _sn_error(415, "Unsupported Media Type", "Content-Type must be application/json")

    def _invalid_json(self, error: json.JSONDecodeError) -> _Reply:
        return _sn_error(400, "Exception while reading request", f"The payload is not valid JSON: {error.msg}")

    def _authenticate(self, headers: Headers) -> _Reply | None:
        if _basic_credentials(headers) == (self.user, self.password):
            return None
        reply = _sn_error(401, "User Not Authenticated", "Required to provide Auth information")
        reply.headers = {"WWW-Authenticate": 'BASIC realm="Service-now"'}
        return reply

    def _dispatch(self, method, route, query, body, headers) -> _Reply:
        match = re.fullmatch(r"/api/now(?:/v[12])?/table/([^/]+)(?:/([^/]+))?/?", route)
        if not match:
            return _sn_error(400, "Requested URI does not represent any resource", None)
        table, sys_id = match.group(1), match.group(2)
        if table not in self.records:
            return _sn_error(400, f"Invalid table {table}", None)
        if sys_id is None:
            if method == "GET":
                return self._list(table, route, query)
            if method == "POST":
                return self._create(table, body, query)
            return _sn_error(405, "Method not Supported", f"{method} is not supported for this resource")
        if method == "GET":
            return self._get(table, sys_id, query)
        if method in ("PATCH", "PUT"):
            return self._update(table, sys_id, body, query)
        if method == "DELETE":
            return self._delete(table, sys_id)
        return _sn_error(405, "Method not Supported", f"{method} is not supported for this resource")

    # -- records ---------------------------------------------------------------

    def _insert(self, table: str, values: dict[str, str]) -> dict:
        now = _sn_time(_utcnow())
        sys_id = secrets.token_hex(16)
        prefix = _SN_PREFIXES.get(table, "TKT")
        record = {name: "" for name in _SN_FIELDS}
        record.update({
            "sys_id": sys_id,
            "number": f"{prefix}{next(self._numbers[table]):07d}",
            "state": "1",
            "active": "true",
            "opened_at": now,
            "sys_created_on": now,
            "sys_updated_on": now,
            "sys_created_by": self.user,
            "sys_updated_by": self.user,
            "sys_mod_count": "0",
            "sys_class_name": table,
        })
        self.records[table][sys_id] = record
        self.journal[sys_id] = []
        self.comments[sys_id] = []
        self._write(table, record, values)
        if record["state"] != "1":
            self._set_state_fields(record, record["state"])
        return record

    def _write(self, table: str, record: dict, values: dict[str, str]) -> None:
        for name, value in values.items():
            if name not in _SN_FIELDS:
                self.ignored_fields.append((table, name))
                continue
            if name in _SN_SYSTEM_FIELDS:
                continue
            if name in _SN_JOURNAL_FIELDS:
                if value:
                    (self.journal if name == "work_notes" else self.comments)[record["sys_id"]].append(value)
                continue
            limit = _SN_FIELDS[name]
            record[name] = value[:limit] if limit is not None else value

    def _set_state_fields(self, record: dict, state: str) -> None:
        now = _sn_time(_utcnow())
        record["state"] = state
        record["active"] = "false" if state in _SN_INACTIVE_STATES else "true"
        if state == "6" and not record["resolved_at"]:
            record["resolved_at"] = now
        if state == "7":
            record["closed_at"] = now
            record["resolved_at"] = record["resolved_at"] or now
        if state in ("1", "2", "3"):
            record["resolved_at"] = ""
            record["closed_at"] = ""

    def _values_of(self, body: Any) -> dict[str, str]:
        if isinstance(body, list):  # the Table API works on the first record only
            body = body[0] if body else {}
        if not isinstance(body, dict):
            raise _Abort(_sn_error(400, "Exception while reading request", "The payload must be a JSON object"))
        return {name: _sn_string(value) for name, value in body.items()}

    def _data_policy_problem(self, record: dict, values: dict[str, str]) -> _Reply | None:
        state = values.get("state", record.get("state", "1"))
        if state not in _SN_RESOLVING_STATES:
            return None
        missing = [
            label
            for name, label in (("close_code", "Resolution code"), ("close_notes", "Resolution notes"))
            if not (values.get(name, record.get(name, "")) or "").strip()
        ]
        if not missing:
            return None
        return _sn_error(403, "Operation Failed",
                         f"Data Policy Exception: \n The following fields are mandatory: {', '.join(missing)}\n")

    def _create(self, table: str, body: Any, query: dict[str, str]) -> _Reply:
        values = self._values_of(body)
        if "state" in values and values["state"] not in _SN_STATES:
            return _sn_error(400, "Invalid state", f"'{values['state']}' is not a choice of {table}.state")
        problem = self._data_policy_problem({}, values)
        if problem:
            return problem
        record = self._insert(table, values)
        headers = {"Location": f"{self.url}/api/now/table/{table}/{record['sys_id']}"}
        return _Reply(201, {"result": self._record_json(record, query)}, headers)

    def _find(self, table: str, sys_id: str) -> dict:
        record = self.records[table].get(sys_id)
        if record is None:
            raise _Abort(_sn_error(404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval"))
        return record

    def _get(self, table: str, sys_id: str, query: dict[str, str]) -> _Reply:
        return _Reply(200, {"result": self._record_json(self._find(table, sys_id), query)})

    def _update(self, table: str, sys_id: str, body: Any, query: dict[str, str]) -> _Reply:
        record = self._find(table, sys_id)
        values = self._values_of(body)
        if record["state"] == "7":
            return _sn_error(403, "Operation Failed", "ACL Exception Update Failed due to security constraints")
        if "state" in values and values["state"] not in _SN_STATES:
            return _sn_error(400, "Invalid state", f"'{values['state']}' is not a choice of {table}.state")
        problem = self._data_policy_problem(record, values)
        if problem:
            return problem
        self._write(table, record, values)
        if "state" in values:
            self._set_state_fields(record, values["state"])
        record["sys_updated_on"] = _sn_time(_utcnow())
        record["sys_mod_count"] = str(int(record["sys_mod_count"]) + 1)
        return _Reply(200, {"result": self._record_json(record, query)})

    def _delete(self, table: str, sys_id: str) -> _Reply:
        self._find(table, sys_id)
        del self.records[table][sys_id]
        return _Reply(204)

    @staticmethod
    def _record_json(record: dict, query: dict[str, str]) -> dict:
        shown = {name: ("" if name in _SN_JOURNAL_FIELDS else value) for name, value in record.items()}
        wanted = [name.strip() for name in query.get("sysparm_fields", "").split(",") if name.strip()]
        if wanted:
            shown = {name: shown[name] for name in wanted if name in shown}
        return shown

    # -- queries ---------------------------------------------------------------

    def _list(self, table: str, route: str, query: dict[str, str]) -> _Reply:
        matches, order = self._compile_query(query.get("sysparm_query", ""))
        found = [record for record in self.records[table].values() if all(m(record) for m in matches)]
        for field_name, descending in reversed(order):
            found.sort(key=lambda record, f=field_name: record.get(f, ""), reverse=descending)
        limit = _sn_int(query.get("sysparm_limit"), 10000)
        offset = _sn_int(query.get("sysparm_offset"), 0)
        page = found[offset : offset + limit]
        headers = {"X-Total-Count": str(len(found)), "Link": self._links(route, query, offset, limit, len(found))}
        return _Reply(200, {"result": [self._record_json(record, query) for record in page]}, headers)

    def _links(self, route: str, query: dict[str, str], offset: int, limit: int, total: int) -> str:
        def link(target_offset: int, rel: str) -> str:
            params = dict(query, sysparm_offset=str(target_offset), sysparm_limit=str(limit))
            return f'<{self.url}{route}?{urllib.parse.urlencode(params)}>;rel="{rel}"'

        last = max(total - limit, 0) if limit else 0
        links = [link(0, "first")]
        if offset > 0:
            links.append(link(max(offset - limit, 0), "prev"))
        if limit and offset + limit < total:
            links.append(link(offset + limit, "next"))
        links.append(link(last, "last"))
        return ",".join(links)

    def _compile_query(self, encoded: str):
        matches, order = [], []
        if not encoded:
            return matches, order
        for term in encoded.split("^"):
            if not term or term == "EQ":
                continue
            if term.startswith("NQ") or (term.startswith("OR") and not term.startswith("ORDERBY")):
                raise _Abort(_sn_error(400, "Invalid query", "OR and NQ conditions are not implemented by this double"))
            if term.startswith("ORDERBYDESC"):
                order.append((term[len("ORDERBYDESC"):], True))
                continue
            if term.startswith("ORDERBY"):
                order.append((term[len("ORDERBY"):], False))
                continue
            parsed = _SN_QUERY_TERM.match(term)
            if not parsed:
                raise _Abort(_sn_error(400, "Invalid query", f"The double cannot parse the query term {term!r}"))
            field_name, operator, value = parsed.group("field", "op", "value")
            if field_name not in _SN_FIELDS:
                if self.invalid_query_returns_no_rows:
                    matches.append(lambda record: False)
                continue  # ServiceNow's default: the invalid condition is ignored
            matches.append(_sn_predicate(field_name, operator, value))
        return matches, order


def _sn_predicate(field_name: str, operator: str, value: str):
    def current(record: dict) -> str:
        return "" if field_name in _SN_JOURNAL_FIELDS else record.get(field_name, "")

    if operator == "=":
        return lambda record: current(record) == value
    if operator == "!=":
        return lambda record: current(record) != value
    if operator in ("IN", "NOT IN"):
        choices = set(value.split(","))
        return (lambda record: current(record) in choices) if operator == "IN" else (lambda record: current(record) not in choices)
    if operator == "STARTSWITH":
        return lambda record: current(record).startswith(value)
    if operator == "ENDSWITH":
        return lambda record: current(record).endswith(value)
    if operator == "LIKE":
        return lambda record: value.lower() in current(record).lower()
    if operator == "NOT LIKE":
        return lambda record: value.lower() not in current(record).lower()
    if operator == "ISEMPTY":
        return lambda record: current(record) == ""
    return lambda record: current(record) != ""  # ISNOTEMPTY


def _sn_int(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _Abort(_sn_error(400, "Invalid parameter", f"'{value}' is not a number")) from None
    if number < 0:
        raise _Abort(_sn_error(400, "Invalid parameter", f"'{value}' must not be negative"))
    return number
