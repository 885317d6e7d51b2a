#!/bin/bash
# Graceful switchover with `fomctl vip move --wait` between every ordered pair of
# three nodes, with a client probing the VIP every 5 ms: the VIP is never held by
# two nodes (a sampler reads every node's addresses in a loop; `ip monitor` on
# each node gives the kernel's own order of delete and add), the client sees the
# new node answer, and the unreachable window is measured for each move
# (median, p95, max). FO_MOVE_ROUNDS (default 1) repeats the six moves.
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100
VIP6=2001:db8::100
FOMCTL=$FO_BUILD/fomctl/fomctl
ROUNDS=${FO_MOVE_ROUNDS:-1}
PROBE_INTERVAL_MS=5
[[ -x $FOMCTL ]] || fail "$FOMCTL not built"

lab_init 21 3
for k in 1 2 3; do lab start-fomgr "$LAB_ID" "$k" >/dev/null; done
start_echo_all
ctl() { # K fomctl-args...
	local k=$1
	shift
	"$FOMCTL" --socket "$LAB_STATE/node$k/run/control.sock" "$@"
}
all_members() { ctl 1 status --json 2>/dev/null | grep '"members":3,' >/dev/null; }
wait_for 20 holder_is $VIP node1 || fail "node1 never took $VIP: '$(holders $VIP)'"
wait_for 20 all_members || fail "the three fomgr never joined"

# The kernel's view, as it happens: address events on each node, timestamped.
for k in 1 2 3; do
	lab spawn "$LAB_ID" "node$k" addrmon ip -ts monitor address dev eth0 >/dev/null
done
# The sampler: every node's addresses, one node after the other, round and round;
# a line per node sample.
cat >"$LAB_STATE/sampler.sh" <<EOF
while :; do
	for k in 1 2 3; do
		a=\$(ip -n fo$LAB_ID-node\$k -o addr show dev eth0)
		h4=0; h6=0
		[[ \$a == *" $VIP/"* ]] && h4=1
		[[ \$a == *" $VIP6/"* ]] && h6=1
		echo "node\$k \$h4 \$h6"
	done
done
EOF
lab spawn "$LAB_ID" br sampler bash "$LAB_STATE/sampler.sh" >/dev/null
sleep 0.5

moves=() gaps=() waits=() i=0
holder=1
for ((round = 1; round <= ROUNDS; round++)); do
	for to in 2 3 1 3 2 1; do
		from=$holder
		i=$((i + 1))
		probe_start "probe$i" $VIP "$LAB_ECHO_PORT" $PROBE_INTERVAL_MS 2500 >/dev/null
		sleep 0.6
		out=$(ctl "$from" vip move vip --to "node$to" --wait 10) || fail "move $i node$from -> node$to: $out"
		summary=$(probe_wait "probe$i" 15)
		gap=$(kv max_gap_ms "$summary")
		trans=$(kv transitions "$summary")
		[[ $trans == "node$from->node$to@"* && $trans != *,* ]] ||
			fail "move $i: the client saw '$trans', expected node$from->node$to once ($summary)"
		assert_holder $VIP "node$to"
		assert_holder $VIP6 "node$to"
		waited=${out##*(}
		waited=${waited%% ms)*}
		log "move $i node$from -> node$to: fomctl --wait ${waited} ms; client unreachable for at most ${gap} ms (lost $(kv lost "$summary") of $(kv sent "$summary"))"
		moves+=("node$from->node$to")
		gaps+=("$gap")
		waits+=("$waited")
		holder=$to
	done
done
lab stop "$LAB_ID" br sampler >/dev/null
for k in 1 2 3; do lab stop "$LAB_ID" "node$k" addrmon >/dev/null; done

# Never two holders. The nodes are read one after the other, so a move between two
# reads can look like an overlap; an overlap is proven when node B holds the VIP in
# a read that lies between two reads of node A that both show A holding it.
/usr/bin/python3 - "$LAB_STATE/br/sampler.log" "$VIP" "$VIP6" <<'EOF' || fail "overlap seen by the sampler"
import bisect, sys
rows = [l.split() for l in open(sys.argv[1]) if len(l.split()) == 3]
bad = 0
for col, vip in ((1, sys.argv[2]), (2, sys.argv[3])):
    idx, held = {}, {}
    for i, r in enumerate(rows):
        idx.setdefault(r[0], []).append(i)
        held.setdefault(r[0], []).append(r[col] == "1")
    for i, r in enumerate(rows):
        if r[col] != "1":
            continue
        for other in idx:
            if other == r[0]:
                continue
            k = bisect.bisect_left(idx[other], i)  # first read of other after i
            if 0 < k < len(idx[other]) and held[other][k - 1] and held[other][k]:
                print("two holders of %s: %s at read %d between two reads of %s holding it" % (vip, r[0], i, other))
                bad = 1
print("sampler: %d reads (%d rounds of all three nodes), never two holders" % (len(rows), len(rows) // 3))
sys.exit(bad)
EOF
# The kernel's order: for each move, the old holder's delete comes before the new
# holder's add. The gap between them is the window in which nobody holds the VIP.
/usr/bin/python3 - "$LAB_STATE" "$VIP" "${moves[@]}" <<'EOF' || fail "kernel order check failed"
import datetime, re, sys
state, vip, moves = sys.argv[1], sys.argv[2], sys.argv[3:]
events = []
for k in (1, 2, 3):
    for line in open("%s/node%d/addrmon.log" % (state, k)):
        m = re.match(r"\[([0-9T:.\-]+)\] (Deleted )?\d+: eth0\s+inet (\S+)/", line)
        if not m or m.group(3) != vip:
            continue
        t = datetime.datetime.fromisoformat(m.group(1)).timestamp() * 1000
        events.append((t, "del" if m.group(2) else "add", "node%d" % k))
events.sort()
held, gaps = set(), []
last_del = None
for t, kind, node in events:
    if kind == "add":
        if held - {node}:
            print("OVERLAP: %s added %s at %.3f while %s held it" % (node, vip, t, held))
            sys.exit(1)
        held.add(node)
        if last_del is not None:
            gaps.append(t - last_del)
    else:
        held.discard(node)
        last_del = t
adds = sum(1 for e in events if e[1] == "add")
assert len(gaps) >= len(moves), (len(gaps), len(moves), events)
gaps = sorted(gaps[-len(moves):])
print("kernel: %d moves, delete-to-add gap median %.1f ms, max %.1f ms, min %.1f ms"
      % (len(gaps), gaps[len(gaps) // 2], gaps[-1], gaps[0]))
EOF

report=$(printf '%s\n' "${gaps[@]}" | sort -n | awk '{ v[NR] = $1 } END {
	p95 = v[int((NR * 95 + 99) / 100)]; printf "n=%d median=%s p95=%s max=%s", NR, v[int((NR + 1) / 2)], p95, v[NR] }')
wreport=$(printf '%s\n' "${waits[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "median=%s max=%s", v[int((NR + 1) / 2)], v[NR] }')
log "switchover unreachable window (probe every $PROBE_INTERVAL_MS ms): $report ms; fomctl --wait: $wreport ms"
max=$(printf '%s\n' "${gaps[@]}" | sort -n | tail -n 1)
((max < 2000)) || fail "a switchover left the VIP unreachable for $max ms"
