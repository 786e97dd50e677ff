from __future__ import annotations

import base64
import struct

import pytest

from ansible_collections.echo.platform.plugins.module_utils._common.errors import SealedSecretsError
from ansible_collections.echo.platform.plugins.module_utils._sealed import crypto


@pytest.mark.parametrize("scope,label", [
    ("strict", b"echo-dev/echo-backend-secrets"),
    ("namespace-wide", b"echo-dev"),
    ("cluster-wide", b""),
])
def test_every_scope_round_trips_with_its_label(keypair, scope, label):
    priv, pem = keypair
    pub, unused_ = crypto.load_certificate(pem)
    assert crypto.scope_label(scope, "echo-dev", "echo-backend-secrets") == label
    text = crypto.encrypt_value(pub, label, "s3cr3t=with=equals\nand lines")
    assert crypto.decrypt_value(priv, label, text) == b"s3cr3t=with=equals\nand lines"


@pytest.mark.parametrize("scope", ["strict", "namespace-wide"])
def test_a_value_sealed_for_one_scope_does_not_open_in_another(keypair, scope):
    priv, pem = keypair
    pub, unused_ = crypto.load_certificate(pem)
    text = crypto.encrypt_value(pub, crypto.scope_label(scope, "echo-dev", "a"), "v")
    with pytest.raises(SealedSecretsError, match="wrong key or wrong scope"):
        crypto.decrypt_value(priv, crypto.scope_label(scope, "echo-prod", "a"), text)


def test_wire_format_is_length_prefixed_rsa_then_gcm(keypair):
    unused_, pem = keypair
    pub, unused_ = crypto.load_certificate(pem)
    raw = base64.b64decode(crypto.encrypt_value(pub, b"x", b"abc"))
    (size,) = struct.unpack(">H", raw[:2])
    assert size == 256  # 2048-bit RSA
    assert len(raw) == 2 + 256 + 3 + 16  # value + GCM tag


def test_fresh_session_key_per_value(keypair):
    unused_, pem = keypair
    pub, unused_ = crypto.load_certificate(pem)
    assert crypto.encrypt_value(pub, b"x", "same") != crypto.encrypt_value(pub, b"x", "same")


def test_long_and_binary_values(keypair):
    priv, pem = keypair
    pub, unused_ = crypto.load_certificate(pem)
    blob = bytes(range(256)) * 400
    assert crypto.decrypt_value(priv, b"", crypto.encrypt_value(pub, b"", blob)) == blob


def test_certificate_checks(cert_factory):
    with pytest.raises(SealedSecretsError, match="empty"):
        crypto.load_certificate("")
    with pytest.raises(SealedSecretsError, match="BEGIN CERTIFICATE"):
        crypto.load_certificate("hello")
    with pytest.raises(SealedSecretsError, match="Failed to load certificate"):
        crypto.load_certificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    unused_, small = cert_factory(bits=1024)
    with pytest.raises(SealedSecretsError, match="too small"):
        crypto.load_certificate(small)
    unused_, old = cert_factory(days=-1, start_days_ago=10)
    with pytest.raises(SealedSecretsError, match="expired"):
        crypto.load_certificate(old)


def test_certificate_info(keypair):
    unused_, pem = keypair
    unused_, info = crypto.load_certificate(pem)
    assert info["key_bits"] == 2048 and len(info["sha256"]) == 64


def test_bad_scope_and_bad_ciphertext(keypair):
    priv, unused_ = keypair
    with pytest.raises(SealedSecretsError, match="unknown scope"):
        crypto.scope_label("global", "ns", "n")
    with pytest.raises(SealedSecretsError, match="needs both"):
        crypto.scope_label("strict", "ns", "")
    with pytest.raises(SealedSecretsError, match="base64"):
        crypto.decrypt_value(priv, b"", "!!!")
    with pytest.raises(SealedSecretsError, match="truncated"):
        crypto.decrypt_value(priv, b"", base64.b64encode(b"\x01\x00abc").decode())
