"""Check that the installed collections satisfy requirements.yml (no Galaxy access needed).

Collections come from the `ansible` PyPI package in the venv; requirements.yml stays the list for
users who install from Galaxy. Exits non-zero naming each missing or too-old collection.
"""

import json
import pathlib
import sys

import yaml
from ansible.galaxy.dependency_resolution.versioning import meets_requirements


def installed_versions():
    found = {}
    for entry in sys.path:
        base = pathlib.Path(entry) / "ansible_collections"
        if not base.is_dir():
            continue
        for manifest in base.glob("*/*/MANIFEST.json"):
            info = json.loads(manifest.read_text())["collection_info"]
            found.setdefault("%s.%s" % (info["namespace"], info["name"]), info["version"])
    return found


def main(path):
    wanted = yaml.safe_load(pathlib.Path(path).read_text()).get("collections", [])
    have = installed_versions()
    problems = []
    for item in wanted:
        name, spec = item["name"], str(item.get("version", "*"))
        version = have.get(name)
        if version is None:
            problems.append("%s is not installed (required %s)" % (name, spec))
        elif not meets_requirements(version, spec):
            problems.append("%s %s does not satisfy %s" % (name, version, spec))
        else:
            print("[setup]   %s %s (wants %s)" % (name, version, spec))
    if problems:
        sys.exit("[setup] ERROR: " + "; ".join(problems) + ". Fix: re-run 'make setup' (pins ansible==14.x).")


if __name__ == "__main__":
    main(sys.argv[1])
