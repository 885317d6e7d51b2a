#!/bin/bash
# The warnings block (issue 13, item 2), on the human and the JSON output and in
# /metrics: config drift on a peer (which node, what differs), every node in
# standby (and each group without a holder), no quorum on a cut-off node. Each
# warning is proved to go away again once its cause does.
source "$(dirname "$0")/lib.sh"
need_status_tools
VIP=192.0.2.100

lab_init 73 3 test
start_fomgr_all w.conf 's/^probe = no/probe = no\ninterval = 1s/'
wait_for 20 holder_is $VIP node1 || fail "node1 never took $VIP"
all_members() { grep -q '"members":3,' <<<"$(ctl 1 status --json 2>/dev/null)"; }
wait_for 20 all_members || fail "the three fomgr never joined"
# human K PATTERN: the block at the top of fomctl status on node K has a line
human() { ctl "$1" status 2>/dev/null | sed -n '1,/^$/p' | grep -q -- "^  ! $2"; }
# json K ID: the status document on node K has a warning with that id
json() { ctl "$1" status --json 2>/dev/null | "$PY" -c 'import json,sys; st=json.load(sys.stdin); sys.exit(0 if any(w.startswith(sys.argv[1] + ":") for w in st["warnings"]) else 1)' "$2"; }
metric() { metric_is "$1" "fomgr_warning{warning=\"$2\"} $3"; }
for w in drift all-standby no-holder no-quorum; do
	json 1 $w && fail "warning $w on a healthy cluster: $(ctl 1 status)"
	metric 1 $w 0 || fail "fomgr_warning{warning=\"$w\"} is not 0 on a healthy cluster"
done
log "healthy: no drift, all-standby, no-holder or no-quorum warning; each metric 0"

# Drift: node2's group config edited and reloaded.
sed -i 's/^failback = auto/failback = manual/' "$LAB_STATE/node2/w.conf"
kill -HUP "$(lab pids "$LAB_ID" | awk '$1 == "node2.fomgr" { print $2 }')"
wait_for 20 human 1 'drift: fomgr config on node2' || fail "no drift warning on node1: $(ctl 1 status)"
json 1 drift || fail "drift is not in node1's status document"
metric 1 drift 1 || fail "fomgr_warning{warning=\"drift\"} is not 1 on node1"
log "drift: $(ctl 1 status | grep -m1 '! drift:')"
sed -i 's/^failback = manual/failback = auto/' "$LAB_STATE/node2/w.conf"
kill -HUP "$(lab pids "$LAB_ID" | awk '$1 == "node2.fomgr" { print $2 }')"
no_drift() { ! json 1 drift; }
wait_for 20 no_drift || fail "the drift warning stayed after node2 was put back"
grep -q 'audit finding resolved kind=drift subject="fomgr config on node2"' "$LAB_STATE/node1/fomgr.log" ||
	fail "node1 did not log the drift's resolution"

# Every node in standby: the service is down, and status says so.
for k in 1 2 3; do ctl 1 node standby "node$k" >/dev/null || fail "standby node$k"; done
wait_for 10 holder_is $VIP "" || fail "$VIP still held with every node in standby: '$(holders $VIP)'"
wait_for 5 human 2 'all-standby: every node is in standby' || fail "no all-standby warning: $(ctl 2 status)"
human 2 'no-holder: group vip has no holder' || fail "no no-holder warning: $(ctl 2 status)"
json 2 all-standby && json 2 no-holder || fail "all-standby / no-holder not in the status document"
metric 2 all-standby 1 && metric 2 no-holder 1 || fail "all-standby / no-holder metrics are not 1"
log "every node in standby: $(ctl 2 status | grep -c '^  ! ') warnings, $(ctl 2 status | grep -m1 '! no-holder')"
ctl 2 status | sed 's/^/    | /' # the screen, for the record
for k in 1 2 3; do ctl 1 node unstandby "node$k" >/dev/null || fail "unstandby node$k"; done
wait_for 10 holder_is $VIP node1 || fail "$VIP not back on node1"
held_again() { ! json 2 all-standby && ! json 2 no-holder; }
wait_for 5 held_again || fail "all-standby / no-holder stayed once node1 held $VIP again"

# No quorum: node3 cut off from both networks.
lab cut "$LAB_ID" 3 >/dev/null
wait_for 15 human 3 'no-quorum: ' || fail "no no-quorum warning on node3: $(ctl 3 status)"
json 3 no-quorum || fail "no-quorum is not in node3's status document"
metric 3 no-quorum 1 || fail "fomgr_warning{warning=\"no-quorum\"} is not 1 on node3"
json 1 no-quorum && fail "node1 (quorate) warns of no quorum"
log "node3 cut off: $(ctl 3 status | grep -m1 '! no-quorum')"
lab restore "$LAB_ID" 3 >/dev/null
quorate3() { ! json 3 no-quorum; }
wait_for 20 quorate3 || fail "no-quorum stayed on node3 after the restore"
log "each warning in the human block, the JSON document and /metrics, and gone with its cause"
