# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Attributes shared by echo.platform modules.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
"""

    # Read-only modules (the _info style) always report unchanged.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
"""

    # Modules that change something, with full check mode and diff support.
    FULL = r"""
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

    # Members of the echo.platform.do action group (meta/runtime.yml).
    DO_ACTION_GROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/echo.platform.do) in C(module_defaults) to set the API URL and token once.
    support: full
    membership:
      - echo.platform.do
"""

    # Members of the echo.platform.gcp action group (meta/runtime.yml).
    GCP_ACTION_GROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/echo.platform.gcp) in C(module_defaults) to set the project and credentials once.
    support: full
    membership:
      - echo.platform.gcp
"""

    # Members of the echo.platform.sealed action group (meta/runtime.yml).
    SEALED_ACTION_GROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/echo.platform.sealed) in C(module_defaults) to set the cluster connection once.
    support: full
    membership:
      - echo.platform.sealed
"""
