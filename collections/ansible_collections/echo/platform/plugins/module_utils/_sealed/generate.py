# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Values the secrets layer makes itself: random secrets generated once, htpasswd entries.

Private to the echo.platform collection. Pure apart from the injected randomness.

- ``plan_generated``: which keys to generate. A key is generated only when neither the manifest nor
  the live Secret (``keep``) has it, and no value was supplied: a generated secret is never replaced.
- ``htpasswd_line``: ``user:<bcrypt hash>`` for nginx ``auth-file`` basic auth. With a fingerprint key
  the salt is derived from (fingerprint key, namespace/name, user, password), so the same password
  gives the same line and a re-run is a no-op; without one the salt is random.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import string

from ansible_collections.echo.platform.plugins.module_utils._common.errors import ValidationError

ALPHABET = string.ascii_letters + string.digits
_STD_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_BCRYPT_B64 = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_TO_BCRYPT = str.maketrans(_STD_B64, _BCRYPT_B64)
BCRYPT_MAX_PASSWORD_BYTES = 72

try:
    import bcrypt
    HAS_BCRYPT = True
except ImportError:  # pragma: no cover - reported by the module as a missing library
    bcrypt = None
    HAS_BCRYPT = False


def random_secret(length=32, random_bytes=os.urandom):
    """A random string of ``length`` letters and digits (no bias: rejection sampling)."""
    if length < 16:
        raise ValidationError("generate_length must be at least 16 (got %d)" % length)
    out = []
    limit = 256 - (256 % len(ALPHABET))
    while len(out) < length:
        for byte in bytearray(random_bytes(length * 2)):
            if byte < limit and len(out) < length:
                out.append(ALPHABET[byte % len(ALPHABET)])
    return "".join(out)


def plan_generated(generate, manifest_keys, keep_keys, supplied_keys):
    """Sorted list of the keys of ``generate`` to make now (absent everywhere, not supplied)."""
    present = set(manifest_keys) | set(keep_keys) | set(supplied_keys)
    return sorted(k for k in set(generate or ()) if k not in present)


def bcrypt_salt(raw16, cost=12):
    """A bcrypt salt string ($2b$) from 16 raw bytes."""
    if len(raw16) != 16:
        raise ValueError("bcrypt salts are 16 bytes")
    encoded = base64.b64encode(raw16).decode("ascii")[:22].translate(_TO_BCRYPT)
    return ("$2b$%02d$%s" % (cost, encoded)).encode("ascii")


def htpasswd_line(user, password, fp_key=None, namespace="", name="", cost=12, random_bytes=os.urandom):
    """``user:$2b$...`` for nginx basic auth (auth-file); deterministic when ``fp_key`` is given."""
    if not HAS_BCRYPT:
        raise ValidationError("htpasswd needs the Python library bcrypt on the control node (pip install bcrypt)")
    if not user or ":" in user or any(c.isspace() for c in user):
        raise ValidationError("htpasswd.user must be a non-empty name without ':' or blanks")
    if not password:
        raise ValidationError("htpasswd.password is empty; set it in the vault")
    secret = password.encode("utf-8")
    if len(secret) > BCRYPT_MAX_PASSWORD_BYTES:
        raise ValidationError("htpasswd.password is longer than %d bytes, which bcrypt cannot hash"
                              % BCRYPT_MAX_PASSWORD_BYTES)
    if fp_key:
        material = "%s/%s\0%s\0%s" % (namespace, name, user, password)
        key = fp_key.encode("utf-8") if isinstance(fp_key, str) else fp_key
        raw = hmac.new(key, b"echo.platform htpasswd salt\0" + material.encode("utf-8"), hashlib.sha256).digest()[:16]
    else:
        raw = random_bytes(16)
    return "%s:%s" % (user, bcrypt.hashpw(secret, bcrypt_salt(raw, cost)).decode("ascii"))


def htpasswd_matches(line, user, password):
    """True when the htpasswd ``line`` is ``user`` with ``password``."""
    if not HAS_BCRYPT or ":" not in line:
        return False
    got_user, unused_sep, hashed = line.strip().partition(":")
    return got_user == user and bcrypt.checkpw(password.encode("utf-8"), hashed.encode("ascii"))
