#!/bin/bash
# What a checked service answers is untrusted. Against local misbehaving servers
# (garbage status line, 100 KB header, endless chunked body, slow drip, a TLS server
# with a self-signed certificate, plain HTTP on a TLS check, accept-and-never-answer)
# every check fails with a clear reason within its timeout, the agent keeps answering
# /livez quickly the whole time, holds no more descriptors at the end than after the
# first round, and exits cleanly (no crash, no sanitizer report, no leak).
. "$(dirname "$0")/../tools/hc-lib.sh"

hc_pki "$HC_TMP/pki"
P=$HC_TMP/pki
hc_server good ok
hc_server garbage garbage
hc_server bigheader bigheader
hc_server chunked chunked
hc_server slowdrip slowdrip
hc_server silent silent
hc_server selfsigned ok --tls-cert "$P/self.pem" --tls-key "$P/self.key"

D="interval = 500ms
timeout = 1s
jitter = 0ms
rise = 1
fall = 1"
cat >"$HC_TMP/hc.conf" <<EOF
[agent]
listen = 127.0.0.1:0
manager_socket =
[resources]
enabled = no
[check good]
type = http
url = http://127.0.0.1:$HC_PORT_good/
interval = 500ms
timeout = 1s
jitter = 0ms
rise = 1
fall = 3
[check garbage]
type = http
url = http://127.0.0.1:$HC_PORT_garbage/
$D
[check bigheader]
type = http
url = http://127.0.0.1:$HC_PORT_bigheader/
$D
[check chunked]
type = http
url = http://127.0.0.1:$HC_PORT_chunked/
$D
[check chunked_match]
type = http
url = http://127.0.0.1:$HC_PORT_chunked/
expect_body = never there
$D
[check slowdrip]
type = http
url = http://127.0.0.1:$HC_PORT_slowdrip/
$D
[check silent]
type = http
url = http://127.0.0.1:$HC_PORT_silent/
$D
[check silent_tcp]
type = tcp
address = 127.0.0.1
port = $HC_PORT_silent
send = hello\r\n\r\n
expect = welcome
$D
[check selfsigned]
type = https
url = https://127.0.0.1:$HC_PORT_selfsigned/
host = test.example
ca_file = $P/ca.pem
$D
[check tls_on_plain]
type = https
url = https://127.0.0.1:$HC_PORT_good/
$D
[check plain_on_tls]
type = http
url = http://127.0.0.1:$HC_PORT_selfsigned/
$D
EOF

hc_agent "$HC_TMP/hc.conf"
start_ms=$(($(date +%s%N) / 1000000))

# /livez every 50 ms while the bad services do their worst
python3 - "$HC_PORT" "$HC_TMP/livez.txt" <<'EOF' &
import sys, time, urllib.request
port, out = sys.argv[1], sys.argv[2]
worst, bad, n = 0.0, 0, 0
end = time.time() + 7
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
while time.time() < end:
    t = time.time()
    try:
        ok = opener.open(f"http://127.0.0.1:{port}/livez", timeout=2).read() == b"ok\n"
    except OSError:
        ok = False
    worst = max(worst, time.time() - t)
    bad += not ok
    n += 1
    time.sleep(0.05)
open(out, "w").write(f"{n} {bad} {worst:.3f}\n")
EOF
POLLER=$!
HC_PIDS="$HC_PIDS $POLLER"

expect_failure() { # CHECK REASON-SUBSTRING
	hc_wait_state "$1" failing 3
	hc_get "/readyz/$1"
	assert_contains "$HC_BODY" "[-]$1 failed: "
	assert_contains "$HC_BODY" "$2"
	hc_ok "$1 fails: $(printf '%s' "${HC_BODY#*failed: }" | tr -d '\n')"
}
expect_failure garbage "Received HTTP/0.9 when not allowed"
expect_failure bigheader "response headers too large: "
expect_failure chunked "body larger than max_body (65536 bytes)"
expect_failure chunked_match "body larger than max_body (65536 bytes)"
expect_failure slowdrip "timeout after 1000 ms (request sent, no complete response line)"
expect_failure silent "timeout after 1000 ms (request sent, no complete response line)"
expect_failure silent_tcp "timeout after 1000 ms (connected, 0 bytes received without the expected bytes)"
expect_failure selfsigned "SSL certificate problem: self-signed certificate"
expect_failure tls_on_plain "timeout after 1000 ms (TCP connect or TLS handshake not finished)"
# the TLS server resets or closes on a plain request: either is a clear reason
expect_failure plain_on_tls "from"
case "$HC_BODY" in
*"Connection reset by peer"* | *"Empty reply from server"*) ;;
*) hc_fail "plain_on_tls: $HC_BODY" ;;
esac
hc_wait_state good passing 3

# each failure was decided within its timeout (1 s) of the agent's start, plus margin
python3 - "$HC_TMP/agent.log" <<'EOF' || hc_fail "a check took longer than its timeout to fail"
import datetime, re, sys
start, worst = None, {}
for line in open(sys.argv[1]):
    t = datetime.datetime.strptime(line[:23], "%Y-%m-%dT%H:%M:%S.%f")
    if "started" in line and " checks" in line:
        start = t
    m = re.search(r"check (\S+): unknown -> failing", line)
    if m and start:
        worst[m.group(1)] = (t - start).total_seconds()
slow = {k: v for k, v in worst.items() if v > 1.5}
print("failed after (s):", " ".join(f"{k}={v:.2f}" for k, v in sorted(worst.items())))
sys.exit(1 if slow or len(worst) != 10 else 0)
EOF
hc_ok "every bad service failed within its 1 s timeout"

# a few more rounds of the same abuse, then: descriptors steady, /livez always fast
# (the fewest descriptors over a second: how many are open depends on the moment)
min_fds() {
	min=100000
	for _ in $(seq 10); do
		n=$(ls /proc/"$HC_AGENT_PID"/fd | wc -l)
		[ "$n" -lt "$min" ] && min=$n
		sleep 0.1
	done
	echo "$min"
}
fds_early=$(min_fds)
wait "$POLLER"
fds_late=$(min_fds)
read -r n bad worst <"$HC_TMP/livez.txt"
[ "$bad" = 0 ] || hc_fail "/livez failed $bad of $n times during the bad input"
python3 -c "import sys; sys.exit(float('$worst') >= 0.5)" || hc_fail "/livez took $worst s at worst"
hc_ok "/livez answered $n of $n requests during the bad input, slowest ${worst}s"
[ "$fds_late" -le $((fds_early + 2)) ] || hc_fail "descriptors grew from $fds_early to $fds_late"
hc_ok "descriptors steady: $fds_early after the first rounds, $fds_late at the end"

hc_get /metrics
assert_contains "$HC_BODY" 'healthcheck_checks_total{check="slowdrip",result="timeout"} '
assert_contains "$HC_BODY" 'healthcheck_check_up{check="good",type="http"} 1'
kill -0 "$HC_AGENT_PID" || hc_fail "the agent died"
hc_stop_agent
echo "PASS 21-hc-badinput"
