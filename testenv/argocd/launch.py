"""Start one Argo CD process on the host the way the argo-cd chart's pod would start it.

    python launch.py --kubectl-kubeconfig ADMIN --namespace argocd --component repo-server \
        --binary PATH [--sa-dir DIR] [--override-env K=V ...] -- EXTRA-FLAG...

It reads the chart's live workload (Deployment or StatefulSet labelled
app.kubernetes.io/part-of=argocd and app.kubernetes.io/component=COMPONENT) and takes from its first
container what the kubelet would: the arguments after the command name and the environment, with
configMapKeyRef/secretKeyRef values resolved from the chart's ConfigMaps (argocd-cm,
argocd-cmd-params-cm) and Secrets (argocd-redis), honouring `optional`. EXTRA-FLAGs come last, so
the rehearsal's addresses (loopback ports, plaintext repo server) win over the chart's in-cluster
ones; --override-env replaces paths that only exist in the image (HELM_*_HOME, KUBECACHEDIR).

With --sa-dir, the token/ca.crt/namespace files there are written for the workload's service account
(TokenRequest API) and the process runs as
`unshare -m --propagation private with-sa-mount.sh DIR BINARY ARGS`, so client-go's in-cluster
configuration finds them at /var/run/secrets/kubernetes.io/serviceaccount; the in-cluster API
address comes from KUBERNETES_SERVICE_HOST/PORT in this process's environment.

Values taken from Secrets go into the process environment only: they are never printed (the
launch line lists variable names, not values).
"""

import argparse
import base64
import json
import os
import subprocess
import sys

LIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib")


class LaunchError(Exception):
    pass


def kubectl(kubeconfig, *args, stdin=None):
    proc = subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, *args], input=stdin, capture_output=True, text=True, check=False
    )
    if proc.returncode:
        raise LaunchError("kubectl %s: %s" % (" ".join(args[:3]), proc.stderr.strip()))
    return proc.stdout


def find_workload(kubeconfig, namespace, component):
    selector = "app.kubernetes.io/part-of=argocd,app.kubernetes.io/component=%s" % component
    items = json.loads(kubectl(kubeconfig, "-n", namespace, "get", "deployments,statefulsets", "-l", selector, "-o", "json"))[
        "items"
    ]
    if len(items) != 1:
        raise LaunchError("expected one workload with labels %s in %s, found %d" % (selector, namespace, len(items)))
    return items[0]


class Refs:
    """ConfigMap/Secret lookups with one read per object."""

    def __init__(self, kubeconfig, namespace):
        self.kubeconfig, self.namespace, self.cache = kubeconfig, namespace, {}

    def data(self, kind, name):
        key = (kind, name)
        if key not in self.cache:
            proc = subprocess.run(
                ["kubectl", "--kubeconfig", self.kubeconfig, "-n", self.namespace, "get", kind, name, "-o", "json"],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode:
                if "NotFound" not in proc.stderr:
                    raise LaunchError("reading %s %s: %s" % (kind, name, proc.stderr.strip()))
                self.cache[key] = None
            else:
                obj = json.loads(proc.stdout)
                values = obj.get("data") or {}
                if kind == "secret":
                    values = {k: base64.b64decode(v).decode() for k, v in values.items()}
                self.cache[key] = values
        return self.cache[key]


def resolve_env(container, refs):
    """The container's env as the kubelet resolves it; missing optional refs are left out."""
    env = {}
    for item in container.get("env") or []:
        name = item["name"]
        if "value" in item:
            env[name] = item["value"]
            continue
        source = item.get("valueFrom") or {}
        for kind, field in (("configmap", "configMapKeyRef"), ("secret", "secretKeyRef")):
            ref = source.get(field)
            if ref is None:
                continue
            data = refs.data(kind, ref["name"])
            if data is not None and ref["key"] in data:
                env[name] = data[ref["key"]]
            elif not ref.get("optional"):
                raise LaunchError("%s needs %s %s key %s, which does not exist" % (name, kind, ref["name"], ref["key"]))
    return env


def write_sa_dir(kubeconfig, namespace, service_account, ca_file, sa_dir):
    os.makedirs(sa_dir, mode=0o700, exist_ok=True)
    token = kubectl(kubeconfig, "-n", namespace, "create", "token", service_account, "--duration=720h").strip()
    for name, content in (("token", token), ("namespace", namespace), ("ca.crt", open(ca_file).read())):
        path = os.path.join(sa_dir, name)
        fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(content)
        os.replace(path + ".tmp", path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubectl-kubeconfig", required=True, help="admin kubeconfig used to read the chart's objects")
    parser.add_argument("--namespace", default="argocd")
    parser.add_argument("--component", required=True, help="app.kubernetes.io/component of the chart's workload")
    parser.add_argument("--binary", required=True, help="the Argo CD symlink to run (named like the command)")
    parser.add_argument("--sa-dir", help="run with in-cluster configuration from this folder")
    parser.add_argument("--ca-file", help="API server CA for --sa-dir")
    parser.add_argument("--override-env", action="append", default=[], metavar="K=V")
    parser.add_argument("extra", nargs="*", help="flags appended after the chart's arguments")
    args = parser.parse_args(argv)

    try:
        workload = find_workload(args.kubectl_kubeconfig, args.namespace, args.component)
        pod = workload["spec"]["template"]["spec"]
        container = pod["containers"][0]
        chart_args = list(container.get("command") or []) + list(container.get("args") or [])
        # the first word is the image's binary path (/usr/local/bin/argocd-...); ours replaces it
        if chart_args and chart_args[0].startswith("/"):
            chart_args = chart_args[1:]
        env = resolve_env(container, Refs(args.kubectl_kubeconfig, args.namespace))
        for item in args.override_env:
            key, _, value = item.partition("=")
            env[key] = value
        cmd = [args.binary, *chart_args, *args.extra]
        if args.sa_dir:
            sa = pod.get("serviceAccountName") or "default"
            write_sa_dir(args.kubectl_kubeconfig, args.namespace, sa, args.ca_file, args.sa_dir)
            cmd = ["unshare", "-m", "--propagation", "private", os.path.join(LIB, "with-sa-mount.sh"), args.sa_dir, *cmd]
    except LaunchError as exc:
        print("launch %s: %s" % (args.component, exc), file=sys.stderr)
        return 3

    full_env = dict(os.environ)
    full_env.update(env)
    print(
        "launch %s from %s/%s (service account %s): %s; env from the chart: %s"
        % (
            args.component,
            workload["kind"],
            workload["metadata"]["name"],
            pod.get("serviceAccountName") if args.sa_dir else "none",
            " ".join(cmd),
            ", ".join(sorted(env)),
        ),
        file=sys.stderr,
        flush=True,
    )
    os.execvpe(cmd[0], cmd, full_env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
