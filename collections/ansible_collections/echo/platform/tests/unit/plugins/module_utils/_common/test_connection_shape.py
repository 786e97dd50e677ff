"""Every API the collection talks to has one connection shape: ARG_SPEC, its doc fragment, client_from_module."""

from __future__ import annotations

import importlib

import pytest
import yaml

SHAPES = [
    # (module_utils package, doc fragment module, fragment attribute)
    ("_do", "do_auth", "DOCUMENTATION"),
    ("_gcp", "gcp_auth", "DOCUMENTATION"),
    ("_k8s", "k8s_auth", "DOCUMENTATION"),
    ("_loki", "loki_connection", "DOCUMENTATION"),
]
BASE = "ansible_collections.echo.platform.plugins"


@pytest.mark.parametrize("package,fragment,attribute", SHAPES, ids=[s[0] for s in SHAPES])
def test_the_options_and_their_documentation_are_the_same(package, fragment, attribute):
    connection = importlib.import_module("%s.module_utils.%s.argspec" % (BASE, package))
    documented = yaml.safe_load(getattr(importlib.import_module("%s.doc_fragments.%s" % (BASE, fragment)).ModuleDocFragment,
                                        attribute))["options"]
    assert set(connection.ARG_SPEC) == set(documented)
    for name, spec in connection.ARG_SPEC.items():
        assert spec.get("type", "str") == documented[name].get("type", "str"), name
        if "default" in spec:
            assert spec["default"] == documented[name].get("default"), name
        assert set(spec.get("aliases", [])) == set(documented[name].get("aliases", [])), name
    assert callable(connection.client_from_module)


def test_the_spaces_options_are_documented_too():
    connection = importlib.import_module("%s.module_utils._do.argspec" % BASE)
    documented = yaml.safe_load(importlib.import_module("%s.doc_fragments.do_auth" % BASE).ModuleDocFragment.SPACES)["options"]
    assert set(connection.SPACES_ARG_SPEC) == set(documented)


class FakeModule:
    def __init__(self, params):
        self.params = params
        self.no_log_values = set()

    def add_secret(self, value):
        self.no_log_values.add(value)


def test_loki_reaches_the_service_proxy_with_the_kubernetes_settings(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:26443\n    insecure-skip-tls-verify: true\n"
        "users:\n- name: u\n  user:\n    token: canary-proxy-token\n"
        "contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n")
    loki = importlib.import_module("%s.module_utils._loki.argspec" % BASE)
    params = {name: spec.get("default") for name, spec in loki.ARG_SPEC.items()}
    params.update(url="", kubeconfig=str(kubeconfig))
    module = FakeModule(params)
    client = loki.client_from_module(module)
    k8s = importlib.import_module("%s.module_utils._k8s.client" % BASE)
    assert client.base == "https://127.0.0.1:26443" + k8s.service_proxy_path("monitoring", "loki", "3100")
    assert "canary-proxy-token" in module.no_log_values  # the kubeconfig's token never reaches the output
