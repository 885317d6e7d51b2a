#!/usr/bin/env bash
# Health-check benchmark (issues 4 and 14): checks per CPU-second and peak RSS of the
# `healthcheck` agent with 100 and 1000 HTTP checks at 1 s and 100 ms intervals and
# 10 000 checks at 1 s, side by side in the same run with
#   - HAProxy's health checks: one backend of N servers (the same targets), `option
#     httpchk GET /`, `http-check expect status 200`, `default-server check inter ..`,
#     no frontend traffic;
#   - what keepalived users do on machines without IPVS (HTTP_GET needs it): one
#     vrrp_instance tracking 100 `vrrp_script`s that each run
#     `curl -sf -o /dev/null http://target/` at keepalived's 1 s minimum interval.
#
# Everything runs in a network namespace made for the run (fo91-bench: loopback and
# a dummy link, or a veth pair without the dummy module, for keepalived's VRRP
# instance; removed on exit). The targets are
# hc-bench-target (built from hc-bench-target.c at start): epoll processes of up to
# 4000 ports each (a process's descriptors stay under the limit), one 127.0.0.1 port
# per check target, HTTP/1.1 keep-alive, counting requests and accepted connections
# per port. Checks are counted from those counters; CPU is,
# for every process of the checker's tree, its own run time (schedstat of its
# threads) plus cutime+cstime from /proc/PID/stat (keepalived's VRRP process reaps
# the curls, so their time is in its cutime), cross-checked with the cpuacct cgroup
# each checker is started in when cgroup v1 cpuacct is mounted; peak RSS is VmHWM
# from /proc/PID/status, with RssAnon beside it. The tools run one after the other
# (the same targets, one measured checker at a time), each with a warm-up before its
# window. See hc-bench.py for the details of the measurement. Output: the Markdown
# table and ratios on stdout and in --out, one JSON line per run in OUT.jsonl, the
# tools' logs and configs in OUT-logs/.
#
#   tests/bench/hc-bench.sh [--quick] [--build DIR] [--out FILE] [--warmup S] [--window S]
#                           [--repeat R]
#                           [--tools "healthcheck haproxy keepalived"] [--sizes "100 1000 10000"]
#                           [--intervals "1000 100"]
#     cases     100 and 1000 checks at 1 s and 100 ms, 10 000 at 1 s; --sizes and
#               --intervals keep the cases that match both
#     --quick   smoke run: 2 s warm-up, 4 s windows, once (about 75 s)
#     default   5 s warm-up, 10 s windows, every case 3 times (about 18 minutes)
#     --repeat  runs of each case; the rounds go through every case in turn, so a
#               neighbour's load on a shared machine spreads over all of them; the
#               table shows the median run by checks per CPU-second and the range
#     --build   build directory holding healthcheck/healthcheck (default $FO_BUILD, else build/gcc, which scripts/test builds)
#     --out     results file (default build/bench/hc-results.md)
# Exits 1 when a series did not run or measured nothing (no check counted, no CPU).
# The machine (CPU model, CPUs, load average before and after, kernel) is printed
# above the table, and each run's load average is in the details.
# Needs root (network namespace), haproxy, keepalived, curl, python3, cc.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CALLER=$PWD
cd "$REPO"

NS=fo91-bench
BUILD=${FO_BUILD:-$REPO/build/gcc}
OUT=build/bench/hc-results.md
WARMUP=5
WINDOW=10
REPEAT=3
TOOLS="healthcheck haproxy keepalived"
SIZES="100 1000 10000"
INTERVALS="1000 100"
CASES="100x1000 100x100 1000x1000 1000x100 10000x1000"   # checks x interval (ms)
PORTS_PER_TARGET=4000
SCRIPTS=100          # keepalived: vrrp_scripts (at 1 s)
BASE_PORT=20000      # targets: 127.0.0.1:20000.. in the namespace
CTL_PORT=19000       # hc-bench-target's counters
QUICK=0

while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1; WARMUP=2; WINDOW=4; REPEAT=1 ;;
	--build) BUILD=$2; shift ;;
	--out) OUT=$2; shift ;;
	--warmup) WARMUP=$2; shift ;;
	--window) WINDOW=$2; shift ;;
	--repeat) REPEAT=$2; shift ;;
	--tools) TOOLS=$2; shift ;;
	--sizes) SIZES=$2; shift ;;
	--intervals) INTERVALS=$2; shift ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "hc-bench: unknown argument $1 (--help)" >&2; exit 2 ;;
	esac
	shift
done

# A relative --build is the caller's, as any command's argument would be.
[[ $BUILD == /* ]] || BUILD=$CALLER/$BUILD
HC=$BUILD/healthcheck/healthcheck
HELPER=$REPO/tests/bench/hc-bench.py
# The cases that --sizes and --intervals both keep, in the default order.
RUN_CASES=""
MAXN=0
for c in $CASES; do
	n=${c%x*} iv=${c#*x}
	[[ " $SIZES " == *" $n "* && " $INTERVALS " == *" $iv "* ]] || continue
	RUN_CASES="$RUN_CASES $c"
	[ "$n" -gt "$MAXN" ] && MAXN=$n
done
[ -n "$RUN_CASES" ] || { echo "hc-bench: no case left: sizes '$SIZES', intervals '$INTERVALS' (cases: $CASES)" >&2; exit 2; }
# The whole run is bounded: a watchdog stops it (cleanup still runs).
RUNS=0
for t in $TOOLS; do
	case "$t" in
	keepalived) [[ " $INTERVALS " == *" 1000 "* ]] && RUNS=$((RUNS + 1)) ;;
	*) for c in $RUN_CASES; do RUNS=$((RUNS + 1)); done ;;
	esac
done
RUNS=$((RUNS * REPEAT))
MAXTIME=$(( 60 + RUNS * (WARMUP + WINDOW + 30) ))
[ "$MAXTIME" -gt 1800 ] && MAXTIME=1800

tmp=""
pids=()          # every process this script started (killed by PID on exit)
cgroups=()
watchdog=""
CG_ROOT=""

log() { printf 'hc-bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$NS"; }

# stop_pid PID [SECONDS]: SIGTERM, then SIGKILL after SECONDS (default 10).
stop_pid() {
	local pid=$1 t=$(( ${2:-10} * 10 ))
	alive "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	while alive "$pid" && [ "$t" -gt 0 ]; do
		# a zombie child of ours counts as gone
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
		sleep 0.1; t=$((t - 1))
	done
	alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local p c
	trap - EXIT INT TERM
	for p in "${pids[@]}"; do stop_pid "$p" 5; done
	# Whatever is left in the namespace was started by this run (keepalived's
	# children, curls): the namespace was made by this run and nothing else enters it.
	if ns_exists; then
		for p in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
		sleep 0.2
		ip netns del "$NS" 2>/dev/null || true
	fi
	for c in "${cgroups[@]}"; do rmdir "$c" 2>/dev/null || true; done
	[ -n "$CG_ROOT" ] && rmdir "$CG_ROOT" 2>/dev/null || true
	if [ -n "$watchdog" ]; then
		for p in $(cat "/proc/$watchdog/task/$watchdog/children" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
		kill "$watchdog" 2>/dev/null || true
		wait "$watchdog" 2>/dev/null || true
	fi
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "stopped (over ${MAXTIME}s, or SIGTERM)"; exit 124' TERM

[ "$(id -u)" = 0 ] || die "needs root (network namespace)"
need() { command -v "$1" >/dev/null || die "$1 not found"; }
for c in curl python3 cc ip timeout awk; do need "$c"; done
for c in haproxy keepalived; do [[ " $TOOLS " != *" $c "* ]] || need "$c"; done
if [[ " $TOOLS " == *" healthcheck "* ]]; then
	[ -x "$HC" ] || die "no $HC: cmake -S . -B $BUILD -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build $BUILD --target healthcheck"
fi
if ns_exists; then
	[ -z "$(ip netns pids "$NS" 2>/dev/null)" ] || die "namespace $NS exists and has processes (another run?)"
	ip netns del "$NS"
fi

tmp=$(mktemp -d /tmp/hc-bench.XXXXXX)
chmod 755 "$tmp"
( sleep "$MAXTIME"; kill -TERM $$ 2>/dev/null ) &
watchdog=$!

# Descriptors: a checker holds one per check; a target process two per port (the
# listener and the connection) for at most PORTS_PER_TARGET ports.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((MAXN + 200)) ] && [ "$(ulimit -n)" -ge $((2 * PORTS_PER_TARGET + 200)) ] ||
	die "descriptor limit $(ulimit -n) too low for $MAXN checks"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

if [ -w /sys/fs/cgroup/cpuacct ] && [ "${FO_BENCH_CGROUP:-1}" = 1 ]; then
	CG_ROOT=/sys/fs/cgroup/cpuacct/fo91-bench.$$
	mkdir "$CG_ROOT" 2>/dev/null || CG_ROOT=""
fi

log "building hc-bench-target"
timeout 60 cc -O2 -o "$tmp/hc-bench-target" tests/bench/hc-bench-target.c

ip netns add "$NS"
ip -n "$NS" link set lo up
# keepalived's VRRP instance needs an interface: a dummy link, or (no dummy module
# on this kernel) one end of a veth pair whose both ends stay in the namespace.
if ! ip -n "$NS" link add bench0 type dummy 2>/dev/null; then
	ip -n "$NS" link add bench0 type veth peer name bench1
	ip -n "$NS" link set bench1 up
fi
ip -n "$NS" addr add 203.0.113.1/24 dev bench0
ip -n "$NS" link set bench0 up

# One target process per PORTS_PER_TARGET ports, each with its own control port.
targets=()
CTL_PORTS=""
for ((first = 0, k = 0; first < MAXN; first += PORTS_PER_TARGET, k++)); do
	count=$((MAXN - first < PORTS_PER_TARGET ? MAXN - first : PORTS_PER_TARGET))
	ip netns exec "$NS" "$tmp/hc-bench-target" $((BASE_PORT + first)) "$count" $((CTL_PORT + k)) \
		>"$tmp/target$k.out" 2>&1 &
	targets+=($!)
	pids+=($!)
	CTL_PORTS=${CTL_PORTS:+$CTL_PORTS,}$((CTL_PORT + k))
	for _ in $(seq 100); do grep -q ready "$tmp/target$k.out" 2>/dev/null && break; alive "${targets[k]}" || break; sleep 0.1; done
	grep -q ready "$tmp/target$k.out" || { cat "$tmp/target$k.out" >&2; die "hc-bench-target $k did not start"; }
done
# The targets answer, and HTTP/1.0 without keep-alive is closed as HAProxy expects.
timeout 5 ip netns exec "$NS" curl -sf -o /dev/null "http://127.0.0.1:$BASE_PORT/" || die "target does not answer"

mkdir -p "$(dirname "$OUT")"
RESULTS=${OUT%.md}.jsonl   # one JSON line per run, written as the runs end
: >"$RESULTS"

# ---- config writers --------------------------------------------------------------
dur() { if [ $(( $1 % 1000 )) = 0 ]; then echo "$(( $1 / 1000 ))s"; else echo "$1ms"; fi; }

conf_healthcheck() { # N IV_MS FILE
	local n=$1 iv=$2 f=$3 i
	{
		printf '[agent]\nlisten = 127.0.0.1:0\nmanager_socket =\n\n'
		for ((i = 0; i < n; i++)); do
			printf '[check c%d]\ntype = http\nurl = http://127.0.0.1:%d/\nexpect_status = 200\ninterval = %s\ntimeout = %s\n\n' \
				"$i" $((BASE_PORT + i)) "$(dur "$iv")" "$(dur "$iv")"
		done
	} >"$f"
}

conf_haproxy() { # N IV_MS FILE SOCK
	local n=$1 iv=$2 f=$3 sock=$4 i
	{
		cat <<EOF
global
    maxconn 4096
    stats socket $sock mode 600 level admin
defaults
    mode http
    timeout connect $(dur "$iv")
    timeout client 5s
    timeout server 5s
    timeout check $(dur "$iv")
backend targets
    option httpchk GET /
    http-check expect status 200
    default-server check inter $(dur "$iv") rise 2 fall 3
EOF
		for ((i = 0; i < n; i++)); do
			printf '    server t%d 127.0.0.1:%d\n' "$i" $((BASE_PORT + i))
		done
	} >"$f"
}

conf_keepalived() { # N FILE
	local n=$1 f=$2 i
	{
		cat <<EOF
global_defs {
    router_id fo91_bench
    script_user root
    enable_script_security
}
EOF
		for ((i = 0; i < n; i++)); do
			cat <<EOF
vrrp_script chk$i {
    script "/usr/bin/curl -sf -o /dev/null http://127.0.0.1:$((BASE_PORT + i))/"
    interval 1
    timeout 1
    rise 2
    fall 3
}
EOF
		done
		printf 'vrrp_instance VI_BENCH {\n    state BACKUP\n    interface bench0\n    virtual_router_id 91\n'
		printf '    priority 100\n    advert_int 1\n    virtual_ipaddress {\n        203.0.113.100/32\n    }\n'
		printf '    track_script {\n'
		for ((i = 0; i < n; i++)); do printf '        chk%d\n' "$i"; done
		printf '    }\n}\n'
	} >"$f"
}

# start_in_cgroup NAME LOGFILE CMD...: starts CMD in the namespace (and in a cpuacct
# cgroup of its own when available); sets $started and $cgroup.
start_in_cgroup() {
	local name=$1 logf=$2
	shift 2
	cgroup=""
	if [ -n "$CG_ROOT" ]; then
		cgroup=$CG_ROOT/$name
		mkdir "$cgroup"
		cgroups+=("$cgroup")
		sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$cgroup" \
			ip netns exec "$NS" "$@" >"$logf" 2>&1 &
	else
		ip netns exec "$NS" "$@" >"$logf" 2>&1 &
	fi
	started=$!
	pids+=("$started")
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s
wait_for() {
	local t=$(( $1 * 10 ))
	shift
	while [ "$t" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1; t=$((t - 1))
	done
	return 1
}

errors=0
record_error() { # TOOL N IV MESSAGE
	errors=$((errors + 1))
	printf '{"tool":"%s","checks":%d,"interval_ms":%d,"round":%d,"error":"%s"}\n' "$1" "$2" "$3" "$round" "$4" >>"$RESULTS"
}

# ---- one measured run ------------------------------------------------------------
run_one() { # TOOL N IV_MS ROUND
	local tool=$1 n=$2 iv=$3 round=$4 name=$1-$2-$3-r$4 conf logf pid ready=0 extra=() port=""
	conf=$tmp/$name.conf
	logf=$tmp/$name.log
	log "round $round/$REPEAT, $tool: $n checks every $(dur "$iv"): warm-up ${WARMUP}s, window ${WINDOW}s"
	case "$tool" in
	healthcheck)
		conf_healthcheck "$n" "$iv" "$conf"
		timeout 10 "$HC" --config-test "$conf" >/dev/null || { record_error "$tool" "$n" "$iv" "config refused"; return; }
		start_in_cgroup "$name" "$logf" "$HC" --config "$conf"
		pid=$started
		hc_port() { port=$(sed -n 's/.*serving .* on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$logf" | tail -n1); [ -n "$port" ]; }
		wait_for 10 hc_port && ready=1
		extra=(--metrics "127.0.0.1:$port")
		;;
	haproxy)
		conf_haproxy "$n" "$iv" "$conf" "$tmp/$name.sock"
		timeout 10 haproxy -c -q -f "$conf" >"$tmp/$name.check" 2>&1 || { cat "$tmp/$name.check" >&2; record_error "$tool" "$n" "$iv" "config refused"; return; }
		start_in_cgroup "$name" "$logf" haproxy -db -f "$conf"
		pid=$started
		wait_for 10 test -S "$tmp/$name.sock" && ready=1
		extra=(--haproxy-sock "$tmp/$name.sock")
		;;
	keepalived)
		conf_keepalived "$n" "$conf"
		start_in_cgroup "$name" "$logf" keepalived -n -l -D -P -f "$conf" \
			-p "$tmp/$name.pid" -r "$tmp/$name.vrrp.pid" -c "$tmp/$name.chk.pid"
		pid=$started
		wait_for 15 test -s "$tmp/$name.vrrp.pid" && ready=1
		;;
	esac
	if [ "$ready" != 1 ] || ! alive "$pid"; then
		log "$tool did not start:"; tail -n 20 "$logf" >&2
		stop_pid "$pid"
		record_error "$tool" "$n" "$iv" "did not start"
		return
	fi
	sleep "$WARMUP"
	if ! alive "$pid"; then
		log "$tool exited during warm-up:"; tail -n 20 "$logf" >&2
		record_error "$tool" "$n" "$iv" "exited"
		return
	fi
	# The cgroup's cpuacct.usage goes in as descriptor 3: `ip netns exec` mounts the
	# namespace's own sysfs over /sys.
	local cgfile=/dev/null
	[ -n "$cgroup" ] && { extra+=(--cgroup-fd 3); cgfile=$cgroup/cpuacct.usage; }
	if timeout $((WINDOW + 30)) ip netns exec "$NS" python3 "$HELPER" measure --tool "$tool" --checks "$n" --round "$round" \
		--interval-ms "$iv" --ctl "$CTL_PORTS" --pids "$pid" --window "$WINDOW" \
		"${extra[@]}" >"$tmp/$name.json" 3<"$cgfile"; then
		if [ "$tool" = keepalived ]; then
			# keepalived logs a script's exit status when it changes, and a timeout
			python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).read()); r["script_failures"]=int(sys.argv[2]); print(json.dumps(r))' \
				"$tmp/$name.json" "$(grep -c 'now returning [1-9]\|timed out' "$logf" || true)" >>"$RESULTS"
		else
			cat "$tmp/$name.json" >>"$RESULTS"
		fi
	else
		record_error "$tool" "$n" "$iv" "measurement failed"
	fi
	alive "$pid" || log "$tool exited during the window"
	stop_pid "$pid" 10
	# keepalived's children and any curl left: the namespace holds only the target now.
	local p
	for p in $(ip netns pids "$NS" 2>/dev/null); do
		[[ " ${targets[*]} " == *" $p "* ]] && continue
		kill -KILL "$p" 2>/dev/null || true
	done
	[ -n "$cgroup" ] && { wait_for 5 sh -c "[ ! -s '$cgroup/cgroup.procs' ]" || true; rmdir "$cgroup" 2>/dev/null || true; }
	sleep 1   # let the TIME_WAITs of the previous tool matter less
}

keepalived_case=""
for c in $RUN_CASES; do [ "${c#*x}" = 1000 ] && { keepalived_case=$c; break; }; done
for ((round = 1; round <= REPEAT; round++)); do
	for c in $RUN_CASES; do
		n=${c%x*} iv=${c#*x}
		for tool in $TOOLS; do
			if [ "$tool" = keepalived ]; then
				# keepalived's minimum interval is 1 s; 100 scripts (as users run them), once a round
				[ "$c" = "$keepalived_case" ] || continue
				run_one keepalived "$SCRIPTS" 1000 "$round"
			else
				run_one "$tool" "$n" "$iv" "$round"
			fi
		done
	done
done

first() { sed -n "$1" | awk "NR == 1"; }   # first line printed; reads all input (pipefail)
cpu=$(first 's/^model name[[:space:]]*: //p' </proc/cpuinfo)
v_hc=$(timeout 5 "$HC" --version 2>/dev/null || echo healthcheck)
v_hap=$(timeout 5 haproxy -v 2>/dev/null | first 's/^HAProxy version \([^ ]*\).*/HAProxy \1/p' || true)
v_ka=$(timeout 5 keepalived -v 2>&1 | first 's/^Keepalived \(v[^ ]*\).*/keepalived \1/p' || true)
v_curl=$(curl -V | first 's/^curl \([^ ]*\).*/curl \1/p' || true)
quick=""
[ "$QUICK" = 1 ] && quick=" (--quick smoke run)"
header="Health-check benchmark ($(date -u +%Y-%m-%dT%H:%MZ); $(nproc) CPUs, ${cpu:-unknown CPU}; kernel $(uname -r);
load average before $LOAD_START, after $(cut -d' ' -f1-3 /proc/loadavg); $v_hc ($BUILD), $v_hap, $v_ka, $v_curl;
warm-up ${WARMUP} s, window ${WINDOW} s, $REPEAT round(s)$quick)."
timeout 30 python3 "$HELPER" report "$RESULTS" --out "$OUT" --header "$header"
rm -rf "${OUT%.md}-logs"
mkdir -p "${OUT%.md}-logs"
cp "$tmp"/*.log "$tmp"/*.conf "$tmp"/target*.out "${OUT%.md}-logs/" 2>/dev/null || true
log "results: $OUT (raw: ${OUT%.md}.jsonl, logs and configs: ${OUT%.md}-logs/)"
[ "$errors" = 0 ] || die "$errors series did not run or measure (see the table and the logs)"
