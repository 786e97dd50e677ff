# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubeseal-compatible hybrid encryption of single values.

Private to the echo.platform collection. Format (what the sealed-secrets controller expects):
a fresh random 32-byte AES-256-GCM session key encrypts the value with an all-zero 12-byte nonce
(safe because each key is used exactly once); the session key is wrapped with RSA-OAEP-SHA256
whose label binds the ciphertext to a scope; the output is
``uint16_be(len(rsa_ct)) || rsa_ct || gcm_ct_with_tag``, standard base64.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import os
import struct

from ansible_collections.echo.platform.plugins.module_utils._common.errors import SealedSecretsError

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the modules
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = exc

SCOPES = ("strict", "namespace-wide", "cluster-wide")
SESSION_KEY_BYTES = 32
ZERO_NONCE = b"\x00" * 12
MIN_RSA_BITS = 2048


def scope_label(scope, namespace, name):
    """The RSA-OAEP label for a scope: 'ns/name', 'ns' or empty."""
    if scope == "strict":
        if not namespace or not name:
            raise SealedSecretsError("Failed to seal: the strict scope needs both a namespace and a name")
        return ("%s/%s" % (namespace, name)).encode("utf-8")
    if scope == "namespace-wide":
        if not namespace:
            raise SealedSecretsError("Failed to seal: the namespace-wide scope needs a namespace")
        return namespace.encode("utf-8")
    if scope == "cluster-wide":
        return b""
    raise SealedSecretsError("Failed to seal: unknown scope %r (use one of %s)" % (scope, ", ".join(SCOPES)))


def _oaep(label):
    return padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=label or None)


def _to_bytes(value):
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def encrypt_value(public_key, label, value, random_bytes=os.urandom):
    """Seal one value (str or bytes) for ``label``; returns the base64 text the controller reads."""
    session_key = random_bytes(SESSION_KEY_BYTES)
    wrapped = public_key.encrypt(session_key, _oaep(label))
    sealed = AESGCM(session_key).encrypt(ZERO_NONCE, _to_bytes(value), None)
    return base64.b64encode(struct.pack(">H", len(wrapped)) + wrapped + sealed).decode("ascii")


def decrypt_value(private_key, label, text):
    """Open a sealed value with the controller's private key (tests, backup verification)."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SealedSecretsError("Failed to decrypt: the ciphertext is not valid base64")
    if len(raw) < 2:
        raise SealedSecretsError("Failed to decrypt: the ciphertext is too short")
    (size,) = struct.unpack(">H", raw[:2])
    if len(raw) < 2 + size:
        raise SealedSecretsError("Failed to decrypt: the ciphertext is truncated")
    try:
        session_key = private_key.decrypt(raw[2:2 + size], _oaep(label))
        return AESGCM(session_key).decrypt(ZERO_NONCE, raw[2 + size:], None)
    except Exception:
        raise SealedSecretsError("Failed to decrypt: wrong key or wrong scope")


def load_certificate(pem, now=None):
    """Parse and check a controller certificate; returns (public_key, info dict).

    Refuses anything that is not an RSA certificate of at least 2048 bits, and expired
    certificates (the controller would still decrypt, but an expired cert means a stale file).
    """
    if not pem or not str(pem).strip():
        raise SealedSecretsError("Failed to load certificate: it is empty")
    data = _to_bytes(pem)
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise SealedSecretsError("Failed to load certificate: no PEM 'BEGIN CERTIFICATE' block found")
    try:
        cert = x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise SealedSecretsError("Failed to load certificate: %s" % exc)
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise SealedSecretsError("Failed to load certificate: the sealed-secrets controller uses RSA keys, this is not one")
    if key.key_size < MIN_RSA_BITS:
        raise SealedSecretsError("Failed to load certificate: RSA key of %d bits is too small" % key.key_size)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    not_after = cert.not_valid_after_utc
    if not_after < now:
        raise SealedSecretsError("Failed to load certificate: it expired on %s; fetch the controller's current cert"
                                 % not_after.isoformat())
    der = cert.public_bytes(serialization.Encoding.DER)
    info = dict(
        sha256=hashlib.sha256(der).hexdigest(),
        not_before=cert.not_valid_before_utc.isoformat(),
        not_after=not_after.isoformat(),
        subject=cert.subject.rfc4514_string(),
        key_bits=key.key_size,
    )
    return key, info
