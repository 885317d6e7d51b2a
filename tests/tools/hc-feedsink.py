#!/usr/bin/env python3
"""Stands in for fomgr's health socket in the agent's integration tests: listens on a
unix stream socket and appends every line received to --out (one per line, flushed),
with a line "#connect" at each new connection. With --stall it accepts and never
reads, so the agent's writes eventually block. With --stamps, each line's arrival
time (unix seconds) is written to that file beside its seq."""
import argparse
import json
import os
import socket
import sys
import threading
import time


def reader(conn, out, lock, stamps):
    buf = b""
    while True:
        try:
            chunk = conn.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            now = time.time()
            with lock:
                out.write(line.decode("utf-8", "replace") + "\n")
                out.flush()
                if stamps:
                    try:
                        seq = json.loads(line)["seq"]
                    except (ValueError, KeyError, TypeError):
                        seq = -1
                    stamps.write(f"{now:.6f} {seq}\n")
                    stamps.flush()
    conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--path", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--stall", action="store_true")
    ap.add_argument("--stamps")
    args = ap.parse_args()
    try:
        os.unlink(args.path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(args.path)
    srv.listen(8)
    held = []
    lock = threading.Lock()
    stamps = open(args.stamps, "a") if args.stamps else None
    with open(args.out, "a") as out:
        while True:
            conn, _ = srv.accept()
            with lock:
                out.write("#connect\n")
                out.flush()
            if args.stall:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                held.append(conn)
                continue
            threading.Thread(target=reader, args=(conn, out, lock, stamps), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
