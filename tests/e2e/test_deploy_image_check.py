"""An image tag the registry does not hold stops the deploy before any change, on both deploy methods.

The original's prod agent sat in ImagePullBackOff for ~29 days (reference 9.2 G6): nothing checked
that an image existed before its tag was rolled out, and the manifest had 0 bytes of layers.
playbooks/deploy.yml renders the charts from the release file (releases/<env>.yaml, the last value file
of the Application), looks every image up in the DigitalOcean registry (the emulator answers locally)
and fails with a message naming the image, before Argo CD or helm change anything.

Needs `testenv/bin/testenv up`.
"""

from __future__ import annotations

import json
import uuid

import pytest
import yaml

from _deploy_support import REPO, fact, helm_releases, kubectl, require_testenv, run_playbook, seed_registry, task_results

NAMESPACES = ("echo-local", "monitoring")


@pytest.fixture(scope="module")
def do_url():
    env = require_testenv()
    seed_registry(env["DO_API_URL"], {"dbr-echo-%s" % i: ("rehearsal", 4096) for i in ("server", "directus", "agent")})
    return env["DO_API_URL"]


def releases():
    return {ns: helm_releases(ns) for ns in NAMESPACES}


def deploy_with(tags: dict[str, str], method: str = "helm", *extra: str, repositories=None):
    """Deploy with a release file whose tags are ``tags`` (the others from releases/local.yaml)."""
    release = yaml.safe_load((REPO / "releases" / "local.yaml").read_text())
    for name, tag in tags.items():
        release["images"][name]["tag"] = tag
    for name, repo in (repositories or {}).items():
        release["images"][name]["repository"] = repo
    path = REPO / "releases" / ("e2e-%s.yaml" % uuid.uuid4().hex[:8])
    path.write_text(yaml.safe_dump(release))
    try:
        return run_playbook("deploy.yml", "echo_deploy_method=%s" % method,
                            "echo_release_file=releases/%s" % path.name, *extra)
    finally:
        path.unlink()


@pytest.mark.parametrize("method", ["helm", "argocd"])
def test_missing_tag_fails_before_anything_changes(do_url, method):
    before = releases()
    missing = "missing-" + uuid.uuid4().hex[:8]
    rc, out, raw = deploy_with({"server": missing}, method)
    assert rc != 0
    assert "Refusing to roll out local: image registry.digitalocean.com/dbr-cr/dbr-echo-server:%s" % missing in raw
    assert "is not in the registry" in raw and "playbooks/promote.yml" in raw
    assert task_results(out, "Install or upgrade the releases") == []
    assert task_results(out, "Apply the Applications") == []
    assert releases() == before


def test_missing_repository_fails_with_its_name(do_url):
    before = releases()
    repo = "dbr-echo-nope-" + uuid.uuid4().hex[:6]
    rc, _, raw = deploy_with({}, "helm", repositories={"server": repo})
    assert rc != 0
    assert "dbr-cr/%s:rehearsal" % repo in raw and "is not in the registry" in raw
    assert releases() == before


def test_empty_manifest_counts_as_missing(do_url):
    empty = "empty-" + uuid.uuid4().hex[:8]
    seed_registry(do_url, {"dbr-echo-directus": (empty, 0)})
    before = releases()
    rc, _, raw = deploy_with({"directus": empty})
    assert rc != 0
    assert "dbr-echo-directus:%s" % empty in raw and "0 bytes of layers" in raw
    assert releases() == before


def test_existing_tags_deploy_and_second_run_changes_nothing(do_url):
    """The production path with the committed release file (its tags are in the registry): the check passes,
    Argo CD rolls the tags out, and a second run changes nothing. (The local platform is Argo CD's here, so a
    helm-method rollout into the same namespaces would fight it; the helm method's success path is molecule
    bootstrap_deploy's.)"""
    release = yaml.safe_load((REPO / "releases" / "local.yaml").read_text())
    tags = {name: image["tag"] for name, image in release["images"].items()}
    rc, out, raw = run_playbook("deploy.yml", "echo_deploy_method=argocd")
    assert rc == 0, raw[-4000:]
    checked = [i for i in fact(out, "rollout_check_result")["images"] if "dbr-cr" in i]
    assert checked and all(i.rsplit(":", 1)[1] in tags.values() for i in checked), checked
    deployment = json.loads(kubectl("-n", "echo-local", "get", "deployment", "echo-api", "-o", "json").stdout)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":" + tags["server"])
    rc, out, raw = run_playbook("deploy.yml", "echo_deploy_method=argocd")
    assert rc == 0, raw[-4000:]
    assert out["stats"]["localhost"]["changed"] == 0
