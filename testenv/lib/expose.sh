# shellcheck shell=bash
# Network namespace + service exposure helpers (sourced by common.sh; usable by any component).
#
# Why: kube-apiserver's service proxy (/api/v1/namespaces/NS/services/SVC:PORT/proxy/...) only
# forwards to Endpoints addresses that belong to a Pod whose status lists that IP, and Endpoints
# validation refuses loopback addresses. So processes the API server must proxy to run inside
# a network namespace the testenv creates (TESTENV_NETNS, default echo-testenv), reached through
# a veth pair: host end 10.231.0.1/30, namespace end 10.231.0.2/30. The API server listens on
# all addresses, so processes inside the namespace reach it at https://10.231.0.1:26443.
#
#   netns_setup                  create the namespace + veth pair (idempotent)
#   netns_teardown               delete them (idempotent)
#   netns_ready                  exit 0 if the namespace and its address are up
#   netns_exec CMD...            run CMD inside the namespace (exec, so PIDs stay the same)
#   expose_service NAMESPACE SERVICE PORT TARGETPORT [PORTNAME]
#       make SERVICE:PORT in NAMESPACE proxyable before the chart that owns it is installed:
#       create the Service if absent (ClusterIP, port PORT named PORTNAME (default http),
#       targetPort PORTNAME, and NO selector, so the endpoints controllers leave its Endpoints to
#       us), a placeholder Pod `<SERVICE>-testenv` (scheduling-gated: never bound to a node) whose
#       status carries 10.231.0.2, and Endpoints pointing at 10.231.0.2:TARGETPORT. Optional env:
#       EXPOSE_HELM_RELEASE=NAME (ownership metadata so a later `helm install` of release NAME in
#       NAMESPACE adopts the Service instead of failing). Once the chart is installed, the
#       Service has the chart's selector and the endpoints controller follows the chart's pod,
#       which kwok reports at 10.231.0.2 (testenv/components/26-kwok): then this function leaves
#       the Service and its Endpoints alone. TARGETPORT must therefore be the chart's target port.
#   unexpose_service NAMESPACE SERVICE   remove what expose_service made (Pod, Endpoints, and
#       the Service if we created it)
#   loopback_forward NAME PORT [NSPORT]   forward 127.0.0.1:PORT on the host to
#       10.231.0.2:NSPORT (default PORT; a process tracked as fwd-NAME); stop it with proc_stop fwd-NAME

TESTENV_NETNS=${TESTENV_NETNS:-echo-testenv}
TESTENV_HOST_IP=${TESTENV_HOST_IP:-10.231.0.1}
TESTENV_NS_IP=${TESTENV_NS_IP:-10.231.0.2}
TESTENV_VETH_HOST=${TESTENV_VETH_HOST:-echotv0}
TESTENV_VETH_NS=${TESTENV_VETH_NS:-echotv1}

netns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$TESTENV_NETNS"; }

netns_ready() {
    netns_exists &&
        ip netns exec "$TESTENV_NETNS" ip -4 addr show dev "$TESTENV_VETH_NS" 2>/dev/null |
        grep -q "inet $TESTENV_NS_IP/"
}

netns_setup() {
    if ! command -v ip >/dev/null; then
        echo "netns_setup: 'ip' (iproute2) is missing; run make setup" >&2
        return 1
    fi
    netns_exists || ip netns add "$TESTENV_NETNS"
    if ! ip link show "$TESTENV_VETH_HOST" >/dev/null 2>&1; then
        ip link add "$TESTENV_VETH_HOST" type veth peer name "$TESTENV_VETH_NS" netns "$TESTENV_NETNS"
    fi
    ip addr replace "$TESTENV_HOST_IP/30" dev "$TESTENV_VETH_HOST"
    ip link set "$TESTENV_VETH_HOST" up
    ip netns exec "$TESTENV_NETNS" ip addr replace "$TESTENV_NS_IP/30" dev "$TESTENV_VETH_NS"
    ip netns exec "$TESTENV_NETNS" ip link set "$TESTENV_VETH_NS" up
    ip netns exec "$TESTENV_NETNS" ip link set lo up
}

netns_teardown() {
    local pids
    if netns_exists; then
        pids=$(ip netns pids "$TESTENV_NETNS" 2>/dev/null | tr '\n' ' ')
        if [[ -n ${pids// /} ]]; then
            echo "netns_teardown: processes still inside $TESTENV_NETNS: $pids(not killed: stop them by their PID files)" >&2
        fi
    fi
    ip link del "$TESTENV_VETH_HOST" 2>/dev/null || true
    if netns_exists; then
        ip netns del "$TESTENV_NETNS"
    fi
}

netns_exec() { exec ip netns exec "$TESTENV_NETNS" "$@"; }

_expose_kc() { kubectl --kubeconfig "${KUBECONFIG_ADMIN:-$ECHO_TESTENV_STATE/kubeconfig}" "$@"; }

expose_service() {
    local ns=$1 svc=$2 port=$3 target=$4 pname=${5:-http} pod uid i labels="" selector
    pod="$svc-testenv"
    _expose_kc get namespace "$ns" >/dev/null 2>&1 || _expose_kc create namespace "$ns" >/dev/null
    selector=$(_expose_kc -n "$ns" get service "$svc" -o jsonpath='{.spec.selector}' 2>/dev/null || true)
    if [[ -n $selector ]]; then
        # the chart's Service: the endpoints controller follows the chart's pod (reported at
        # $TESTENV_NS_IP by kwok); hand-written Endpoints would only be overwritten
        return 0
    fi
    if ! _expose_kc -n "$ns" get service "$svc" >/dev/null 2>&1; then
        if [[ -n ${EXPOSE_HELM_RELEASE:-} ]]; then
            labels="  labels:"$'\n'"    app.kubernetes.io/managed-by: Helm"$'\n'
            labels+="  annotations:"$'\n'"    meta.helm.sh/release-name: $EXPOSE_HELM_RELEASE"$'\n'
            labels+="    meta.helm.sh/release-namespace: $ns"$'\n'
        fi
        _expose_kc create -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata:
  name: $svc
  namespace: $ns
$labels
spec:
  type: ClusterIP
  ports:
    - name: $pname
      port: $port
      targetPort: $pname
      protocol: TCP
YAML
        _expose_kc -n "$ns" annotate service "$svc" testenv.echo.platform/created-by=testenv >/dev/null
    fi
    # placeholder Pod: the service proxy only forwards to addresses owned by a Pod with that IP
    if ! _expose_kc -n "$ns" get pod "$pod" >/dev/null 2>&1; then
        for ((i = 0; i < 60; i++)); do
            # the ServiceAccount admission plugin needs the namespace's default account first
            if _expose_kc create -f - >/dev/null 2>&1 <<YAML; then
apiVersion: v1
kind: Pod
metadata:
  name: $pod
  namespace: $ns
  labels:
    testenv.echo.platform/endpoint: "$svc"
  annotations:
    testenv.echo.platform/note: "placeholder for a process in the testenv network namespace; never runs"
spec:
  automountServiceAccountToken: false
  schedulingGates:
    - name: rehearsal.echo-platform.io/placeholder
  containers:
    - name: endpoint
      image: testenv.invalid/placeholder:0
YAML
                break
            fi
            sleep 0.5
        done
        _expose_kc -n "$ns" get pod "$pod" >/dev/null || { echo "expose_service: cannot create pod $ns/$pod" >&2; return 1; }
    fi
    _expose_kc -n "$ns" patch pod "$pod" --subresource=status --type=merge \
        -p "{\"status\":{\"phase\":\"Running\",\"podIP\":\"$TESTENV_NS_IP\",\"podIPs\":[{\"ip\":\"$TESTENV_NS_IP\"}]}}" >/dev/null
    uid=$(_expose_kc -n "$ns" get pod "$pod" -o jsonpath='{.metadata.uid}')
    _expose_kc apply -f - >/dev/null 2>&1 <<YAML || { echo "expose_service: cannot write endpoints $ns/$svc" >&2; return 1; }
apiVersion: v1
kind: Endpoints
metadata:
  name: $svc
  namespace: $ns
  labels:
    testenv.echo.platform/endpoint: "$svc"
subsets:
  - addresses:
      - ip: $TESTENV_NS_IP
        targetRef:
          kind: Pod
          namespace: $ns
          name: $pod
          uid: $uid
    ports:
      - name: $pname
        port: $target
        protocol: TCP
YAML
}

unexpose_service() {
    local ns=$1 svc=$2 created selector
    _expose_kc -n "$ns" delete pod "$svc-testenv" --ignore-not-found --wait=false >/dev/null 2>&1 || true
    selector=$(_expose_kc -n "$ns" get service "$svc" -o jsonpath='{.spec.selector}' 2>/dev/null || true)
    # a chart's Service (it has a selector) keeps its controller-managed Endpoints
    [[ -n $selector ]] && return 0
    _expose_kc -n "$ns" delete endpoints "$svc" --ignore-not-found >/dev/null 2>&1 || true
    created=$(_expose_kc -n "$ns" get service "$svc" \
        -o jsonpath='{.metadata.annotations.testenv\.echo\.platform/created-by}' 2>/dev/null || true)
    if [[ $created == testenv ]]; then
        _expose_kc -n "$ns" delete service "$svc" --ignore-not-found >/dev/null 2>&1 || true
    fi
}

loopback_forward() {
    local name=$1 port=$2 nsport=${3:-$2} pybin
    if [[ -x ${ECHO_PYTHON:-} ]]; then pybin=$ECHO_PYTHON; else pybin=python3; fi
    proc_start "fwd-$name" "$pybin" "$REPO_ROOT/testenv/lib/tcpfwd.py" \
        "127.0.0.1:$port" "$TESTENV_NS_IP:$nsport"
}
