#!/usr/bin/env python3
"""Idle clients on fomgr's control socket, for the lab: connects N of them, prints
how many were let in and how many refused at once ("too many clients", code 75),
   idle=I refused=R
then holds the idle ones for HOLD seconds, or with --until-dropped waits (at most
40 s) for fomgr to drop them for idleness and prints
   dropped_after_s=X
Run it as the user whose slots are to be tested."""
import json, socket, sys, time

def main():
    if len(sys.argv) != 4:
        sys.exit("usage: ctl-idle-clients.py SOCK N HOLD_S|--until-dropped")
    path, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    clients = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        clients.append(s)
    time.sleep(0.5)
    refused, idle = 0, []
    for s in clients:
        s.settimeout(0.05)
        try:
            line = s.makefile("rb").readline()
        except socket.timeout:
            idle.append(s)
            continue
        r = json.loads(line)
        assert r["ok"] is False and r["code"] == 75 and "too many clients" in r["error"], r
        refused += 1
    print("idle=%d refused=%d" % (len(idle), refused), flush=True)
    if mode != "--until-dropped":
        time.sleep(float(mode))
        return
    start = time.monotonic()
    for s in idle:
        s.settimeout(40)
        r = json.loads(s.makefile("rb").readline())
        assert r["ok"] is False and "idle for 30 s" in r["error"], r
    print("dropped_after_s=%.1f" % (time.monotonic() - start), flush=True)

main()
