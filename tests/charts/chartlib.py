"""Shared helpers for the chart tests: helm/promtool/amtool lookup, cached renders, document access.

promtool must understand `kubernetes_sd_configs`: Debian's build leaves Kubernetes service discovery
out, so scripts/build-promtool builds the upstream promtool from the Go module proxy into
$ECHO_CACHE_DIR/bin (default ~/.cache/echo-platform/bin), which is searched first.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHARTS = REPO / "charts"
ENVS = ("dev", "testing", "prod", "local")
NAMESPACES = {"dev": "echo-dev", "testing": "echo-testing", "prod": "echo-prod", "local": "echo-local"}
# Image tags are supplied per deploy (echo_image_tags); tests use a recognisable fake SHA.
TAG = "0123456789abcdef0123456789abcdef01234567"


def helm_bin() -> str:
    for cand in (os.environ.get("HELM"), str(REPO / ".venv" / "bin" / "helm"), shutil.which("helm")):
        if cand and Path(cand).is_file():
            return cand
    pytest.fail("helm not found: run `make setup` (installs helm into .venv/bin)")


def run_helm(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([helm_bin(), *args], capture_output=True, text=True, cwd=REPO, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{proc.stderr}")
    return proc


def _ansible_var(env: str, var: str):
    """The templated value of an inventory variable of one environment (what the playbooks see)."""
    ansible = str(REPO / ".venv" / "bin" / "ansible")
    proc = subprocess.run(
        [ansible, "localhost", "-i", f"inventories/{env}", "-m", "ansible.builtin.debug", "-a", f"var={var}"],
        capture_output=True, text=True, cwd=REPO, check=False, timeout=300,
        env=dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
                 ANSIBLE_STDOUT_CALLBACK="json"))
    if proc.returncode != 0:
        raise AssertionError(f"reading {var} of inventories/{env} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    out = json.loads(proc.stdout)
    return out["plays"][0]["tasks"][0]["hosts"]["localhost"][var]


@functools.lru_cache(maxsize=None)
def _inventory_values_all() -> dict:
    with ThreadPoolExecutor(max_workers=len(ENVS)) as pool:
        return dict(zip(ENVS, pool.map(lambda e: _ansible_var(e, "echo_chart_values"), ENVS)))


@functools.lru_cache(maxsize=None)
def inventory_values_file(chart: str, env: str) -> str:
    """A values file holding what the inventory gives ``chart`` in ``env`` (the Application's helm valuesObject)."""
    values = _inventory_values_all()[env][chart]
    handle = tempfile.NamedTemporaryFile("w", prefix=f"inventory-{chart}-{env}-", suffix=".yaml", delete=False)
    with handle:
        yaml.safe_dump(values, handle)
    return handle.name


def value_args(chart: str, env: str | None, extra: tuple[str, ...] = ()) -> list[str]:
    args = ["-f", f"charts/{chart}/values.yaml"]
    if env:
        args += ["-f", f"charts/{chart}/values-{env}.yaml", "-f", inventory_values_file(chart, env)]
    for f in extra:
        args += ["-f", f]
    return args


def release_namespace(chart: str, env: str) -> str:
    return "monitoring" if chart == "monitoring" else NAMESPACES[env]


@functools.lru_cache(maxsize=None)
def render_text(chart: str, env: str, extra: tuple[str, ...] = (), sets: tuple[str, ...] = ()) -> str:
    args = ["template", chart, f"charts/{chart}", "-n", release_namespace(chart, env), *value_args(chart, env, extra)]
    if chart == "echo":
        args += ["--set-string", f"global.imageTag={TAG}"]
    for s in sets:
        args += ["--set-string", s]
    return run_helm(*args).stdout


def render(chart: str, env: str, extra: tuple[str, ...] = (), sets: tuple[str, ...] = ()) -> list[dict]:
    return [d for d in yaml.safe_load_all(render_text(chart, env, extra, sets)) if d]


def find(docs: list[dict], kind: str, name: str | None = None) -> list[dict]:
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def one(docs: list[dict], kind: str, name: str) -> dict:
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def ci_files(chart: str) -> list[str]:
    return sorted(str(p.relative_to(REPO)) for p in (CHARTS / chart / "ci").glob("*-values.yaml"))


CACHE_BIN = Path(os.environ.get("ECHO_CACHE_DIR", Path.home() / ".cache" / "echo-platform")) / "bin"


def find_tool(name: str, hint: str) -> str:
    for cand in (os.environ.get(name.upper()), str(CACHE_BIN / name), shutil.which(name)):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    pytest.fail(f"{name} not found ({hint})")
