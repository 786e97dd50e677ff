# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters shared by the layer playbooks."""

from __future__ import annotations

from ansible_collections.echo.platform.plugins.module_utils._common.preflight import layers_for_tags


class FilterModule:
    """echo.platform layer filters."""

    def filters(self):
        return {"layers_for_tags": layers_for_tags}
