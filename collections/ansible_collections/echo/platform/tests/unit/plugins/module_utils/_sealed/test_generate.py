from __future__ import annotations

import bcrypt
import pytest
import yaml

from ansible_collections.echo.platform.plugins.module_utils._common.errors import SealedSecretsError, ValidationError
from ansible_collections.echo.platform.plugins.module_utils._sealed import crypto, generate as gen, service


NS, NAME = "monitoring", "prometheus-basic-auth"


def test_random_secret_length_alphabet_and_uniqueness():
    values = {gen.random_secret(40) for unused_i in range(50)}
    assert len(values) == 50
    assert all(len(v) == 40 and set(v) <= set(gen.ALPHABET) for v in values)
    with pytest.raises(ValidationError, match="at least 16"):
        gen.random_secret(8)


def test_plan_generated_never_replaces_an_existing_or_supplied_key():
    assert gen.plan_generated(["A", "B", "C", "D"], manifest_keys=["A"], keep_keys=["B"], supplied_keys=["C"]) == ["D"]
    assert gen.plan_generated([], ["A"], [], []) == []


def test_htpasswd_is_deterministic_with_a_fingerprint_key_and_verifies():
    one = gen.htpasswd_line("admin", "s3cret pass", "fp-key", NS, NAME, cost=4)
    two = gen.htpasswd_line("admin", "s3cret pass", "fp-key", NS, NAME, cost=4)
    assert one == two and one.startswith("admin:$2b$04$")
    assert "s3cret" not in one
    assert gen.htpasswd_matches(one, "admin", "s3cret pass")
    assert not gen.htpasswd_matches(one, "admin", "other")
    assert not gen.htpasswd_matches(one, "root", "s3cret pass")
    # another password, another key or another Secret: another salt
    assert gen.htpasswd_line("admin", "other", "fp-key", NS, NAME, cost=4) != one
    assert gen.htpasswd_line("admin", "s3cret pass", "other-key", NS, NAME, cost=4).split("$")[3][:22] != one.split("$")[3][:22]
    assert gen.htpasswd_line("admin", "s3cret pass", "fp-key", "other-ns", NAME, cost=4) != one


def test_htpasswd_without_fingerprint_key_uses_a_random_salt():
    a = gen.htpasswd_line("admin", "pw-123456", cost=4)
    b = gen.htpasswd_line("admin", "pw-123456", cost=4)
    assert a != b and gen.htpasswd_matches(a, "admin", "pw-123456") and gen.htpasswd_matches(b, "admin", "pw-123456")


@pytest.mark.parametrize("user,password,message", [
    ("", "pw", "non-empty name"), ("a:b", "pw", "without ':'"), ("a b", "pw", "without ':'"),
    ("admin", "", "is empty"), ("admin", "x" * 73, "longer than 72"),
])
def test_htpasswd_bad_input_names_the_option_never_the_value(user, password, message):
    with pytest.raises(ValidationError, match=message) as err:
        gen.htpasswd_line(user, password, "k", cost=4)
    assert (password not in str(err.value)) or not password


def test_bcrypt_salt_is_canonical():
    salt = gen.bcrypt_salt(b"\xff" * 16, cost=10)
    assert salt.startswith(b"$2b$10$") and len(salt) == 29
    bcrypt.hashpw(b"x", salt)  # accepted by the library


def _open(priv, manifest, ns, name):
    label = crypto.scope_label("strict", ns, name)
    return dict((k, crypto.decrypt_value(priv, label, v).decode("utf-8"))
                for k, v in manifest["spec"]["encryptedData"].items())


def test_seal_manifest_generates_once_and_keeps(tmp_path, keypair):
    priv, pem = keypair
    path = str(tmp_path / "monitoring-secrets.yaml")
    told = []
    first = service.seal_manifest(path, "monitoring", "monitoring-secrets", {}, pem, generate=["grafana-admin-password"],
                                  fingerprint_key="fp", on_secret=told.append)
    assert first["changed"] and first["generated"] == ["grafana-admin-password"] and first["added"] == ["grafana-admin-password"]
    m1 = yaml.safe_load(open(path).read())
    value = _open(priv, m1, "monitoring", "monitoring-secrets")["grafana-admin-password"]
    assert told == [value] and len(value) == 32
    assert value not in open(path).read() and value not in repr(first)
    again = service.seal_manifest(path, "monitoring", "monitoring-secrets", {"slack-webhook-url": "https://hooks/x"}, pem,
                                  generate=["grafana-admin-password"], fingerprint_key="fp")
    assert again["generated"] == [] and again["added"] == ["slack-webhook-url"]
    m2 = yaml.safe_load(open(path).read())
    assert m2["spec"]["encryptedData"]["grafana-admin-password"] == m1["spec"]["encryptedData"]["grafana-admin-password"]


def test_a_live_key_missing_from_the_manifest_is_not_regenerated(tmp_path, keypair):
    unused_priv, pem = keypair
    path = str(tmp_path / "echo-backend-secrets.yaml")
    with pytest.raises(SealedSecretsError, match="DIRECTUS_SECRET"):
        service.seal_manifest(path, "echo-dev", "echo-backend-secrets", {"A": "1"}, pem,
                              generate=["DIRECTUS_SECRET"], expect_keys=["DIRECTUS_SECRET"], check_mode=True)


def test_seal_manifest_htpasswd_is_idempotent_with_fingerprint_key(tmp_path, keypair):
    priv, pem = keypair
    path = str(tmp_path / "pba.yaml")
    hp = dict(key="auth", user="admin", password="vault-password-1")
    r1 = service.seal_manifest(path, NS, NAME, {}, pem, htpasswd=hp, fingerprint_key="fp")
    assert r1["added"] == ["auth"]
    line = _open(priv, yaml.safe_load(open(path).read()), NS, NAME)["auth"]
    assert gen.htpasswd_matches(line, "admin", "vault-password-1")
    r2 = service.seal_manifest(path, NS, NAME, {}, pem, htpasswd=hp, fingerprint_key="fp")
    assert not r2["changed"] and r2["unchanged"] == ["auth"]
    r3 = service.seal_manifest(path, NS, NAME, {}, pem, htpasswd=dict(hp, password="vault-password-2"), fingerprint_key="fp")
    assert r3["changed"] and r3["updated"] == ["auth"]
    with pytest.raises(ValidationError, match="also given in values"):
        service.seal_manifest(path, NS, NAME, {"auth": "x"}, pem, htpasswd=hp, fingerprint_key="fp")
