# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs shared by several modules; each has a doc fragment of the same options.

Private to the echo.platform collection.
"""

from __future__ import annotations

# Mirrors plugins/doc_fragments/wait.py
WAIT_ARG_SPEC = dict(
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=1800),
)
