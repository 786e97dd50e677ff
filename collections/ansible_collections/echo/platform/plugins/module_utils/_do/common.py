# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small helpers the DigitalOcean resource files share (no I/O of their own).

Private to the echo.platform collection. Each resource file (``vpc``, ``cluster``, ``database``,
``pool``, ``registry``, ``spaces_key``, ``project``) takes a DoClient, the module's parameters and
``check_mode``, and returns a result dict (``changed``, the resource, ``diff``). In check mode
nothing is written and the predicted resource is returned.
"""

from __future__ import annotations

# seconds between two reads while waiting for a resource (the module may pass another value)
POLL_INTERVAL = 2.0


def wrap_probe(key, finder):
    """probe() for a POST: the found object wrapped like the create response, or None."""
    def probe():
        found = finder()
        return {key: found} if found is not None else None
    return probe


def find_by_name(items, name):
    """The first item named ``name``, or None."""
    for item in items:
        if item.get("name") == name:
            return item
    return None


def diff(before, after):
    """The module's ``diff`` (before/after, never None)."""
    return {"before": before or {}, "after": after or {}}
