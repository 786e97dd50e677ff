# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one wait loop: poll ``read()`` until ``predicate(state)`` holds or time runs out.

Private to the echo.platform collection. Each API package supplies pure predicates
(for example ``cluster_running(state)``); this loop is the only place that sleeps while waiting.
"""

from __future__ import annotations

import time

from ansible_collections.echo.platform.plugins.module_utils._common.errors import WaitTimeout


def wait_for(read, predicate, timeout, interval=5.0, what="resource", sleep=time.sleep, clock=time.monotonic,
             failed=None):
    """Return the first state for which ``predicate`` is true.

    ``failed(state)`` may return a reason string to stop early (a terminal error state).
    Raises WaitTimeout holding the last state seen when ``timeout`` seconds pass.
    """
    start = clock()
    last = None
    while True:
        last = read()
        if predicate(last):
            return last
        if failed is not None:
            reason = failed(last)
            if reason:
                raise WaitTimeout("Failed to wait for %s: %s" % (what, reason), last=last, elapsed=clock() - start)
        elapsed = clock() - start
        if elapsed >= timeout:
            raise WaitTimeout("Timed out after %.0fs waiting for %s" % (elapsed, what), last=last, elapsed=elapsed)
        sleep(min(interval, max(0.0, timeout - elapsed)))
