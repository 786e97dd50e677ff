"""The repository's inventory schema: library/inventory_check.py and filter_plugins/echo_layers.py."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, REPO / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


inventory_check = _load("echo_inventory_check", "library/inventory_check.py")
echo_layers = _load("echo_layers_filter", "filter_plugins/echo_layers.py")
validate, valid_hostname = inventory_check.validate, inventory_check.valid_hostname
layers_for_tags = echo_layers.layers_for_tags

GOOD = {
    "echo_env": "dev", "echo_known_envs": ["dev", "prod"], "echo_region": "ams3", "echo_vpc_cidr": "10.10.11.0/24",
    "echo_kubernetes_version": "1.34.4-do.0",
    "echo_node_pools": [{"name": "default-pool", "size": "s-4vcpu-8gb", "min_nodes": 1, "max_nodes": 3}],
    "echo_postgres": {"name": "dbr-echo-dev-postgres", "engine": "pg", "version": "16", "size": "db-s-1vcpu-1gb", "num_nodes": 1},
    "echo_postgres_pool": {"mode": "transaction", "size": 10},
    "echo_valkey": {"name": "dbr-echo-dev-redis", "engine": "valkey", "version": "8", "size": "db-s-1vcpu-1gb",
                    "num_nodes": 1, "eviction_policy": "volatile_lru"},
    "echo_uploads_bucket": "dbr-echo-dev-uploads", "echo_namespace": "echo-dev", "echo_monitoring_namespace": "monitoring",
    "echo_domain": "echo-next.dembrane.com", "echo_api_host": "api.echo-next.dembrane.com",
    "echo_directus_host": "directus.echo-next.dembrane.com", "echo_grafana_host": "", "echo_prometheus_host": "",
    "echo_image_tags": {"server": "abc123"}, "echo_deploy_method": "argocd",
}


def test_good_settings_pass():
    assert validate(GOOD, ["dev"], {"prod": "10.10.10.0/24"}, ["do"], {"echo_do_token": True, "echo_spaces_access_key_id": True,
                                                                       "echo_spaces_secret_access_key": True}) == []


@pytest.mark.parametrize("change,variable", [
    ({"echo_vpc_cidr": "10.10.0.0/16"}, "echo_vpc_cidr"),
    ({"echo_node_pools": [{"name": "p", "size": "s-4vcpu-8gb", "min_nodes": True, "max_nodes": 3}]}, "echo_node_pools[0]"),
    ({"echo_image_tags": {"agent": "bad tag!"}}, "echo_image_tags.agent"),
    ({"echo_deploy_method": "kubectl"}, "echo_deploy_method"),
    ({"echo_namespace": "Echo_Dev"}, "echo_namespace"),
])
def test_each_problem_names_its_variable(change, variable):
    settings = dict(GOOD, **change)
    problems = validate(settings, ["dev"], {"prod": "10.10.10.0/24"})
    assert [p["variable"] for p in problems] == [variable]
    assert problems[0]["msg"].startswith(variable + ":") and "Fix:" in problems[0]["msg"]


def test_env_must_match_group():
    assert validate(GOOD, ["prod"])[0]["variable"] == "echo_env"


def test_deploy_credentials_only_for_argocd():
    helm = dict(GOOD, echo_deploy_method="helm")
    assert validate(helm, ["dev"], layers=["deploy"]) == []
    assert validate(GOOD, ["dev"], layers=["deploy"])[0]["variable"] == "echo_argocd_repo_password"


def test_hostnames():
    assert valid_hostname("api.dembrane.com")
    assert not valid_hostname("dembrane..com")
    assert not valid_hostname("localhost")
    assert not valid_hostname("-bad.example.com")


@pytest.mark.parametrize("run,skip,expected", [
    (["all"], [], ["bootstrap", "deploy", "dns", "do", "gcp", "secrets"]),
    (["dns"], [], ["dns"]),
    (["do"], [], ["do"]),
    (["provision"], [], ["do", "gcp"]),
    (["preflight"], [], []),
    (["all"], ["gcp", "deploy"], ["bootstrap", "dns", "do", "secrets"]),
    (["all"], ["provision"], ["bootstrap", "deploy", "dns", "secrets"]),
])
def test_layers_for_tags(run, skip, expected):
    assert layers_for_tags(run, skip) == expected


@pytest.mark.parametrize("variable,value,kind", [
    ("echo_image_tags", "server=v1", "a string"),        # -e echo_image_tags=server=v1 (key=value extra vars are strings)
    ("echo_node_pools", "default-pool", "a string"),
    ("echo_postgres", ["pg"], "a list"),
    ("echo_postgres_pool", 10, "an integer"),
    ("echo_known_envs", "dev,prod", "a string"),
])
def test_a_value_of_the_wrong_type_is_named_once(variable, value, kind):
    problems = validate(dict(GOOD, **{variable: value}), ["dev"], {"prod": "10.10.10.0/24"})
    assert [p["variable"] for p in problems] == [variable]
    msg = problems[0]["msg"]
    assert msg.startswith("%s: is %s (%r), not a " % (variable, kind, value)), msg
    assert "Fix: give" in msg
    if isinstance(value, str):
        assert "-e '{\"%s\": " % variable in msg and "-e @file.yml" in msg


def test_an_unset_pool_list_still_asks_for_a_pool():
    problems = validate(dict(GOOD, echo_node_pools=None), ["dev"], {"prod": "10.10.10.0/24"})
    assert [p["msg"] for p in problems] == [
        "echo_node_pools: needs at least one node pool. Fix: list pools with name, size, min_nodes, max_nodes"]


def test_the_filter_is_registered_under_its_name():
    assert echo_layers.FilterModule().filters() == {"layers_for_tags": layers_for_tags}
