"""Shared helpers of the tests/e2e/test_secrets_*.py suites (rehearsal environment required)."""

from __future__ import annotations

import base64
import hashlib
import os
import pathlib
import subprocess
import time
import uuid

from _testenv import REPO, require_env  # pylint: disable=import-error

VENV_BIN = REPO / ".venv" / "bin"


def require_testenv():
    return require_env("KUBECONFIG", "SEALED_SECRETS_CONTROLLER_NAME", files=())


def canary():
    """A value that must never show up in any output."""
    return "CANARY-%s" % uuid.uuid4().hex


class Kube:
    def __init__(self, kubeconfig):
        from kubernetes import client, config
        self.api_client = config.new_client_from_config(config_file=kubeconfig)
        self.core = client.CoreV1Api(self.api_client)
        self.custom = client.CustomObjectsApi(self.api_client)
        self.apps = client.AppsV1Api(self.api_client)

    def create_namespace(self, prefix):
        name = "%s-%s" % (prefix, uuid.uuid4().hex[:6])
        self.core.create_namespace({"metadata": {"name": name}})
        return name

    def delete_namespace(self, name):
        try:
            self.core.delete_namespace(name)
        except Exception:
            pass

    def secret_values(self, namespace, name):
        from kubernetes.client.exceptions import ApiException
        try:
            sec = self.core.read_namespaced_secret(name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return dict((k, base64.b64decode(v).decode("utf-8")) for k, v in (sec.data or {}).items())

    def apply_sealed(self, manifest):
        ns, name = manifest["metadata"]["namespace"], manifest["metadata"]["name"]
        from kubernetes.client.exceptions import ApiException
        try:
            cur = self.custom.get_namespaced_custom_object("bitnami.com", "v1alpha1", ns, "sealedsecrets", name)
            manifest = dict(manifest, metadata=dict(manifest["metadata"],
                                                    resourceVersion=cur["metadata"]["resourceVersion"]))
            self.custom.replace_namespaced_custom_object("bitnami.com", "v1alpha1", ns, "sealedsecrets", name, manifest)
        except ApiException as exc:
            if exc.status != 404:
                raise
            self.custom.create_namespaced_custom_object("bitnami.com", "v1alpha1", ns, "sealedsecrets", manifest)

    def wait_secret(self, namespace, name, expected, timeout=60):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.secret_values(namespace, name)
            if last == expected:
                return last
            time.sleep(1)
        return last


def run(cmd, env_extra=None, cwd=REPO, timeout=600):
    env = dict(os.environ)
    env["ANSIBLE_CONFIG"] = str(REPO / "ansible.cfg")
    env["PATH"] = "%s:%s" % (VENV_BIN, env.get("PATH", ""))
    env["ANSIBLE_NOCOLOR"] = "1"
    env.update(env_extra or {})
    proc = subprocess.run(cmd, cwd=str(cwd), env=env, capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


def tree_digest(path):
    """Digest of every file under ``path`` (names, modes, bytes): proves "every file untouched"."""
    h = hashlib.sha256()
    path = pathlib.Path(path)
    if not path.exists():
        return "absent"
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(path)).encode())
        h.update(oct(f.stat().st_mode).encode())
        h.update(f.read_bytes())
    return h.hexdigest()
