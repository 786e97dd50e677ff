"""What every e2e suite needs from the running rehearsal environment: where it is, the connection
facts its components wrote to env.d/, and loading helper scripts that live under testenv/."""

import importlib.util
import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
STATE = pathlib.Path(os.environ.get("ECHO_TESTENV_STATE") or REPO / ".testenv")


def read_env():
    """KEY=VALUE facts of every component ($ECHO_TESTENV_STATE/env.d/*.env), merged."""
    env = {}
    for f in sorted((STATE / "env.d").glob("*.env")):
        for line in f.read_text().splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                k, _, v = line.partition("=")
                env[k.strip()] = v.strip()
    return env


def require_env(*keys, files=("kubeconfig",)):
    """read_env(), failing the test (never skipping it) when a fact or a state file is missing."""
    env = read_env()
    missing = [k for k in keys if k not in env] + [f for f in files if not (STATE / f).is_file()]
    if missing:
        pytest.fail("the rehearsal environment is not up (%s missing in %s); run `testenv/bin/testenv up`"
                    % (", ".join(missing), STATE))
    return env


def load_source(name, path):
    """Import a Python file that is not on the path (for example testenv/loki/generate.py)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
