"""A TCP relay for the benchmarks: bytes pass through unchanged, and what the server sends is
acknowledged at once (``TCP_QUICKACK``) instead of after the kernel's delayed-ACK timer.

Why: rotel (0.0.1a15) leaves Nagle's algorithm on for the connections its gRPC receiver accepts.
When it has sent a small HTTP/2 frame (a WINDOW_UPDATE, about once per 512 KiB received) its
response then waits for the client's ACK, which Linux delays by ~40 ms: a third of 512-record
requests took 42-47 ms instead of ~1 ms. Through this relay none did. A collector that sets
TCP_NODELAY (the Go OTel Collector does) has no such stall; ``bench_sustained.py`` runs its gRPC
rows both ways. Run: python bench/ack_relay.py LISTEN_PORT TARGET_PORT (prints "ready").
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading


def _pump(src: socket.socket, dst: socket.socket, quick_ack: bool) -> None:
    try:
        while True:
            if quick_ack:  # Linux clears it after an ACK: set it again before every read
                src.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            data = src.recv(262144)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


def main() -> None:
    listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", listen_port))
    listener.listen(16)
    print("ready", flush=True)
    while True:
        client, _ = listener.accept()
        server = socket.create_connection(("127.0.0.1", target_port))
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_pump, args=(client, server, False), daemon=True).start()
        threading.Thread(target=_pump, args=(server, client, True), daemon=True).start()


if __name__ == "__main__":
    main()
