#!/usr/bin/env bash
# supervise.sh: run the real Argo CD processes on the host once the argo-cd chart is installed.
# Started by testenv/components/44-argocd at `testenv up`, before site.yml's bootstrap layer installs
# the chart, so it first waits (logging what it waits for) for the chart's objects in $ARGOCD_NS:
# the three workloads, their ServiceAccounts, argocd-cm, argocd-cmd-params-cm, argocd-rbac-cm and
# argocd-secret. Then:
#   - plays the chart's redis-secret-init hook (switched off in the rehearsal values: kwok runs no
#     containers, so the hook Job would "complete" without creating anything): Secret argocd-redis
#     with a random `auth`, unless it exists; its value becomes redis' requirepass (CONFIG SET, stdin);
#   - starts argocd-repo-server, argocd-application-controller and argocd-server through launch.py
#     (the chart's own arguments and environment, then the rehearsal's loopback addresses), each in a
#     restart loop with its own log ($ECHO_TESTENV_STATE/logs/argocd-NAME.log).
# Stopped with its whole process group by proc_stop (TERM), like every testenv process.
set -uo pipefail
: "${REPO_ROOT:?}" "${ECHO_TESTENV_STATE:?}" "${KUBECONFIG_ADMIN:?}" "${ARGOCD_BIN_DIR:?}" "${REDIS_PORT:?}"
ARGOCD_NS=${ARGOCD_NS:-argocd}
state="$ECHO_TESTENV_STATE/argocd"
logs="$ECHO_TESTENV_STATE/logs"
here="$REPO_ROOT/testenv/argocd"

# fd 3: the supervisor's log even where a caller silences stdout (wait_for)
exec 3>&1
log() { printf '%s [argocd-supervisor] %s\n' "$(date -u +%H:%M:%S)" "$*" >&3; }
kc() { kubectl --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# wait_for DESCRIPTION CMD...: poll every 3 s, log when starting to wait and every minute after
wait_for() {
    local what=$1 n=0
    shift
    until "$@" >/dev/null 2>&1; do
        ((n % 20 == 0)) && log "waiting for $what"
        n=$((n + 1))
        sleep 3
    done
    ((n > 0)) && log "found $what"
    return 0
}

workload_sa() {
    kc -n "$ARGOCD_NS" get deployments,statefulsets \
        -l "app.kubernetes.io/part-of=argocd,app.kubernetes.io/component=$1" \
        -o jsonpath='{.items[0].spec.template.spec.serviceAccountName}'
}
has_workload() { [[ -n $(workload_sa "$1") ]]; }
has_sa() { local sa; sa=$(workload_sa "$1") && [[ -n $sa ]] && kc -n "$ARGOCD_NS" get serviceaccount "$sa"; }

ensure_redis_secret() {
    if ! kc -n "$ARGOCD_NS" get secret argocd-redis >/dev/null 2>&1; then
        log "creating Secret $ARGOCD_NS/argocd-redis (the chart's redis-secret-init hook does not run here)"
        py_bin=${ECHO_PYTHON:-python3}
        [[ -x $py_bin ]] || py_bin=python3
        "$py_bin" - "$ARGOCD_NS" <<'PY' | kc apply -f - >/dev/null || return 1
import base64, json, secrets, sys
auth = secrets.token_urlsafe(24)
print(json.dumps({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                  "metadata": {"name": "argocd-redis", "namespace": sys.argv[1],
                               "labels": {"app.kubernetes.io/part-of": "argocd",
                                          "app.kubernetes.io/managed-by": "echo-testenv"}},
                  "data": {"auth": base64.b64encode(auth.encode()).decode()}}))
PY
    fi
    local auth
    auth=$(kc -n "$ARGOCD_NS" get secret argocd-redis -o jsonpath='{.data.auth}' | base64 -d) || return 1
    # the current password (none at first start) in REDISCLI_AUTH, the new one on stdin
    printf 'CONFIG SET requirepass "%s"\n' "$auth" |
        REDISCLI_AUTH="$auth" redis-cli -p "$REDIS_PORT" >/dev/null 2>&1 ||
        printf 'CONFIG SET requirepass "%s"\n' "$auth" | redis-cli -p "$REDIS_PORT" >/dev/null
    REDISCLI_AUTH="$auth" redis-cli -p "$REDIS_PORT" PING 2>/dev/null | grep -q PONG
}

# run_loop NAME COMPONENT [launch.py args...]: start, and restart when it exits
run_loop() {
    local name=$1 component=$2 rc
    shift 2
    while true; do
        printf '==== %s start\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$logs/argocd-$name.log"
        "${ECHO_PYTHON:-python3}" "$here/launch.py" --kubectl-kubeconfig "$KUBECONFIG_ADMIN" \
            --namespace "$ARGOCD_NS" --component "$component" "$@" >>"$logs/argocd-$name.log" 2>&1
        rc=$?
        log "$name exited (rc=$rc); restarting in 5 s (log: $logs/argocd-$name.log)"
        sleep 5
    done
}

trap 'trap - TERM INT; log "stopping"; kill 0 2>/dev/null; exit 0' TERM INT

log "Argo CD $ARGOCD_VERSION from $ARGOCD_BIN_DIR; waiting for the argo-cd chart in namespace $ARGOCD_NS"
wait_for "namespace $ARGOCD_NS" kc get namespace "$ARGOCD_NS"
for c in application-controller repo-server server; do
    wait_for "the chart's $c workload" has_workload "$c"
    wait_for "the ServiceAccount of $c" has_sa "$c"
done
for cm in argocd-cm argocd-cmd-params-cm argocd-rbac-cm; do
    wait_for "ConfigMap $ARGOCD_NS/$cm" kc -n "$ARGOCD_NS" get configmap "$cm"
done
wait_for "Secret $ARGOCD_NS/argocd-secret" kc -n "$ARGOCD_NS" get secret argocd-secret
wait_for "redis password (Secret $ARGOCD_NS/argocd-redis applied to redis)" ensure_redis_secret

mkdir -p "$state/repo-server" "$state/controller" "$state/server"
redis="127.0.0.1:$REDIS_PORT"
repo="127.0.0.1:$ARGOCD_REPO_SERVER_PORT"
ca="$ECHO_TESTENV_STATE/kube/pki/ca.crt"

log "starting argocd-repo-server on $repo, argocd-application-controller, argocd-server on 127.0.0.1:$ARGOCD_SERVER_PORT"
run_loop repo-server repo-server --binary "$ARGOCD_BIN_DIR/argocd-repo-server" \
    --override-env "PATH=$ARGOCD_HELM_DIR:$PATH" --override-env ARGOCD_GPG_ENABLED=false \
    --override-env "HELM_CACHE_HOME=$state/repo-server/helm" --override-env "HELM_CONFIG_HOME=$state/repo-server/helm" \
    --override-env "HELM_DATA_HOME=$state/repo-server/helm" --override-env "TMPDIR=$state/repo-server" \
    -- --disable-tls --address 127.0.0.1 --port "$ARGOCD_REPO_SERVER_PORT" \
    --metrics-address 127.0.0.1 --metrics-port "$((ARGOCD_REPO_SERVER_PORT + 3))" --redis "$redis" &
(
    export KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$KUBE_API_PORT
    run_loop controller application-controller --binary "$ARGOCD_BIN_DIR/argocd-application-controller" \
        --sa-dir "$state/controller/serviceaccount" --ca-file "$ca" \
        --override-env "KUBECACHEDIR=$state/controller/kubecache" --override-env "TMPDIR=$state/controller" \
        -- --repo-server "$repo" --repo-server-plaintext --redis "$redis" \
        --metrics-port "$ARGOCD_CONTROLLER_METRICS_PORT"
) &
(
    export KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$KUBE_API_PORT
    run_loop server server --binary "$ARGOCD_BIN_DIR/argocd-server" \
        --sa-dir "$state/server/serviceaccount" --ca-file "$ca" --override-env "TMPDIR=$state/server" \
        -- --insecure --address 127.0.0.1 --port "$ARGOCD_SERVER_PORT" \
        --metrics-address 127.0.0.1 --metrics-port "$((ARGOCD_SERVER_PORT + 3))" \
        --repo-server "$repo" --repo-server-plaintext --redis "$redis"
) &
wait
