#!/bin/bash
# Consistency across nodes: every node announces digests of its firewall ruleset,
# routes, fomgr config and corosync config; the audit flags a peer that differs.
# An nftables rule added on node3 only, and a config edited and reloaded on node2
# only, are both flagged by node1; the firewall drift goes away when undone.
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100

lab_init 10 3 test
for k in 1 2 3; do
	lab fomgr-config "$LAB_ID" "$k" | sed 's/^probe = no/probe = no\ninterval = 1s/' >"$LAB_STATE/node$k/drift.conf"
	lab start-fomgr "$LAB_ID" "$k" "$LAB_STATE/node$k/drift.conf" >/dev/null
done
wait_for 15 holder_is $VIP node1 || fail "node1 never took $VIP: '$(holders $VIP)'"
sleep 2
grep -q 'kind=drift' "$LAB_STATE/node1/fomgr.log" && fail "drift reported between identical nodes"

has() { grep -q -- "$2" "$LAB_STATE/node$1/fomgr.log"; }

# A firewall rule on node3 only.
lab_exec node3 nft add table inet fo10drift
lab_exec node3 nft add chain inet fo10drift input '{ type filter hook input priority 0; policy accept; }'
lab_exec node3 nft add rule inet fo10drift input tcp dport 7001 drop
wait_for 15 has 1 'kind=drift severity=warning subject="firewall on node3"' ||
	fail "node1 did not flag node3's firewall drift"
has 1 'subject="firewall on node2"' && fail "node1 flagged node2, whose firewall is like its own"
wait_for 10 has 3 'subject="firewall line [0-9a-f]* here, not on node1" detail="rule .*7001.*fo10drift' ||
	fail "node3 did not name its rule that node1 lacks"
has 1 'subject="firewall lines on node3, not here"' || fail "node1 did not count node3's extra lines"
log "node3's extra nftables rule flagged by node1, and named by node3: $(grep -m1 -o 'detail="rule .*7001.*' "$LAB_STATE/node3/fomgr.log" | cut -c1-160)"
lab_exec node3 nft delete table inet fo10drift
wait_for 15 has 1 'audit finding resolved kind=drift subject="firewall on node3"' ||
	fail "node3's firewall drift did not resolve once the rule was removed"

# A config edited and reloaded on node2 only: a comment is no drift (node-local
# paths and comments may differ), a group's failback is.
echo "; a comment on node2 only" >>"$LAB_STATE/node2/drift.conf"
sed -i 's/^failback = auto/failback = manual/' "$LAB_STATE/node2/drift.conf"
fomgr2=$(lab pids "$LAB_ID" | awk '$1 == "node2.fomgr" { print $2 }')
kill -HUP "$fomgr2"
wait_for 10 has 2 'configuration reloaded' || fail "node2 did not reload"
wait_for 15 has 1 'kind=drift severity=warning subject="fomgr config on node2"' ||
	fail "node1 did not flag node2's config drift"
grep -q '"change":"reload"' "$LAB_STATE/node2/audit.log" || fail "node2's audit log has no reload record"
log "node2's edited config flagged by node1; node2 audited its reload"
