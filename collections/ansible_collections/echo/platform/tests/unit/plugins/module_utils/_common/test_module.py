# -*- coding: utf-8 -*-
"""EchoModule.run: one ending for every module (exit_json and fail_json replaced, as in
ansible's own module unit tests)."""

from __future__ import annotations

from unittest import mock

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.echo.platform.plugins.module_utils._common.errors import DoError, WaitTimeout
from ansible_collections.echo.platform.plugins.module_utils._common.module import EchoModule


class ModuleEnded(Exception):
    """The module ended; ``result`` holds the keyword arguments of the call."""

    def __init__(self, result):
        super().__init__(result)
        self.result = result


class ExitJson(ModuleEnded):
    """exit_json was called."""


class FailJson(ModuleEnded):
    """fail_json was called."""


def _exit(self, **result):  # pylint: disable=unused-argument
    raise ExitJson(result)


def _fail(self, **result):  # pylint: disable=unused-argument
    raise FailJson(result)


@pytest.fixture
def make_module():
    """make_module(**args): an EchoModule with ``args`` (e.g. _ansible_diff) and a recorded warn()."""
    with mock.patch.multiple(EchoModule, exit_json=_exit, fail_json=_fail):
        def make(**args):
            with patch_module_args(args):
                module = EchoModule(dict(name=dict(type="str")), supports_check_mode=True)
            module.warn = mock.Mock()
            return module
        yield make


def test_success_passes_the_arguments_and_returns_the_result(make_module):
    module = make_module(name="v")
    service = mock.Mock(return_value={"changed": True, "vpc": {"name": "v"}})
    with pytest.raises(ExitJson) as exited:
        module.run(service, "client", module.params, check_mode=False)
    service.assert_called_once_with("client", module.params, check_mode=False)
    assert exited.value.result == {"changed": True, "vpc": {"name": "v"}}
    module.warn.assert_not_called()


def test_echo_error_fails_once_with_message_status_and_partial_result(make_module):
    module = make_module()
    error = DoError("Failed to create VPC v: quota exceeded (HTTP 422)", status=422, result={"vpc": {"name": "v"}})

    def service():
        raise error

    with pytest.raises(FailJson) as failed:
        module.run(service)
    assert failed.value.result == {"msg": "Failed to create VPC v: quota exceeded (HTTP 422)", "status": 422,
                                   "vpc": {"name": "v"}}


def test_wait_timeout_fails_with_the_last_state_seen(make_module):
    module = make_module()

    def service():
        raise WaitTimeout("Timed out after 10s waiting for cluster c to run", last={"status": "provisioning"})

    with pytest.raises(FailJson) as failed:
        module.run(service)
    assert failed.value.result == {"msg": "Timed out after 10s waiting for cluster c to run",
                                   "last_seen": {"status": "provisioning"}}


def test_other_errors_are_not_caught(make_module):
    module = make_module()
    with pytest.raises(KeyError):
        module.run(mock.Mock(side_effect=KeyError("name")))


@pytest.mark.parametrize("diff_mode", [False, True])
def test_diff_is_returned_only_in_diff_mode(make_module, diff_mode):
    module = make_module(_ansible_diff=diff_mode)
    diff = {"before": {}, "after": {"name": "v"}}
    with pytest.raises(ExitJson) as exited:
        module.run(lambda: {"changed": True, "diff": dict(diff)})
    assert ("diff" in exited.value.result) is diff_mode
    if diff_mode:
        assert exited.value.result["diff"] == diff


def test_warnings_are_emitted_and_left_out_of_the_result(make_module):
    module = make_module()
    with pytest.raises(ExitJson) as exited:
        module.run(lambda: {"changed": False, "warnings": ["first", "second"]})
    assert module.warn.call_args_list == [mock.call("first"), mock.call("second")]
    assert exited.value.result == {"changed": False}


def test_an_empty_warning_list_is_dropped_and_the_rest_returned(make_module):
    module = make_module(_ansible_diff=True)
    with pytest.raises(ExitJson) as exited:
        module.run(lambda: {"changed": False, "exists": True, "warnings": []})
    assert exited.value.result == {"changed": False, "exists": True}
    module.warn.assert_not_called()
