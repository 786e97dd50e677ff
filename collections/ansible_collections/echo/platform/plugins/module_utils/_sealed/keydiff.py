# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare secret key sets without revealing values.

Private to the echo.platform collection. Fingerprints use _common.redact.fingerprint under a key
derived for one comparison run (``derive_run_key``): values compared in the same run (desired,
live, other environments) get comparable fingerprints; a fingerprint can't be reversed and, with a
random or vaulted base key, can't be brute-forced either. Values themselves are never returned.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from ansible_collections.echo.platform.plugins.module_utils._common.redact import fingerprint


def derive_run_key(base_key=None, random_bytes=os.urandom):
    """Key for this run's fingerprints: HMAC(base_key, purpose) or 32 random bytes when no base key."""
    if not base_key:
        return random_bytes(32)
    if isinstance(base_key, str):
        base_key = base_key.encode("utf-8")
    return hmac.new(base_key, b"echo.platform secret_diff fingerprints v1", hashlib.sha256).digest()


def fingerprints(values, run_key):
    """{key: fingerprint}; the key name is bound in so equal values under different names differ."""
    return dict((k, fingerprint("%s\0%s" % (k, values[k]), run_key)) for k in sorted(values))


def diff_maps(before, after):
    """Key names added/changed/removed/unchanged going from ``before`` to ``after`` (both {key: value})."""
    b, a = set(before), set(after)
    return dict(
        added=sorted(a - b),
        removed=sorted(b - a),
        changed=sorted(k for k in a & b if before[k] != after[k]),
        unchanged=sorted(k for k in a & b if before[k] == after[k]),
    )


def matrix(maps, run_key):
    """Presence/equality matrix over environments.

    ``maps``: {env: {key: value} or None (Secret absent)}. Returns dict(keys={key: {env: fingerprint or
    None}}, differing=[keys whose value or presence differs], missing={env: [keys other envs have]}).
    """
    fps = dict((env, fingerprints(m or {}, run_key)) for env, m in maps.items())
    all_keys = sorted(set().union(*[set(m) for m in fps.values()])) if fps else []
    table = {}
    differing = []
    for key in all_keys:
        row = dict((env, fps[env].get(key)) for env in sorted(fps))
        table[key] = row
        if len(set(row.values())) > 1:
            differing.append(key)
    missing = dict((env, sorted(k for k in all_keys if k not in fps[env])) for env in sorted(fps))
    return dict(keys=table, differing=differing, missing=missing)


def missing_required(keys, required):
    """{component: [required keys absent from ``keys``]} for components that miss any."""
    have = set(keys)
    out = {}
    for component in sorted(required or {}):
        gone = sorted(k for k in (required[component] or []) if k not in have)
        if gone:
            out[component] = gone
    return out
