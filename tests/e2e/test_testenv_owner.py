"""One rehearsal per machine, against the running one: a second clone's `up` refuses and names this clone,
and its `down` leaves the running environment alone (the scenario of issue 14: `make testenv-down` in a second
clone deleted the network namespace under a running `make test` of the first).

Needs `testenv/bin/testenv up` from this clone.
"""

import os
import shutil
import subprocess

import pytest

from _testenv import REPO, STATE

TESTENV = REPO / "testenv" / "bin" / "testenv"


def netns_present(name):
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout
    return any(line.split()[0] == name for line in out.splitlines() if line.strip())


@pytest.fixture()
def second_clone(tmp_path):
    clone = tmp_path / "other-clone"
    shutil.copytree(REPO / "testenv", clone / "testenv", ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if k not in ("REPO_ROOT", "ECHO_TESTENV_STATE")}

    def run(*args):
        return subprocess.run([str(clone / "testenv" / "bin" / "testenv"), *args], env=env, capture_output=True,
                              text=True, timeout=120, check=False)
    return clone, run


def test_second_clone_cannot_start_or_stop_this_rehearsal(second_clone):
    clone, run = second_clone
    status = subprocess.run([str(TESTENV), "status"], capture_output=True, text=True, timeout=60, check=False)
    if status.returncode != 0:
        pytest.fail("the rehearsal environment is not up; run `testenv/bin/testenv up` first:\n" + status.stdout)
    owner = subprocess.run([str(TESTENV), "owner"], capture_output=True, text=True, timeout=30, check=False)
    assert owner.returncode == 0 and str(REPO.resolve()) in owner.stdout and "live" in owner.stdout

    up = run("up")
    assert up.returncode == 3, up.stderr
    assert str(REPO.resolve()) in up.stderr
    assert not (clone / ".testenv" / "pids").exists() or not any((clone / ".testenv" / "pids").iterdir())

    down = run("down")
    assert down.returncode == 0, down.stderr
    assert "leaving it alone" in down.stderr
    assert netns_present(os.environ.get("TESTENV_NETNS", "echo-testenv"))
    after = subprocess.run([str(TESTENV), "status"], capture_output=True, text=True, timeout=60, check=False)
    assert after.returncode == 0, after.stdout
    assert (STATE / "pids" / "kube-apiserver.pid").exists()
