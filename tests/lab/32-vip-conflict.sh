#!/bin/bash
# VIP conflict: node1 holds the VIP; an operator adds it by hand on node2 (where
# fomgr never acquired it) and node2 sends a gratuitous ARP for it. node2's fomgr
# sees the foreign address in its own kernel and deletes it; node1, the owner, sees
# node2's MAC answer for its address and re-announces, so the client's neighbour
# entry, which node2's GARP moved, comes back to node1's MAC. Detected (log lines),
# counted (/metrics, status), audited (hash-chained records), resolved (kernel,
# client). Then the same for IPv6 (a stray address on node2; a forged NA from the
# client's MAC seen by node1), and a graceful switchover there and back that must
# count no conflict.
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100
VIP6=2001:db8::100
FOMCTL=$FO_BUILD/fomctl/fomctl
SCHEMA=$FO_TOP/conf/status.schema.json
REMOVE_BOUND_MS=1000 # stray address added by hand -> gone from node2's kernel
[[ -x $FOMCTL ]] || fail "$FOMCTL not built"
python3 -c 'import jsonschema' || fail "python3-jsonschema is not installed (scripts/install-deps.sh)"

lab_init 32 3
for k in 1 2 3; do lab start-fomgr "$LAB_ID" "$k" >/dev/null; done
start_echo_all
ctl() { # K fomctl-args...
	local k=$1
	shift
	"$FOMCTL" --socket "$LAB_STATE/node$k/run/control.sock" "$@"
}
metric() { # K NAME: the value of an unlabelled metric on node K
	lab_exec "node$1" curl -sf --max-time 5 http://127.0.0.1:9900/metrics | awk -v n="$2" '$1 == n { print $2 }'
}
mac_of() { # ROLE: eth0's MAC in that namespace
	ip -n "$(ns_of "$1")" -br link show dev eth0 | awk '{ print $3 }'
}
client_mac_for() { # ADDR: the client's neighbour entry's MAC for ADDR (empty if none)
	ip -n "$(ns_of client)" neigh show "$1" dev eth0 | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }'
}
conflicts_logged() { # K PATTERN: lines of node K's log with "conflict " matching PATTERN
	grep -E "conflict group=vip .*$2" "$LAB_STATE/node$1/fomgr.log" || true
}
all_members() { ctl 1 status --json 2>/dev/null | grep '"members":3,' >/dev/null; }

wait_for 20 holder_is $VIP node1 || fail "node1 never took $VIP: '$(holders $VIP)'"
wait_for 10 holder_is $VIP6 node1 || fail "node1 never took $VIP6: '$(holders $VIP6)'"
wait_for 20 all_members || fail "the three fomgr never joined"
MAC1=$(mac_of node1)
MAC2=$(mac_of node2)
MACC=$(mac_of client)
[[ -n $MAC1 && -n $MAC2 && $MAC1 != "$MAC2" ]] || fail "node MACs: '$MAC1' '$MAC2'"

# Before: the owner's own GARP burst and the kernel's ARP replies to the client are
# no conflict (node1 did announce, the client did resolve the VIP to node1).
who=$(client_reach $VIP 7777) || fail "client gets no answer from $VIP"
[[ $who == node1 ]] || fail "$VIP answered by $who, expected node1"
[[ $(client_mac_for $VIP) == "$MAC1" ]] || fail "client's entry for $VIP: '$(client_mac_for $VIP)', expected node1's $MAC1"
garps=$(metric 1 fomgr_garp_sent_total)
((garps > 0)) || fail "node1 sent no GARP (fomgr_garp_sent_total '$garps')"
for k in 1 2 3; do
	[[ $(metric "$k" fomgr_vip_conflicts_total) == 0 ]] || fail "node$k counts a conflict before any: $(metric "$k" fomgr_vip_conflicts_total)"
	[[ -z $(conflicts_logged "$k" "") ]] || fail "node$k logged a conflict before any: $(conflicts_logged "$k" "")"
done
log "node1 ($MAC1) holds $VIP and $VIP6 after $garps GARP(s); the client resolves it to node1; no node counts a conflict"

# --- IPv4: added by hand on node2, announced from node2 ----------------------------
# The kernel's view of node2's addresses and the client's neighbour cache, with
# timestamps, while it happens.
lab spawn "$LAB_ID" node2 addrmon ip -ts monitor address dev eth0 >/dev/null
lab spawn "$LAB_ID" client neighmon ip -ts monitor neigh dev eth0 >/dev/null
sleep 0.3
ip -n "$(ns_of node2)" addr add $VIP/24 dev eth0 || fail "could not add $VIP on node2"
lab_exec node2 "$(tool vip-tool)" announce $VIP/24 eth0 --count 3 --interval-ms 50 >/dev/null ||
	fail "node2: gratuitous ARP for $VIP not sent"

wait_for 3 eval '[[ -n $(conflicts_logged 2 "address=$VIP .*source=kernel action=remove") ]]' ||
	fail "node2 logged no conflict for the $VIP in its own kernel"
wait_for 3 eval '[[ -n $(conflicts_logged 1 "address=$VIP mac=$MAC2 owner=node1 .*source=arp action=reannounce") ]]' ||
	fail "node1 logged no conflict for node2's GARP ($MAC2)"
log "detected: node2: $(conflicts_logged 2 "address=$VIP .*action=remove" | head -n 1 | sed 's/.*conflict /conflict /')"
log "detected: node1: $(conflicts_logged 1 "address=$VIP .*action=reannounce" | head -n 1 | sed 's/.*conflict /conflict /')"
grep -q "mac=$MAC2 owner=node1" <<<"$(conflicts_logged 2 "address=$VIP ")" || fail "node2's line does not name its MAC and the owner"

# Removed from node2's kernel, within the bound, as the kernel itself recorded it.
wait_for 2 holder_is $VIP node1 || fail "$VIP held by '$(holders $VIP)' after the conflict, expected node1 only"
removed=$(grep -E "conflict group=vip address=$VIP interface=eth0 removed took_ms=" "$LAB_STATE/node2/fomgr.log" | head -n 1) ||
	fail "node2 logged no removal"
sleep 0.2
lab stop "$LAB_ID" node2 addrmon >/dev/null
added_at=$(grep -m1 -E "^\[.*\] [0-9]+: eth0 +inet $VIP/24" "$LAB_STATE/node2/addrmon.log" | sed -E 's/^\[([^]]+)\].*/\1/') ||
	fail "node2's kernel never showed $VIP added: $(cat "$LAB_STATE/node2/addrmon.log")"
deleted_at=$(grep -m1 -E "^\[.*\] Deleted [0-9]+: eth0 +inet $VIP/24" "$LAB_STATE/node2/addrmon.log" | sed -E 's/^\[([^]]+)\].*/\1/') ||
	fail "node2's kernel never showed $VIP deleted: $(cat "$LAB_STATE/node2/addrmon.log")"
kernel_us=$(($(date -d "$deleted_at" +%s%6N) - $(date -d "$added_at" +%s%6N)))
((kernel_us >= 0 && kernel_us <= REMOVE_BOUND_MS * 1000)) ||
	fail "node2 held $VIP for ${kernel_us} us (bound ${REMOVE_BOUND_MS} ms)"
log "removed: node2's kernel had $VIP for $((kernel_us / 1000)).$(printf %03d $((kernel_us % 1000))) ms (add -> delete, ip monitor); fomgr: ${removed##* }"

# The client: node2's GARP did move its entry (the conflict was real on the wire),
# node1's re-announcement brought it back.
wait_for 3 eval '[[ $(client_mac_for $VIP) == "$MAC1" ]]' ||
	fail "client's entry for $VIP ends on '$(client_mac_for $VIP)', expected node1's $MAC1"
sleep 1.2 # node1's burst is over, node2's GARPs long gone: the entry stays on node1
[[ $(client_mac_for $VIP) == "$MAC1" ]] || fail "client's entry for $VIP moved again to '$(client_mac_for $VIP)'"
lab stop "$LAB_ID" client neighmon >/dev/null
grep -qE "^\[.*\] $VIP .*lladdr $MAC2" "$LAB_STATE/client/neighmon.log" ||
	fail "the client never saw node2's GARP ($MAC2): $(cat "$LAB_STATE/client/neighmon.log")"
last=$(grep -E "^\[.*\] $VIP .*lladdr" "$LAB_STATE/client/neighmon.log" | tail -n 1)
[[ $last == *"lladdr $MAC1"* ]] || fail "the client's last update for $VIP is not node1's MAC: $last"
who=$(client_reach $VIP 7777) || fail "client gets no answer from $VIP after the conflict"
[[ $who == node1 ]] || fail "$VIP answered by $who after the conflict, expected node1"
log "client: entry moved to node2 ($MAC2) by its GARP, back on node1 ($MAC1); node1 answers"

# node1 kept the group throughout: no release, no transition since the start.
assert_holder $VIP node1
assert_holder $VIP6 node1
! grep -q "transition group=vip from=node1" "$LAB_STATE/node1/fomgr.log" || fail "node1 released the group"
grep -q "transition group=vip from=none to=node1" "$LAB_STATE/node1/fomgr.log" || fail "node1 logged no initial acquisition"

# Counted and shown.
for k in 1 2; do
	c=$(metric "$k" fomgr_vip_conflicts_total)
	((c >= 1)) || fail "node$k: fomgr_vip_conflicts_total is '$c'"
done
ctl 1 status --json >"$LAB_STATE/status1.json" || fail "status from node1"
ctl 2 status --json >"$LAB_STATE/status2.json" || fail "status from node2"
python3 - "$SCHEMA" "$LAB_STATE/status1.json" "$LAB_STATE/status2.json" "$VIP" "$MAC2" <<'EOF' ||
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
v = Draft202012Validator(schema)
vip, mac2 = sys.argv[4], sys.argv[5]
for path, kind in ((sys.argv[2], "foreign"), (sys.argv[3], "local")):
    st = json.load(open(path))
    errors = list(v.iter_errors(st))
    for e in errors:
        print("%s: schema: %s at %s" % (path, e.message, list(e.path)))
    assert not errors
    assert st["counters"]["vip_conflicts"] >= 1, st["counters"]
    want = "vip-conflict: group=vip address=%s mac=%s owner=node1 kind=%s" % (vip, mac2, kind)
    assert any(w.startswith(want) for w in st["warnings"]), (want, st["warnings"])
EOF
	fail "status: no vip-conflict warning or counter, or not valid against the schema"
# Read whole first: grep -q leaving early would fail fomctl's later writes (pipefail).
human=$(ctl 1 status) || fail "fomctl status from node1"
grep -q "vip-conflict: group=vip address=$VIP mac=$MAC2" <<<"$human" || fail "fomctl status does not show the warning"
log "counted: fomgr_vip_conflicts_total node1=$(metric 1 fomgr_vip_conflicts_total) node2=$(metric 2 fomgr_vip_conflicts_total); status warning on both, schema-valid"

# Audited: one finding record each, and the chains verify.
grep -E '"type":"finding"' "$LAB_STATE/node1/audit.log" | grep '"kind":"vip_conflict"' | grep "\"mac\":\"$MAC2\"" |
	grep -q '"action":"reannounce"' || fail "node1's audit log has no vip_conflict record"
grep -E '"type":"finding"' "$LAB_STATE/node2/audit.log" | grep '"kind":"vip_conflict"' | grep "\"subject\":\"$VIP\"" |
	grep -q '"action":"remove"' || fail "node2's audit log has no vip_conflict record"
for k in 1 2; do
	ctl 1 log verify "$LAB_STATE/node$k/audit.log" >/dev/null || fail "node$k's audit log does not verify"
done
log "audited: a vip_conflict finding on node1 (reannounce) and node2 (remove); both chains verify"

# --- IPv6 --------------------------------------------------------------------------
before2=$(metric 2 fomgr_vip_conflicts_total)
ip -n "$(ns_of node2)" addr add $VIP6/64 dev eth0 nodad || fail "could not add $VIP6 on node2"
wait_for 2 holder_is $VIP6 node1 || fail "$VIP6 held by '$(holders $VIP6)', expected node1 only"
wait_for 2 eval '[[ -n $(conflicts_logged 2 "address=$VIP6 .*source=kernel action=remove") ]]' ||
	fail "node2 logged no conflict for $VIP6"
log "IPv6 stray on node2: removed ($(grep -E "address=$VIP6 interface=eth0 removed" "$LAB_STATE/node2/fomgr.log" | head -n 1 | sed 's/.*removed //'))"

# A neighbour advertisement for the VIP from the client's MAC, as a misconfigured
# host would send: node1 sees it (the NA filter and parser) and re-announces.
before1=$(metric 1 fomgr_vip_conflicts_total)
lab_exec client python3 - "$VIP6" "$MACC" <<'EOF' || fail "the client could not send its NA"
import socket, struct, sys
target, mac = socket.inet_pton(socket.AF_INET6, sys.argv[1]), bytes.fromhex(sys.argv[2].replace(":", ""))
icmp = struct.pack("!BBHI", 136, 0, 0, 0x20000000) + target + bytes([2, 1]) + mac
src, dst = socket.inet_pton(socket.AF_INET6, "2001:db8::50"), socket.inet_pton(socket.AF_INET6, "ff02::1")
pseudo = src + dst + struct.pack("!I3xB", len(icmp), 58) + icmp
s = sum(struct.unpack("!%dH" % (len(pseudo) // 2), pseudo))
while s >> 16:
    s = (s & 0xffff) + (s >> 16)
icmp = icmp[:2] + struct.pack("!H", ~s & 0xffff) + icmp[4:]
ip6 = struct.pack("!IHBB", 0x60000000, len(icmp), 58, 255) + src + dst
frame = bytes.fromhex("333300000001") + mac + struct.pack("!H", 0x86DD) + ip6 + icmp
with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as p:
    p.bind(("eth0", 0))
    p.send(frame)
EOF
wait_for 3 eval '[[ -n $(conflicts_logged 1 "address=$VIP6 mac=$MACC owner=node1 .*source=na action=reannounce") ]]' ||
	fail "node1 logged no conflict for the client's NA ($MACC)"
after1=$(metric 1 fomgr_vip_conflicts_total)
((after1 == before1 + 1)) || fail "node1's counter went $before1 -> $after1, expected one more"
((before2 >= 1)) || fail "node2's counter was $before2"
assert_holder $VIP6 node1
log "IPv6: a foreign NA ($MACC) seen and counted on node1 ($before1 -> $after1); node1 still holds $VIP6"

# --- a graceful switchover there and back is no conflict --------------------------
for k in 1 2 3; do count[k]=$(metric "$k" fomgr_vip_conflicts_total); done
lines_before=$(cat "$LAB_STATE"/node*/fomgr.log | grep -c "conflict group=" || true)
ctl 1 vip move vip --to node2 --wait 10 >/dev/null || fail "move to node2"
wait_for 5 eval 'who=$(client_reach $VIP 7777) && [[ $who == node2 ]]' || fail "client: $VIP not answered by node2"
ctl 1 vip clear vip >/dev/null || fail "clear the pin"
wait_for 10 holder_is $VIP node1 || fail "$VIP not back on node1"
wait_for 5 eval 'who=$(client_reach $VIP 7777) && [[ $who == node1 ]]' || fail "client: $VIP not answered by node1 again"
grep -q "transition group=vip from=node1 to=node2 reason=switchover" "$LAB_STATE/node2/fomgr.log" ||
	fail "node2 logged no switchover"
grep -q "transition group=vip from=node2 to=node1 reason=failback" "$LAB_STATE/node1/fomgr.log" ||
	fail "node1 logged no failback"
sleep 1
for k in 1 2 3; do
	c=$(metric "$k" fomgr_vip_conflicts_total)
	[[ $c == "${count[k]}" ]] || fail "node$k counted a conflict during a graceful switchover (${count[k]} -> $c)"
done
lines_after=$(cat "$LAB_STATE"/node*/fomgr.log | grep -c "conflict group=" || true)
((lines_after == lines_before)) || fail "conflict lines logged during the switchover: $((lines_after - lines_before))"
log "switchover node1 -> node2 -> node1 (both logged, the client followed): no conflict counted or logged"
