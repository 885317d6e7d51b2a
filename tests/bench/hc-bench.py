#!/usr/bin/env python3
"""Measurement and report helper of tests/bench/hc-bench.sh (health-check benchmark).

  hc-bench.py measure --tool T --checks N --interval-ms I --ctl PORT[,PORT] --pids P[,P]
                      --window S [--cgroup-fd FD] [--metrics URL] [--haproxy-sock PATH]
      Run inside the benchmark's network namespace (the control port of
      hc-bench-target and the agent's /metrics are on its loopback). Takes a snapshot,
      samples memory every 0.25 s for S seconds, takes a second snapshot, and prints one
      JSON line with the deltas (and the load average at the end of the window).
      Exits 3 without a line when the window counted no check or no CPU: a series
      that measured nothing is an error, not a row.
        - checks: requests the targets counted (hc-bench-target's own counters, from
          every target process's control port, their ports in order), and the
          connections they accepted;
        - CPU: sum over the checker's process tree (the PIDs given and every
          descendant found in /proc) of each process's own run time (the
          schedstat of its threads, in ns) and cutime+cstime from /proc/PID/stat. A
          child that is reaped inside the window leaves its time in its parent's
          cutime/cstime (keepalived's VRRP process reaps its scripts, so the forked
          curl processes are counted); one still alive or a zombie is read directly. Optionally the same from the cgroup v1 cpuacct.usage of a
          cgroup the checker was started in (a cross-check that misses nothing).
        - memory: VmHWM (peak RSS) of the long-lived processes at the end, and the
          largest RssAnon / RssFile seen while sampling; the largest VmHWM of any
          short-lived descendant seen (the curls).
  hc-bench.py report RESULTS.jsonl [--out FILE] [--header TEXT]
      Prints the Markdown table and the ratios (ours vs HAProxy, ours vs scripts),
      and writes them to FILE too.
"""
import argparse
import json
import os
import socket
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")


def proc_table():
    """{pid: ppid} for every process."""
    table = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rfind(b")") + 2:].split()
        table[int(d)] = int(rest[1])
    return table


def tree(roots):
    table = proc_table()
    children = {}
    for pid, ppid in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [r for r in roots if r in table]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def own_runtime(pid):
    """Seconds the process's threads ran (schedstat, nanoseconds), or None."""
    total, found = 0, False
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
                found = True
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e9 if found else None


def read_stat(pid):
    """(starttime, CPU seconds incl. reaped children, comm, state) or None.
    The process's own time comes from its threads' schedstat (nanoseconds; utime and
    stime count 10 ms ticks, too coarse for a checker that uses 1 % of a CPU), its
    reaped children's from cutime+cstime (ticks)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            s = f.read()
    except OSError:
        return None
    comm = s[s.find(b"(") + 1:s.rfind(b")")].decode(errors="replace")
    r = s[s.rfind(b")") + 2:].split()
    # r[0] is field 3 (state): utime 14, stime 15, cutime 16, cstime 17, starttime 22
    own = own_runtime(pid)
    if own is None:  # a zombie: its times are still in stat
        own = (int(r[11]) + int(r[12])) / HZ
    return (int(r[19]), own + (int(r[13]) + int(r[14])) / HZ, comm, r[0].decode())


def read_status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem"):
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def http_get(host, port, path, timeout=5.0):
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"GET {path} on port {port}: {head[:60]!r}")
    return body.decode()


def haproxy_cmd(path, cmd, timeout=5.0):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall((cmd + "\n").encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.decode()


def haproxy_stats(path):
    """Servers of the backend: how many UP, and the sum of chkfail."""
    lines = haproxy_cmd(path, "show stat").splitlines()
    if not lines or not lines[0].startswith("# "):
        return {}
    cols = lines[0][2:].split(",")
    up = chkfail = servers = 0
    for line in lines[1:]:
        if not line:
            continue
        row = dict(zip(cols, line.split(",")))
        if row.get("svname") in ("FRONTEND", "BACKEND"):
            continue
        servers += 1
        if row.get("status", "").startswith("UP"):
            up += 1
        chkfail += int(row.get("chkfail") or 0)
    info = {}
    for line in haproxy_cmd(path, "show info").splitlines():
        k, _, v = line.partition(":")
        info[k.strip()] = v.strip()
    return {"servers": servers, "up": up, "chkfail": chkfail, "nbthread": info.get("Nbthread")}


def agent_results(host, port):
    """Sum of healthcheck_checks_total by result, and how many checks are passing."""
    text = http_get(host, port, "/metrics")
    res, passing = {}, 0
    for line in text.splitlines():
        if line.startswith("healthcheck_checks_total{"):
            labels, _, v = line.rpartition("} ")
            r = labels.split('result="', 1)[1].split('"', 1)[0]
            res[r] = res.get(r, 0) + float(v)
        elif line.startswith("healthcheck_check_state{") and 'state="passing"' in line:
            passing += float(line.rsplit(" ", 1)[1]) == 1.0
    return res, passing


def cgroup_usage(fd):
    """cpuacct.usage of the checker's cgroup, from a descriptor opened before
    `ip netns exec` (which mounts a sysfs of the namespace over /sys)."""
    if fd is None:
        return None
    try:
        return int(os.pread(fd, 64, 0)) / 1e9
    except (OSError, ValueError):
        return None


def target_stats(ctl_ports):
    """The counters of every target process, added up; their ports in order."""
    total = {"requests": 0, "connections": 0, "open": 0, "cpu_ns": 0, "ports": []}
    for port in ctl_ports:
        t = json.loads(http_get("127.0.0.1", port, "/stats"))
        for k in ("requests", "connections", "open", "cpu_ns"):
            total[k] += t[k]
        total["ports"].extend(t["ports"])
    return total


class Snapshot:
    def __init__(self, a):
        self.t = time.monotonic()
        self.target = target_stats(a.ctl)
        self.procs = {}
        for pid in tree(a.pids):
            st = read_stat(pid)
            if st:
                self.procs[pid] = st
        self.cgroup = cgroup_usage(a.cgroup_fd)
        self.t_end = time.monotonic()

    def cpu(self):
        return sum(st[1] for st in self.procs.values())


def measure(a):
    s0 = Snapshot(a)
    deadline = s0.t + a.window
    samples = []
    transient_hwm = 0
    transient_seen = set()
    while True:
        now = time.monotonic()
        if now >= deadline:
            break
        time.sleep(min(0.25, deadline - now))
        sample = {}
        for pid in tree(a.pids):
            st = read_stat(pid)
            if not st:
                continue
            m = read_status(pid)
            key = (pid, st[0])
            if pid in s0.procs and s0.procs[pid][0] == st[0]:
                sample[key] = m
            else:
                transient_seen.add(key)
                transient_hwm = max(transient_hwm, m.get("VmHWM", 0))
        samples.append(sample)
    s1 = Snapshot(a)
    elapsed = (s1.t + s1.t_end) / 2 - (s0.t + s0.t_end) / 2

    # Long-lived processes: in both snapshots with the same start time.
    keep = [p for p in s1.procs if p in s0.procs and s0.procs[p][0] == s1.procs[p][0]]
    hwm = rss = 0
    comms = []
    for p in keep:
        m = read_status(p)
        hwm += m.get("VmHWM", 0)
        rss += m.get("VmRSS", 0)
        comms.append(s1.procs[p][2])
    anon_max = file_max = 0
    for sample in samples:
        anon = sum(m.get("RssAnon", 0) for (pid, _), m in sample.items() if pid in keep)
        if anon >= anon_max:
            anon_max = anon
            file_max = sum(m.get("RssFile", 0) + m.get("RssShmem", 0)
                           for (pid, _), m in sample.items() if pid in keep)

    n = a.checks
    if len(s1.target["ports"]) < n:
        print(f"hc-bench.py: the targets have {len(s1.target['ports'])} ports, not {n}", file=sys.stderr)
        return 3
    p0, p1 = s0.target["ports"][:n], s1.target["ports"][:n]
    per_port = [p1[i][0] - p0[i][0] for i in range(n)]
    conns = [p1[i][1] - p0[i][1] for i in range(n)]
    requests = sum(per_port)
    cpu_s = s1.cpu() - s0.cpu()
    out = {
        "tool": a.tool, "checks": n, "interval_ms": a.interval_ms, "round": a.round,
        "elapsed_s": round(elapsed, 3),
        "requests": requests, "connections": sum(conns),
        "open_connections": s1.target["open"],
        "per_target_min": min(per_port), "per_target_max": max(per_port),
        "targets_unchecked": sum(1 for x in per_port if x == 0),
        "expected": round(n * elapsed * 1000 / a.interval_ms),
        "cpu_s": round(cpu_s, 3),
        "cgroup_cpu_s": (round(s1.cgroup - s0.cgroup, 3)
                         if s0.cgroup is not None and s1.cgroup is not None else None),
        "target_cpu_s": round((s1.target["cpu_ns"] - s0.target["cpu_ns"]) / 1e9, 3),
        "processes": sorted(comms),
        "vmhwm_kb": hwm, "vmrss_kb": rss, "rss_anon_kb": anon_max, "rss_file_kb": file_max,
        "transient_processes": len(transient_seen), "transient_hwm_kb": transient_hwm,
        "load": open("/proc/loadavg").read().split()[0],
    }
    if requests == 0 or cpu_s <= 0:
        print(f"hc-bench.py: {a.tool} {n} x {a.interval_ms} ms measured nothing: {requests} checks "
              f"counted, {cpu_s:.3f} s of CPU", file=sys.stderr)
        return 3
    if a.metrics:
        # Scraped once, after the memory figures were read: rendering /metrics for
        # 1000 checks takes a buffer of its own that would show in VmHWM. So these
        # counts cover the whole run of the agent, warm-up included.
        host, port = a.metrics.rsplit(":", 1)
        res, passing = agent_results(host, int(port))
        out["results"] = {k: int(v) for k, v in res.items()}
        out["failed"] = out["results"].get("fail", 0) + out["results"].get("timeout", 0)
        out["passing_at_end"] = int(passing)
    if a.haproxy_sock:
        out["haproxy"] = haproxy_stats(a.haproxy_sock)
    print(json.dumps(out), flush=True)


def fmt_int(x):
    return f"{x:,.0f}".replace(",", " ")


def interval_text(ms):
    return f"{ms // 1000} s" if ms % 1000 == 0 else f"{ms} ms"


SCRIPTS_N = 100  # keepalived: vrrp_scripts, at 1 s

TOOL_NAMES = {
    "healthcheck": "healthcheck (ours)",
    "haproxy": "HAProxy httpchk",
    "keepalived": "keepalived vrrp_script curl",
}


def reuse_text(r):
    if r["connections"] == 0:
        return "yes (no new connection)"
    per = r["requests"] / r["connections"]
    if per < 1.05:
        return "no (1 connection per check)"
    return f"yes ({per:,.0f} checks per connection)"


def row_figures(r):
    el = r["elapsed_s"]
    cps = r["requests"] / el
    cpu = r["cpu_s"]
    return {
        "cps": cps,
        "cpu_pct": 100 * cpu / el,
        "per_cpu_s": r["requests"] / cpu if cpu > 0 else float("inf"),
        "hwm_mb": r["vmhwm_kb"] / 1024,
        "anon_mb": r["rss_anon_kb"] / 1024,
    }


def failed_text(r):
    if "failed" in r:
        return (f"{fmt_int(r['failed'])} of {fmt_int(sum(r['results'].values()))} "
                f"(whole run; {r['passing_at_end']}/{r['checks']} passing)")
    if r.get("haproxy"):
        h = r["haproxy"]
        return f"{h['chkfail']} (chkfail, whole run; {h['up']}/{h['servers']} UP)"
    if "script_failures" in r:
        return f"{r['script_failures']} (non-zero exits or timeouts logged)"
    return "—"


def aggregate(runs):
    """The median run by checks per CPU-second (the lower middle one for an even
    count), with the largest VmHWM and RssAnon of all runs, the range, and every
    run's failures added up."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return dict(runs[0]), []
    ok.sort(key=lambda r: row_figures(r)["per_cpu_s"])
    med = dict(ok[(len(ok) - 1) // 2])
    med["vmhwm_kb"] = max(r["vmhwm_kb"] for r in ok)
    med["rss_anon_kb"] = max(r["rss_anon_kb"] for r in ok)
    med["rss_file_kb"] = max(r["rss_file_kb"] for r in ok)
    med["failed_all"] = [failed_text(r) for r in ok]
    med["errors"] = [r["error"] for r in runs if "error" in r]
    return med, [row_figures(r)["per_cpu_s"] for r in ok]


def report(a):
    runs = []
    with open(a.results) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                runs.append(json.loads(line))
    groups = {}
    for r in runs:
        groups.setdefault((r["tool"], r["checks"], r["interval_ms"]), []).append(r)
    order = sorted(groups, key=lambda k: (k[1] if k[0] != "keepalived" else 100, -k[2],
                                          ["healthcheck", "haproxy", "keepalived"].index(k[0])
                                          if k[0] in ("healthcheck", "haproxy", "keepalived") else 9))
    rounds = max(len(v) for v in groups.values()) if groups else 0
    rows = []
    for k in order:
        agg, spread = aggregate(groups[k])
        rows.append((agg, spread, len(groups[k])))

    out = []
    if a.header:
        out.append(a.header)
        out.append("")
    if rounds > 1:
        out.append(f"Each case ran {rounds} times; a row is the median run by checks per "
                   "CPU-second (its checks/s and CPU %), with the range over the runs, the "
                   "largest VmHWM and RssAnon of the runs, and the failed runs of each.")
        out.append("")
    out.append("| tool | checks | interval | checks/s | CPU % | checks per CPU-second | range "
               "| peak RSS MB (VmHWM) | RssAnon MB | connection reuse | failed runs |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for r, spread, n_runs in rows:
        name = TOOL_NAMES.get(r["tool"], r["tool"])
        if not spread:
            out.append(f"| {name} | {r['checks']} | {interval_text(r['interval_ms'])} | — | — | — | — "
                       f"| — | — | — | {r.get('error', 'no result')} |")
            continue
        f = row_figures(r)
        rng = (f"{fmt_int(min(spread))}–{fmt_int(max(spread))} ({len(spread)} runs)"
               if len(spread) > 1 else "1 run")
        texts = r["failed_all"]
        failed = (texts[0] + (f", each of the {len(texts)} runs" if len(texts) > 1 else "")
                  if len(set(texts)) == 1 else "; ".join(texts))
        if r["errors"]:
            failed += "; errors: " + ", ".join(r["errors"])
        out.append(
            f"| {name} | {r['checks']} | {interval_text(r['interval_ms'])} "
            f"| {fmt_int(f['cps'])} | {f['cpu_pct']:.1f} | {fmt_int(f['per_cpu_s'])} | {rng} "
            f"| {f['hwm_mb']:.1f} | {f['anon_mb']:.1f} | {reuse_text(r)} | {failed} |")
    out.append("")
    out.append("Details of the median runs: window, expected checks (checks × window / "
               "interval), targets' accepted connections, CPU of the checker from the cpuacct "
               "cgroup it ran in (cross-check of the /proc figure), CPU the checks cost the "
               "target server, the checker's processes, and the short-lived children seen "
               "(the curls) with the largest peak RSS among them, and the machine's 1-minute load "
               "average at the end of the window:")
    out.append("")
    out.append("| tool | checks | interval | window s | checks counted / expected | per target min–max "
               "| connections | CPU % (/proc) | CPU % (cgroup) | target CPU % | processes "
               "| short-lived children seen, largest VmHWM MB | load |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
    for r, spread, _ in rows:
        if not spread:
            continue
        el = r["elapsed_s"]
        cg = f"{100 * r['cgroup_cpu_s'] / el:.1f}" if r.get("cgroup_cpu_s") is not None else "—"
        procs = ", ".join(f"{c} ×{r['processes'].count(c)}" if r["processes"].count(c) > 1 else c
                          for c in sorted(set(r["processes"])))
        if r.get("haproxy", {}).get("nbthread"):
            procs += f" ({r['haproxy']['nbthread']} threads)"
        out.append(
            f"| {TOOL_NAMES.get(r['tool'], r['tool'])} | {r['checks']} | {interval_text(r['interval_ms'])} "
            f"| {el:.1f} | {fmt_int(r['requests'])} / {fmt_int(r['expected'])} "
            f"| {r['per_target_min']}–{r['per_target_max']} | {fmt_int(r['connections'])} "
            f"| {100 * r['cpu_s'] / el:.1f} | {cg} | {100 * r['target_cpu_s'] / el:.1f} | {procs} "
            f"| {r['transient_processes']}, {r['transient_hwm_kb'] / 1024:.1f} | {r.get('load', '—')} |")
    out.append("")

    by = {(r["tool"], r["checks"], r["interval_ms"]): (r, spread) for r, spread, _ in rows if spread}
    out.append("Ratios (checks per CPU-second, ours ÷ theirs, median runs; in brackets the "
               "ratio of the worst of ours to the best of theirs and the other way round):")
    out.append("")
    for (tool, n, iv), (r, spread) in sorted(by.items(), key=lambda kv: (kv[0][1], -kv[0][2])):
        if tool != "healthcheck":
            continue
        ours = row_figures(r)["per_cpu_s"]
        for other, target, label in (("haproxy", 1.2, "HAProxy"), ("keepalived", 10.0, "scripts")):
            o = by.get((other, n, iv)) or (by.get((other, SCRIPTS_N, iv)) if other == "keepalived"
                                            and n == SCRIPTS_N else None)
            if not o:
                continue
            theirs = row_figures(o[0])["per_cpu_s"]
            ratio = ours / theirs
            lo, hi = min(spread) / max(o[1]), max(spread) / min(o[1])
            rng = f" [{lo:.2f}–{hi:.2f}]" if len(spread) > 1 or len(o[1]) > 1 else ""
            out.append(f"- {n} checks at {interval_text(iv)}: ours vs {label}: {ratio:.2f}×{rng} "
                       f"({fmt_int(ours)} vs {fmt_int(theirs)}); target ≥ {target:g}×: "
                       f"{'met' if ratio >= target else 'NOT met'}")
    for (tool, n, iv), (r, _) in sorted(by.items(), key=lambda kv: (kv[0][1], -kv[0][2])):
        if tool == "healthcheck" and n == 1000:
            f = row_figures(r)
            ok = f["hwm_mb"] <= 20
            out.append(f"- RSS at {n} checks, {interval_text(iv)} (largest of the runs): VmHWM "
                       f"{f['hwm_mb']:.1f} MB (RssAnon {f['anon_mb']:.1f} MB, file-backed "
                       f"{r['rss_file_kb'] / 1024:.1f} MB: shared library pages); target VmHWM "
                       f"≤ 20 MB: {'met' if ok else 'NOT met'}")
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--tool", required=True)
    m.add_argument("--round", type=int, default=1)
    m.add_argument("--checks", type=int, required=True)
    m.add_argument("--interval-ms", type=int, required=True)
    m.add_argument("--ctl", required=True, type=lambda s: [int(x) for x in s.split(",") if x])
    m.add_argument("--pids", required=True, type=lambda s: [int(x) for x in s.split(",") if x])
    m.add_argument("--window", type=float, required=True)
    m.add_argument("--cgroup-fd", type=int)
    m.add_argument("--metrics")
    m.add_argument("--haproxy-sock")
    r = sub.add_parser("report")
    r.add_argument("results")
    r.add_argument("--out")
    r.add_argument("--header")
    a = p.parse_args()
    if a.cmd == "measure":
        return measure(a)
    return report(a)


if __name__ == "__main__":
    sys.exit(main() or 0)
