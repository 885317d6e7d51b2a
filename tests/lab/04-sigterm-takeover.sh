#!/bin/bash
# A graceful stop of the holder (SIGTERM): it releases, tells its peers through
# CPG, and the next node takes over without waiting for corosync's token timeout.
# Uses corosync's default timers so that waiting for them would show.
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100

lab_init 4 3 default
for k in 1 2 3; do lab start-fomgr "$LAB_ID" "$k" >/dev/null; done
start_echo_all
wait_for 15 holder_is $VIP node1 || fail "node1 never took $VIP: '$(holders $VIP)'"
token=$(lab_exec node1 corosync-cmapctl -g runtime.config.totem.token | awk '{print $NF}')

probe_start stop $VIP 7777 5 4000
sleep 1
lab stop-fomgr "$LAB_ID" 1 >/dev/null
wait_for 3 holder_is $VIP node2 || fail "after SIGTERM on node1: $VIP held by '$(holders $VIP)'"
summary=$(probe_wait stop 10)
log "probe: $summary"
gap=$(kv max_gap_ms "$summary")
(( ${gap%.*} < token )) || fail "unreachable for ${gap} ms: not under corosync's token timeout (${token} ms)"
(( ${gap%.*} < 500 )) || fail "graceful stop left $VIP unreachable for ${gap} ms"
grep -q 'transition group=vip from=node1 to=none reason=shutdown' "$LAB_STATE/node1/fomgr.log" ||
	fail "node1 logged no shutdown release"
grep -q 'transition group=vip from=node1 to=node2 reason=failover' "$LAB_STATE/node2/fomgr.log" ||
	fail "node2 logged no takeover"
log "graceful stop: unreachable ${gap} ms (token ${token} ms)"
