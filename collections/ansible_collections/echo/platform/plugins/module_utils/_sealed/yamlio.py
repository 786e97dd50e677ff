# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read and atomically write manifest files with stable formatting.

Private to the echo.platform collection.
"""

from __future__ import annotations

import os
import tempfile

from ansible_collections.echo.platform.plugins.module_utils._common.errors import ValidationError

try:
    import yaml
    HAS_YAML = True
    _Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    _Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
except ImportError:  # pragma: no cover
    HAS_YAML = False


def dump_yaml(data):
    """Block-style YAML with sorted keys and no line wrapping (long base64 stays on one line)."""
    return yaml.dump(data, Dumper=_Dumper, default_flow_style=False, sort_keys=True, width=1 << 30,
                     allow_unicode=False)


def load_manifest_file(path):
    """Parsed manifest (YAML or JSON) or None when the file does not exist."""
    if not os.path.exists(path):
        return None
    with open(path, "rb") as handle:
        text = handle.read()
    try:
        return yaml.load(text, Loader=_Loader)  # nosec - a safe loader
    except yaml.YAMLError as exc:
        raise ValidationError("Failed to read %s: not valid YAML/JSON (%s)" % (path, getattr(exc, "problem", exc)))


def atomic_write(path, text, mode=0o644):
    """Write ``text`` next to ``path`` then rename over it: readers see old or new, never half."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
