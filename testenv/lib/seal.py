"""Seal one value for the testenv's sealed-secrets controller (kubeseal-compatible format).

    python seal.py --kubeconfig FILE --namespace NS --name NAME --key KEY [--scope strict] < value

Fetches the controller's certificate through the Kubernetes API service proxy (the path our
modules use), seals the value read from stdin (one trailing newline dropped) and prints a
SealedSecret manifest as JSON. The value never appears in the output or in errors.

The format is written here independently of the collection's module_utils, so tests that use
it check the real controller against a second implementation.
"""

import argparse
import base64
import json
import os
import struct
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CERT_PATH = "/api/v1/namespaces/{ns}/services/{svc}:{port}/proxy/v1/cert.pem"


def fetch_cert(kubeconfig, namespace="kube-system", service="sealed-secrets-controller", port=8080):
    """PEM of the controller's newest certificate, via the API server's service proxy."""
    from kubernetes import config  # imported late: only this path needs it

    api = config.new_client_from_config(config_file=kubeconfig)
    try:
        resp = api.call_api(
            CERT_PATH.format(ns=namespace, svc=service, port=port), "GET",
            auth_settings=["BearerToken"], _preload_content=False, _return_http_data_only=True)
        return resp.data.decode("ascii")
    finally:
        api.close()


def label_for(scope, namespace, name):
    if scope == "strict":
        return ("%s/%s" % (namespace, name)).encode()
    if scope == "namespace-wide":
        return namespace.encode()
    return b""


def seal(cert_pem, label, value):
    """uint16_be(len(rsa)) || RSA-OAEP-SHA256(label)(session key) || AES-256-GCM(zero nonce)."""
    public_key = x509.load_pem_x509_certificate(cert_pem.encode()).public_key()
    session_key = os.urandom(32)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label or None)
    wrapped = public_key.encrypt(session_key, oaep)
    body = AESGCM(session_key).encrypt(b"\0" * 12, value, None)
    return base64.b64encode(struct.pack(">H", len(wrapped)) + wrapped + body).decode()


def manifest(namespace, name, encrypted, scope="strict"):
    meta = {"name": name, "namespace": namespace}
    annotations = {}
    if scope == "namespace-wide":
        annotations["sealedsecrets.bitnami.com/namespace-wide"] = "true"
    elif scope == "cluster-wide":
        annotations["sealedsecrets.bitnami.com/cluster-wide"] = "true"
    if annotations:
        meta["annotations"] = annotations
    return {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": meta,
        "spec": {
            "encryptedData": encrypted,
            "template": {"metadata": {"name": name, "namespace": namespace}, "type": "Opaque"},
        },
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kubeconfig", required=True)
    ap.add_argument("--namespace", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--scope", default="strict", choices=["strict", "namespace-wide", "cluster-wide"])
    args = ap.parse_args(argv)
    value = sys.stdin.buffer.read()
    if value.endswith(b"\n"):
        value = value[:-1]
    cert = fetch_cert(args.kubeconfig)
    encrypted = {args.key: seal(cert, label_for(args.scope, args.namespace, args.name), value)}
    json.dump(manifest(args.namespace, args.name, encrypted, args.scope), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
