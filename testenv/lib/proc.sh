# shellcheck shell=bash
# Process helpers for testenv components. Source this file; it defines functions only.
#
#   proc_start NAME CMD...   start CMD detached in its own session (setsid); output goes to
#                            $ECHO_TESTENV_STATE/logs/NAME.log, the PID (= process group id) to
#                            $ECHO_TESTENV_STATE/pids/NAME.pid. No-op if NAME is already running.
#   proc_stop NAME           TERM the process group, wait up to PROC_STOP_TIMEOUT (10) seconds,
#                            then KILL it; removes the PID file. No-op if not running.
#   proc_running NAME        exit 0 if the PID in NAME.pid is alive.
#   proc_pid NAME            print the recorded PID (empty if none).
#   wait_tcp HOST PORT TIMEOUT           wait until a TCP connect succeeds.
#   wait_http URL TIMEOUT [CURL ARGS...] wait until curl -fsS URL succeeds.
#
# Processes are only ever signalled through the PID files written here, never by name.

: "${ECHO_TESTENV_STATE:?ECHO_TESTENV_STATE must be set (run through testenv/bin/testenv)}"

_proc_pidfile() { printf '%s/pids/%s.pid' "$ECHO_TESTENV_STATE" "$1"; }

proc_pid() {
    local f
    f=$(_proc_pidfile "$1")
    [[ -s $f ]] && tr -dc '0-9' <"$f"
    return 0
}

# start time of PID in clock ticks since boot (field 22 of /proc/PID/stat); guards against a
# PID file that outlived its process (reboot) and now names an unrelated process
_proc_starttime() {
    local line
    read -r line 2>/dev/null <"/proc/$1/stat" || return 1
    line=${line##*) }
    # shellcheck disable=SC2086
    set -- $line
    printf '%s' "${20}"
}

proc_running() {
    local pid want have
    pid=$(proc_pid "$1")
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
    want=$(cat "$ECHO_TESTENV_STATE/pids/$1.start" 2>/dev/null || true)
    [[ -z $want ]] && return 0
    have=$(_proc_starttime "$pid" || true)
    [[ $have == "$want" ]]
}

proc_start() {
    local name=$1
    shift
    if [[ $# -eq 0 ]]; then
        echo "proc_start: no command given for $name" >&2
        return 2
    fi
    mkdir -p "$ECHO_TESTENV_STATE/pids" "$ECHO_TESTENV_STATE/logs"
    if proc_running "$name"; then
        return 0
    fi
    local log="$ECHO_TESTENV_STATE/logs/$name.log"
    printf '==== %s start: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$log"
    # setsid makes the child a session + process group leader, so its PID is the group id
    # and proc_stop can signal the whole tree it spawns.
    # fd 9 closed: testenv/bin/testenv holds its lock there
    setsid "$@" </dev/null >>"$log" 2>&1 9>&- &
    local pid=$!
    echo "$pid" >"$(_proc_pidfile "$name")"
    _proc_starttime "$pid" >"$ECHO_TESTENV_STATE/pids/$name.start" || true
    # fail fast if it died immediately (bad flags, missing binary)
    sleep 0.2
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "proc_start: $name exited at once; last log lines ($log):" >&2
        tail -n 20 "$log" >&2
        rm -f "$(_proc_pidfile "$name")" "$ECHO_TESTENV_STATE/pids/$name.start"
        return 1
    fi
    return 0
}

proc_stop() {
    local name=$1 pid f timeout=${PROC_STOP_TIMEOUT:-10} i
    f=$(_proc_pidfile "$name")
    pid=$(proc_pid "$name")
    if [[ -z $pid ]] || { kill -0 "$pid" 2>/dev/null && ! proc_running "$name"; }; then
        # nothing recorded, or the PID now belongs to an unrelated process: only forget it
        rm -f "$f" "$ECHO_TESTENV_STATE/pids/$name.start"
        return 0
    fi
    # running, or the leader is gone but members of its process group may remain
    if kill -0 "$pid" 2>/dev/null || kill -0 -- "-$pid" 2>/dev/null; then
        # the process group first (setsid made pid its leader), then the pid itself
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < timeout * 10; i++)); do
            kill -0 "$pid" 2>/dev/null || kill -0 -- "-$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 -- "-$pid" 2>/dev/null || kill -0 "$pid" 2>/dev/null; then
            echo "proc_stop: $name (pid $pid) did not stop in ${timeout}s, killing" >&2
            kill -KILL -- "-$pid" 2>/dev/null || true
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
        fi
    fi
    rm -f "$f" "$ECHO_TESTENV_STATE/pids/$name.start"
    return 0
}

wait_tcp() {
    local host=$1 port=$2 timeout=${3:-30} deadline
    deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    echo "wait_tcp: $host:$port not reachable after ${timeout}s" >&2
    return 1
}

wait_http() {
    local url=$1 timeout=${2:-30} deadline
    shift 2 || shift $#
    deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        if curl -fsS -o /dev/null --max-time 5 "$@" "$url" 2>/dev/null; then
            return 0
        fi
        sleep 0.3
    done
    echo "wait_http: $url not answering after ${timeout}s" >&2
    return 1
}
