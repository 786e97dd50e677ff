"""playbooks/promote.yml: a release moves from one environment to the next through git, and only when every image
of it is in the registry with non-empty layers (reference 9.2, G5 and G6).

Works in a throw-away clone of this repository (never commits here); the DigitalOcean emulator's registry answers
the image lookups. Needs `testenv/bin/testenv up`.
"""

from __future__ import annotations

import subprocess
import uuid

import pytest
import yaml

from _deploy_support import REPO, require_testenv, run_playbook, seed_registry

IMAGES = ("server", "directus", "agent")


def git(checkout, *args):
    return subprocess.run(["git", "-C", str(checkout), *args], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def checkout(tmp_path):
    """A clone of this repository on branch main, with a bare origin to push to."""
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(REPO), str(work)], check=True)
    git(work, "checkout", "-q", "-B", "main")
    git(work, "remote", "set-url", "origin", str(origin))
    git(work, "push", "-q", "origin", "main")
    return work


def write_source_release(checkout, tags, provider="Dembrane-26-07"):
    release = {"images": {name: {"tag": tags[name]} for name in IMAGES}, "common": {"env": {"TRANSCRIPTION_PROVIDER": provider}}}
    (checkout / "releases" / "dev.yaml").write_text(yaml.safe_dump(release))
    git(checkout, "add", "releases/dev.yaml")
    git(checkout, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "dev release for the test")


def promote(checkout, *extra, check=False, diff=False):
    return run_playbook("promote.yml", "echo_promote_from=dev", "echo_gitops_checkout=%s" % checkout,
                        *extra, check=check, diff=diff, json_output=False)


@pytest.fixture(scope="module")
def do_url():
    env = require_testenv()
    return env["DO_API_URL"]


def test_a_tag_missing_in_the_registry_is_refused_and_nothing_is_written(do_url, checkout):
    tag = "promo-" + uuid.uuid4().hex[:8]
    seed_registry(do_url, {"dbr-echo-server": (tag, 4096), "dbr-echo-directus": (tag, 4096)})  # no agent
    write_source_release(checkout, {"server": tag, "directus": tag, "agent": tag})
    head = git(checkout, "rev-parse", "HEAD")
    before = (checkout / "releases" / "local.yaml").read_text()
    rc, _, raw = promote(checkout)
    assert rc != 0
    assert "Refusing to promote dev -> local: image" in raw and "dbr-echo-agent:%s" % tag in raw
    assert "is not in the registry" in raw
    assert (checkout / "releases" / "local.yaml").read_text() == before
    assert git(checkout, "rev-parse", "HEAD") == head


def test_an_empty_manifest_is_refused(do_url, checkout):
    tag = "empty-" + uuid.uuid4().hex[:8]
    seed_registry(do_url, {"dbr-echo-server": (tag, 4096), "dbr-echo-directus": (tag, 0), "dbr-echo-agent": (tag, 4096)})
    write_source_release(checkout, {"server": tag, "directus": tag, "agent": tag})
    rc, _, raw = promote(checkout)
    assert rc != 0 and "0 bytes of layers" in raw and "dbr-echo-directus:%s" % tag in raw


def test_check_diff_shows_the_promotion_and_changes_nothing(do_url, checkout):
    tag = "plan-" + uuid.uuid4().hex[:8]
    seed_registry(do_url, {"dbr-echo-%s" % i: (tag, 4096) for i in IMAGES})
    write_source_release(checkout, {name: tag for name in IMAGES})
    head = git(checkout, "rev-parse", "HEAD")
    rc, _, raw = promote(checkout, check=True, diff=True)
    assert rc == 0, raw[-3000:]
    assert "Would promote dev -> local" in raw
    assert '+    tag: %s' % tag in raw or "+    tag: '%s'" % tag in raw, raw[-3000:]
    assert git(checkout, "rev-parse", "HEAD") == head
    assert tag not in (checkout / "releases" / "local.yaml").read_text()


def test_promotion_writes_commits_and_pushes_and_a_second_run_is_a_no_op(do_url, checkout):
    tag = "ok-" + uuid.uuid4().hex[:8]
    seed_registry(do_url, {"dbr-echo-%s" % i: (tag, 4096) for i in IMAGES})
    write_source_release(checkout, {name: tag for name in IMAGES}, provider="LiteLLM")
    rc, _, raw = promote(checkout, "echo_gitops_push=true")
    assert rc == 0, raw[-3000:]
    release = yaml.safe_load((checkout / "releases" / "local.yaml").read_text())
    assert {name: release["images"][name]["tag"] for name in IMAGES} == {name: tag for name in IMAGES}
    assert release["common"]["env"]["TRANSCRIPTION_PROVIDER"] == "LiteLLM"  # the config ships with the tags
    message = git(checkout, "log", "-1", "--format=%s")
    assert message.startswith("promote local <- dev:") and tag in message
    assert git(checkout, "rev-parse", "HEAD") == git(checkout, "rev-parse", "origin/main") or \
        git(checkout, "ls-remote", "origin", "main").split()[0] == git(checkout, "rev-parse", "HEAD")
    head = git(checkout, "rev-parse", "HEAD")
    rc, _, raw = promote(checkout, "echo_gitops_push=true")
    assert rc == 0 and "Already at dev -> local" in raw
    assert git(checkout, "rev-parse", "HEAD") == head


def test_a_checkout_on_another_branch_is_refused(do_url, checkout):
    tag = "br-" + uuid.uuid4().hex[:8]
    seed_registry(do_url, {"dbr-echo-%s" % i: (tag, 4096) for i in IMAGES})
    write_source_release(checkout, {name: tag for name in IMAGES})
    git(checkout, "checkout", "-q", "-b", "feature/x")
    rc, _, raw = promote(checkout)
    assert rc != 0 and "is on branch 'feature/x'" in raw and "echo_argocd_target_revision" in raw
