# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection of the GCP modules, in the collection's one shape: ``ARG_SPEC`` (the options; doc fragment
echo.platform.gcp_auth) and ``client_from_module(module)`` (a GcpClient with the credentials they describe).

Private to the echo.platform collection.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

from ansible_collections.echo.platform.plugins.module_utils._gcp.auth import AUTH_KINDS, CLOUD_PLATFORM_SCOPE

ARG_SPEC = dict(
    project=dict(type="str", required=True, fallback=(env_fallback, ["GCP_PROJECT"])),
    auth_kind=dict(type="str", default="application", choices=list(AUTH_KINDS), fallback=(env_fallback, ["GCP_AUTH_KIND"])),
    service_account_file=dict(type="path", fallback=(env_fallback, ["GCP_SERVICE_ACCOUNT_FILE"])),
    service_account_contents=dict(type="jsonarg", no_log=True, fallback=(env_fallback, ["GCP_SERVICE_ACCOUNT_CONTENTS"])),
    access_token=dict(type="str", no_log=True, fallback=(env_fallback, ["GCP_ACCESS_TOKEN"])),
    scopes=dict(type="list", elements="str", default=[CLOUD_PLATFORM_SCOPE]),
)


def client_from_module(module):
    """A GcpClient authenticated as the module's options say."""
    from ansible_collections.echo.platform.plugins.module_utils._gcp import auth
    from ansible_collections.echo.platform.plugins.module_utils._gcp.client import GcpClient

    params = module.params
    creds = auth.credentials(params["auth_kind"], params.get("service_account_file"), params.get("service_account_contents"),
                             params.get("access_token"), params.get("scopes"))
    return GcpClient(auth.session(creds))
