"""Helpers for the Argo CD suites (tests/e2e/test_argocd_*.py) on the rehearsal environment.

They need `testenv/bin/testenv up` (components git-server, redis and argocd included). The argo-cd
chart is installed the way the bootstrap layer installs it on the rehearsal (release argo-cd 7.8.9
from the loopback chart repository, values ARGOCD_REHEARSAL_VALUES, repository Secret
argocd/echo-platform-repo); the host processes of the argocd component then do the work. Git
changes go through the working clone the git-server component maintains (TESTENV_GIT_CHECKOUT):
commit there, push to the served repository; never to the real one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import pytest
import yaml

from _testenv import REPO, STATE, read_env

sys.path.insert(0, str(REPO / "collections"))
from ansible_collections.echo.platform.plugins.filter.argocd import argocd_app_state  # noqa: E402

KUBECONFIG = STATE / "kubeconfig"
NS = "argocd"
# what inventories/local must give the argo-cd release (see testenv/README.md, "Argo CD")
ARGOCD_REHEARSAL_VALUES = {"redisSecretInit": {"enabled": False}}


def kubectl(*args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["kubectl", "--kubeconfig", str(KUBECONFIG), *args], input=stdin, capture_output=True,
                          text=True, check=False)
    if check and proc.returncode:
        raise AssertionError("kubectl %s failed: %s" % (" ".join(args), proc.stderr))
    return proc


def kget(*args: str) -> dict | None:
    proc = kubectl("get", *args, "-o", "json", check=False)
    if proc.returncode:
        if "NotFound" in proc.stderr:
            return None
        raise AssertionError(proc.stderr)
    return json.loads(proc.stdout)


def git(*args: str, cwd) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, "git %s: %s" % (" ".join(args), proc.stderr)
    return proc.stdout.strip()


def require_argocd_env() -> dict[str, str]:
    env = read_env()
    need = ("TESTENV_GIT_URL", "TESTENV_GIT_CHECKOUT", "TESTENV_ARGOCD_SERVER_URL", "TESTENV_CHART_REPO_URL")
    missing = [k for k in need if k not in env]
    if missing or not KUBECONFIG.is_file():
        pytest.fail("the rehearsal environment is not up with Argo CD (%s missing in %s/env.d); run "
                    "`testenv/bin/testenv up`" % (", ".join(missing) or "kubeconfig", STATE))
    return env


def install_argocd(env: dict[str, str], tmp_path_factory, repo_password: str = "rehearsal-repo-token") -> None:
    """The argo-cd release and the repository Secret as the bootstrap layer makes them; then wait until
    argocd-server created the default AppProject (it does that at startup)."""
    values = tmp_path_factory.mktemp("argocd") / "values.json"
    values.write_text(json.dumps(ARGOCD_REHEARSAL_VALUES))
    proc = subprocess.run(
        ["helm", "upgrade", "--install", "argo-cd", "argo-cd", "--repo", env["TESTENV_CHART_REPO_URL"],
         "--version", "7.8.9", "-n", NS, "--create-namespace", "-f", str(values), "--kubeconfig", str(KUBECONFIG)],
        capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    secret = {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "echo-platform-repo", "namespace": NS,
                     "labels": {"argocd.argoproj.io/secret-type": "repository"}},
        "stringData": {"type": "git", "name": "echo-platform", "url": env["TESTENV_GIT_URL"],
                       "username": "git", "password": repo_password},
    }
    kubectl("apply", "-f", "-", stdin=json.dumps(secret))
    wait_until(lambda: kget("-n", NS, "appproject", "default"), 240,
               "the default AppProject (argocd-server creates it; see logs/argocd*.log)")


def wait_until(fn, timeout: float, what: str, interval: float = 2.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s (last: %r)" % (timeout, what, last))


_LOCAL_SOURCES: dict[str, dict] = {}


def local_chart_source(chart: str = "echo") -> dict:
    """What the local environment's Application of `chart` carries: {"valueFiles": [...] (the release file
    included), "valuesObject": {...} (the inventory's hosts, TLS secret, cookie)}, as playbooks/render.yml
    writes it; rendered once per test session."""
    if chart not in _LOCAL_SOURCES:
        with tempfile.TemporaryDirectory() as out:
            proc = subprocess.run([str(REPO / ".venv/bin/ansible-playbook"), "playbooks/render.yml", "-i",
                                   "inventories/local", "-e", "echo_render_dir=%s" % out],
                                  cwd=REPO, capture_output=True, text=True, check=False, timeout=600,
                                  env=dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg")))
            assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
            for name in ("echo", "monitoring"):
                with open(os.path.join(out, "%s-source.yaml" % name)) as fh:
                    _LOCAL_SOURCES[name] = yaml.safe_load(fh)
    return _LOCAL_SOURCES[chart]


def application(name: str, repo_url: str, path: str, dest_ns: str, helm_values: list[str] | None = None,
                values_object: dict | None = None) -> dict:
    source = {"repoURL": repo_url, "targetRevision": "main", "path": path}
    if helm_values is not None:
        source["helm"] = {"releaseName": name, "valueFiles": helm_values}
        if values_object:
            source["helm"]["valuesObject"] = values_object
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"project": "default", "source": source,
                 "destination": {"server": "https://kubernetes.default.svc", "namespace": dest_ns},
                 "syncPolicy": {"automated": {"prune": True, "selfHeal": True},
                                "syncOptions": ["CreateNamespace=true"]}},
    }


def apply(obj: dict) -> None:
    kubectl("apply", "-f", "-", stdin=json.dumps(obj))


def refresh(name: str) -> None:
    kubectl("-n", NS, "annotate", "--overwrite", "application", name, "argocd.argoproj.io/refresh=normal")


def app_state(name: str, expected_revision: str = "") -> dict:
    obj = kget("-n", NS, "application", name)
    return argocd_app_state(obj or {}, expected_revision)


def wait_app(name: str, timeout: float, expected_revision: str = "", want=("ready",)) -> dict:
    deadline = time.monotonic() + timeout
    state = {}
    while time.monotonic() < deadline:
        state = app_state(name, expected_revision)
        if state["state"] in want:
            return state
        time.sleep(2)
    raise AssertionError("Application %s: expected %s within %ss, last state %s" % (name, want, timeout, state))


def wait_synced(name: str, timeout: float, expected_revision: str) -> dict:
    """Synced at exactly expected_revision, no refresh pending, no error: what needs no running pod."""
    deadline = time.monotonic() + timeout
    state = {}
    while time.monotonic() < deadline:
        state = app_state(name, expected_revision)
        if state["state"] == "failed":
            break
        if (state["sync"] == "Synced" and state["revision"] == expected_revision and not state["refresh_pending"]
                and not state["errors"]):
            return state
        time.sleep(2)
    raise AssertionError("Application %s: not Synced at %s within %ss, last state %s"
                         % (name, expected_revision, timeout, state))


def served_main(env: dict[str, str]) -> str:
    out = subprocess.run(["git", "ls-remote", env["TESTENV_GIT_URL"], "refs/heads/main"], capture_output=True,
                         text=True, check=True).stdout
    return out.split()[0]


def push_checkout(env: dict[str, str], message: str) -> str:
    """Commit everything staged/changed in the working clone and push it as main; returns the commit."""
    checkout = env["TESTENV_GIT_CHECKOUT"]
    git("add", "-A", cwd=checkout)
    git("-c", "user.name=echo e2e", "-c", "user.email=e2e@echo.invalid", "commit", "-q", "-m", message, cwd=checkout)
    git("push", "-q", "origin", "HEAD:main", cwd=checkout)
    return git("rev-parse", "HEAD", cwd=checkout)


def sync_repo() -> str:
    proc = subprocess.run([str(REPO / "testenv/bin/sync-repo")], capture_output=True, text=True, check=False,
                          env=dict(os.environ, ECHO_TESTENV_STATE=str(STATE)))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]
