#!/usr/bin/python3
"""A recording TCP relay for the specs (stdlib only, loopback only).

    /usr/bin/python3 spec/support/tap.py TARGET_PORT CAPTURE_DIR [LIFETIME]

Listens on 127.0.0.1 (a free port, printed alone on the first stdout line),
and relays every connection to 127.0.0.1:TARGET_PORT, both ways, byte for
byte. Every byte a client sends is written to CAPTURE_DIR/N.in (N = 1, 2, ...
in order of accept) before it is relayed, so once the client has its answer
the capture holds what it sent. spec/helpers/proxy.lua puts it in front of a
real proxy to see exactly what the proxy receives.

Exits 0 on SIGTERM or after LIFETIME seconds (default 120).
"""
import os
import signal
import socket
import sys
import threading


def pump(src, dst, record=None):
    """Copy src to dst until src ends (each piece written to record first), then end dst's half."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if record is not None:
                record.write(data)
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def relay(client, n, target_port, capture_dir):
    try:
        upstream = socket.create_connection(("127.0.0.1", target_port), timeout=10)
    except OSError:
        client.close()
        return
    upstream.settimeout(None)
    path = os.path.join(capture_dir, "%d.in" % n)

    def client_to_upstream():
        with open(path, "ab", buffering=0) as cap:
            pump(client, upstream, cap)

    up = threading.Thread(target=client_to_upstream, daemon=True)
    down = threading.Thread(target=pump, args=(upstream, client), daemon=True)
    up.start()
    down.start()
    up.join()
    down.join()
    client.close()
    upstream.close()


def main():
    target_port = int(sys.argv[1])
    capture_dir = sys.argv[2]
    lifetime = float(sys.argv[3]) if len(sys.argv) > 3 else 120.0
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if lifetime > 0:
        timer = threading.Timer(lifetime, lambda: os._exit(0))
        timer.daemon = True
        timer.start()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(128)
    print(srv.getsockname()[1], flush=True)
    n = 0
    while True:
        client, _ = srv.accept()
        n += 1
        # the capture file exists from the accept on, even before the first byte
        open(os.path.join(capture_dir, "%d.in" % n), "ab").close()
        threading.Thread(target=relay, args=(client, n, target_port, capture_dir), daemon=True).start()


if __name__ == "__main__":
    main()
