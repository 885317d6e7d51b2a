#!/usr/bin/env python3
"""A local test server for the health-check agent's integration tests: a well-behaved
HTTP(S) service and the misbehaving ones the agent must survive. Binds 127.0.0.1 on
a free port and writes the port to --port-file. Loopback only.

modes:
  ok          HTTP/1.1 with keep-alive; "/" -> 200 "ok up v1", "/fail" -> 503,
              "/redirect" -> 302 to "/", "/__stats" -> JSON counts of connections
              and requests (served on a fresh connection each time)
  garbage     answers any request with a line that is not HTTP, then closes
  bigheader   a 200 status line followed by a 100 KB header
  chunked     a chunked body that never ends
  slowdrip    the status line, one byte every 200 ms
  silent      accepts, reads the request, never answers
  tcp-banner  sends "+READY hc\\r\\n" on connect, answers "PING" with "+PONG"
"""
import argparse
import json
import os
import socket
import ssl
import sys
import threading
import time

stats = {"connections": 0, "requests": 0}
stats_lock = threading.Lock()


def read_request(conn):
    """Reads one request head; returns (method, path) or None at EOF. Bounded."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > 65536:
            return None
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split()
    if len(parts) < 2:
        return ("?", "/")
    return (parts[0], parts[1])


def respond(conn, status, body, extra=""):
    reason = {200: "OK", 302: "Found", 503: "Service Unavailable"}.get(status, "X")
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n{extra}\r\n")
    conn.sendall(head.encode() + body)


def mode_ok(conn):
    while True:
        req = read_request(conn)
        if req is None:
            return
        method, path = req
        with stats_lock:
            if path != "/__stats":
                stats["requests"] += 1
        if path == "/__stats":
            with stats_lock:
                body = json.dumps(stats).encode()
            respond(conn, 200, body)
        elif path == "/fail":
            respond(conn, 503, b"down\n")
        elif path == "/redirect":
            respond(conn, 302, b"", "Location: /\r\n")
        else:
            respond(conn, 200, b"" if method == "HEAD" else b"ok up v1\n")


def mode_garbage(conn):
    if read_request(conn) is not None:
        conn.sendall(b"HELLO I AM NOT HTTP AT ALL\r\n\r\n")


def mode_bigheader(conn):
    if read_request(conn) is not None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Big: " + b"A" * 100 * 1024 + b"\r\nContent-Length: 2\r\n\r\nok")
        time.sleep(5)


def mode_chunked(conn):
    if read_request(conn) is None:
        return
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (4096, b"x" * 4096)
    while True:
        conn.sendall(chunk)


def mode_slowdrip(conn):
    if read_request(conn) is None:
        return
    for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
        conn.sendall(bytes([byte]))
        time.sleep(0.2)


def mode_silent(conn):
    read_request(conn)
    time.sleep(3600)


def mode_tcp_banner(conn):
    conn.sendall(b"+READY hc\r\n")
    data = b""
    while b"\n" not in data:
        chunk = conn.recv(256)
        if not chunk:
            return
        data += chunk
    if data.startswith(b"PING"):
        conn.sendall(b"+PONG\r\n")


MODES = {"ok": mode_ok, "garbage": mode_garbage, "bigheader": mode_bigheader, "chunked": mode_chunked,
         "slowdrip": mode_slowdrip, "silent": mode_silent, "tcp-banner": mode_tcp_banner}


def serve_one(conn, handler, tls):
    try:
        if tls is not None:
            conn.settimeout(10)
            conn = tls.wrap_socket(conn, server_side=True)
            conn.settimeout(None)
        handler(conn)
    except (OSError, ssl.SSLError):
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", required=True, choices=sorted(MODES))
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--client-ca", help="require a client certificate signed by this CA")
    args = ap.parse_args()

    tls = None
    if args.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
        if args.client_ca:
            tls.verify_mode = ssl.CERT_REQUIRED
            tls.load_verify_locations(args.client_ca)

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(128)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(tmp, args.port_file)
    handler = MODES[args.mode]
    while True:
        conn, _ = srv.accept()
        with stats_lock:
            stats["connections"] += 1
        threading.Thread(target=serve_one, args=(conn, handler, tls), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
