# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private files (mode 0600) the modules write: kubeconfigs, key secrets.

Private to the echo.platform collection. The service layers do no file I/O; the modules that
asked for a file call these.
"""

from __future__ import annotations

import os
import tempfile


def private_file_differs(path, content):
    """True unless ``path`` holds exactly ``content`` with mode 0600 (a missing file differs)."""
    path = os.path.expanduser(path)
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read() != content or (os.stat(path).st_mode & 0o777) != 0o600
    except OSError:
        return True


def write_private_file(path, content):
    """Write ``content`` to ``path`` with mode 0600 (atomic). True if the file changed."""
    path = os.path.expanduser(path)
    if not private_file_differs(path, content):
        return False
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".echo-kubeconfig-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True
