"""The check registry. Adding a check: its module, one line here, its tests."""

from __future__ import annotations

from . import (agent_version, dedicated_role, least_privilege, network_conditions, role_exists, role_not_service_role,
               role_same_account, trust_allows_appstream, trust_confused_deputy, trust_no_foreign_principals)
from .base import Check, Scope

REGISTRY: tuple[Check, ...] = (
    role_exists.CHECK,
    role_same_account.CHECK,
    role_not_service_role.CHECK,
    trust_allows_appstream.CHECK,
    agent_version.CHECK,
    least_privilege.CHECK,
    trust_confused_deputy.CHECK,
    trust_no_foreign_principals.CHECK,
    network_conditions.CHECK,
    dedicated_role.CHECK,
)

CHECK_IDS: tuple[str, ...] = tuple(c.id for c in REGISTRY)


def get(check_id: str) -> Check:
    for check in REGISTRY:
        if check.id == check_id:
            return check
    raise KeyError(check_id)


__all__ = ["CHECK_IDS", "REGISTRY", "Check", "Scope", "get"]
