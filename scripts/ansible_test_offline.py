"""Write the offline stand-in for the pip bootstrap script that ansible-test downloads.

ansible-test bootstraps pip in each sanity venv by running get-pip-<ver>.py, which it fetches from a
host this machine cannot reach; it first looks for a cached copy under ~/.ansible/test/cache. The
stand-in bootstraps pip with ensurepip and then installs the requested packages with pip, so the
machine's pip configuration (indexes, certificates) is used.
"""

import pathlib
import re
import sys

import ansible_test

STAND_IN = '''\
"""Offline stand-in for get-pip.py, written by echo.platform's scripts/ansible_test_offline.py."""
import os
import subprocess
import sys


def main():
    env = dict(os.environ)
    # ensurepip hides pip's configuration in its own process; never let that leak into the install.
    env.pop("PIP_CONFIG_FILE", None)
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], env=env)
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    env.pop("PIP_CONFIG_FILE", None)
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args, env=env)


if __name__ == "__main__":
    main()
'''


def main():
    src = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
    match = re.search(r"pip='([0-9.]+)'", src.read_text())
    if not match:
        sys.exit("[setup] ERROR: cannot find the pip version ansible-test bootstraps in %s" % src)
    version = match.group(1)
    target = pathlib.Path.home() / ".ansible" / "test" / "cache" / ("get_pip_%s.py" % version.replace(".", "_"))
    if target.exists() and target.read_text() == STAND_IN:
        print("[setup] ansible-test offline pip bootstrap present (pip %s)" % version)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(STAND_IN)
    print("[setup] wrote ansible-test offline pip bootstrap for pip %s" % version)


if __name__ == "__main__":
    main()
