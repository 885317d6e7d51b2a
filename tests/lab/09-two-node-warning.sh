#!/bin/bash
# A two-node cluster (two_node: 1) without a quorum device cannot keep the
# one-owner promise through a partition: fomgr says so loudly at start, and the
# status (HTTP /status and fomctl) carries the warning.
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100

lab_init 9 2 test
for k in 1 2; do lab start-fomgr "$LAB_ID" "$k" >/dev/null; done
wait_for 15 holder_is $VIP node1 || fail "node1 never took $VIP: '$(holders $VIP)'"
for k in 1 2; do
	grep -q 'SPLIT-BRAIN RISK' "$LAB_STATE/node$k/fomgr.log" || fail "node$k did not warn about split-brain risk"
	status=$(lab_exec "node$k" curl -sf --max-time 5 http://127.0.0.1:9900/status) || fail "no /status on node$k"
	python3 -c 'import json,sys; s=json.load(sys.stdin); sys.exit(0 if any(w.startswith("split-brain-risk") for w in s["warnings"]) else 1)' \
		<<<"$status" || fail "node$k /status has no split-brain-risk warning: $status"
done
metrics=$(lab_exec node1 curl -sf --max-time 5 http://127.0.0.1:9900/metrics) || fail "no /metrics on node1"
grep -q '^fomgr_quorate 1' <<<"$metrics" || fail "/metrics does not say quorate"
log "two_node without a tie-breaker: warned at start and shown in status"
