#!/bin/bash
# The security audit on a running cluster (fomgr with a 2 s audit period):
# - an unexpected listener on node2 is a finding within one period, in the log line
#   and the audit log;
# - an nftables rule on node3 that drops an allowlisted port is reported by the
#   peers' reachability probes; a must_be_closed port that answers on node3 too;
# - the rule makes node3's firewall digest differ from node1's, and the diff names it;
# - a VIP move (node1's link cut) records a before_release snapshot on node1 with the
#   connections it cuts and an after_acquire one on node2 carrying the findings;
# - no default route in the lab: an info finding, by design;
# - every node's audit log verifies.
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100

lab_init 30 3 fast
atool=$(tool audit-tool)

audit_config() { # K: the lab's config, audited and probed every 2 s, with our rules
	lab fomgr-config "$LAB_ID" "$1" | sed -e '/^\(interval\|probe\|probe_timeout\|probe_rate\) *=/d' \
		-e '/^\[audit\]/a interval = 2s\nprobe = yes\nprobe_timeout = 500ms\nallow = tcp/7000\nmust_be_closed = tcp/23'
}
record_count() { # FILE PYTHON-CONDITION-ON-r: how many records match
	python3 - "$1" "$2" <<'EOF'
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if eval(sys.argv[2]):
        n += 1
print(n)
EOF
}
has_records() { # FILE CONDITION
	[[ $(record_count "$1" "$2") -gt 0 ]]
}
listening() { # ROLE PORT
	[[ -n $(lab_exec "$1" ss -Hltn "sport = :$2") ]]
}
fomgr_log_has() { # K PATTERN
	grep -q -- "$2" "$LAB_STATE/node$1/fomgr.log"
}

for k in 1 2 3; do
	audit_config "$k" >"$LAB_STATE/node$k/audit.conf"
	lab spawn "$LAB_ID" "node$k" svc7000 "$atool" listen 7000 >/dev/null
done
for k in 1 2 3; do
	wait_for 5 listening "node$k" 7000 || fail "node$k: the tcp/7000 service did not start"
	lab start-fomgr "$LAB_ID" "$k" "$LAB_STATE/node$k/audit.conf" >/dev/null
done
wait_for 15 holder_is $VIP node1 || fail "node1 never took $VIP: '$(holders $VIP)'"
wait_for 5 fomgr_log_has 1 'kind=default_route severity=info' || fail "node1 did not report the missing default route (info)"
log "cluster up, audited every 2 s; the lab's missing default route is an info finding"

# --- an unexpected listener -------------------------------------------------------
fomgr_log_has 2 'subject="tcp/6000' && fail "tcp/6000 reported before anything listens on it"
lab spawn "$LAB_ID" node2 rogue "$atool" listen 6000 >/dev/null
wait_for 5 fomgr_log_has 2 'audit finding kind=unexpected_listener severity=warning subject="tcp/6000 on \[::\]"' ||
	fail "node2: no unexpected_listener finding for tcp/6000 within 5 s"
log "node2 reported the unexpected tcp/6000 listener ${WAIT_MS} ms after it opened"
has_records "$LAB_STATE/node2/audit.log" "r['type'] == 'finding' and r['kind'] == 'unexpected_listener' and r['subject'].startswith('tcp/6000')" ||
	fail "node2's audit log has no finding record for tcp/6000"

# --- reachability: what the network really exposes ---------------------------------
lab_exec node3 nft add table inet fo_audit_test
lab_exec node3 nft add chain inet fo_audit_test input '{ type filter hook input priority 0; }'
lab_exec node3 nft add rule inet fo_audit_test input tcp dport 7000 drop
lab spawn "$LAB_ID" node3 telnet23 "$atool" listen 23 >/dev/null
wait_for 8 fomgr_log_has 1 'kind=allowed_unreachable severity=warning subject="tcp/7000 on node3 (' ||
	fail "node1's probes did not report tcp/7000 filtered on node3"
wait_for 8 fomgr_log_has 1 'kind=closed_port_open severity=critical subject="tcp/23 on node3 (' ||
	fail "node1's probes did not report tcp/23 answering on node3"
fomgr_log_has 1 'subject="tcp/7000 on node2' && fail "node1 reported node2's tcp/7000, which is open"
log "node1's probes: tcp/7000 filtered on node3, must-be-closed tcp/23 answers on node3"

# --- firewall drift, with what differs ---------------------------------------------
lab_exec node1 "$atool" summary "$LAB_STATE/node1/audit.conf" >"$LAB_STATE/sum1.json"
lab_exec node3 "$atool" summary "$LAB_STATE/node3/audit.conf" >"$LAB_STATE/sum3.json"
d1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digests"]["firewall"])' "$LAB_STATE/sum1.json")
d3=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digests"]["firewall"])' "$LAB_STATE/sum3.json")
[[ $d1 != "$d3" ]] || fail "node1 and node3 have the same firewall digest"
diff=$("$atool" diff "$LAB_STATE/sum3.json" "$LAB_STATE/sum1.json" || true)
grep -q '^firewall + rule .*"right":7000' <<<"$diff" || fail "the firewall diff does not name the rule: $diff"
log "firewall drift node3 vs node1: ${d3:0:12} vs ${d1:0:12}; $(grep -c '^firewall' <<<"$diff") line(s) differ, e.g. $(grep -m1 'rule' <<<"$diff" | cut -c1-100)"
lab_exec node3 nft delete table inet fo_audit_test
lab stop "$LAB_ID" node3 telnet23 >/dev/null

# --- a VIP move: before and after snapshots with connection counts ----------------
lab spawn "$LAB_ID" client conns "$atool" connect $VIP 7000 5 >/dev/null
wait_for 5 grep -q 'connected=5' "$LAB_STATE/client/conns.log" || fail "the client could not open 5 connections to $VIP:7000"
lab cut "$LAB_ID" 1 >/dev/null
wait_for 10 holder_is $VIP node2 || fail "after cutting node1: $VIP held by '$(holders $VIP)'"
wait_for 5 has_records "$LAB_STATE/node1/audit.log" "r['type'] == 'snapshot' and r['phase'] == 'before_release' and r['vip_connections'] == 5" ||
	fail "node1 recorded no before_release snapshot counting the 5 connections"
wait_for 5 has_records "$LAB_STATE/node2/audit.log" "r['type'] == 'snapshot' and r['phase'] == 'after_acquire' and any(f['subject'].startswith('tcp/6000') for f in r['findings'])" ||
	fail "node2 recorded no after_acquire snapshot with the tcp/6000 finding"
log "node1: before_release snapshot, 5 connections cut; node2: after_acquire snapshot with the open finding"
grep -h 'audit before_release\|audit after_acquire' "$LAB_STATE"/node[12]/fomgr.log | sed 's/^/  /'
lab restore "$LAB_ID" 1 >/dev/null

# --- the logs are intact -----------------------------------------------------------
for k in 1 2 3; do
	out=$("$atool" verify "$LAB_STATE/node$k/audit.log") || fail "node$k's audit log does not verify: $out"
	log "node$k audit log: $out"
done
