"""Server-side validation of charts/echo and charts/monitoring against the rehearsal API server.

Every environment's render, with the value files and inventory values its Application carries (as
playbooks/render.yml gives them), and every ci/*-values.yaml toggle on top of dev's, goes through
`kubectl apply --dry-run=server --validate=strict`: the real kube-apiserver of testenv checks the
schema of every object, admission and defaulting, without persisting anything. Namespaced objects go
into throw-away namespaces created (and deleted) by this module; cluster-scoped ones (PriorityClass,
ClusterRole, ClusterRoleBinding) are dry-run only. The charts use no CRDs.

Needs `testenv/bin/testenv up` (kubeconfig at $ECHO_TESTENV_STATE/kubeconfig). Fails, not skips,
when the API server is not reachable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml
from _testenv import REPO, STATE  # pylint: disable=import-error

KUBECONFIG = STATE / "kubeconfig"
ENVS = ("dev", "testing", "prod", "local")
TAG = "0123456789abcdef0123456789abcdef01234567"
RUN = uuid.uuid4().hex[:6]


def _bin(name: str) -> str:
    path = REPO / ".venv" / "bin" / name
    if path.is_file():
        return str(path)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found: run `make setup`")
    return found


def kubectl(*args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([_bin("kubectl"), "--kubeconfig", str(KUBECONFIG), "--request-timeout=60s", *args],
                          input=stdin, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed:\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def cluster():
    if not KUBECONFIG.is_file():
        pytest.fail(f"rehearsal environment not up: {KUBECONFIG} is missing (run `testenv/bin/testenv up`)")
    probe = kubectl("get", "--raw", "/readyz", check=False)
    if probe.returncode != 0 or "ok" not in probe.stdout:
        pytest.fail(f"rehearsal API server not ready (kubeconfig {KUBECONFIG}): {probe.stderr.strip() or probe.stdout.strip()}")
    created = []

    def namespace(label: str) -> str:
        name = f"e2e-charts-{label}-{RUN}"
        kubectl("create", "namespace", name)
        created.append(name)
        return name

    yield namespace
    for name in created:
        kubectl("delete", "namespace", name, "--wait=false", check=False)


_SOURCES: dict[str, Path] = {}


def application_source(env: str, tmp_root: Path) -> Path:
    """The value files and inventory values (helm valuesObject) the environment's Applications carry, as
    playbooks/render.yml writes them (one run per environment)."""
    if env not in _SOURCES:
        out = tmp_root / f"source-{env}"
        proc = subprocess.run([_bin("ansible-playbook"), "playbooks/render.yml", "-i", f"inventories/{env}",
                               "-e", f"echo_render_dir={out}"], capture_output=True, text=True, cwd=REPO, check=False,
                              env=dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg")))
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
        _SOURCES[env] = out
    return _SOURCES[env]


def render(chart: str, env: str, namespace: str, extra: tuple[str, ...], tmp_root: Path) -> str:
    """helm template with what the Application lists (value files, then the inventory values), plus the
    ci/ toggle files of the case last."""
    source = yaml.safe_load((application_source(env, tmp_root) / f"{chart}-source.yaml").read_text())
    inventory_values = tmp_root / f"values-object-{chart}-{env}.yaml"
    inventory_values.write_text(yaml.safe_dump(source["valuesObject"]))
    args = [_bin("helm"), "template", chart, f"charts/{chart}", "-n", namespace]
    for f in source["valueFiles"]:
        args += ["-f", os.path.normpath(f"charts/{chart}/{f}")]
    args += ["-f", str(inventory_values)]
    for f in extra:
        args += ["-f", f]
    if chart == "echo":
        args += ["--set-string", f"global.imageTag={TAG}"]
    proc = subprocess.run(args, capture_output=True, text=True, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def dry_run_apply(manifest: str, namespace: str) -> str:
    proc = kubectl("apply", "--dry-run=server", "--validate=strict", "-n", namespace, "-f", "-", stdin=manifest, check=False)
    assert proc.returncode == 0, f"server rejected the render:\n{proc.stderr}"
    return proc.stdout


def _cases():
    cases = [(chart, env, ()) for chart in ("echo", "monitoring") for env in ENVS]
    for chart in ("echo", "monitoring"):
        for f in sorted((REPO / "charts" / chart / "ci").glob("*-values.yaml")):
            cases.append((chart, "dev", (str(f.relative_to(REPO)),)))
    return cases


@pytest.mark.parametrize(("chart", "env", "extra"), _cases(),
                         ids=lambda v: (Path(v[0]).stem if v else "base") if isinstance(v, tuple) else str(v))
def test_render_installs_server_side(cluster, chart, env, extra, tmp_path_factory):
    ns = cluster(f"{chart[:4]}-{env}" if not extra else f"{chart[:4]}-{Path(extra[0]).stem.removesuffix('-values')}")
    manifest = render(chart, env, ns, extra, tmp_path_factory.getbasetemp())
    out = dry_run_apply(manifest, ns)
    expected = sum(1 for line in manifest.splitlines() if line.startswith("kind: "))
    applied = [line for line in out.splitlines() if "(server dry run)" in line]
    assert len(applied) == expected, out
    # dry run persisted nothing
    assert kubectl("get", "deployments", "-n", ns, "-o", "name").stdout.strip() == ""
