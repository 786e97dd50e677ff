# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep secret values out of results and diffs.

Private to the echo.platform collection. A fingerprint is a keyed HMAC-SHA256, cut short: equal
values give equal fingerprints under one key, and nothing about the value can be recovered from it.
"""

from __future__ import annotations

import hashlib
import hmac

FINGERPRINT_PREFIX = "hmac-sha256:"


def _to_bytes(value):
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def fingerprint(value, key, length=16):
    """Keyed, non-reversible fingerprint of ``value`` (hex, ``length`` characters)."""
    digest = hmac.new(_to_bytes(key), _to_bytes(value), hashlib.sha256).hexdigest()
    return FINGERPRINT_PREFIX + digest[:length]


def fingerprint_map(values, key, length=16):
    """{name: fingerprint} for a {name: secret value} mapping."""
    return dict((name, fingerprint(val, key, length)) for name, val in sorted(values.items()))


def redact_keys(data, keys, placeholder="VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"):
    """Copy of ``data`` (nested dicts/lists) with the values of ``keys`` replaced."""
    keys = set(keys)
    if isinstance(data, dict):
        return dict((k, placeholder if k in keys and v is not None else redact_keys(v, keys, placeholder))
                    for k, v in data.items())
    if isinstance(data, list):
        return [redact_keys(item, keys, placeholder) for item in data]
    return data
