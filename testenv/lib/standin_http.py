"""The small HTTP base the rehearsal's stand-ins serve with (DigitalOcean, GCP, Loki, participant API).

Each stand-in keeps what its vendor does differently (validation, error envelopes, fault injection);
what is the same lives here once:

- ``Routes``: a route table compiled once, at start-up: (method, anchored regular expression) to a
  handler, matched in the order given.
- ``Handler``: HTTP/1.1 keep-alive, ``TCP_NODELAY`` (headers and body go out in separate writes;
  without it Nagle's algorithm and delayed ACKs stall each keep-alive response by about 40 ms), one
  log line per request only when the server is verbose, ``read_body`` and ``write``: the one place a
  response is written (no body for HEAD).
- ``Server``: a threading server whose request threads do not keep the process alive.

Stand-ins import it with ``sys.path.insert(0, <testenv>/lib)``; it needs nothing beyond the standard
library.
"""

from __future__ import annotations

import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Routes:
    """(method, pattern) -> handler, compiled once; ``match`` returns the handler and the named groups."""

    def __init__(self, table=()):
        self._routes = []
        for method, pattern, handler in table:
            self.add(method, pattern, handler)

    def add(self, method, pattern, handler):
        self._routes.append((method.upper(), re.compile("^%s$" % pattern), handler))

    def match(self, method, path):
        """The first route of ``method`` whose pattern matches all of ``path``: (handler, groups), else (None, {})."""
        for route_method, regex, handler in self._routes:
            if route_method == method:
                found = regex.match(path)
                if found:
                    return handler, found.groupdict()
        return None, {}


class Handler(BaseHTTPRequestHandler):
    """Base request handler: subclasses implement ``dispatch`` and list the methods they serve in ``methods``."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    methods = ("GET", "POST", "PUT", "PATCH", "DELETE")

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if getattr(self.server, "verbose", False):
            sys.stderr.write("%s %s %s\n" % (self.log_date_time_string(), self.address_string(), format % args))

    def read_body(self):
        """The request body as bytes (Content-Length; empty when there is none)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def write(self, status, data=b"", content_type=None, headers=None):
        """Write one complete response: status, Content-Type (when given), Content-Length, ``headers``, body."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def write_json(self, status, obj, content_type="application/json", headers=None):
        self.write(status, json.dumps(obj), content_type, headers)

    def dispatch(self):
        raise NotImplementedError

    def _serve(self):
        if self.command not in self.methods:
            self.send_error(501, "Unsupported method (%r)" % self.command)
            return
        self.dispatch()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, verbose=False, **attributes):
        super().__init__(address, handler)
        self.verbose = verbose
        for name, value in attributes.items():
            setattr(self, name, value)
