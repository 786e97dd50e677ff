# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options of plugins/module_utils/_do/argspec.py ARG_SPEC
    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Base URL of the DigitalOcean API.
      - Point it at a local emulator (for example V(http://127.0.0.1:28001)) for rehearsals; plain C(http) is accepted.
      - If not set, the environment variable E(DIGITALOCEAN_API_URL) is used, then the default.
    type: str
    default: https://api.digitalocean.com
  api_token:
    description:
      - DigitalOcean API token (a personal access token with the scopes the module needs).
      - If not set, the environment variables E(DIGITALOCEAN_TOKEN) and then E(DO_API_TOKEN) are used.
      - The module fails before any API call when no token is found.
    type: str
    aliases: [oauth_token]
  api_timeout:
    description:
      - Connect and read timeout of each API request, in seconds.
      - Throttled (HTTP 429) and failed (5xx) requests are retried with backoff that honours C(Retry-After)
        and C(ratelimit-reset); a create is retried only when the API proves nothing was created.
    type: int
    default: 60
requirements:
  - pydo
"""

    SPACES = r"""
options:
  spaces_endpoint:
    description:
      - S3 endpoint of DigitalOcean Spaces (or of a local S3 stand-in for rehearsals).
      - If not set, the environment variable E(SPACES_ENDPOINT) is used, then the default.
    type: str
    default: https://ams3.digitaloceanspaces.com
  spaces_region:
    description:
      - Spaces region (the S3 location constraint).
    type: str
    default: ams3
  spaces_access_key_id:
    description:
      - Access key id of a Spaces key allowed to manage buckets.
      - If not set, E(SPACES_ACCESS_KEY_ID) and then E(AWS_ACCESS_KEY_ID) are used.
    type: str
  spaces_secret_access_key:
    description:
      - Secret of that Spaces key.
      - If not set, E(SPACES_SECRET_ACCESS_KEY) and then E(AWS_SECRET_ACCESS_KEY) are used.
    type: str
requirements:
  - boto3
"""
