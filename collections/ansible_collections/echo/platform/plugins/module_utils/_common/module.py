# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EchoModule: the AnsibleModule every echo.platform module uses.

Private to the echo.platform collection. It merges shared argument specs, registers derived
secrets as no-log values, turns one EchoError into one failure (``fail_from_error``) and ends
every module the same way (``run``).
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.echo.platform.plugins.module_utils._common.errors import EchoError


def merge_argument_specs(*specs):
    """Merge argument spec dicts; later ones win on name clashes."""
    merged = {}
    for spec in specs:
        merged.update(spec or {})
    return merged


class EchoModule(AnsibleModule):
    """AnsibleModule with the collection's error handling and secret hygiene."""

    def __init__(self, argument_spec, shared_specs=(), **kwargs):
        super().__init__(argument_spec=merge_argument_specs(*(list(shared_specs) + [argument_spec])), **kwargs)

    def add_secret(self, value):
        """Never print ``value`` (or its string form) in any output of this module."""
        if value is None:
            return
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        value = str(value)
        if value:
            self.no_log_values.add(value)

    def fail_from_error(self, exc, **extra):
        """One failure for one EchoError (message, API status, partial result)."""
        result = {}
        if isinstance(exc, EchoError):
            result.update(exc.to_result())
        result.update(extra)
        self.fail_json(msg=str(exc), **result)

    def run(self, func, *args, **kwargs):
        """End the module with the result of ``func(*args, **kwargs)``; never returns.

        An EchoError becomes one failure (its message, API status and partial result). On success
        the result's ``warnings`` are emitted with ``warn``, its ``diff`` is dropped unless the
        task runs with ``--diff``, and the rest is returned with ``exit_json``. Build API clients
        inside ``func`` (a lambda will do), so that their errors fail the same way.
        """
        try:
            result = func(*args, **kwargs)
        except EchoError as exc:
            self.fail_from_error(exc)
        for warning in result.pop("warnings", None) or []:
            self.warn(warning)
        if not self._diff:
            result.pop("diff", None)
        self.exit_json(**result)
