#!/bin/bash
# Health drives placement: each node runs the healthcheck agent with an HTTP check
# of its local service. The service on the holder stops -> the group moves within
# fall x interval plus a bounded margin; it returns -> failback. A service that
# flaps faster than the hysteresis never moves the VIP.
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100
INTERVAL_MS=200
FALL=${FO_TEST_FALL:-3}
RISE=2
MARGIN_MS=1500

# Corosync default timers: this scenario is about health, not about detecting
# link loss, and must not be disturbed by a spurious membership change.
lab_init 8 3 default
for k in 1 2 3; do
	d=$LAB_STATE/node$k
	lab fomgr-config "$LAB_ID" "$k" | sed 's/^failback = auto/failback = auto\nchecks = web/' >"$d/health.conf"
	sed -i "s|^\[fomgr\]|[fomgr]\nhealth_ttl = 3s|" "$d/health.conf"
	cat >"$d/agent.conf" <<EOC
[agent]
listen = 127.0.0.1:9901
manager_socket = $d/run/health.sock
heartbeat = 500ms

[check web]
type = http
url = http://127.0.0.1:8080/
interval = ${INTERVAL_MS}ms
timeout = 100ms
rise = $RISE
fall = $FALL
EOC
	mkdir -p "$d/www" && echo "node$k" >"$d/www/index.html"
	lab spawn "$LAB_ID" "node$k" web python3 -m http.server 8080 --bind 127.0.0.1 --directory "$d/www" >/dev/null
	lab start-fomgr "$LAB_ID" "$k" "$d/health.conf" >/dev/null
	lab start-healthcheck "$LAB_ID" "$k" "$d/agent.conf" >/dev/null
done
wait_for 20 holder_is $VIP node1 || fail "node1 never took $VIP: '$(holders $VIP)'"
log "node1 holds $VIP with its web check passing"

# The service stops on the holder.
web_pid=$(lab pids "$LAB_ID" | awk '$1 == "node1.web" { print $2 }')
[[ -n $web_pid ]] || fail "no recorded web server on node1"
start=$(now_ms)
lab stop "$LAB_ID" node1 web >/dev/null
wait_for 10 holder_is $VIP node2 || fail "web stopped on node1: $VIP held by '$(holders $VIP)', expected node2"
took=$(($(now_ms) - start))
bound=$((FALL * INTERVAL_MS + MARGIN_MS))
((took <= bound)) || fail "the group moved after ${took} ms: more than fall x interval + margin = ${bound} ms"
grep -q 'transition group=vip from=node1 to=node2 reason=health' "$LAB_STATE/node1/fomgr.log" ||
	fail "node1 did not log a health release"
log "web stopped on node1: node2 holds $VIP after ${took} ms (bound ${bound} ms)"

# It comes back: failback auto.
lab spawn "$LAB_ID" node1 web python3 -m http.server 8080 --bind 127.0.0.1 --directory "$LAB_STATE/node1/www" >/dev/null
wait_for 15 holder_is $VIP node1 || fail "web back on node1: $VIP held by '$(holders $VIP)', expected node1"
log "web back on node1: failback to node1"

# Flapping faster than the hysteresis: frozen for 250 ms (a check fails when it
# starts up to one timeout before or during the freeze: a 350 ms window, so one or
# two failures in a row at a 200 ms interval, fewer than fall = 3), then answering
# for 800 ms, eight times. With fall = 1 the same flapping moves the VIP.
web_pid=$(lab pids "$LAB_ID" | awk '$1 == "node1.web" { print $2 }')
sleep 1
for _ in $(seq 1 8); do
	kill -STOP "$web_pid"
	sleep 0.25
	kill -CONT "$web_pid"
	for _ in $(seq 1 16); do
		h=$(holders $VIP)
		[[ $h == node1 ]] || { kill -CONT "$web_pid"; fail "a flapping service moved $VIP to '$h'"; }
		sleep 0.05
	done
done
log "a service flapping faster than the hysteresis did not move $VIP"
