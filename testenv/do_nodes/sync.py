"""Keep one kwok-managed Node per node of the emulated DOKS clusters (see README.md).

    python testenv/do_nodes/sync.py --do-url http://127.0.0.1:28001 --kube-api https://127.0.0.1:26443 \
        --ca CA --cert CERT --key KEY [--interval 2] [--once]

Every interval: read `GET /v2/kubernetes/clusters` (all pages) from the DigitalOcean API, compute the
Nodes DOKS would have registered (doks.py), then create missing Nodes, patch drifted ones and remove
Nodes whose DigitalOcean node is gone (pool shrunk or deleted, cluster deleted). A failed or partial
read of the DigitalOcean API changes nothing. Standard library only.
"""

import argparse
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import doks  # noqa: E402  pylint: disable=wrong-import-position


def log(msg):
    sys.stdout.write("%s do-nodes: %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), msg))
    sys.stdout.flush()


class Kube:
    """The few Kubernetes API calls the sync needs, with the testenv admin client certificate."""

    def __init__(self, base, ca, cert, key):
        self.base = base.rstrip("/")
        self.ctx = ssl.create_default_context(cafile=ca)
        self.ctx.load_cert_chain(cert, key)

    def call(self, method, path, body=None, content_type="application/json", ok_missing=False):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": content_type, "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=20) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            if ok_missing and exc.code == 404:
                return None
            raise RuntimeError("%s %s: HTTP %d %s" % (method, path, exc.code, exc.read()[:300])) from exc
        return json.loads(raw) if raw else None

    def nodes(self):
        return self.call("GET", "/api/v1/nodes")["items"]

    def merge(self, path, patch):
        return self.call("PATCH", path, patch, content_type="application/merge-patch+json")


def do_clusters(url, token):
    """Every cluster of the DigitalOcean API (follows links.pages.next); raises on any failure."""
    out, page = [], "%s/v2/kubernetes/clusters?per_page=200" % url.rstrip("/")
    while page:
        req = urllib.request.Request(page, headers={"Authorization": "Bearer %s" % token})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = json.loads(resp.read())
        out.extend(body.get("kubernetes_clusters") or [])
        nxt = ((body.get("links") or {}).get("pages") or {}).get("next")
        if nxt:
            # the API names its public host in links; keep talking to the address we were given
            parts = urllib.parse.urlsplit(nxt)
            page = "%s%s?%s" % (url.rstrip("/"), parts.path, parts.query)
        else:
            page = None
    return out


def ours(node):
    return doks.ANNOTATION_CLUSTER in ((node.get("metadata") or {}).get("annotations") or {})


def remove_node(kube, name):
    """What a node going away does on DOKS, shortened: cordon, its pods go, the Node goes."""
    kube.merge("/api/v1/nodes/%s" % name, {"spec": {"unschedulable": True}})
    selector = urllib.parse.quote("spec.nodeName=%s" % name)
    pods = kube.call("GET", "/api/v1/pods?fieldSelector=%s" % selector)["items"]
    for pod in pods:
        meta = pod["metadata"]
        kube.call("DELETE", "/api/v1/namespaces/%s/pods/%s" % (meta["namespace"], meta["name"]),
                  {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0}, ok_missing=True)
    kube.call("DELETE", "/api/v1/nodes/%s" % name, ok_missing=True)
    return len(pods)


def sync_load_balancers(kube):
    """DOKS's cloud controller, shortened: a Service of type LoadBalancer gets its load balancer's address
    (the emulator has no load balancer API, so no DO object is made; see README.md)."""
    done = 0
    for svc in kube.call("GET", "/api/v1/services")["items"]:
        if doks.load_balancer_pending(svc):
            meta = svc["metadata"]
            ip = doks.load_balancer_ip(meta["uid"])
            kube.merge("/api/v1/namespaces/%s/services/%s/status" % (meta["namespace"], meta["name"]),
                       {"status": {"loadBalancer": {"ingress": [{"ip": ip}]}}})
            log("load balancer %s for service %s/%s" % (ip, meta["namespace"], meta["name"]))
            done += 1
    return done


def sync_ingress_status(kube):
    """What the ingress-nginx controller's status updater does (kwok runs no controller container): every Ingress of
    an IngressClass served by ingress-nginx gets the address of the controller's LoadBalancer Service in its status
    (Argo CD reports an Ingress without one as Progressing)."""
    classes = {c["metadata"]["name"] for c in kube.call("GET", "/apis/networking.k8s.io/v1/ingressclasses")["items"]
               if (c.get("spec") or {}).get("controller") == "k8s.io/ingress-nginx"}
    addresses = []
    for svc in kube.call("GET", "/api/v1/services?labelSelector=" + urllib.parse.quote(
            "app.kubernetes.io/name=ingress-nginx,app.kubernetes.io/component=controller"))["items"]:
        if (svc.get("spec") or {}).get("type") == "LoadBalancer":
            addresses = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or addresses
    if not classes or not addresses:
        return 0
    done = 0
    for ing in kube.call("GET", "/apis/networking.k8s.io/v1/ingresses")["items"]:
        meta = ing["metadata"]
        cls = (ing.get("spec") or {}).get("ingressClassName") or (meta.get("annotations") or {}).get("kubernetes.io/ingress.class")
        current = ((ing.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        if cls in classes and current != addresses:
            kube.merge("/apis/networking.k8s.io/v1/namespaces/%s/ingresses/%s/status" % (meta["namespace"], meta["name"]),
                       {"status": {"loadBalancer": {"ingress": [{"ip": a["ip"]} for a in addresses if a.get("ip")]}}})
            log("ingress %s/%s published at %s" % (meta["namespace"], meta["name"],
                                                   ", ".join(a.get("ip", "") for a in addresses)))
            done += 1
    return done


def sync_once(kube, do_url, token, reported):
    """One pass; returns (created, updated, deleted) counts. `reported` dedups repeated problems."""
    clusters = do_clusters(do_url, token)
    want, problems = doks.desired_nodes(clusters)
    for problem in problems:
        if problem not in reported:
            reported.add(problem)
            log("skipped: %s" % problem)
    live = {n["metadata"]["name"]: n for n in kube.nodes()}
    created = updated = deleted = 0
    for name, node in sorted(want.items()):
        current = live.get(name)
        if current is None:
            kube.call("POST", "/api/v1/nodes", node)
            # the API keeps the status given on create, but say it again through the status subresource
            kube.merge("/api/v1/nodes/%s/status" % name, {"status": node["status"]})
            log("created node %s (pool %s, %s)" % (name, node["metadata"]["labels"]["doks.digitalocean.com/node-pool"],
                                                    node["metadata"]["labels"]["node.kubernetes.io/instance-type"]))
            created += 1
            continue
        if not ours(current):
            if name not in reported:
                reported.add(name)
                log("left alone: node %s exists and was not made by do-nodes" % name)
            continue
        patch, status_patch = doks.node_changes(current, node)
        if patch:
            kube.merge("/api/v1/nodes/%s" % name, patch)
        if status_patch:
            kube.merge("/api/v1/nodes/%s/status" % name, status_patch)
        if patch or status_patch:
            log("updated node %s: %s" % (name, ", ".join(sorted(set((patch or {}).get("metadata", {}))
                                                               | set((patch or {}).get("spec", {}))
                                                               | set(status_patch.get("status", {}) if status_patch else {})))))
            updated += 1
    for name, node in sorted(live.items()):
        if name not in want and ours(node):
            evicted = remove_node(kube, name)
            log("deleted node %s (gone from the DigitalOcean API; %d pods removed)" % (name, evicted))
            deleted += 1
    if clusters:
        sync_load_balancers(kube)
        sync_ingress_status(kube)
    return created, updated, deleted


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--do-url", required=True)
    parser.add_argument("--do-token", default=os.environ.get("DO_NODES_TOKEN", "rehearsal-do-nodes-token"))
    parser.add_argument("--kube-api", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--once", action="store_true", help="one pass, then exit (non-zero on failure)")
    args = parser.parse_args(argv)
    kube = Kube(args.kube_api, args.ca, args.cert, args.key)
    reported = set()
    if args.once:
        print(json.dumps(dict(zip(("created", "updated", "deleted"), sync_once(kube, args.do_url, args.do_token, reported)))))
        return 0
    log("syncing nodes from %s every %.1fs" % (args.do_url, args.interval))
    last_error = None
    while True:
        try:
            sync_once(kube, args.do_url, args.do_token, reported)
            if last_error:
                log("recovered")
            last_error = None
        except (OSError, RuntimeError, ValueError, KeyError) as exc:
            # emulator not up yet / gone, API server restarting: change nothing, say it once
            text = "%s: %s" % (type(exc).__name__, exc)
            if text != last_error:
                log("no sync (%s); nodes left as they are" % text)
            last_error = text
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
