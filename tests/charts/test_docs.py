"""values.schema.json and README value tables stay generated from values.yaml; every value is documented."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from chartlib import REPO

sys.path.insert(0, str(REPO / "tests" / "charts"))
import chart_tools  # noqa: E402


def test_generated_files_are_current():
    proc = subprocess.run([sys.executable, str(REPO / "tests/charts/chart_tools.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + " -> run: .venv/bin/python tests/charts/chart_tools.py"


@pytest.mark.parametrize("chart", chart_tools.CHARTS)
def test_every_value_is_documented(chart):
    values = yaml.safe_load((REPO / "charts" / chart / "values.yaml").read_text())
    documented = {path for path, _ in chart_tools.documented_keys(chart)}
    missing = []
    for leaf in chart_tools.leaf_paths(values):
        parts = leaf.split(".")
        if not any(".".join(parts[:i]) in documented for i in range(1, len(parts) + 1)):
            missing.append(leaf)
    assert not missing, f"values without a `# --` comment in charts/{chart}/values.yaml: {missing}"


@pytest.mark.parametrize("chart", chart_tools.CHARTS)
def test_readme_lists_every_documented_key(chart):
    readme = (REPO / "charts" / chart / "README.md").read_text()
    for path, _ in chart_tools.documented_keys(chart):
        assert f"| `{path}` |" in readme


@pytest.mark.parametrize("chart", chart_tools.CHARTS)
def test_env_values_files_exist_with_expected_names(chart):
    for env in ("dev", "testing", "prod", "local"):
        assert (REPO / "charts" / chart / f"values-{env}.yaml").is_file()


@pytest.mark.parametrize("chart", chart_tools.CHARTS)
def test_chart_metadata(chart):
    meta = yaml.safe_load((REPO / "charts" / chart / "Chart.yaml").read_text())
    assert meta["apiVersion"] == "v2" and meta["version"] == "1.1.0" and meta["kubeVersion"] == ">=1.30.0-0"
    assert "artifacthub.io/changes" in meta["annotations"]
    assert "dependencies" not in meta, "no remote chart dependencies (no Helm repositories here)"
