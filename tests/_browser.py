"""Headless Chromium for tests that must see a page as a person would: Debian's `chromium`
(scripts/apt-packages.txt), a screenshot or the DOM after the page's scripts ran, and the pixel
figures that tell a rendered page from a blank or broken one.

Used by tests/docs (the collection's documentation site) and tests/e2e/test_load_test_playbook.py
(k6's HTML report). Pages are opened as file:// URLs; nothing is fetched from the network.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest
from PIL import Image

TIMEOUT = 120          # seconds for one Chromium run (its start-up on 2 busy cores included)
# the page's timers and scripts run in virtual time, so a chart drawn after a delay is drawn
# before the screenshot or DOM dump, however slow the machine is
VIRTUAL_TIME_MS = 5000


def screenshot_dir() -> pathlib.Path:
    """Where tests keep their screenshots for a person to look at: beside the junit reports of
    scripts/test (ECHO_TEST_REPORTS, default .test-reports/), in screenshots/."""
    repo = pathlib.Path(__file__).resolve().parents[1]
    shots = pathlib.Path(os.environ.get("ECHO_TEST_REPORTS") or repo / ".test-reports") / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    return shots


def chromium() -> str:
    """The Chromium binary; the test fails (never skips) without it: `make setup` installs it."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("chromium is not installed: run `make setup` (scripts/apt-packages.txt lists it)")
    return path


def _run(url: str, *flags: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        cmd = [chromium(), "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
               "--disable-extensions", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--hide-scrollbars", "--user-data-dir=%s" % profile,
               "--virtual-time-budget=%d" % VIRTUAL_TIME_MS, *flags, url]
        if os.geteuid() == 0:
            cmd.insert(1, "--no-sandbox")    # Chromium's sandbox refuses to run as root (CI containers)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert proc.returncode == 0, "chromium failed on %s (rc %d):\n%s" % (url, proc.returncode, proc.stderr[-3000:])
    return proc


def screenshot(page: pathlib.Path, out: pathlib.Path, width: int = 1280, height: int = 1600) -> pathlib.Path:
    """A PNG of the top width x height pixels of the page file, written to out."""
    out.unlink(missing_ok=True)
    _run(page.resolve().as_uri(), "--screenshot=%s" % out, "--window-size=%d,%d" % (width, height))
    assert out.is_file() and out.stat().st_size > 0, "chromium wrote no screenshot of %s" % page
    return out


def dump_dom(page: pathlib.Path) -> str:
    """The DOM of the page file after its scripts ran (serialised HTML)."""
    return _run(page.resolve().as_uri(), "--dump-dom").stdout


@dataclasses.dataclass
class Pixels:
    width: int
    height: int
    colours: int          # distinct colours
    non_white: float      # fraction of pixels that are not (near) white
    dominant: float       # fraction of the most common colour


def pixels(png: pathlib.Path) -> Pixels:
    """Figures of a screenshot; Image.open fails on a file that is not a PNG."""
    with Image.open(png) as img:
        assert img.format == "PNG", "%s is %s, not a PNG" % (png, img.format)
        rgb = img.convert("RGB")
    width, height = rgb.size
    counts = rgb.getcolors(maxcolors=width * height)
    total = width * height
    white = sum(n for n, (r, g, b) in counts if min(r, g, b) >= 245)
    return Pixels(width=width, height=height, colours=len(counts), non_white=1 - white / total,
                  dominant=max(n for n, _ in counts) / total)


def assert_rendered(png: pathlib.Path, min_colours: int = 50, min_non_white: float = 0.05) -> Pixels:
    """The screenshot shows a rendered page: many colours (text, antialiasing, styling), a fair share
    of it not white, and no single colour covering nearly all of it (a blank or error page)."""
    figures = pixels(png)
    assert figures.colours >= min_colours, "%s looks blank: %s" % (png, figures)
    assert figures.non_white >= min_non_white, "%s is (nearly) all white: %s" % (png, figures)
    assert figures.dominant < 0.95, "%s is (nearly) one colour: %s" % (png, figures)
    return figures
