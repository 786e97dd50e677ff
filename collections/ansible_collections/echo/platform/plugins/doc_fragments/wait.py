# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options of plugins/module_utils/_common/argspec.py WAIT_ARG_SPEC
    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Wait until the resource reaches its ready state before returning.
      - Ignored in check mode.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait when O(wait=true). On timeout the module fails and returns the last state seen.
    type: int
    default: 1800
"""
