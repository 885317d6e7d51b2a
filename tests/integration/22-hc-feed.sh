#!/bin/bash
# Feeding fomgr: the agent connects to a unix stream socket (a stand-in listener,
# tests/tools/hc-feedsink.py), retries with backoff while nobody listens, sends a
# healthwire snapshot on every state change and every heartbeat, reconnects when the
# listener goes away, and drops a listener that stops reading instead of blocking,
# while /livez keeps answering.
. "$(dirname "$0")/../tools/hc-lib.sh"

SOCK=$HC_TMP/health.sock
FEED=$HC_TMP/feed.txt
: >"$FEED"

{
	cat <<EOF
[agent]
listen = 127.0.0.1:0
manager_socket = $SOCK
heartbeat = 1s
[resources]
enabled = no
[check drain]
type = file
path = $HC_TMP/drain
interval = 100ms
jitter = 0ms
rise = 1
fall = 1
EOF
	# enough checks that a report is about 20 KB, so a listener that stops reading
	# fills the socket buffer within seconds
	for i in $(seq 300); do
		printf '[check filler-%03d-with-a-name-long-enough-to-fill-the-report]\n' "$i"
		printf 'type = file\npath = /nonexistent/hc\ninterval = 1s\njitter = 1s\n'
	done
} >"$HC_TMP/hc.conf"

start_sink() {
	hc_bg python3 "$HC_TOOLS/hc-feedsink.py" --path "$SOCK" --out "$FEED" --stamps "$HC_TMP/stamps" "$@"
	SINK_PID=$HC_LAST_PID
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && return 0
		sleep 0.05
	done
	hc_fail "feed sink did not start"
}

wait_log() { # PATTERN SECONDS
	for _ in $(seq $(($2 * 20))); do
		grep -q "$1" "$HC_TMP/agent.log" && return 0
		sleep 0.05
	done
	hc_fail "no '$1' in the agent's log within $2 s"
}

count_connects() {
	grep -c '^#connect' "$FEED" || true
}

# nobody listens yet: the agent says so once and retries
hc_agent "$HC_TMP/hc.conf"
wait_log "feed: cannot connect to $SOCK: No such file or directory (retrying" 3
sleep 0.5
[ "$(grep -c 'feed: cannot connect' "$HC_TMP/agent.log")" = 1 ] || hc_fail "connection failures logged more than once"
hc_ok "no listener: logged once, retrying"

start_sink
wait_log "feed: connected to $SOCK" 6
# a snapshot at the connection, on every change and at every heartbeat (1 s): four
# lines within 6 s even on a loaded machine
for _ in $(seq 120); do
	[ "$(grep -vc '^#' "$FEED")" -ge 4 ] && break
	sleep 0.05
done
hc_ok "connected once the listener appeared"

# every line is a healthwire v1 snapshot of all 301 checks, seq increasing
python3 - "$FEED" <<'EOF' || hc_fail "feed lines are not healthwire v1 snapshots"
import json, sys
seqs = []
for line in open(sys.argv[1]):
    if line.startswith("#"):
        continue
    d = json.loads(line)
    assert sorted(d) == ["checks", "interval_ms", "seq", "v"], d.keys()
    assert d["v"] == 1 and d["interval_ms"] == 1000
    assert len(d["checks"]) == 301
    assert set(d["checks"].values()) <= {"unknown", "passing", "failing"}
    assert len(line) < 65536
    seqs.append(d["seq"])
assert len(seqs) >= 4, seqs
assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), seqs
print(f"{len(seqs)} lines, seq {seqs[0]}..{seqs[-1]}")
EOF
last_state() {
	grep -v '^#' "$FEED" | tail -n 1 | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["checks"]["drain"])'
}
[ "$(last_state)" = passing ] || hc_fail "drain not passing in the feed: $(last_state)"
hc_ok "healthwire v1 lines, seq increasing, drain passing"

# heartbeat: a line a second while nothing changes
before=$(grep -vc '^#' "$FEED")
sleep 3
after=$(grep -vc '^#' "$FEED")
[ $((after - before)) -ge 2 ] && [ $((after - before)) -le 4 ] || hc_fail "$((after - before)) lines in 3 s at a 1 s heartbeat"
hc_ok "heartbeat: $((after - before)) lines in 3 s"

# a state change is sent at once, not at the next heartbeat: from the touch to the
# line's arrival, at most the check's interval (100 ms) and some, well under 1 s
t0=$(date +%s.%N)
touch "$HC_TMP/drain"
for _ in $(seq 100); do
	[ "$(last_state)" = failing ] && break
	sleep 0.02
done
[ "$(last_state)" = failing ] || hc_fail "drain failing not reported within 2 s"
ms=$(python3 - "$FEED" "$HC_TMP/stamps" "$t0" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if not l.startswith("#")]
seq = next(d["seq"] for d in lines if d["checks"]["drain"] == "failing")
arrived = next(float(t) for t, s in (l.split() for l in open(sys.argv[2])) if int(s) == seq)
print(int((arrived - float(sys.argv[3])) * 1000))
EOF
)
[ "$ms" -le 400 ] || hc_fail "the change took $ms ms to reach the feed"
hc_ok "state change reported in $ms ms (check interval 100 ms, heartbeat 1 s)"
rm -f "$HC_TMP/drain"

# the listener goes away and comes back
kill "$SINK_PID"
wait "$SINK_PID" 2>/dev/null || true
wait_log "feed: connection to $SOCK dropped: " 3 # closed by fomgr, or a broken pipe
rm -f "$SOCK"
n=$(count_connects)
start_sink
for _ in $(seq 120); do
	[ "$(count_connects)" -gt "$n" ] && break
	sleep 0.05
done
[ "$(count_connects)" -gt "$n" ] || hc_fail "no reconnection within 6 s"
hc_ok "reconnected after the listener restarted"

# a listener that accepts and never reads: dropped after the stall bound, loop free
kill "$SINK_PID"
wait "$SINK_PID" 2>/dev/null || true
rm -f "$SOCK"
start_sink --stall
slow=0
for _ in $(seq 400); do
	grep -q "fomgr has not read a report for 2000 ms" "$HC_TMP/agent.log" && break
	t=$(date +%s%N)
	hc_get /livez
	[ "$HC_STATUS" = 200 ] || hc_fail "/livez failed while fomgr stalled"
	d=$((($(date +%s%N) - t) / 1000000))
	[ "$d" -gt "$slow" ] && slow=$d
	sleep 0.05
done
grep -q "dropped: fomgr has not read a report for 2000 ms" "$HC_TMP/agent.log" || hc_fail "stalled listener never dropped"
hc_ok "stalled listener dropped; /livez answered throughout (slowest ${slow} ms)"

hc_get /metrics
assert_contains "$HC_BODY" "healthcheck_feed_drops_total "
drops=$(printf '%s\n' "$HC_BODY" | sed -n 's/^healthcheck_feed_drops_total //p')
[ "$drops" -ge 2 ] || hc_fail "healthcheck_feed_drops_total $drops"
hc_get /status
printf '%s' "$HC_BODY" | python3 -c '
import json, sys
f = json.load(sys.stdin)["feed"]
assert f["socket"].endswith("/health.sock") and f["connects"] >= 3 and f["drops"] >= 2, f
' || hc_fail "/status feed: $HC_BODY"
hc_ok "feed figures in /metrics and /status"
hc_stop_agent
echo "PASS 22-hc-feed"
