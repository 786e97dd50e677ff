"""`testenv down` leaves no process of ours running (checked by PID and process group).

Needs `testenv/bin/testenv up`. The test stops the whole environment, checks, and starts it
again so later suites find it as it was (a fresh cluster: etcd data is wiped at start).
"""

import os
import pathlib
import subprocess
import time

import pytest
from _testenv import REPO, STATE  # pylint: disable=import-error

TESTENV = REPO / "testenv" / "bin" / "testenv"
CORE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "do-nodes", "sealed-secrets",
        "unserved", "chart-repo")


def recorded_pids():
    pids = {}
    for f in sorted((STATE / "pids").glob("*.pid")):
        text = f.read_text().strip()
        if text.isdigit():
            pids[f.stem] = int(text)
    return pids


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is dead for our purposes
    try:
        return pathlib.Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def members_of_groups(pgids):
    """PIDs of live processes whose process group is one of ours (children included)."""
    found = []
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, pgid = fields[0], int(fields[2])
        if pgid in pgids and state != "Z":
            found.append(int(stat.parent.name))
    return found


def netns_present(name):
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout
    return any(line.split()[0] == name for line in out.splitlines() if line.strip())


def run_testenv(*args, timeout=600):
    return subprocess.run([str(TESTENV), *args], capture_output=True, text=True, timeout=timeout, check=False)


def test_down_leaves_no_process_running_and_up_restores():
    before = recorded_pids()
    missing = [name for name in CORE if name not in before or not alive(before[name])]
    if missing:
        pytest.fail("the rehearsal environment is not up (%s not running); run "
                    "`testenv/bin/testenv up` first" % ", ".join(missing))
    groups = set(before.values())
    assert members_of_groups(groups), "expected live processes in our process groups"

    try:
        down = run_testenv("down")
        assert down.returncode == 0, down.stderr
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (
                [p for p in before.values() if alive(p)] or members_of_groups(groups)):
            time.sleep(0.2)
        assert [name for name, pid in before.items() if alive(pid)] == []
        assert members_of_groups(groups) == []
        # stale PID files are tolerated, live processes are not
        assert {name: pid for name, pid in recorded_pids().items() if alive(pid)} == {}
        assert not netns_present(os.environ.get("TESTENV_NETNS", "echo-testenv"))
        status = run_testenv("status")
        assert status.returncode != 0
    finally:
        up = run_testenv("up")
    assert up.returncode == 0, up.stderr[-3000:]
    after = recorded_pids()
    assert all(name in after and alive(after[name]) for name in CORE)
