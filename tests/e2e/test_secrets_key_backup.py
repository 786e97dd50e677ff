"""playbooks/sealing_key_backup.yml: back up the controller's keys (vault file) and restore them.

The restore goes into a fresh namespace (the shared controller keeps running); the restored private
key must open a value sealed with the controller's current certificate. Needs `testenv/bin/testenv up`.
"""

from __future__ import annotations

import base64
import stat
import sys

import pytest

from _secrets_support import REPO, Kube, require_testenv, run

LABEL = "sealedsecrets.bitnami.com/sealed-secrets-key"
PASSWORD = "e2e-backup-password-1234"


@pytest.fixture(scope="module")
def kube():
    env = require_testenv()
    k = Kube(env["KUBECONFIG"])
    k.env = env
    yield k
    k.api_client.close()


def playbook(tmp_path, *extra, password=PASSWORD):
    cmd = ["ansible-playbook", "playbooks/sealing_key_backup.yml", "-i", "inventories/local", "-e", "echo_kube_context=",
           "-e", "sealed_secrets_rotate_backup_file=%s" % (tmp_path / "keys.vault")]
    for item in extra:
        cmd += ["-e", item]
    env = {"ANSIBLE_LOG_PATH": str(tmp_path / "ansible.log"), "ECHO_SEALING_KEY_BACKUP_PASSWORD": password}
    return run(cmd, env_extra=env)


def live_keys(kube, namespace):
    return dict((s.metadata.name, s.data) for s in kube.core.list_namespaced_secret(namespace, label_selector=LABEL).items)


def test_backup_is_encrypted_private_idempotent_and_restorable(kube, tmp_path):
    controller_ns = kube.env.get("SEALED_SECRETS_CONTROLLER_NAMESPACE", "kube-system")
    keys = live_keys(kube, controller_ns)
    assert keys, "the controller has no key Secret"
    key_material = [d["tls.key"][40:120] for d in keys.values()]

    rc, out = playbook(tmp_path)
    assert rc == 0, out
    backup = tmp_path / "keys.vault"
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    text = backup.read_text()
    assert text.startswith("$ANSIBLE_VAULT;")
    log = (tmp_path / "ansible.log").read_text()
    for chunk in key_material:
        assert chunk not in out and chunk not in log and chunk not in text

    rc, out = playbook(tmp_path)
    assert rc == 0, out
    assert "already backed up" in out and backup.read_text() == text

    ns = kube.create_namespace("e2e-key-restore")
    try:
        rc, out = playbook(tmp_path, "sealing_key_action=restore", "sealed_secrets_rotate_restore_namespace=%s" % ns)
        assert rc == 0, out
        for chunk in key_material:
            assert chunk not in out
        restored = live_keys(kube, ns)
        assert restored == keys

        sys.path.insert(0, str(REPO / "collections"))
        from cryptography.hazmat.primitives import serialization
        from ansible_collections.echo.platform.plugins.module_utils._k8s.client import K8sClient
        from ansible_collections.echo.platform.plugins.module_utils._sealed import crypto
        pem = K8sClient(kubeconfig=kube.env["KUBECONFIG"]).service_proxy_get(
            controller_ns, kube.env.get("SEALED_SECRETS_CONTROLLER_NAME", "sealed-secrets-controller"), "8080",
            "/v1/cert.pem")
        pub, _ = crypto.load_certificate(pem)
        sealed = crypto.encrypt_value(pub, b"", b"restored keys open this")
        opened = []
        for data in restored.values():
            priv = serialization.load_pem_private_key(base64.b64decode(data["tls.key"]), password=None)
            try:
                opened.append(crypto.decrypt_value(priv, b"", sealed))
            except Exception:
                pass
        assert opened == [b"restored keys open this"]
    finally:
        kube.delete_namespace(ns)


def test_backup_without_password_fails_and_writes_nothing(kube, tmp_path):
    rc, out = playbook(tmp_path, password="")
    assert rc != 0
    assert "vault password" in out
    assert not (tmp_path / "keys.vault").exists()


def test_restore_with_wrong_password_fails(kube, tmp_path):
    rc, out = playbook(tmp_path)
    assert rc == 0, out
    rc, out = playbook(tmp_path, "sealing_key_action=restore", "sealed_secrets_rotate_restore_namespace=e2e-never-made",
                       password="wrong-password-123")
    assert rc != 0
    assert kube.core.list_namespace(field_selector="metadata.name=e2e-never-made").items == []
