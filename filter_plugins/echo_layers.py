# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""This repository's own filter (found through ansible.cfg): which of ECHO's layers a run touches.

``layers_for_tags(ansible_run_tags, ansible_skip_tags)``: ``all`` selects every layer, ``provision``
selects ``do`` and ``gcp``; the result is sorted. The preflight play uses it to ask only for the
credentials of the layers the run selects.
"""

from __future__ import annotations


def layers_for_tags(run_tags, skip_tags=()):
    """The layers a run touches, from ansible_run_tags / ansible_skip_tags."""
    all_layers = ("do", "gcp", "bootstrap", "secrets", "deploy", "dns")
    tags = set(run_tags or ["all"])
    if "all" in tags:
        selected = set(all_layers)
    else:
        selected = set(t for t in all_layers if t in tags)
        if "provision" in tags:
            selected.update(("do", "gcp"))
    selected.difference_update(skip_tags or ())
    if "provision" in (skip_tags or ()):
        selected.difference_update(("do", "gcp"))
    return sorted(selected)


class FilterModule:
    """The repository's layer filter."""

    def filters(self):
        return {"layers_for_tags": layers_for_tags}
