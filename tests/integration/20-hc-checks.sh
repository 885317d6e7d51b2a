#!/bin/bash
# The health-check agent against real local services on loopback: every check kind
# passing and failing with its reason; connection reuse; a drain file; the endpoints'
# answers (/readyz?verbose, /readyz/<check>, /metrics, /status); --config-test.
. "$(dirname "$0")/../tools/hc-lib.sh"

hc_pki "$HC_TMP/pki"
P=$HC_TMP/pki
hc_server web ok
hc_server ka ok
hc_server tls ok --tls-cert "$P/srv.pem" --tls-key "$P/srv.key"
hc_server mtls ok --tls-cert "$P/srv.pem" --tls-key "$P/srv.key" --client-ca "$P/ca.pem"
hc_server banner tcp-banner
FREE=$(hc_free_port)
hc_bg sleep 600
SLEEP_PID=$HC_LAST_PID
echo "$SLEEP_PID" >"$HC_TMP/sleep.pid"
echo 999999 >"$HC_TMP/dead.pid"
echo ready >"$HC_TMP/content"

# checks meant to fail decide at once; those meant to pass ride out one slow run on
# a loaded machine
D="interval = 200ms
timeout = 1s
jitter = 0ms
rise = 1
fall = 1"
G="interval = 200ms
timeout = 1s
jitter = 0ms
rise = 1
fall = 3"
cat >"$HC_TMP/hc.conf" <<EOF
[agent]
listen = 127.0.0.1:0
manager_socket =

[check http_ok]
type = http
url = http://127.0.0.1:$HC_PORT_ka/
expect_body = ok up
expect_regex = ^ok up v[0-9]+
$G
[check http_503]
type = http
url = http://127.0.0.1:$HC_PORT_web/fail
$D
[check http_body]
type = http
url = http://127.0.0.1:$HC_PORT_web/
expect_body = nope
$D
[check redirect_off]
type = http
url = http://127.0.0.1:$HC_PORT_web/redirect
expect_status = 200
$D
[check redirect_on]
type = http
url = http://127.0.0.1:$HC_PORT_web/redirect
expect_status = 200
follow_redirects = yes
$G
[check http_refused]
type = http
url = http://127.0.0.1:$FREE/
$D
[check https_ok]
type = https
url = https://127.0.0.1:$HC_PORT_tls/
host = test.example
ca_file = $P/ca.pem
$G
[check https_wrong_name]
type = https
url = https://127.0.0.1:$HC_PORT_tls/
ca_file = $P/ca.pem
$D
[check https_mtls]
type = https
url = https://127.0.0.1:$HC_PORT_mtls/
host = test.example
ca_file = $P/ca.pem
client_cert = $P/client.pem
client_key = $P/client.key
$G
[check https_mtls_nocert]
type = https
url = https://127.0.0.1:$HC_PORT_mtls/
host = test.example
ca_file = $P/ca.pem
$D
[check tcp_ok]
type = tcp
address = 127.0.0.1
port = $HC_PORT_banner
send = PING\r\n
expect = +PONG
$G
[check tcp_refused]
type = tcp
address = 127.0.0.1
port = $FREE
$D
[check tcp_expect]
type = tcp
address = 127.0.0.1
port = $HC_PORT_banner
send = HELLO\r\n
expect = +PONG
$D
[check script_ok]
type = script
path = /bin/true
$G
[check script_fail]
type = script
path = /bin/sh
args = -c "echo boom on stdout; exit 3"
$D
[check script_slow]
type = script
path = /bin/sleep
args = 30
timeout = 300ms
interval = 500ms
jitter = 0ms
rise = 1
fall = 1
[check proc_name]
type = process
name = sleep
$G
[check proc_pidfile]
type = process
pidfile = $HC_TMP/sleep.pid
name = sleep
$D
[check proc_dead]
type = process
pidfile = $HC_TMP/dead.pid
$D
[check proc_missing]
type = process
name = hc-no-such
$D
[check drain]
type = file
path = $HC_TMP/drain
mode = exists-fails
$D
[check content]
type = file
path = $HC_TMP/content
mode = content
expect = ready
$D
EOF

out=$("$HC_BIN" --config-test "$HC_TMP/hc.conf")
assert_contains "$out" "ok, 22 checks"
hc_ok "--config-test accepts the file"

hc_agent "$HC_TMP/hc.conf"

for c in http_ok redirect_on https_ok https_mtls tcp_ok script_ok proc_name proc_pidfile drain content; do
	hc_wait_state "$c" passing 5
done
hc_ok "passing: http, https (host override, CA file, client certificate), tcp send/expect, script, process, file"

expect_failure() { # CHECK REASON-SUBSTRING
	hc_wait_state "$1" failing 5
	hc_get "/readyz/$1"
	assert_contains "$HC_BODY" "[-]$1 failed: "
	assert_contains "$HC_BODY" "$2"
	hc_ok "$1 fails: $(printf '%s' "${HC_BODY#*failed: }" | tr -d '\n')"
}
expect_failure http_503 "HTTP status 503 (expected 200-399)"
expect_failure http_body "body (9 bytes) does not contain 'nope'"
expect_failure redirect_off "HTTP status 302 (expected 200-200)"
expect_failure http_refused "Failed to connect to 127.0.0.1 port $FREE after "
expect_failure https_wrong_name "SSL: no alternative certificate subject name matches target host name '127.0.0.1'"
# TLS 1.3: the server's refusal arrives after the handshake, while curl reads or writes
expect_failure https_mtls_nocert " the peer)"
expect_failure tcp_refused "connect: Connection refused"
expect_failure tcp_expect "connection closed after 11 bytes without the expected bytes: '+READY hc"
expect_failure script_fail "exit status 3: boom on stdout"
expect_failure script_slow "timeout after 300 ms (pid "
expect_failure proc_dead "pid 999999 from $HC_TMP/dead.pid is not running"
expect_failure proc_missing "no process named 'hc-no-such'"

# the operator's drain switch, and a content change
touch "$HC_TMP/drain"
expect_failure drain "drain file $HC_TMP/drain present"
rm "$HC_TMP/drain"
hc_wait_state drain passing 3
echo "not yet" >"$HC_TMP/content"
expect_failure content "does not contain 'ready'"
echo ready >"$HC_TMP/content"
hc_wait_state content passing 3
hc_ok "drain file and content flip the checks both ways"

# a process going away
kill "$SLEEP_PID"
expect_failure proc_pidfile "is not running"

# connection reuse: one connection for many requests of one check
sleep 1
stats=$(curl -s --noproxy '*' "http://127.0.0.1:$HC_PORT_ka/__stats")
conns=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["connections"])')
reqs=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
[ "$reqs" -ge 10 ] || hc_fail "only $reqs requests to the keep-alive server"
# (one connection is /__stats itself; a loaded machine may time one run out, which
# closes its connection)
[ $((5 * (conns - 1))) -le "$reqs" ] || hc_fail "$conns connections for $reqs requests: no keep-alive"
hc_ok "keep-alive: $reqs requests over $((conns - 1)) connection(s)"

# the certificate expires in 5 days: below cert_expiry_warn_days (14)
warning=$(hc_status_field https_ok warning)
assert_contains "$warning" "server certificate expires in "
assert_contains "$warning" " days (warning at 14)"
hc_ok "certificate expiry warning: $warning"

# endpoints
hc_get /livez
[ "$HC_STATUS" = 200 ] && [ "$HC_BODY" = $'ok\n' ] || hc_fail "/livez: $HC_STATUS $HC_BODY"
hc_get /readyz
[ "$HC_STATUS" = 503 ] || hc_fail "/readyz with failing checks: $HC_STATUS"
assert_contains "$HC_BODY" "readyz check failed"
hc_get "/readyz?verbose"
assert_contains "$HC_BODY" "[+]http_ok ok"
assert_contains "$HC_BODY" "[-]http_503 failed: HTTP status 503 (expected 200-399)"
assert_contains "$HC_BODY" "[+]tcp_ok ok"
assert_contains "$HC_BODY" "readyz check failed"
excl=""
for c in http_503 http_body redirect_off http_refused https_wrong_name https_mtls_nocert tcp_refused tcp_expect \
	script_fail script_slow proc_dead proc_missing proc_pidfile; do
	excl="$excl&exclude=$c"
done
hc_get "/readyz?verbose$excl"
[ "$HC_STATUS" = 200 ] || hc_fail "/readyz excluding the failing checks: $HC_STATUS $HC_BODY"
assert_contains "$HC_BODY" "readyz check passed"
hc_get /readyz/http_ok
[ "$HC_STATUS" = 200 ] || hc_fail "/readyz/http_ok: $HC_STATUS"
hc_get /readyz/no-such-check
[ "$HC_STATUS" = 404 ] || hc_fail "/readyz/no-such-check: $HC_STATUS"
hc_get /nope
[ "$HC_STATUS" = 404 ] || hc_fail "/nope: $HC_STATUS"
code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$HC_PORT/readyz")
[ "$code" = 405 ] || hc_fail "POST /readyz: $code"
hc_ok "/livez, /readyz (?verbose, ?exclude), /readyz/<check>, 404, 405"

hc_get /metrics
[ "$HC_STATUS" = 200 ] || hc_fail "/metrics: $HC_STATUS"
for line in 'healthcheck_check_up{check="http_ok",type="http"} 1' \
	'healthcheck_check_up{check="http_503",type="http"} 0' \
	'# TYPE healthcheck_checks_total counter' \
	'healthcheck_checks_total{check="http_503",result="fail"} ' \
	'healthcheck_checks_total{check="script_slow",result="timeout"} ' \
	'# TYPE healthcheck_check_latency_seconds summary' \
	'healthcheck_check_latency_seconds{check="http_ok",quantile="0.99"} ' \
	'healthcheck_check_anomaly{check="http_ok"} 0' \
	'healthcheck_check_cert_expiry_timestamp_seconds{check="https_ok"} ' \
	'healthcheck_build_info{version="' \
	'healthcheck_node_memory_used_ratio 0.' \
	'healthcheck_port_connections{port="'"$HC_PORT_ka"'",state="established"} ' \
	'healthcheck_node_capacity_warning{kind="'; do
	assert_contains "$HC_BODY" "$line"
done
# a Unix time in full: seconds and milliseconds, not %.9g's 1.79561080e+09
ts=$(printf '%s\n' "$HC_BODY" | sed -n 's/^healthcheck_check_last_run_timestamp_seconds{check="http_ok"} //p')
printf '%s' "$ts" | grep -Eq '^[0-9]{10}(\.[0-9]{1,3})?$' || hc_fail "last_run_timestamp_seconds not in full: '$ts'"
# every counter ends in _total, every sample follows its TYPE line
printf '%s\n' "$HC_BODY" | python3 -c '
import re, sys
types = {}
for line in sys.stdin:
    line = line.rstrip("\n")
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split(" ")
        types[name] = kind
        if kind == "counter" and not name.endswith("_total"):
            sys.exit("counter without _total: " + name)
    elif line and not line.startswith("#"):
        name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
        base = re.sub(r"_(sum|count)$", "", name)
        if name not in types and base not in types:
            sys.exit("sample before its TYPE: " + line)
        float(line.rsplit(" ", 1)[1])
' || hc_fail "/metrics is not well-formed Prometheus text"
hc_ok "/metrics: Prometheus text, counters end in _total"

hc_get /status
printf '%s' "$HC_BODY" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["schema_version"] == 1, d["schema_version"]
assert d["ready"] is False
checks = {c["name"]: c for c in d["checks"]}
assert len(checks) == 22
ok = checks["http_ok"]
assert ok["state"] == "passing" and ok["reason"] is None
assert ok["latency"]["samples"] >= 5 and 0 < ok["latency"]["p50_s"] < 1
assert ok["anomaly"]["active"] is False
bad = checks["http_503"]
assert bad["state"] == "failing" and bad["reason"] == "HTTP status 503 (expected 200-399)", bad
assert bad["results"]["fail"] >= 1
assert checks["https_ok"]["cert_expiry"] > 0
r = d["resources"]
assert r["memory_used_pct"] > 0 and r["connections"]["ports"], r
' || hc_fail "/status does not hold what it should: $HC_BODY"
hc_ok "/status: schema_version 1, states, reasons, latency, anomaly, resources"

hc_stop_agent

# refused configurations: file:line, exit status 1
cat >"$HC_TMP/bad.conf" <<EOF
[agent]
listen = 0.0.0.0:9901
[check x]
type = tcp
port = 80
EOF
rc=0
out=$("$HC_BIN" --config-test "$HC_TMP/bad.conf" 2>&1) || rc=$?
[ "$rc" = 78 ] || hc_fail "--config-test of a bad file: status $rc"
assert_contains "$out" "$HC_TMP/bad.conf:2: listen: 0.0.0.0 is not a loopback address"
assert_contains "$out" "$HC_TMP/bad.conf:3: check x: type tcp needs address"
mkdir -m 755 "$HC_TMP/scripts"
printf '#!/bin/sh\nexit 0\n' >"$HC_TMP/scripts/probe"
chmod 757 "$HC_TMP/scripts/probe"
printf '[check s]\ntype = script\npath = %s\n' "$HC_TMP/scripts/probe" >"$HC_TMP/unsafe.conf"
rc=0
out=$("$HC_BIN" --config-test "$HC_TMP/unsafe.conf" 2>&1) || rc=$?
[ "$rc" = 78 ] || hc_fail "--config-test of a world-writable script: status $rc"
assert_contains "$out" "unsafe.conf:3: path: $HC_TMP/scripts/probe is writable by a non-root user"
hc_ok "--config-test refuses with file:line (non-loopback listen, missing key, writable script)"

# the shipped example is valid (its user may not exist here)
sed 's/^user = .*/user = nobody/' "$FO_TOP/conf/healthcheck.conf" >"$HC_TMP/example.conf"
out=$("$HC_BIN" --config-test "$HC_TMP/example.conf") || hc_fail "conf/healthcheck.conf refused"
hc_ok "conf/healthcheck.conf: $out"
echo "PASS 20-hc-checks"
