"""SQS: the sweep's fan-out queue."""

from __future__ import annotations

import json
from typing import Any

MAX_BATCH = 10  # SendMessageBatch takes at most 10 entries


class SqsGateway:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def send_all(self, messages: list[dict[str, Any]]) -> int:
        """Send every message; a batch entry that failed is an error naming it, never a silent loss."""
        for start in range(0, len(messages), MAX_BATCH):
            batch = messages[start : start + MAX_BATCH]
            entries = [{"Id": str(i), "MessageBody": json.dumps(m, separators=(",", ":"))} for i, m in enumerate(batch)]
            response = self._sqs.send_message_batch(QueueUrl=self._url, Entries=entries)
            failed = response.get("Failed", [])
            if failed:
                raise RuntimeError(f"SQS SendMessageBatch failed for {len(failed)} sweep chunks: {failed}")
        return len(messages)
