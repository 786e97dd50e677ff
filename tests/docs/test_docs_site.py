"""`make docs` (scripts/docs): the collection's HTML site has a page for every module and role with
their options, the changelog, and a module page that a browser renders.

Builds the site once into a temporary folder (about 30 s, offline) and opens one module page in
headless Chromium (tests/_browser.py). The screenshot is kept in the test reports folder
(_browser.screenshot_dir()) for a person to look at.
"""

from __future__ import annotations

import ast
import html.parser
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
import _browser  # noqa: E402

COLLECTION = REPO / "collections/ansible_collections/echo/platform"
MODULES = sorted(p.stem for p in (COLLECTION / "plugins/modules").glob("*.py") if not p.name.startswith("_"))
ROLES = sorted(p.parent.parent.name for p in (COLLECTION / "roles").glob("*/meta/argument_specs.yml"))
SCREENSHOT_MODULE = "do_vpc"


class _Text(html.parser.HTMLParser):
    """The visible text of a page (no scripts or styles), whitespace folded."""

    def __init__(self):
        super().__init__()
        self.parts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._hidden -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def text_of(page: pathlib.Path) -> str:
    parser = _Text()
    parser.feed(page.read_text())
    text = " ".join(" ".join(parser.parts).split())
    return text.translate(str.maketrans("\u2018\u2019\u201c\u201d", "''\"\""))   # Sphinx's smart quotes


def module_options(name: str) -> list[str]:
    tree = ast.parse((COLLECTION / "plugins/modules" / f"{name}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "DOCUMENTATION" for t in node.targets):
            return sorted((yaml.safe_load(node.value.value).get("options") or {}).keys())
    raise AssertionError(f"{name} has no DOCUMENTATION")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs")
    proc = subprocess.run([str(REPO / "scripts/docs"), str(out)], cwd=REPO, capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, "scripts/docs failed:\n" + (proc.stdout + proc.stderr)[-6000:]
    assert "build succeeded" in proc.stdout, proc.stdout[-3000:]
    html = out / "site/build/html"
    assert (html / "index.html").is_file()
    return html


@pytest.fixture(scope="module")
def pages(site):
    return site / "collections/echo/platform"


def test_collection_index_links_modules_roles_and_changelog(pages):
    index = (pages / "index.html").read_text()
    for name in MODULES:
        assert f'href="{name}_module.html' in index, name
    for name in ROLES:
        assert f'href="{name}_role.html' in index, name
    assert 'href="changelog.html' in index


@pytest.mark.parametrize("name", MODULES)
def test_module_page_documents_every_option(pages, name):
    page = pages / f"{name}_module.html"
    assert page.is_file(), f"no page for module {name}"
    text = text_of(page)
    assert f"echo.platform.{name} module" in text
    source = page.read_text()
    missing = [opt for opt in module_options(name) if f'id="parameter-{opt}"' not in source]
    assert not missing, f"{name}: options without an entry on its page: {missing}"
    for section in ("Synopsis", "Parameters", "Examples"):
        assert section in text, f"{name}: no {section} section"


@pytest.mark.parametrize("name", ROLES)
def test_role_page_documents_every_entry_point_and_option(pages, name):
    page = pages / f"{name}_role.html"
    assert page.is_file(), f"no page for role {name}"
    source = page.read_text()
    specs = yaml.safe_load((COLLECTION / "roles" / name / "meta/argument_specs.yml").read_text())["argument_specs"]
    for entry, spec in specs.items():
        assert f"entrypoint-{entry.replace('_', '-')}\"" in source, f"{name}: no entry point {entry}"
        assert spec["short_description"].split("(")[0].strip() in text_of(page)
        missing = [opt for opt in spec.get("options") or {} if f'id="parameter-{entry}--{opt}"' not in source]
        assert not missing, f"{name} entry point {entry}: options without an entry on its page: {missing}"


def test_changelog_page_shows_the_changes(pages):
    text = text_of(pages / "changelog.html")
    assert "Release Notes" in text
    squashed = re.sub(r"\s+", "", text)
    fragments = sorted((COLLECTION / "changelogs/fragments").glob("*.yml"))
    released = yaml.safe_load((COLLECTION / "changelogs/changelog.yaml").read_text()).get("releases") or {}
    if fragments:       # unreleased changes are previewed (scripts/docs)
        assert "Not released yet" in text
    assert fragments or released, "neither fragments nor releases: the changelog test has nothing to check"
    config = yaml.safe_load((COLLECTION / "changelogs/config.yaml").read_text())
    shown = {key for key, _title in config["sections"]}     # the trivial section is never shown
    for fragment in fragments:
        for section, entries in (yaml.safe_load(fragment.read_text()) or {}).items():
            if section not in shown:
                continue
            for entry in entries if isinstance(entries, list) else [entries]:
                lead = re.split(r"[`(]", entry)[0]       # the plain words before any markup
                assert re.sub(r"\s+", "", lead) in squashed, f"{fragment.name} ({section}) is not on the page: {lead!r}"


def test_module_page_renders_in_a_browser(pages):
    page = pages / f"{SCREENSHOT_MODULE}_module.html"
    png = _browser.screenshot(page, _browser.screenshot_dir() / f"docs-{SCREENSHOT_MODULE}-module.png")
    figures = _browser.assert_rendered(png)
    assert (figures.width, figures.height) == (1280, 1600)

    dom = _browser.dump_dom(page)
    assert f"echo.platform.{SCREENSHOT_MODULE} module" in dom
    assert 'id="parameter-ip_range"' in dom
    # the theme's stylesheet was applied: the page links it and Chromium loaded it from the site
    assert "_static/css/ansible.css" in dom
