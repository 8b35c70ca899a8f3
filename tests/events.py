"""Loader for the shared event files under ``events/`` (repo root).

The same files serve the unit tests, the demo and ``sam local invoke -e``.
Every call to :func:`load_event` returns a fresh deep copy, so a test (or a
handler under test) that mutates its event cannot leak into another test.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = REPO_ROOT / "events"


def _stem(name: str) -> str:
    name = Path(name).name  # refuse directory components ("../x")
    return name[: -len(".json")] if name.endswith(".json") else name


@lru_cache(maxsize=None)
def _parsed(stem: str) -> Any:
    path = EVENTS_DIR / f"{stem}.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"no event file {path.name!r} in {EVENTS_DIR}; known: {', '.join(all_event_names())}"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def load_event(name: str) -> dict:
    """Return the event ``events/<name>.json`` (``name`` with or without ``.json``).

    The result is a new deep copy on every call.
    """
    return copy.deepcopy(_parsed(_stem(name)))


def all_event_names() -> list[str]:
    """Sorted names (without ``.json``) of every event file in ``EVENTS_DIR``."""
    return sorted(p.stem for p in EVENTS_DIR.glob("*.json"))


IAM_EVENTS_DIR = EVENTS_DIR / "iam"


def load_iam_event(name: str) -> dict:
    """An IAM CloudTrail event from ``events/iam/`` (fresh copy each call)."""
    path = IAM_EVENTS_DIR / f"{_stem(name)}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def all_iam_event_names() -> list[str]:
    return sorted(p.stem for p in IAM_EVENTS_DIR.glob("*.json"))
