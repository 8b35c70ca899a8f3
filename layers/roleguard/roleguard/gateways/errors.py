"""Which AWS errors mean what. Anything not named here is re-raised untouched."""

from __future__ import annotations

from typing import NoReturn

from botocore.exceptions import ClientError

from ..model import ReadError

ACCESS_DENIED = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException"}
)
# Botocore's standard retry mode has already retried these; seeing one means retries ran out.
TRANSIENT = frozenset(
    {
        "Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
        "RequestLimitExceededException", "ServiceUnavailable", "ServiceFailure", "InternalFailure",
        "InternalServerError", "InternalServiceError",
    }
)
NOT_FOUND = frozenset({"NoSuchEntity", "ResourceNotFoundException"})


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def as_read_error(err: ClientError, what: str, *, vanished: bool = False) -> ReadError:
    """A ReadError for AccessDenied or exhausted retries; re-raises every other error.

    vanished=True: NoSuchEntity in a follow-up read means the role was deleted
    mid-evaluation; the evaluation is incomplete and worth retrying.
    """
    code = error_code(err)
    if vanished and code in NOT_FOUND:
        return ReadError(what, code, "the role disappeared while it was being read", transient=True)
    if code in ACCESS_DENIED:
        return ReadError(what, code, str(err.response.get("Error", {}).get("Message", "")), transient=False)
    if code in TRANSIENT or err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
        return ReadError(what, code, str(err.response.get("Error", {}).get("Message", "")), transient=True)
    raise err


class ReadFailed(Exception):
    """A gateway read failed in a way the evaluation reports (NOT_AVAILABLE) instead of crashing."""

    def __init__(self, error: ReadError) -> None:
        super().__init__(error.describe())
        self.error = error


def raise_read_failed(err: ClientError, what: str) -> NoReturn:
    """Raise ReadFailed for AccessDenied / exhausted retries; re-raise anything else as it was."""
    raise ReadFailed(as_read_error(err, what)) from err
