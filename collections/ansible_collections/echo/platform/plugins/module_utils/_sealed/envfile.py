# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse .env-style files without mangling values.

Private to the echo.platform collection. Rules:

- blank lines and lines starting with ``#`` are skipped; an optional ``export `` prefix is allowed;
- ``KEY=VALUE`` splits at the first ``=`` only, so values may contain ``=`` (base64 padding, URLs);
- an unquoted value is taken verbatim to the end of the line (surrounding blanks trimmed; ``#``
  inside it is part of the value, there are no inline comments);
- ``'...'`` is literal and may span lines; ``"..."`` may span lines and understands
  ``\\n \\r \\t \\\\ \\"``; after the closing quote only blanks or a ``#`` comment may follow;
- keys are Secret data keys (letters, digits, ``_``, ``-``, ``.``); a repeated key is an error.

Error messages name the line and the key, never the value.
"""

from __future__ import annotations

import re

from ansible_collections.echo.platform.plugins.module_utils._common.errors import ValidationError

KEY_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"'}


def valid_key(name):
    """True when ``name`` can be a Secret data key."""
    return bool(name) and len(name) <= 253 and bool(KEY_RE.match(name)) and name not in (".", "..")


def _fail(source, lineno, why):
    raise ValidationError("Failed to parse %s line %d: %s" % (source, lineno, why))


def _read_quoted(text, pos, quote, source, lineno):
    """Return (value, new_pos) for a quoted value starting after the opening quote at ``pos``."""
    out = []
    start_line = lineno
    while pos < len(text):
        ch = text[pos]
        if ch == quote:
            return "".join(out), pos + 1
        if ch == "\\" and quote == '"' and pos + 1 < len(text):
            nxt = text[pos + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                pos += 2
                continue
        out.append(ch)
        pos += 1
    _fail(source, start_line, "the %s quote opened here is never closed" % ("double" if quote == '"' else "single"))


def parse_env(text, source="values_file"):
    """Parse .env text into an ordered dict {key: value}."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    text = text.replace("\r\n", "\n")
    result = {}
    first_line = {}
    pos = 0
    lineno = 1
    while pos < len(text):
        end = text.find("\n", pos)
        if end < 0:
            end = len(text)
        line = text[pos:end]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            pos = end + 1
            lineno += 1
            continue
        body = line.lstrip()
        offset = pos + (len(line) - len(body))
        if body.startswith("export ") or body.startswith("export\t"):
            rest = body[len("export"):].lstrip()
            offset += len(body) - len(rest)
            body = rest
        eq = body.find("=")
        if eq <= 0:
            _fail(source, lineno, "expected KEY=VALUE (no '=' after a key name)")
        key = body[:eq].strip()
        if not valid_key(key):
            _fail(source, lineno, "%r is not a valid key name (letters, digits, '_', '-', '.')" % key[:60])
        if key in result:
            _fail(source, lineno, "key %s is repeated (first on line %d)" % (key, first_line[key]))
        vpos = offset + eq + 1
        # skip blanks between '=' and the value on this line
        while vpos < end and text[vpos] in " \t":
            vpos += 1
        if vpos < len(text) and text[vpos] in ("'", '"'):
            quote = text[vpos]
            value, after = _read_quoted(text, vpos + 1, quote, source, lineno)
            lines_used = text.count("\n", vpos, after)
            line_end = text.find("\n", after)
            if line_end < 0:
                line_end = len(text)
            tail = text[after:line_end].strip()
            if tail and not tail.startswith("#"):
                _fail(source, lineno + lines_used, "unexpected text after the closing quote of %s" % key)
            result[key] = value
            first_line[key] = lineno
            lineno += lines_used + 1
            pos = line_end + 1
            continue
        result[key] = text[vpos:end].strip()
        first_line[key] = lineno
        pos = end + 1
        lineno += 1
    return result


def quote_env_value(value):
    """Render a value so that parse_env reads it back exactly (used for 0600 exports)."""
    if value == "" or re.search(r"[\s'\"\\#]", value) or value != value.strip():
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
        return '"%s"' % escaped
    return value


def render_env(values):
    """Render {key: value} as .env text, sorted by key."""
    return "".join("%s=%s\n" % (k, quote_env_value(values[k])) for k in sorted(values))
