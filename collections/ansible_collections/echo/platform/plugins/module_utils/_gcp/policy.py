# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure IAM policy logic: add or remove one member of one role, leaving everything else alone.

Private to the echo.platform collection. Only the unconditional binding of the role is touched;
bindings that carry a ``condition`` (and every other role) are copied unchanged, as are
``etag``, ``version`` and ``auditConfigs``. No I/O here.
"""

from __future__ import annotations

import copy
import re

MEMBER_RE = re.compile(r"^(user|serviceAccount|group|domain|principal|principalSet|deleted:[a-zA-Z]+):.+$|"
                       r"^(allUsers|allAuthenticatedUsers)$")
ROLE_RE = re.compile(r"^(roles/[A-Za-z0-9_.]+|(projects|organizations)/[^/]+/roles/[A-Za-z0-9_.]+)$")


def validate_member(member):
    """None when ``member`` looks like an IAM principal, else the reason it does not."""
    if not member or not MEMBER_RE.match(member):
        return ("member %r is not an IAM principal; use a prefix such as "
                "'serviceAccount:NAME@PROJECT.iam.gserviceaccount.com' or 'user:EMAIL'" % (member,))
    return None


def validate_role(role):
    """None when ``role`` is a predefined or custom role name, else the reason it is not."""
    if not role or not ROLE_RE.match(role):
        return "role %r is not a role name; use 'roles/NAME' or 'projects/PROJECT/roles/NAME'" % (role,)
    return None


def _unconditional(binding, role):
    return binding.get("role") == role and not binding.get("condition")


def role_members(policy, role):
    """Sorted members of the unconditional binding(s) of ``role``."""
    members = set()
    for binding in (policy or {}).get("bindings") or []:
        if _unconditional(binding, role):
            members.update(binding.get("members") or [])
    return sorted(members)


def has_member(policy, role, member):
    return member in role_members(policy, role)


def with_member(policy, role, member):
    """Copy of ``policy`` where ``member`` holds ``role`` unconditionally."""
    new = copy.deepcopy(policy or {})
    bindings = new.setdefault("bindings", [])
    for binding in bindings:
        if _unconditional(binding, role):
            members = binding.setdefault("members", [])
            if member not in members:
                members.append(member)
            return new
    bindings.append({"role": role, "members": [member]})
    return new


def without_member(policy, role, member):
    """Copy of ``policy`` where ``member`` no longer holds ``role`` unconditionally.

    A binding left without members is dropped (the API refuses empty bindings).
    """
    new = copy.deepcopy(policy or {})
    kept = []
    for binding in new.get("bindings") or []:
        if _unconditional(binding, role):
            binding["members"] = [m for m in binding.get("members") or [] if m != member]
            if not binding["members"]:
                continue
        kept.append(binding)
    if "bindings" in new or kept:
        new["bindings"] = kept
    return new


def desired_policy(policy, role, member, state):
    """(changed, new policy) for ``state`` present or absent."""
    if state == "present":
        if has_member(policy, role, member):
            return False, policy
        return True, with_member(policy, role, member)
    if state == "absent":
        if not has_member(policy, role, member):
            return False, policy
        return True, without_member(policy, role, member)
    raise ValueError("state must be present or absent, not %r" % (state,))


def binding_diff(before, after, role):
    """Diff of the one binding that may change: {'before': {...}, 'after': {...}}."""
    return {
        "before": {"role": role, "members": role_members(before, role)},
        "after": {"role": role, "members": role_members(after, role)},
    }


def set_policy_body(policy):
    """Body for setIamPolicy: the whole policy (with its etag) and an explicit update mask.

    A policy that carries conditions must be written as version 3.
    """
    new = copy.deepcopy(policy)
    if any(b.get("condition") for b in new.get("bindings") or []):
        new["version"] = 3
    fields = ["bindings", "etag"]
    if "auditConfigs" in new:
        fields.append("auditConfigs")
    return {"policy": new, "updateMask": ",".join(fields)}
