"""Botocore's own service model as the referee for the stateful fakes.

Two things live here:

1. **Strict validation** (`validate_response`, `validate_shape`,
   `request_problems`). botocore's `ParamValidator` checks member names,
   types, required members and `min`; it leaves `enum`, `max` and `pattern`
   to the server. `StrictParamValidator` adds those, and in response mode
   insists that timestamps are `datetime` objects, as botocore's parsers
   return them. Every response a fake returns goes through
   `validate_response`; a wrong member name, type or enum value raises
   `AssertionError` with botocore's report. That is what keeps the fakes from
   drifting away from the real API.

2. **`ServiceFake`**, the base class that plugs a fake into a real boto3
   client through botocore's event system, the way `botocore.stub.Stubber`
   does. In `BaseClient._make_api_call` (botocore 1.43, client.py) the order is:

   - ``before-parameter-build.<service-id>.<Operation>`` with the caller's
     plain keyword arguments (we stash them in the request context);
   - ``_convert_to_request_dict``: the serializer is wrapped in
     ``validate.ParamValidationDecorator`` when ``parameter_validation`` is on
     (the default, ``args.py``), so bad parameters raise
     ``ParamValidationError`` here, before any fake sees them, exactly as they
     would against AWS;
   - ``before-call.<service-id>.<Operation>``: the first handler that returns
     ``(http_response, parsed_dict)`` short-circuits the HTTP request. A
     status code >= 300 makes the client raise the modelled exception class or
     ``ClientError`` from ``parsed['Error']['Code']``, the same path a real
     error takes.

   Because the fake answers before serialisation reaches the wire, it does not
   care about the wire protocol: AppStream in this botocore speaks
   smithy-rpc-v2-cbor (older releases: awsJson1_1), Security Hub rest-json.
   The serialised request in ``before-call``'s ``params`` is CBOR or JSON
   bytes, which is why the fake reads the plain parameters stashed at
   ``before-parameter-build`` instead.

   Like the Stubber, this bypasses botocore's retry handler (it runs inside the
   HTTP send, which never happens): an injected throttle reaches the caller on
   the first attempt.
"""

from __future__ import annotations

import base64
import copy
import datetime
import functools
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.model import OperationModel, ServiceModel, Shape
from botocore.validate import ParamValidator, ValidationErrors

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
DEFAULT_PARTITION = "aws"

# Key under which the plain API parameters travel from before-parameter-build
# to before-call inside botocore's per-request context dict.
_PARAMS_CONTEXT_KEY = "roleguard_fake_api_params"


# --------------------------------------------------------------------------
# Service models
# --------------------------------------------------------------------------


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.cache
def service_model(service_name: str) -> ServiceModel:
    """botocore's model for `service_name` (e.g. 'appstream', 'securityhub')."""
    return _session().get_service_model(service_name)


def operation_model(service_name: str, operation_name: str) -> OperationModel:
    return service_model(service_name).operation_model(operation_name)


# --------------------------------------------------------------------------
# Strict validation
# --------------------------------------------------------------------------


class _StrictValidationErrors(ValidationErrors):
    """Formats the error kinds botocore's validator never reports."""

    def _format_error(self, error):
        error_type, name, details = error
        where = self._get_name(name)
        if error_type == "not in enum":
            return (
                f"Invalid value for parameter {where}, value: {details['param']!r}, "
                f"valid values: {', '.join(details['enum'])}"
            )
        if error_type == "too long":
            return (
                f"Invalid length for parameter {where}, length: {details['length']}, "
                f"valid max length: {details['max_allowed']}"
            )
        if error_type == "too large":
            return (
                f"Invalid value for parameter {where}, value: {details['param']}, "
                f"valid max value: {details['max_allowed']}"
            )
        if error_type == "pattern mismatch":
            return (
                f"Invalid value for parameter {where}, value: {details['param']!r}, "
                f"must match pattern: {details['pattern']}"
            )
        if error_type == "timestamp not datetime":
            return (
                f"Invalid type for timestamp {where}, value: {details['param']!r}: "
                "botocore parses timestamps in responses to datetime objects"
            )
        return super()._format_error(error)


@functools.cache
def _compiled_pattern(pattern: str) -> re.Pattern | None:
    # Smithy patterns are ECMA-262 and not implicitly anchored; the few that
    # Python's `re` cannot compile are skipped rather than guessed at.
    try:
        return re.compile(pattern)
    except re.error:
        return None


class StrictParamValidator(ParamValidator):
    """`ParamValidator` plus the constraints botocore leaves to the server.

    Adds: string `enum`, string/list `max` length, integer `max` value,
    string `pattern`; with ``response=True`` timestamps must be `datetime`.
    """

    VALIDATED_METADATA_ATTRS = ParamValidator.VALIDATED_METADATA_ATTRS | {
        "enum",
        "max",
        "pattern",
    }

    def __init__(self, *, response: bool = False):
        self._response = response

    def validate(self, params, shape):
        errors = _StrictValidationErrors()
        self._validate(params, shape, errors, name="")
        return errors

    def _validate_string(self, param, shape, errors, name):
        super()._validate_string(param, shape, errors, name)
        if not isinstance(param, str):
            return  # already reported as a type error
        if shape.enum and param not in shape.enum:
            errors.report(name, "not in enum", param=param, enum=shape.enum)
        max_length = shape.metadata.get("max")
        if max_length is not None and len(param) > max_length:
            errors.report(name, "too long", length=len(param), max_allowed=max_length)
        pattern = shape.metadata.get("pattern")
        compiled = _compiled_pattern(pattern) if pattern else None
        if compiled is not None and not compiled.search(param):
            errors.report(name, "pattern mismatch", param=param, pattern=pattern)

    def _validate_list(self, param, shape, errors, name):
        super()._validate_list(param, shape, errors, name)
        max_length = shape.metadata.get("max")
        if isinstance(param, (list, tuple)) and max_length is not None and len(param) > max_length:
            errors.report(name, "too long", length=len(param), max_allowed=max_length)

    def _validate_integer(self, param, shape, errors, name):
        super()._validate_integer(param, shape, errors, name)
        self._check_max_value(param, shape, errors, name)

    def _validate_long(self, param, shape, errors, name):
        super()._validate_long(param, shape, errors, name)
        self._check_max_value(param, shape, errors, name)

    def _check_max_value(self, param, shape, errors, name):
        max_value = shape.metadata.get("max")
        if isinstance(param, int) and max_value is not None and param > max_value:
            errors.report(name, "too large", param=param, max_allowed=max_value)

    def _validate_timestamp(self, param, shape, errors, name):
        if self._response and not isinstance(param, datetime.datetime):
            errors.report(name, "timestamp not datetime", param=param)
            return
        super()._validate_timestamp(param, shape, errors, name)


def shape_report(value: Any, shape: Shape, *, response: bool) -> str:
    """Strict validation of `value` against `shape`; '' when it conforms."""
    report = StrictParamValidator(response=response).validate(value, shape)
    return report.generate_report() if report.has_errors() else ""


def validate_shape(service_name: str, shape_name: str, value: Any) -> None:
    """Assert that `value` is a valid instance of the named output shape."""
    shape = service_model(service_name).shape_for(shape_name)
    problems = shape_report(value, shape, response=True)
    if problems:
        raise AssertionError(
            f"{service_name} {shape_name} does not match botocore's model:\n{problems}"
        )


def validate_response(service_name: str, operation_name: str, response: dict) -> None:
    """Assert that `response` matches the operation's output shape.

    `ResponseMetadata` is ignored (botocore adds it to every response; it is
    not part of any output shape). Raises AssertionError with the report.
    """
    output_shape = operation_model(service_name, operation_name).output_shape
    body = {key: value for key, value in response.items() if key != "ResponseMetadata"}
    if output_shape is None:
        if body:
            raise AssertionError(
                f"{service_name}.{operation_name} has no output shape, "
                f"but the response carries {sorted(body)}"
            )
        return
    problems = shape_report(body, output_shape, response=True)
    if problems:
        raise AssertionError(
            f"{service_name}.{operation_name} response does not match botocore's "
            f"output shape {output_shape.name}:\n{problems}"
        )


def request_problems(service_name: str, operation_name: str, params: dict) -> str:
    """The model constraints `params` break that botocore did not check ('' if none)."""
    input_shape = operation_model(service_name, operation_name).input_shape
    if input_shape is None:
        return ""
    return shape_report(params, input_shape, response=False)


# --------------------------------------------------------------------------
# Plugging a fake into a client
# --------------------------------------------------------------------------


class ServiceError(Exception):
    """Raised by an operation handler: the client raises it as a ClientError."""

    def __init__(self, code: str, message: str, status: int | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class UnimplementedOperation(AssertionError):
    """A client called an operation the fake does not implement."""


@dataclass
class _InjectedFailure:
    operation: str
    code: str
    message: str
    status: int | None
    remaining: int
    on_page: int | None


@dataclass
class Call:
    """What an operation handler gets: who is calling, where, with what."""

    operation: str
    params: dict
    account_id: str
    region: str
    state: Any
    page: int  # 1-based page this call would return (from NextToken)


def implements(operation_name: str) -> Callable:
    """Mark a `ServiceFake` method as the handler of one API operation."""

    def mark(method):
        method.implements_operation = operation_name
        return method

    return mark


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class ServiceFake:
    """Base of the stateful fakes: attaching, call log, failure injection, paging.

    Subclasses set `service_name`, `request_error_code` (the code a real
    server answers when a request breaks a model constraint botocore left
    unchecked) and `new_state()`, and mark handlers with `@implements`.
    State is kept per (account, region).
    """

    service_name: ClassVar[str]
    request_error_code: ClassVar[str]
    _handlers: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        handlers = {}
        for klass in reversed(cls.__mro__):
            for attribute, value in vars(klass).items():
                operation = getattr(value, "implements_operation", None)
                if operation:
                    handlers[operation] = attribute
        cls._handlers = handlers

    def __init__(
        self,
        *,
        account_id: str = DEFAULT_ACCOUNT_ID,
        partition: str = DEFAULT_PARTITION,
        default_region: str = DEFAULT_REGION,
        page_size: int = 2,
        latency_seconds: float = 0.0,
    ):
        self.account_id = account_id
        self.partition = partition
        self.default_region = default_region
        self.page_size = page_size
        self.latency_seconds = latency_seconds
        # Only a benchmark turns this off, to time the product rather than the fake's own validation.
        self.validating = True
        self.calls: list[tuple[str, dict]] = []
        self._failures: list[_InjectedFailure] = []
        self._states: dict[tuple[str, str], Any] = {}
        self._lock = threading.RLock()

    # -- to be provided by subclasses -------------------------------------

    def new_state(self) -> Any:
        raise NotImplementedError

    # -- public API --------------------------------------------------------

    @classmethod
    def implemented_operations(cls) -> frozenset[str]:
        return frozenset(cls._handlers)

    def attach(self, client, *, account_id: str | None = None):
        """Answer `client`'s calls from this fake; returns the client.

        Several clients may share one fake (e.g. two regions): state is kept
        per (account, region), the region being `client.meta.region_name`
        and the account `account_id` or the fake's `account_id`.
        """
        model = client.meta.service_model
        if model.service_name != self.service_name:
            raise ValueError(
                f"{type(self).__name__} fakes {self.service_name!r}, "
                f"not a {model.service_name!r} client"
            )
        service_id = model.service_id.hyphenize()
        account = account_id or self.account_id
        region = client.meta.region_name
        events = client.meta.events
        tag = f"{type(self).__name__}-{id(self)}"
        events.register(
            f"before-parameter-build.{service_id}",
            _stash_api_params,
            unique_id=f"{tag}-params",
        )
        for operation in self._handlers:
            events.register(
                f"before-call.{service_id}.{operation}",
                self._make_call_handler(account, region),
                unique_id=f"{tag}-{operation}",
            )
        # More specific handlers run first (botocore's prefix trie), so this one
        # only ever sees operations nobody above answered.
        events.register(
            f"before-call.{service_id}",
            self._reject_unimplemented,
            unique_id=f"{tag}-unimplemented",
        )
        return client

    def fail(
        self,
        operation: str,
        code: str = "AccessDeniedException",
        message: str | None = None,
        status: int | None = None,
        times: int = 1,
        on_page: int | None = None,
    ) -> None:
        """Make the next `times` calls of `operation` fail with `code`.

        With `on_page=N` only a call that would return page N (1-based) fails.
        `status` defaults to the HTTP status botocore's model gives the error,
        else 400.
        """
        if operation not in self._handlers:
            raise ValueError(f"{type(self).__name__} does not implement {operation}")
        default_message = (
            f"User: arn:{self.partition}:sts::{self.account_id}:assumed-role/fake/session "
            f"is not authorized to perform: {self._iam_prefix()}:{operation}"
            if code == "AccessDeniedException"
            else f"Injected {code} for {operation}"
        )
        with self._lock:
            self._failures.append(
                _InjectedFailure(operation, code, message or default_message, status, times, on_page)
            )

    def calls_to(self, operation: str) -> list[dict]:
        """Parameters of every call of `operation` received so far, in order."""
        with self._lock:
            return [params for name, params in self.calls if name == operation]

    # -- helpers for subclasses ---------------------------------------------

    def state_for(self, account_id: str | None = None, region: str | None = None):
        key = (account_id or self.account_id, region or self.default_region)
        with self._lock:
            if key not in self._states:
                self._states[key] = self.new_state()
            return self._states[key]

    def paginate(self, call: Call, items: list, *, max_results: int | None = None):
        """One page of `items` and the response members that continue it.

        MaxResults is an upper bound, as for the real services: the fake never
        returns more than `page_size` items per page, so tests see paging with
        few resources.
        """
        offset = self._offset_of(call.operation, call.params.get("NextToken"))
        limit = self.page_size if not max_results else min(max_results, self.page_size)
        page = items[offset : offset + limit]
        following = {}
        if offset + limit < len(items):
            following["NextToken"] = _encode_token(call.operation, offset + limit, call.page + 1)
        return page, following

    # -- the botocore side ---------------------------------------------------

    def _iam_prefix(self) -> str:
        return service_model(self.service_name).signing_name

    def _make_call_handler(self, account_id: str, region: str):
        def handle_before_call(model, context, **kwargs):
            return self._answer(model, context, account_id, region)

        return handle_before_call

    def _reject_unimplemented(self, model, **kwargs):
        if model.name not in self._handlers:
            raise UnimplementedOperation(
                f"{type(self).__name__} does not implement {self.service_name}."
                f"{model.name}; implemented: {', '.join(sorted(self._handlers))}"
            )
        return None

    def _answer(self, model, context, account_id, region):
        operation = model.name
        params = copy.deepcopy(context.get(_PARAMS_CONTEXT_KEY, {}))
        with self._lock:
            self.calls.append((operation, copy.deepcopy(params) if self.validating else params))
        if self.latency_seconds:
            time.sleep(self.latency_seconds)
        try:
            with self._lock:
                call = Call(
                    operation=operation,
                    params=params,
                    account_id=account_id,
                    region=region,
                    state=self.state_for(account_id, region),
                    page=_page_of(operation, params.get("NextToken")),
                )
                if self.validating:
                    self._raise_for_invalid_request(call)
                self._raise_injected_failure(call)
                response = getattr(self, self._handlers[operation])(call)
        except ServiceError as error:
            return self._error_response(error)
        if self.validating:
            validate_response(self.service_name, operation, response)
        return _ok_response(response)

    def _raise_for_invalid_request(self, call: Call) -> None:
        # Enum/max/pattern are checked by the server, not by botocore.
        problems = self.request_problems(call)
        if problems:
            raise ServiceError(self.request_error_code, problems)

    def request_problems(self, call: Call) -> str:
        """Server-side model checks of the request; subclasses may narrow them."""
        return request_problems(self.service_name, call.operation, call.params)

    def _raise_injected_failure(self, call: Call) -> None:
        for failure in self._failures:
            if failure.operation != call.operation or failure.remaining <= 0:
                continue
            if failure.on_page is not None and failure.on_page != call.page:
                continue
            failure.remaining -= 1
            raise ServiceError(failure.code, failure.message, failure.status)

    def _error_response(self, error: ServiceError):
        status = error.status or self._modelled_status(error.code) or 400
        parsed = {
            "Error": {"Code": error.code, "Message": error.message},
            "ResponseMetadata": _response_metadata(status),
        }
        return AWSResponse(None, status, {}, None), parsed

    def _modelled_status(self, code: str) -> int | None:
        shape = service_model(self.service_name).shape_for_error_code(code)
        if shape is None:
            return None
        return shape.metadata.get("error", {}).get("httpStatusCode")

    @staticmethod
    def _offset_of(operation: str, token: str | None) -> int:
        return _decode_token(operation, token)[0] if token else 0


def _stash_api_params(params, context, **kwargs):
    # The same context dict reaches before-call; botocore has not serialised yet.
    context[_PARAMS_CONTEXT_KEY] = params


def _ok_response(body: dict):
    parsed = copy.deepcopy(body)
    parsed["ResponseMetadata"] = _response_metadata(200)
    return AWSResponse(None, 200, {}, None), parsed


def _response_metadata(status: int) -> dict:
    request_id = str(uuid.uuid4())
    return {
        "RequestId": request_id,
        "HTTPStatusCode": status,
        "HTTPHeaders": {"x-amzn-requestid": request_id},
        "RetryAttempts": 0,
    }


def _encode_token(operation: str, offset: int, page: int) -> str:
    raw = json.dumps({"op": operation, "offset": offset, "page": page}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(operation: str, token: str) -> tuple[int, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        if data["op"] != operation:
            raise ValueError(data["op"])
        return int(data["offset"]), int(data["page"])
    except (ValueError, KeyError, TypeError) as error:
        # A token the fake never issued is a bug in the caller or the test.
        raise AssertionError(f"NextToken {token!r} was not issued for {operation}") from error


def _page_of(operation: str, token: str | None) -> int:
    return _decode_token(operation, token)[1] if token else 1
