"""Remove the API objects of the upstream platform charts whose server would be a pod that never executes.

    python testenv/unserved/watch.py --kube-api URL --ca CA --cert CERT --key KEY [--interval 1]

kwok runs no container. Three charts register servers the API server itself calls, and those calls would
fail or hang on the rehearsal (see README.md): cert-manager's admission webhooks (failurePolicy Fail, so
no ClusterIssuer or Certificate could be created), ingress-nginx's admission webhook (no Ingress could be
created) and metrics-server's aggregated API (an unavailable APIService breaks discovery for helm,
kubectl and kubernetes.core). This watcher neutralises exactly the objects named in TARGETS whenever they
appear, and logs each: a webhook configuration stays (helm --wait waits for every object of its release, so
a deleted one would hang the install) but each of its webhooks gets an objectSelector nothing matches and
failurePolicy Ignore, so the API server never calls it; an APIService is deleted. Helm restores the chart's
version on an upgrade; it is neutralised again. Chart values stay what production uses. Standard library only.
"""

import argparse
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request

WHY_CERT_MANAGER = ("cert-manager's webhook server cannot be built here (its command is a nested module the "
                    "Go module proxy does not serve) and kwok executes no pod; failurePolicy Fail would block "
                    "every cert-manager resource")
WHY_INGRESS = ("served by the ingress-nginx controller pod, which kwok does not execute; it would block every "
               "Ingress")
WHY_METRICS = ("served by the metrics-server pod, which kwok does not execute; an unavailable aggregated API "
               "breaks discovery for helm, kubectl and kubernetes.core")

# (API path of the collection, object name, why); names are those of the releases the collection installs
TARGETS = [
    ("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", "cert-manager-webhook", WHY_CERT_MANAGER),
    ("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", "cert-manager-webhook", WHY_CERT_MANAGER),
    ("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", "ingress-nginx-admission", WHY_INGRESS),
    ("/apis/apiregistration.k8s.io/v1/apiservices", "v1beta1.metrics.k8s.io", WHY_METRICS),
]


def log(msg):
    sys.stdout.write("%s unserved: %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), msg))
    sys.stdout.flush()


def parse_extra(text):
    """ECHO_TESTENV_UNSERVED: 'APIPATH=NAME,...' more objects to remove (for example other release names)."""
    out = []
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        path, sep, name = item.rpartition("=")
        if not sep or not path.startswith("/") or not name:
            raise ValueError("ECHO_TESTENV_UNSERVED entry %r: use /apis/GROUP/VERSION/RESOURCE=NAME" % item)
        out.append((path, name, "named in ECHO_TESTENV_UNSERVED"))
    return out


class Kube:
    def __init__(self, base, ca, cert, key):
        self.base = base.rstrip("/")
        self.ctx = ssl.create_default_context(cafile=ca)
        self.ctx.load_cert_chain(cert, key)

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Accept": "application/json", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=10) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, None


NEVER = {"matchLabels": {"rehearsal.echo-platform.io/unserved": "never-called"}}


def neutralised(webhook_config):
    """The webhook configuration with every webhook made uncallable, or None when it already is."""
    hooks = webhook_config.get("webhooks") or []
    if all(h.get("objectSelector") == NEVER and h.get("failurePolicy") == "Ignore" for h in hooks):
        return None
    out = dict(webhook_config)
    out["webhooks"] = [dict(h, objectSelector=NEVER, failurePolicy="Ignore") for h in hooks]
    return out


def sweep(kube, targets):
    """Neutralise every target that exists; returns the (path, name) pairs acted on."""
    acted = []
    for path, name, why in targets:
        status, body = kube.call("GET", "%s/%s" % (path, name))
        if status != 200:
            continue
        labels = ((body or {}).get("metadata") or {}).get("labels") or {}
        owner = labels.get("app.kubernetes.io/instance") or labels.get("release") or "?"
        kind = path.rsplit("/", 1)[1]
        if kind.endswith("webhookconfigurations"):
            new = neutralised(body)
            if new is None:
                continue
            status, _ = kube.call("PUT", "%s/%s" % (path, name), new)
            if status == 200:
                log("neutralised %s %s (release %s; its webhooks are never called): %s" % (kind, name, owner, why))
                acted.append((path, name))
            continue
        status, _ = kube.call("DELETE", "%s/%s" % (path, name))
        if status in (200, 202, 404):
            log("deleted %s %s (release %s): %s" % (kind, name, owner, why))
            acted.append((path, name))
    return acted


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kube-api", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args(argv)
    targets = TARGETS + parse_extra(os.environ.get("ECHO_TESTENV_UNSERVED"))
    kube = Kube(args.kube_api, args.ca, args.cert, args.key)
    log("watching %d objects: %s" % (len(targets), ", ".join("%s/%s" % (p.rsplit("/", 1)[1], n) for p, n, _ in targets)))
    last_error = None
    while True:
        try:
            sweep(kube, targets)
            last_error = None
        except OSError as exc:
            if str(exc) != last_error:
                log("API server not reachable (%s); retrying" % exc)
            last_error = str(exc)
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
