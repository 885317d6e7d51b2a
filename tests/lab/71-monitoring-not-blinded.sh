#!/bin/bash
# Local monitoring that a client cannot blind (issue 13, item 7).
# - 50 slow clients on the status port, all from the scraper's own address
#   (loopback), each trickling one header line a second and reconnecting 200 ms
#   after it is closed: a scraper still gets every answer, each within 1 s; the
#   slow clients are closed (at their deadline, or to make room), as /metrics counts.
# - 100 idle control clients of the view group: root's fomctl still works, since
#   slots are kept for root and admin_group; the view clients that got in hold
#   their slots the whole time (fomgr_control_clients).
source "$(dirname "$0")/lib.sh"
need_status_tools

VIEW_GROUP=fo71view VIEW_USER=fo71v
made_user=0 made_group=0
cleanup_accounts() {
	((made_user)) && userdel $VIEW_USER 2>/dev/null
	((made_group)) && groupdel $VIEW_GROUP 2>/dev/null
	return 0
}
lab_init 71 1
# set +e: under set -e, '(exit 1)' would end the trap before lab_cleanup.
trap 'rc=$?; set +e; cleanup_accounts; (exit $rc); lab_cleanup' EXIT
userdel $VIEW_USER 2>/dev/null || true
groupdel $VIEW_GROUP 2>/dev/null || true
groupadd --system $VIEW_GROUP && made_group=1
useradd --system --no-create-home --shell /usr/sbin/nologin --groups $VIEW_GROUP $VIEW_USER && made_user=1

chmod 0711 "$LAB_STATE"
mkdir -p "$LAB_STATE/node1/run"
chmod 0711 "$LAB_STATE/node1"
lab fomgr-config "$LAB_ID" 1 | sed "/^\[fomgr\]/a view_group = $VIEW_GROUP" >"$LAB_STATE/node1/mon.conf"
lab start-fomgr "$LAB_ID" 1 "$LAB_STATE/node1/mon.conf" >/dev/null
SOCK=$LAB_STATE/node1/run/control.sock
joined() { grep -q '"joined":true' <<<"$("$FOMCTL" --socket "$SOCK" status --json 2>/dev/null)"; }
wait_for 20 joined || fail "fomgr never joined"
metric() { # NAME{labels}: its value on node1
	lab_exec node1 curl -sf --max-time 5 http://127.0.0.1:9900/metrics | awk -v k="$1" '$1 == k { print $2 }'
}

# --- 50 slow clients, and a scraper --------------------------------------------------
cat >"$LAB_STATE/slow.py" <<'EOF'
import socket, sys, time, selectors
n, duration = int(sys.argv[1]), float(sys.argv[2])
sel = selectors.DefaultSelector()
conns, closed, opened = {}, 0, 0
end = time.monotonic() + duration
def connect(i):
    global opened
    s = socket.create_connection(("127.0.0.1", 9900))
    s.setblocking(False)
    s.send(b"GET /status HTTP/1.1\r\nHost: x\r\n")
    conns[i] = [s, time.monotonic() + 1.0, None]
    sel.register(s, selectors.EVENT_READ, i)
    opened += 1
for i in range(n):
    connect(i)
print("connected %d" % n, flush=True)
while time.monotonic() < end:
    now = time.monotonic()
    for key, _ in sel.select(timeout=0.05):
        i = key.data
        s = conns[i][0]
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if not data:  # closed by the server: come back in 200 ms
            sel.unregister(s)
            s.close()
            conns[i] = [None, None, now + 0.2]
            closed += 1
    for i, (s, next_byte, reconnect) in list(conns.items()):
        if s is None and reconnect <= now:
            connect(i)
        elif s is not None and next_byte <= now:
            try:
                s.send(b"X-Slow: 1\r\n")  # one header line a second, never the blank line
            except OSError:
                pass
            conns[i][1] = now + 1.0
print("opened=%d closed_by_server=%d" % (opened, closed), flush=True)
EOF
lab spawn "$LAB_ID" node1 slow "$PY" "$LAB_STATE/slow.py" 50 14 >/dev/null
slow_up() { grep -q '^connected 50' "$LAB_STATE/node1/slow.log" 2>/dev/null; }
wait_for 10 slow_up || fail "the slow clients did not connect: $(cat "$LAB_STATE/node1/slow.log")"
sleep 1 # let them settle into trickling
bad=0 worst=0
for i in $(seq 1 30); do
	out=$(lab_exec node1 curl -s -o /dev/null --max-time 1 -w '%{http_code} %{time_total}' \
		http://127.0.0.1:9900/metrics || true)
	code=${out%% *} t=${out#* }
	if [[ $code != 200 ]]; then
		bad=$((bad + 1))
		log "scrape $i: '$out'"
	fi
	ms=$(awk -v t="${t:-9}" 'BEGIN { printf "%d", t * 1000 }')
	((ms > worst)) && worst=$ms
	sleep 0.3
done
((bad == 0)) || fail "$bad of 30 scrapes got no answer within 1 s while 50 slow clients were connected"
wait_for 10 grep -q '^opened=' "$LAB_STATE/node1/slow.log" || fail "the slow clients did not finish"
summary=$(grep '^opened=' "$LAB_STATE/node1/slow.log")
closed=$(kv closed_by_server "$summary")
((closed >= 50)) || fail "the slow clients were not closed by the server: $summary"
evicted=$(metric 'fomgr_http_connections_closed_total{reason="evicted"}')
deadline=$(metric 'fomgr_http_connections_closed_total{reason="deadline"}')
((evicted + deadline >= closed)) || fail "/metrics counts $evicted evicted + $deadline deadline, the clients saw $closed closes"
log "30 scrapes among 50 slow loopback clients: every one answered, worst ${worst} ms; slow clients: $summary; evicted=$evicted deadline=$deadline"

# --- 100 idle control clients of the view group -------------------------------------
# A copy the view user can read wherever the checkout is.
install -m 0644 "$FO_TOP/tests/tools/ctl-idle-clients.py" "$LAB_STATE/ctl-idle-clients.py"
lab spawn "$LAB_ID" node1 idle setpriv --reuid=$VIEW_USER --regid=$VIEW_USER --init-groups --reset-env \
	"$PY" "$LAB_STATE/ctl-idle-clients.py" "$SOCK" 100 20 >/dev/null
idle_up() { grep -q '^idle=' "$LAB_STATE/node1/idle.log" 2>/dev/null; }
wait_for 15 idle_up || fail "the idle clients did not report: $(cat "$LAB_STATE/node1/idle.log")"
summary=$(grep '^idle=' "$LAB_STATE/node1/idle.log")
held=$(kv idle "$summary")
((held >= 20 && held + $(kv refused "$summary") == 100)) || fail "the view group's idle clients: $summary"
for i in 1 2 3; do
	"$FOMCTL" --socket "$SOCK" --timeout 5 status >/dev/null || fail "root's fomctl status refused while $held view clients sit idle"
done
clients=$(metric fomgr_control_clients)
((clients >= held)) || fail "the idle clients are not connected any more (fomgr_control_clients $clients, $summary)"
log "100 idle view-group clients ($summary): root's fomctl status answered 3 times; fomgr_control_clients=$clients"
