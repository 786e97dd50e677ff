"""One rehearsal per machine: the owner guard of testenv/bin/testenv.

Two throw-away clones (the real testenv/bin/testenv and testenv/lib, one harmless component that
starts a `sleep` through proc_start) share a private owner folder (ECHO_TESTENV_OWNER_DIR), so the
machine's real rehearsal is never touched. Proves: the first `up` records its clone as the owner; `up`
from a second clone refuses and names the owner's path; `down` from the second clone stops nothing and
exits 0; once the owner has no live process it is stale and the second clone takes over; `down` of the
owner gives the machine up.
"""

import os
import pathlib
import shutil
import signal
import subprocess
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]

COMPONENT = """#!/usr/bin/env bash
COMPONENT=sleeper
source "$REPO_ROOT/testenv/lib/common.sh"
case ${1:-} in
build) ;;
start) proc_start sleeper sleep 600 ;;
stop) proc_stop sleeper ;;
status) if proc_running sleeper; then status_line sleeper 0 up; else status_line sleeper 1 down; fi ;;
esac
"""


def make_clone(root):
    (root / "testenv" / "bin").mkdir(parents=True)
    (root / "testenv" / "components").mkdir()
    shutil.copy2(REPO / "testenv" / "bin" / "testenv", root / "testenv" / "bin" / "testenv")
    shutil.copytree(REPO / "testenv" / "lib", root / "testenv" / "lib")
    comp = root / "testenv" / "components" / "10-sleeper"
    comp.write_text(COMPONENT)
    comp.chmod(0o755)
    return root


@pytest.fixture()
def clones(tmp_path):
    owner_dir = tmp_path / "owner"
    made = [make_clone(tmp_path / "a"), make_clone(tmp_path / "b")]
    env = {k: v for k, v in os.environ.items()
           if k not in ("REPO_ROOT", "ECHO_TESTENV_STATE", "ECHO_CACHE_DIR", "ECHO_PYTHON")}
    env["ECHO_TESTENV_OWNER_DIR"] = str(owner_dir)
    env["ECHO_CACHE_DIR"] = str(tmp_path / "cache")

    def run(clone, *args):
        return subprocess.run([str(clone / "testenv" / "bin" / "testenv"), *args], env=env,
                              capture_output=True, text=True, timeout=60, check=False)

    yield made, run, owner_dir
    for clone in made:
        run(clone, "down")


def sleeper_pid(clone):
    text = (clone / ".testenv" / "pids" / "sleeper.pid").read_text().strip()
    return int(text)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = pathlib.Path("/proc/%d/stat" % pid).read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_second_clone_refuses_up_and_leaves_the_owner_alone_on_down(clones):
    (a, b), run, owner_dir = clones
    up = run(a, "up")
    assert up.returncode == 0, up.stderr
    record = (owner_dir / "owner").read_text()
    assert "repo=%s\n" % a.resolve() in record
    assert "pids=%s\n" % (a / ".testenv" / "pids").resolve() in record
    pid = sleeper_pid(a)

    refused = run(b, "up")
    assert refused.returncode == 3
    assert str(a.resolve()) in refused.stderr
    assert "refusing" in refused.stderr
    assert not (b / ".testenv" / "pids" / "sleeper.pid").exists()

    down = run(b, "down")
    assert down.returncode == 0, down.stderr
    assert "leaving it alone" in down.stderr
    assert alive(pid)
    assert "repo=%s\n" % a.resolve() in (owner_dir / "owner").read_text()

    owner = run(b, "owner")
    assert owner.returncode == 0
    assert str(a.resolve()) in owner.stdout and "live" in owner.stdout


def test_stale_owner_is_taken_over(clones):
    (a, b), run, owner_dir = clones
    assert run(a, "up").returncode == 0
    pid = sleeper_pid(a)
    # the owner's process dies without a `down` (crash, killed shell): its PID file stays behind
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid)

    up = run(b, "up")
    assert up.returncode == 0, up.stderr
    assert "taking over" in up.stderr and str(a.resolve()) in up.stderr
    assert "repo=%s\n" % b.resolve() in (owner_dir / "owner").read_text()
    assert alive(sleeper_pid(b))

    # now the first clone is the other one: it refuses
    assert run(a, "up").returncode == 3


def test_down_of_the_owner_gives_the_machine_up(clones):
    (a, b), run, owner_dir = clones
    assert run(a, "up").returncode == 0
    pid = sleeper_pid(a)
    down = run(a, "down")
    assert down.returncode == 0, down.stderr
    assert not alive(pid)
    assert not (owner_dir / "owner").exists()
    assert run(b, "owner").returncode == 1
    up = run(b, "up")
    assert up.returncode == 0, up.stderr
    assert "taking over" not in up.stderr
