"""Secrets the rehearsal's Argo CD handles never appear in a log or a command line: the repository
credential (a canary planted in the repository Secret) and the redis password (Secret argocd-redis,
which the argocd component creates in place of the chart's redis-secret-init hook)."""

from __future__ import annotations

import base64
import pathlib
import uuid

import pytest

from _argocd_support import (NS, STATE, application, apply, install_argocd, kget, kubectl, require_argocd_env,
                             sync_repo, wait_app)

CANARY = "canary-repo-" + uuid.uuid4().hex
APP = "e2e-canary-" + uuid.uuid4().hex[:6]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    env = require_argocd_env()
    install_argocd(env, tmp_path_factory, repo_password=CANARY)
    yield env
    kubectl("-n", NS, "delete", "application", APP, "--wait=false", check=False)
    install_argocd(env, tmp_path_factory)  # the usual rehearsal credential back


def _own_cmdlines() -> list[str]:
    out = []
    for pid_file in (STATE / "pids").glob("*.pid"):
        pid = pid_file.read_text().strip()
        for proc in pathlib.Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if (proc / "stat").read_text().split(") ")[1].split()[2] == pid:  # same process group
                    out.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            except (OSError, IndexError):
                continue
    return out


def test_repository_credential_and_redis_password_are_never_logged(env):
    commit = sync_repo()
    apply(application(APP, env["TESTENV_GIT_URL"], "secrets", "e2e-argocd-canary"))
    # the repo server used the credential for this sync (the git server accepts it without checking)
    state = wait_app(APP, 240, expected_revision=commit, want=("ready", "failed"))
    assert state["revision"] == commit, state
    redis = kget("-n", NS, "secret", "argocd-redis")
    assert redis is not None, "Secret argocd/argocd-redis missing: the argocd component creates it"
    redis_auth = base64.b64decode(redis["data"]["auth"]).decode()
    assert len(redis_auth) >= 24
    logs = list((STATE / "logs").glob("*.log"))
    assert any(p.name.startswith("argocd-") for p in logs), logs
    for path in logs:
        text = path.read_text(errors="replace")
        assert CANARY not in text, path
        assert redis_auth not in text, path
    for cmdline in _own_cmdlines():
        assert CANARY not in cmdline and redis_auth not in cmdline
