"""A TLS-terminating HTTPS proxy that sends *.googleapis.com traffic to the local GCP emulator.

Clients set HTTPS_PROXY=http://127.0.0.1:28004 and REQUESTS_CA_BUNDLE=<ca.pem>. For each
CONNECT to a *.googleapis.com host the proxy answers 200, completes a TLS handshake with a leaf
certificate for that host signed by a CA generated at first start (kept in --state-dir), and pipes
the decrypted HTTP to the emulator, which routes on the Host header. Any other CONNECT target is
refused with 403, so nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import ssl
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ALLOWED_SUFFIX = ".googleapis.com"


def _write(path, data, mode=0o600):
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(path + ".tmp", path)


class CertAuthority:
    def __init__(self, state_dir):
        self.state_dir = state_dir
        self.ca_cert_path = os.path.join(state_dir, "ca.pem")
        ca_key_path = os.path.join(state_dir, "ca-key.pem")
        if os.path.exists(self.ca_cert_path) and os.path.exists(ca_key_path):
            with open(ca_key_path, "rb") as handle:
                self.key = serialization.load_pem_private_key(handle.read(), None)
            with open(self.ca_cert_path, "rb") as handle:
                self.cert = x509.load_pem_x509_certificate(handle.read())
        else:
            self.key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "echo.platform testenv GCP proxy CA")])
            start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
            self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                         .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                         .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=30))
                         .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                         .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                                        critical=True)
                         .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()),
                                        critical=False)
                         .sign(self.key, hashes.SHA256()))
            _write(ca_key_path, self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
            _write(self.ca_cert_path, self.cert.public_bytes(serialization.Encoding.PEM), 0o644)
        self.contexts = {}

    def context_for(self, host):
        if host in self.contexts:
            return self.contexts[host]
        key = ec.generate_private_key(ec.SECP256R1())
        start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
                .issuer_name(self.cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=7))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                               critical=False)
                .sign(self.key, hashes.SHA256()))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.set_alpn_protocols(["http/1.1"])
        with tempfile.TemporaryDirectory(dir=self.state_dir) as tmp:
            cert_path = os.path.join(tmp, "leaf.pem")
            key_path = os.path.join(tmp, "leaf-key.pem")
            _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
            _write(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
            ctx.load_cert_chain(cert_path, key_path)
        self.contexts[host] = ctx
        return ctx


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
        pass
    finally:
        try:
            writer.close()
        except Exception:  # pylint: disable=broad-except
            pass


async def handle(reader, writer, ca, upstream):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        writer.close()
        return
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split()
    if len(parts) != 3 or parts[0] != "CONNECT":
        writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()
        return
    host, _, port = parts[1].rpartition(":")
    host = host.lower()
    if not host.endswith(ALLOWED_SUFFIX) or port != "443":
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()
        return
    writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
    await writer.drain()
    try:
        await writer.start_tls(ca.context_for(host))
    except (ssl.SSLError, ConnectionError, OSError) as exc:
        print("TLS handshake for %s failed: %s" % (host, exc), flush=True)
        writer.close()
        return
    try:
        up_reader, up_writer = await asyncio.open_connection(*upstream)
    except OSError as exc:
        print("emulator unreachable: %s" % exc, flush=True)
        writer.close()
        return
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def serve(args):
    ca = CertAuthority(args.state_dir)
    upstream = (args.upstream_host, args.upstream_port)
    server = await asyncio.start_server(lambda r, w: handle(r, w, ca, upstream), args.listen, args.port)
    print("gcp proxy on %s:%d -> %s:%d, CA %s" % (args.listen, args.port, upstream[0], upstream[1],
                                                   ca.ca_cert_path), flush=True)
    async with server:
        await server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=28004)
    parser.add_argument("--upstream-host", default="127.0.0.1")
    parser.add_argument("--upstream-port", type=int, default=28003)
    parser.add_argument("--state-dir", required=True)
    args = parser.parse_args()
    os.makedirs(args.state_dir, exist_ok=True)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
