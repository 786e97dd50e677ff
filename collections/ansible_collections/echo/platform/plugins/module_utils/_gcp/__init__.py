# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# Apache License 2.0 (see LICENSE)
"""Google Cloud helpers. Private to the echo.platform collection: no compatibility promise."""
