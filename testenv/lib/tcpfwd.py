"""Minimal TCP forwarder for the rehearsal environment (stdlib only).

    python tcpfwd.py LISTEN_HOST:PORT TARGET_HOST:PORT

Forwards every connection accepted on LISTEN to TARGET, both directions, until either side
closes. Used to make a service that runs inside the testenv network namespace reachable on a
host loopback port as well. Stops on SIGTERM/SIGINT.
"""

import asyncio
import signal
import sys


def split(addr):
    host, _, port = addr.rpartition(":")
    return host, int(port)


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except OSError:
            pass


async def main(listen, target):
    thost, tport = split(target)

    async def handle(reader, writer):
        try:
            treader, twriter = await asyncio.wait_for(asyncio.open_connection(thost, tport), 10)
        except (OSError, asyncio.TimeoutError):
            writer.close()
            return
        await asyncio.gather(pipe(reader, twriter), pipe(treader, writer))

    lhost, lport = split(listen)
    server = await asyncio.start_server(handle, lhost, lport, reuse_address=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"forwarding {listen} -> {target}", flush=True)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: tcpfwd.py LISTEN_HOST:PORT TARGET_HOST:PORT")
    asyncio.run(main(sys.argv[1], sys.argv[2]))
