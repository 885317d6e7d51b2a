# Shared by the agent's integration tests (tests/integration/2x-*.sh): temporary
# directory, background processes killed by PID on exit, the agent started on a free
# loopback port, HTTP helpers and assertions.
set -eu

FO_BUILD=${FO_BUILD:-$(cd "$(dirname "$0")/../../build/hc" && pwd)}
FO_TOP=${FO_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
HC_BIN=$FO_BUILD/healthcheck/healthcheck
HC_TOOLS=$FO_TOP/tests/tools
HC_TMP=$(mktemp -d /tmp/hc-test.XXXXXX)
chmod 755 "$HC_TMP"
HC_PIDS=""
HC_AGENT_PID=""
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

hc_cleanup() {
	for pid in $HC_PIDS; do
		kill "$pid" 2>/dev/null || true
	done
	sleep 0.2
	for pid in $HC_PIDS; do
		kill -9 "$pid" 2>/dev/null || true
	done
	rm -rf "$HC_TMP"
}
trap hc_cleanup EXIT

hc_fail() {
	echo "FAIL: $*" >&2
	if [ -f "$HC_TMP/agent.log" ]; then
		echo "--- agent log (last 40 lines)" >&2
		tail -n 40 "$HC_TMP/agent.log" >&2
		[ -z "${HC_KEEP_LOG:-}" ] || cp "$HC_TMP/agent.log" "$HC_KEEP_LOG"
	fi
	exit 1
}

hc_ok() {
	echo "ok: $*"
}

# hc_bg CMD...: runs CMD in the background, killed on exit.
hc_bg() {
	"$@" &
	HC_PIDS="$HC_PIDS $!"
	HC_LAST_PID=$!
}

# hc_server NAME MODE [OPTIONS]: starts tests/tools/hc-server.py; sets HC_PORT_<NAME>.
hc_server() {
	name=$1 mode=$2
	shift 2
	hc_bg python3 "$HC_TOOLS/hc-server.py" --mode "$mode" --port-file "$HC_TMP/$name.port" "$@"
	for _ in $(seq 100); do
		[ -f "$HC_TMP/$name.port" ] && break
		sleep 0.05
	done
	[ -f "$HC_TMP/$name.port" ] || hc_fail "server $name did not start"
	eval "HC_PORT_$name=$(cat "$HC_TMP/$name.port")"
}

# hc_free_port: a loopback port nobody listens on (bound, then released).
hc_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# hc_agent CONF: starts the agent (log in $HC_TMP/agent.log); sets HC_AGENT_PID and
# HC_PORT, the port it serves on (the config says 127.0.0.1:0).
hc_agent() {
	: >"$HC_TMP/agent.log"
	"$HC_BIN" --config "$1" -d >>"$HC_TMP/agent.log" 2>&1 &
	HC_AGENT_PID=$!
	HC_PIDS="$HC_PIDS $!"
	for _ in $(seq 200); do
		HC_PORT=$(sed -n 's/.*serving .* on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$HC_TMP/agent.log" | tail -n 1)
		[ -n "$HC_PORT" ] && return 0
		kill -0 "$HC_AGENT_PID" 2>/dev/null || hc_fail "agent exited at start"
		sleep 0.05
	done
	hc_fail "agent did not start serving"
}

# hc_stop_agent: SIGTERM, then the exit status must be 0 and the log free of
# sanitizer reports.
hc_stop_agent() {
	kill -TERM "$HC_AGENT_PID"
	rc=0
	wait "$HC_AGENT_PID" || rc=$?
	[ "$rc" -eq 0 ] || hc_fail "agent exited with status $rc after SIGTERM"
	if grep -q "Sanitizer" "$HC_TMP/agent.log"; then
		hc_fail "sanitizer report in the agent's log"
	fi
	hc_ok "agent stopped cleanly (exit 0, no sanitizer report)"
}

# hc_get PATH: sets HC_BODY and HC_STATUS (000 when the agent did not answer).
hc_get() {
	HC_BODY=$(curl -s --noproxy '*' --max-time 3 -o - -w '\n%{http_code}' "http://127.0.0.1:$HC_PORT$1") ||
		HC_BODY=$'\n000'
	HC_STATUS=${HC_BODY##*$'\n'}
	HC_BODY=${HC_BODY%$'\n'*}
}

# hc_wait_state CHECK STATE SECONDS: waits until /readyz/CHECK says so.
hc_wait_state() {
	deadline=$(($(date +%s%N) / 1000000 + $3 * 1000))
	while :; do
		hc_get "/readyz/$1"
		case "$2:$HC_STATUS:$HC_BODY" in
		passing:200:*) return 0 ;;
		failing:503:*"failed: unknown,"*) ;; # 503 too, but not decided yet
		failing:503:*) return 0 ;;
		esac
		[ "$(($(date +%s%N) / 1000000))" -lt "$deadline" ] || hc_fail "check $1 not $2 within $3 s: $HC_BODY"
		sleep 0.05
	done
}

# hc_pki DIR: a throwaway CA, a server certificate for test.example valid 5 days, a
# self-signed one, and a client certificate, made at test time, never committed.
hc_pki() {
	d=$1
	mkdir -p "$d"
	ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
	openssl req -x509 $ec -keyout "$d/ca.key" -out "$d/ca.pem" -days 30 -subj "/CN=hc test CA" 2>/dev/null
	openssl req $ec -keyout "$d/srv.key" -out "$d/srv.csr" -subj "/CN=test.example" 2>/dev/null
	printf 'subjectAltName=DNS:test.example\n' >"$d/srv.ext"
	openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 5 \
		-extfile "$d/srv.ext" -out "$d/srv.pem" 2>/dev/null
	openssl req -x509 $ec -keyout "$d/self.key" -out "$d/self.pem" -days 30 -subj "/CN=test.example" \
		-addext subjectAltName=DNS:test.example 2>/dev/null
	openssl req $ec -keyout "$d/client.key" -out "$d/client.csr" -subj "/CN=hc client" 2>/dev/null
	printf 'extendedKeyUsage=clientAuth\n' >"$d/client.ext"
	openssl x509 -req -in "$d/client.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 5 \
		-extfile "$d/client.ext" -out "$d/client.pem" 2>/dev/null
	chmod 644 "$d"/*
}

# hc_status_field CHECK FIELD: one field of a check in /status.
hc_status_field() {
	hc_get /status
	printf '%s' "$HC_BODY" | python3 -c '
import json, sys
d = json.load(sys.stdin)
c = [c for c in d["checks"] if c["name"] == sys.argv[1]][0]
v = c
for k in sys.argv[2].split("."):
    v = v[k]
print(v)' "$1" "$2"
}

assert_contains() {
	case "$1" in
	*"$2"*) ;;
	*) hc_fail "expected '$2' in: $1" ;;
	esac
}
