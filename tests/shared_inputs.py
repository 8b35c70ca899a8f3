"""Access to ../shared (real inputs and cases), read in place."""

from __future__ import annotations

import json
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
TRUST_POLICIES = SHARED / "real-inputs" / "trust-policies"
PERMISSION_POLICIES = SHARED / "real-inputs" / "permission-policies"
CASES = SHARED / "cases"


def case(case_id: str) -> dict:
    return json.loads((CASES / f"{case_id}.json").read_text())


def trust_policy(prefix: str) -> str:
    """The raw text of a real trust policy file, by its tpNN prefix."""
    matches = sorted(TRUST_POLICIES.glob(f"{prefix}-*.json"))
    assert len(matches) == 1, f"expected one file for {prefix}, found {matches}"
    return matches[0].read_text()
