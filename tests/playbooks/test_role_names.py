"""The collection's roles speak of their own variables; the repository tells them how its inventory names them."""

from __future__ import annotations

import re

import pytest
import yaml

from conftest import REPO, run_playbook

ROLES = REPO / "collections/ansible_collections/echo/platform/roles"


def _run_role(tmp_path, role_vars):
    # a playbook outside the repository: no group_vars of this repository apply
    playbook = tmp_path / "role.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Run the role's preflight", "hosts": "localhost", "gather_facts": False,
        "roles": [{"role": "echo.platform.argocd_apps", "vars": dict({
            "argocd_apps_env": "prod", "argocd_apps_repo_url": "https://git.example.test/echo.git",
            "argocd_apps_target_revision": "main", "argocd_apps_values_files": {},
            "argocd_apps_kubeconfig": str(tmp_path / "missing-kubeconfig")}, **role_vars)}],
    }]))
    (tmp_path / "hosts.ini").write_text("localhost ansible_connection=local\n")
    proc = run_playbook([str(playbook), "-i", str(tmp_path / "hosts.ini")], check=False)
    assert proc.returncode != 0
    return proc.stdout + proc.stderr


def test_a_role_alone_names_its_own_variable(tmp_path):
    out = _run_role(tmp_path, {})
    assert "(argocd_apps_kubeconfig) does not exist" in out
    assert "point argocd_apps_kubeconfig at the cluster's kubeconfig" in out
    assert "echo_" not in re.sub(r"echo\.platform|echo-|echo\.git", "", out)


def test_a_caller_names_the_variable_its_own_way(tmp_path):
    out = _run_role(tmp_path, {"argocd_apps_variable_names": {"kubeconfig": "my_cluster_kubeconfig"}})
    assert "(my_cluster_kubeconfig) does not exist" in out and "point my_cluster_kubeconfig at" in out


@pytest.mark.parametrize("role", sorted(p.name for p in ROLES.iterdir() if p.is_dir()))
def test_no_role_names_an_inventory_variable(role):
    # the inventory's echo_* and vault_echo_* names belong to this repository (group_vars/all/role_names.yml)
    found = []
    for path in (ROLES / role).rglob("*.yml"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\b(vault_)?echo_[a-z]", line):
                found.append("%s:%d: %s" % (path.relative_to(ROLES), number, line.strip()))
    assert not found, "\n".join(found)


def test_the_repository_names_every_variable_a_role_can_name():
    names = yaml.safe_load((REPO / "group_vars/all/role_names.yml").read_text())
    for key, given in names.items():
        if key.startswith("__"):
            continue
        role = key[:-len("_variable_names")]
        named = yaml.safe_load((ROLES / role / "vars/main.yml").read_text())["__%s_named" % role]
        assert set(given) <= set(named), "%s names variables the role never shows: %s" % (key, set(given) - set(named))
