# shellcheck shell=bash
# shellcheck disable=SC2034  # settings used by the components that source this file
# Shared settings and helpers for the core testenv components. Source it from a component:
#   source "$REPO_ROOT/testenv/lib/common.sh"
# It sources proc.sh and expose.sh too.

set -euo pipefail
: "${REPO_ROOT:?run components through testenv/bin/testenv}"
: "${ECHO_CACHE_DIR:?run components through testenv/bin/testenv}"
: "${ECHO_TESTENV_STATE:?run components through testenv/bin/testenv}"

# shellcheck source=proc.sh
source "$REPO_ROOT/testenv/lib/proc.sh"

# --- pinned versions ---------------------------------------------------------------------------
KUBE_VERSION=v1.34.4              # k8s.io/kubernetes release (DOKS 1.34 in the inventories)
ETCD_VERSION=v3.6.4               # the etcd server k8s 1.34 is built against (go.mod of k8s)
SEALED_SECRETS_VERSION=v0.28.0    # controller app version of the sealed-secrets chart 2.17.1

# --- fixed addresses (see testenv/README.md) ---------------------------------------------------
ETCD_CLIENT_PORT=23790
ETCD_PEER_PORT=23800
KUBE_API_PORT=26443
SEALED_SECRETS_PORT=28080
CHART_REPO_PORT=28879
TESTENV_NETNS=${TESTENV_NETNS:-echo-testenv}
TESTENV_HOST_IP=10.231.0.1        # host end of the veth pair (apiserver reachable here)
TESTENV_NS_IP=10.231.0.2          # namespace end: services the API server proxies to live here
TESTENV_SERVICE_CIDR=10.232.0.0/24
TESTENV_SERVICE_IP=10.232.0.1     # first address of the service range: the `kubernetes` service

KUBE_DIR="$ECHO_TESTENV_STATE/kube"      # certs, keys, kubeconfigs of the control plane
KUBECONFIG_ADMIN="$ECHO_TESTENV_STATE/kubeconfig"

log() { printf '[%s] %s\n' "${COMPONENT:-testenv}" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "${COMPONENT:-testenv}" "$*" >&2; exit 1; }

# env_write NAME KEY=VALUE...: (re)write $ECHO_TESTENV_STATE/env.d/NAME.env
env_write() {
    local name=$1 f
    shift
    mkdir -p "$ECHO_TESTENV_STATE/env.d"
    f="$ECHO_TESTENV_STATE/env.d/$name.env"
    printf '%s\n' "$@" >"$f.tmp"
    mv "$f.tmp" "$f"
}
env_remove() { rm -f "$ECHO_TESTENV_STATE/env.d/$1.env"; }

# python for helper scripts: the venv's when present, else the machine's python3
py() {
    if [[ -x ${ECHO_PYTHON:-} ]]; then "$ECHO_PYTHON" "$@"; else python3 "$@"; fi
}

# kc ARGS...: kubectl as the testenv admin
kc() { kubectl --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# go_build_cached OUT_BIN STAMP_INPUT... -- GO BUILD ARGS...
# Runs `go build` only if OUT_BIN is missing; the caller keys OUT_BIN by version (and by a
# hash of the sources), so a second build is a no-op.
source_hash() { cat "$@" | sha256sum | cut -c1-12; }

# status_line NAME OK DETAIL: uniform status output
status_line() {
    local name=$1 ok=$2
    shift 2
    if [[ $ok == 0 ]]; then
        printf '%-24s up      %s\n' "$name" "$*"
    else
        printf '%-24s DOWN    %s\n' "$name" "$*"
    fi
    return "$ok"
}

# kube_bin NAME: cached path of k8s.io/kubernetes/cmd/NAME for KUBE_VERSION and the wrapper go.mod
kube_bin() {
    local src="$REPO_ROOT/testenv/go/kube"
    printf '%s/kube/%s-%s/%s' "$ECHO_CACHE_DIR" "$KUBE_VERSION" \
        "$(source_hash "$src/go.mod" "$src/go.sum")" "$1"
}

# kube_build NAME: build k8s.io/kubernetes/cmd/NAME unless cached (version-stamped like a release)
kube_build() {
    local name=$1 out pkg=k8s.io/component-base/version cgo=k8s.io/client-go/pkg/version minor ld
    out=$(kube_bin "$name")
    if [[ ! -x $out ]]; then
        log "building $name $KUBE_VERSION -> $out (cold: several minutes)"
        minor=${KUBE_VERSION#v1.}
        minor=${minor%%.*}
        ld="-s -w"
        for v in "$pkg" "$cgo"; do
            ld+=" -X $v.gitVersion=$KUBE_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor"
            ld+=" -X $v.gitTreeState=clean -X $v.buildDate=1970-01-01T00:00:00Z"
        done
        mkdir -p "$(dirname "$out")"
        (cd "$REPO_ROOT/testenv/go/kube" &&
            GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath -ldflags "$ld" -o "$out.tmp" "k8s.io/kubernetes/cmd/$name") ||
            die "build of $name failed"
        mv "$out.tmp" "$out"
    fi
    ln -sfn "$out" "$ECHO_CACHE_DIR/bin/$name"
}

# shellcheck source=expose.sh
source "$REPO_ROOT/testenv/lib/expose.sh"
