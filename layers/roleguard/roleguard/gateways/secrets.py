"""Secrets Manager through Powertools parameters: cached with max_age, never logged.

The environment holds only the secret's NAME. The value is fetched on first
use (never at import), cached by Powertools for `max_age` seconds, and kept
only inside `Credentials`, whose repr shows nothing.

botocore logs every response body at DEBUG (botocore.parsers), which for
GetSecretValue is the secret. `redact_secret_logs()` puts a filter on
botocore's loggers that masks any record carrying a SecretString /
SecretBinary, and any value this process has fetched, so even a DEBUG run
never writes a secret to a log.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Mapping

DEFAULT_MAX_AGE_SECONDS = 300
_MASK = "***redacted***"
_LOGGERS = ("botocore", "botocore.parsers", "botocore.endpoint", "botocore.hooks", "botocore.retryhandler",
            "botocore.httpsession", "urllib3", "urllib3.connectionpool", "aws_lambda_powertools",
            "aws_lambda_powertools.utilities.parameters", "roleguard")


class SecretUnavailable(RuntimeError):
    """The secret could not be read or does not hold what the ticket system needs (message names no value)."""


@dataclass(frozen=True)
class Credentials:
    """A ticket system's credentials. repr/str never show them."""

    values: Mapping[str, str] = field(repr=False)

    def get(self, *names: str) -> str:
        for name in names:
            value = self.values.get(name)
            if isinstance(value, str) and value:
                return value
        raise SecretUnavailable(f"the secret has none of the keys {', '.join(names)}")

    def __repr__(self) -> str:
        return f"Credentials(keys={sorted(self.values)})"

    __str__ = __repr__


class _Redactor(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        if len(value) >= 4:
            with self._lock:
                self.values.add(value)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except (TypeError, ValueError, KeyError):
            # Args that do not format could still carry a secret: replace the record instead of passing it on.
            record.msg, record.args = "log record could not be formatted; masked by roleguard", None
            return True
        masked = re.sub(r'"(SecretString|SecretBinary)"\s*:\s*"(?:[^"\\]|\\.)*"', r'"\1": "' + _MASK + '"', text)
        if "SecretString" in masked or "SecretBinary" in masked:
            masked = re.sub(r"(Secret(String|Binary)['\"]?\s*[:=]\s*).*", r"\1" + _MASK, masked)
        for value in sorted(self.values, key=len, reverse=True):
            masked = masked.replace(value, _MASK)
        if masked != text:
            record.msg, record.args = masked, None
        return True


_REDACTOR = _Redactor()
_INSTALLED = False


def redact_secret_logs() -> None:
    """Install the redacting filter on the loggers that could carry a secret (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    for name in _LOGGERS:
        logging.getLogger(name).addFilter(_REDACTOR)
    _INSTALLED = True


class SecretsGateway:
    def __init__(self, client: Any, max_age: int = DEFAULT_MAX_AGE_SECONDS) -> None:
        self._client = client
        self._max_age = max_age
        self._provider: Any = None

    def credentials(self, name: str) -> Credentials:
        """The secret `name` as a JSON object of strings (cached for max_age seconds)."""
        from aws_lambda_powertools.utilities.parameters import SecretsProvider
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

        redact_secret_logs()
        if self._provider is None:
            self._provider = SecretsProvider(boto3_client=self._client)
        try:
            value = self._provider.get(name, max_age=self._max_age, transform="json")
        except TransformParameterError:
            raise SecretUnavailable(f"secret {name} is not a JSON object") from None
        except GetParameterError as err:
            cause = err.__cause__
            code = getattr(cause, "response", {}).get("Error", {}).get("Code", type(cause).__name__)
            raise SecretUnavailable(f"secret {name} could not be read: {code}") from None
        if not isinstance(value, dict):
            raise SecretUnavailable(f"secret {name} is not a JSON object")
        strings = {str(k): v for k, v in value.items() if isinstance(v, str)}
        for item in strings.values():
            _REDACTOR.add(item)
        return Credentials(strings)
