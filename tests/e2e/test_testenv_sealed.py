"""The real sealed-secrets controller in the rehearsal environment really unseals.

Needs `testenv/bin/testenv up`. The certificate is fetched through the Kubernetes API service
proxy (the path the collection's modules use), values are sealed in the kubeseal format and the
controller must create Secrets holding exactly those bytes.
"""

import base64
import os
import time
import uuid

import pytest

from _testenv import REPO, load_source, require_env  # pylint: disable=import-error


seal_helper = load_source("testenv_seal", REPO / "testenv" / "lib" / "seal.py")


@pytest.fixture(scope="module")
def testenv():
    return require_env("KUBECONFIG", "SEALED_SECRETS_CERT_PROXY_PATH", files=())


@pytest.fixture(scope="module")
def kube(testenv):
    from kubernetes import client, config

    api_client = config.new_client_from_config(config_file=testenv["KUBECONFIG"])
    yield api_client, client.CoreV1Api(api_client), client.CustomObjectsApi(api_client)
    api_client.close()


@pytest.fixture(scope="module")
def namespace(kube):
    from kubernetes import client

    _, core, _ = kube
    name = "e2e-sealed-%s" % uuid.uuid4().hex[:8]
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


@pytest.fixture(scope="module")
def cert_pem(testenv, kube):
    api_client, _, _ = kube
    resp = api_client.call_api(testenv["SEALED_SECRETS_CERT_PROXY_PATH"], "GET", auth_settings=["BearerToken"],
                               _preload_content=False, _return_http_data_only=True)
    return resp.data.decode("ascii")


def apply_sealed(kube, manifest):
    _, _, custom = kube
    meta = manifest["metadata"]
    custom.create_namespaced_custom_object("bitnami.com", "v1alpha1", meta["namespace"], "sealedsecrets", manifest)


def wait_secret(kube, namespace, name, timeout=60):
    from kubernetes.client.rest import ApiException

    _, core, _ = kube
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return core.read_namespaced_secret(name, namespace)
        except ApiException as exc:
            if exc.status != 404:
                raise
        time.sleep(0.5)
    pytest.fail("the controller did not create Secret %s/%s within %ss" % (namespace, name, timeout))


def sealed_status(kube, namespace, name):
    _, _, custom = kube
    obj = custom.get_namespaced_custom_object("bitnami.com", "v1alpha1", namespace, "sealedsecrets", name)
    return (obj.get("status") or {}).get("conditions") or []


def test_certificate_is_served_through_the_api_service_proxy(cert_pem):
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

    assert cert_pem.startswith("-----BEGIN CERTIFICATE-----")
    key = x509.load_pem_x509_certificate(cert_pem.encode()).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size >= 2048


@pytest.mark.parametrize("scope", ["strict", "namespace-wide", "cluster-wide"])
def test_controller_unseals_exactly_the_sealed_bytes(kube, namespace, cert_pem, scope):
    name = "sealed-%s" % scope
    values = {
        "canary": ("canary-%s" % uuid.uuid4()).encode(),
        "unicode": "p\u00e4ss w\u00f6rd \u2713 $HOME `x` 'q' \"dq\"\n".encode("utf-8"),
        "binary": os.urandom(48),
    }
    label = seal_helper.label_for(scope, namespace, name)
    encrypted = {k: seal_helper.seal(cert_pem, label, v) for k, v in values.items()}
    apply_sealed(kube, seal_helper.manifest(namespace, name, encrypted, scope))

    secret = wait_secret(kube, namespace, name)
    got = {k: base64.b64decode(v) for k, v in (secret.data or {}).items()}
    assert got == values
    assert secret.metadata.owner_references[0].kind == "SealedSecret"


def test_collection_sealing_is_accepted_by_the_controller(kube, namespace, cert_pem):
    from ansible_collections.echo.platform.plugins.module_utils._sealed import crypto  # pylint: disable=import-outside-toplevel
    name = "sealed-by-collection"
    value = ("collection-canary-%s" % uuid.uuid4()).encode()
    public_key, _info = crypto.load_certificate(cert_pem)
    label = crypto.scope_label("strict", namespace, name)
    encrypted = {"token": crypto.encrypt_value(public_key, label, value)}
    apply_sealed(kube, seal_helper.manifest(namespace, name, encrypted))

    secret = wait_secret(kube, namespace, name)
    assert base64.b64decode(secret.data["token"]) == value


def test_value_sealed_for_another_name_is_refused(kube, namespace, cert_pem):
    """Strict scope binds the ciphertext to namespace/name: the controller must not unseal it."""
    from kubernetes.client.rest import ApiException

    _, core, _ = kube
    encrypted = {"k": seal_helper.seal(cert_pem, seal_helper.label_for("strict", namespace, "other"), b"v")}
    apply_sealed(kube, seal_helper.manifest(namespace, "wrong-scope", encrypted))

    deadline = time.monotonic() + 30
    conditions = []
    while time.monotonic() < deadline:
        conditions = sealed_status(kube, namespace, "wrong-scope")
        if conditions:
            break
        time.sleep(0.5)
    assert conditions, "the controller never reported a status for the mis-scoped SealedSecret"
    assert conditions[0].get("status") == "False"
    with pytest.raises(ApiException) as err:
        core.read_namespaced_secret("wrong-scope", namespace)
    assert err.value.status == 404
