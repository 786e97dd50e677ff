# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# Apache License 2.0 (see LICENSE)
"""Argument specs shared by several modules; each has a doc fragment of the same options.

Private to the echo.platform collection.
"""

from __future__ import annotations

# Mirrors plugins/doc_fragments/wait.py
WAIT_ARG_SPEC = dict(
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=1800),
)
