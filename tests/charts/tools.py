"""Locating promtool/amtool for the chart tests.

promtool must understand `kubernetes_sd_configs`: Debian's build leaves Kubernetes service discovery
out, so tests/charts/build-promtool builds the upstream promtool from the Go module proxy into
$ECHO_CACHE_DIR/bin (default ~/.cache/echo-platform/bin), which is searched first.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CACHE_BIN = Path(os.environ.get("ECHO_CACHE_DIR", Path.home() / ".cache" / "echo-platform")) / "bin"


def find_tool(name: str, hint: str) -> str:
    for cand in (os.environ.get(name.upper()), str(CACHE_BIN / name), shutil.which(name)):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    pytest.fail(f"{name} not found ({hint})")
