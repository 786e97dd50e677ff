"""Helpers for tests that run ansible-playbook against the repository's inventories (no cluster needed)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import uuid

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
ENVS = ("dev", "testing", "prod", "local")


def playbook_env(extra=None):
    env = dict(os.environ)
    env["ANSIBLE_CONFIG"] = str(REPO / "ansible.cfg")
    env["PATH"] = str(pathlib.Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["ANSIBLE_NOCOLOR"] = "1"
    for name in ("DIGITALOCEAN_TOKEN", "DO_API_TOKEN", "SPACES_ACCESS_KEY_ID", "SPACES_SECRET_ACCESS_KEY",
                 "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "GOOGLE_APPLICATION_CREDENTIALS",
                 "GCP_ACCESS_TOKEN", "ECHO_ARGOCD_REPO_PASSWORD"):
        env.pop(name, None)
    env.update(extra or {})
    return env


def run_playbook(args, extra_env=None, check=True):
    cmd = [str(pathlib.Path(sys.executable).parent / "ansible-playbook")] + list(args)
    proc = subprocess.run(cmd, cwd=REPO, env=playbook_env(extra_env), capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError("%s failed (%d)\nSTDOUT:\n%s\nSTDERR:\n%s" % (" ".join(cmd), proc.returncode, proc.stdout[-6000:], proc.stderr[-3000:]))
    return proc


@pytest.fixture
def probe_vars():
    """Write a throwaway playbook into a folder, run it against an inventory, return chosen variables."""
    created = []

    def _probe(folder, inventory, names, extra_args=()):
        target = REPO / folder
        path = target / ("_probe_%s.yml" % uuid.uuid4().hex[:8])
        out = target / (path.stem + ".json")
        created.extend([path, out])
        path.write_text(
            "- name: Probe variables\n  hosts: all\n  gather_facts: false\n  tasks:\n"
            "    - name: Dump\n      ansible.builtin.copy:\n        dest: %s\n        content: \"{{ {%s} | to_json }}\"\n        mode: \"0600\"\n"
            % (out, ", ".join("'%s': %s" % (n, n) for n in names)))
        run_playbook([str(path), "-i", "inventories/%s" % inventory] + list(extra_args))
        return json.loads(out.read_text())

    yield _probe
    for path in created:
        if path.exists():
            path.unlink()
