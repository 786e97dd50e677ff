"""testenv/unserved/watch.py: exactly the named objects are neutralised (webhook configurations keep existing, so
helm --wait finds them, but no webhook is ever called) or deleted (APIServices), each logged with its reason;
absent objects are left alone, and extra targets are parsed strictly."""

import importlib.util
import pathlib

import pytest

SPEC = importlib.util.spec_from_file_location(
    "unserved_watch", pathlib.Path(__file__).resolve().parents[2] / "testenv" / "unserved" / "watch.py")
watch = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(watch)


class FakeKube:
    def __init__(self, present):
        self.objects = {path: {"metadata": {"name": path.rsplit("/", 1)[1],
                                            "labels": {"app.kubernetes.io/instance": "cert-manager"}},
                               "webhooks": [{"name": "w.cert-manager.io", "failurePolicy": "Fail"}]}
                        for path in present}
        self.calls = []

    def call(self, method, path, body=None):
        self.calls.append((method, path))
        if method == "GET":
            return (200, self.objects[path]) if path in self.objects else (404, None)
        if method == "PUT":
            self.objects[path] = body
            return 200, body
        self.objects.pop(path, None)
        return 200, {}


def test_webhook_configurations_stay_but_are_never_called_and_absent_targets_are_left_alone(capsys):
    vwc = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/cert-manager-webhook"
    other = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/someone-elses"
    kube = FakeKube([vwc, other])
    acted = watch.sweep(kube, watch.TARGETS)
    assert acted == [("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", "cert-manager-webhook")]
    assert ("PUT", vwc) in kube.calls and ("PUT", other) not in kube.calls and ("DELETE", vwc) not in kube.calls
    hook = kube.objects[vwc]["webhooks"][0]
    assert hook["failurePolicy"] == "Ignore" and hook["objectSelector"] == watch.NEVER
    assert kube.objects[other]["webhooks"][0]["failurePolicy"] == "Fail"
    out = capsys.readouterr().out
    assert "neutralised validatingwebhookconfigurations cert-manager-webhook (release cert-manager" in out
    assert "nested module" in out
    assert watch.sweep(kube, watch.TARGETS) == []  # already neutralised: nothing more to do


def test_an_unserved_apiservice_is_deleted(capsys):
    api = "/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io"
    kube = FakeKube([api])
    assert watch.sweep(kube, watch.TARGETS) == [("/apis/apiregistration.k8s.io/v1/apiservices", "v1beta1.metrics.k8s.io")]
    assert api not in kube.objects and "deleted apiservices v1beta1.metrics.k8s.io" in capsys.readouterr().out


def test_targets_are_the_four_named_objects():
    assert sorted((p.rsplit("/", 1)[1], n) for p, n, _ in watch.TARGETS) == [
        ("apiservices", "v1beta1.metrics.k8s.io"),
        ("mutatingwebhookconfigurations", "cert-manager-webhook"),
        ("validatingwebhookconfigurations", "cert-manager-webhook"),
        ("validatingwebhookconfigurations", "ingress-nginx-admission"),
    ]


def test_extra_targets_parse_strictly():
    assert watch.parse_extra("/apis/apiregistration.k8s.io/v1/apiservices=v1beta1.custom.metrics.k8s.io") == [
        ("/apis/apiregistration.k8s.io/v1/apiservices", "v1beta1.custom.metrics.k8s.io", "named in ECHO_TESTENV_UNSERVED")]
    assert watch.parse_extra("") == []
    with pytest.raises(ValueError, match="ECHO_TESTENV_UNSERVED"):
        watch.parse_extra("apiservices=x")
