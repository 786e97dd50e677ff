"""Serve bare git repositories over smart HTTP on loopback with git's own `git http-backend`.

This is not a git server of ours: every request is handed to `git http-backend` (the CGI program
git ships) exactly as a web server would hand it over (RFC 3875 variables, the request body on
stdin, the CGI response headers turned into an HTTP status line). This file only does the
CGI-to-HTTP plumbing a web server does, because Debian's web servers are heavier than the job
and Python's own CGI handler is deprecated.

    python git_http.py --root DIR --port PORT [--bind 127.0.0.1]

Every repository under DIR is exported (GIT_HTTP_EXPORT_ALL); pushes are accepted only where the
bare repository sets `http.receivepack true` (git http-backend's own rule for anonymous users).
Credentials that clients send (Argo CD sends the repository Secret's username/password as
basic auth) are accepted without checking: the server listens on loopback only.

Requests with `Transfer-Encoding: chunked` (git sends large pushes that way) are de-chunked;
`Content-Encoding: gzip` bodies are passed through, http-backend inflates them itself.
"""

import argparse
import http.server
import os
import shutil
import subprocess
import sys
import threading
import urllib.parse


def read_body(rfile, headers):
    """The request body: Content-Length bytes, or the de-chunked body."""
    if headers.get("Transfer-Encoding", "").lower() == "chunked":
        parts = []
        while True:
            line = rfile.readline()
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                # trailers end with an empty line
                while rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(rfile.read(size))
            rfile.readline()  # CRLF after each chunk
    length = int(headers.get("Content-Length") or 0)
    return rfile.read(length) if length else b""


def cgi_environ(handler, root):
    """The CGI variables git http-backend reads (see git-http-backend(1))."""
    path, _, query = handler.path.partition("?")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_PROJECT_ROOT": root,
        "GIT_HTTP_EXPORT_ALL": "1",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SOFTWARE": "echo-testenv-git-http",
        "REQUEST_METHOD": handler.command,
        "PATH_INFO": urllib.parse.unquote(path),
        "QUERY_STRING": query,
        "REMOTE_ADDR": handler.client_address[0],
        "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
    }
    for header in ("Content-Encoding", "Git-Protocol"):
        value = handler.headers.get(header)
        if value:
            env["HTTP_" + header.upper().replace("-", "_")] = value
    return env


class Handler(http.server.BaseHTTPRequestHandler):
    root = "."
    protocol_version = "HTTP/1.0"  # one request per connection; the body ends at close

    def _run(self):
        body = read_body(self.rfile, self.headers) if self.command == "POST" else b""
        env = cgi_environ(self, self.root)
        env["CONTENT_LENGTH"] = str(len(body))
        proc = subprocess.Popen(
            ["git", "http-backend"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        feeder = threading.Thread(target=self._feed, args=(proc.stdin, body), daemon=True)
        feeder.start()
        status, headers = "200 OK", []
        while True:
            line = proc.stdout.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").rstrip("\r\n").partition(":")
            if name.lower() == "status":
                status = value.strip()
            else:
                headers.append((name, value.strip()))
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason or None)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        shutil.copyfileobj(proc.stdout, self.wfile, 64 * 1024)
        feeder.join()
        err = proc.stderr.read()
        rc = proc.wait()
        if rc or err:
            self.log_message("http-backend rc=%s %s", rc, err.decode(errors="replace").strip())

    @staticmethod
    def _feed(pipe, body):
        try:
            pipe.write(body)
        except BrokenPipeError:
            pass
        finally:
            pipe.close()

    do_GET = _run
    do_POST = _run

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="folder holding the bare repositories")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bind", default="127.0.0.1")
    args = parser.parse_args(argv)
    Handler.root = os.path.abspath(args.root)
    server = http.server.ThreadingHTTPServer((args.bind, args.port), Handler)
    server.daemon_threads = True
    sys.stderr.write("serving %s on http://%s:%d/\n" % (Handler.root, args.bind, args.port))
    server.serve_forever()


if __name__ == "__main__":
    main()
