# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection of the DigitalOcean modules, in the shape every API of the collection has: ``ARG_SPEC`` (the
options, documented by a doc fragment) and ``client_from_module(module)`` (the client those options describe).

Private to the echo.platform collection. ARG_SPEC mirrors the DOCUMENTATION of plugins/doc_fragments/do_auth.py
(fragment echo.platform.do_auth); SPACES_ARG_SPEC, the S3 side of Spaces, its SPACES (echo.platform.do_auth.spaces).
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

ARG_SPEC = dict(
    api_url=dict(type="str", default="https://api.digitalocean.com",
                 fallback=(env_fallback, ["DIGITALOCEAN_API_URL"])),
    api_token=dict(type="str", no_log=True, aliases=["oauth_token"],
                   fallback=(env_fallback, ["DIGITALOCEAN_TOKEN", "DO_API_TOKEN"])),
    api_timeout=dict(type="int", default=60),
)

SPACES_ARG_SPEC = dict(
    spaces_endpoint=dict(type="str", default="https://ams3.digitaloceanspaces.com",
                         fallback=(env_fallback, ["SPACES_ENDPOINT"])),
    spaces_region=dict(type="str", default="ams3"),
    spaces_access_key_id=dict(type="str", no_log=False,
                              fallback=(env_fallback, ["SPACES_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"])),
    spaces_secret_access_key=dict(type="str", no_log=True,
                                  fallback=(env_fallback, ["SPACES_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"])),
)


def client_from_module(module):
    """A DoClient for the module's connection options (imported late: pydo is optional for sanity)."""
    from ansible_collections.echo.platform.plugins.module_utils._do.client import DoClient

    params = module.params
    return DoClient(api_url=params["api_url"], token=params.get("api_token"), timeout=params["api_timeout"])
