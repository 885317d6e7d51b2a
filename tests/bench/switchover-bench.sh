#!/bin/bash
# Switchover benchmark (issue 5, "Benchmark"): the unreachable window of a manual,
# graceful switchover (`fomctl vip move`) side by side, in the same lab and the same
# run, with keepalived's graceful handovers (raising a backup's priority; stopping
# the master), and the throughput of fomgr's /metrics and /status under wrk while a
# failover happens, with that failover's time compared to the same failover unloaded.
#
#   tests/bench/switchover-bench.sh [--moves N] [--ka-moves N] [--adverts "1 0.01"]
#                                   [--wrk-reps N] [--wrk-seconds S] [--results FILE]
#                                   [--lab-id 70..79] [--max-minutes M] [--no-keepalived]
#                                   [--no-wrk] [--keep-logs DIR] [--extra-addrs E]
#
# --extra-addrs E (0-254, default 0): the group holds E more addresses besides the
# two VIPs, 203.0.113.1/32 to 203.0.113.E/32, listed after them (fomgr: `address =`
# lines; keepalived: virtual_ipaddress_excluded): what a group's addresses cost a
# switchover (issue 14's cost curves).
#
# Needs root, a build with fomgr, fomctl, fo-echo and fo-probe (FO_BUILD, default
# build/gcc, which scripts/test builds), keepalived 2.2.x and wrk (Debian packages). Prints Markdown tables
# to stdout and writes them to the results file (default
# build/bench/switchover-results.md); every measurement, raw, goes to the same name
# with .tsv. The default run (20 moves, 10 + 10 keepalived handovers at two
# advert_int, 5 + 5 + 5 wrk failovers) takes about 10 minutes.
#
# THE LAB. `scripts/lab up ID 3 --corosync-profile test` (ID 70-79: namespaces
# fo<ID>-*): nodes 1-3 and a client on one bridge, 192.0.2.0/24 and 2001:db8::/64,
# nothing in the root namespace. fo-echo answers UDP 7777 on every node; the client
# runs fo-probe at the VIP 192.0.2.100 every 5 ms (an answer later than 200 ms counts
# as lost). Per move two figures: fo-probe's max_gap_ms (between the SENDS of two
# consecutive answered probes: the unreachable window, resolution 5 ms) and the gap
# on ARRIVALS around the holder change (fo-probe --epoch: from the last answer of the
# old holder to the first of the new one), which also counts probes that waited in
# the client's neighbour queue while it re-resolved the VIP's MAC.
#
# NEVER TWO HOLDERS. During each series a sampler (in the bridge namespace) reads
# every node's eth0 addresses, node after node, in a loop. The reads are sequential,
# so a move between two reads can look like an overlap; as in lab test 21 a
# two-holder sample is counted when node B holds the VIP (IPv4 or IPv6) in a read
# that lies between two consecutive reads of node A that both show A holding it.
# The "rounds as read" column is the naive count (two holders within one round of
# three reads) for reference: it includes moves that fell between reads.
#
# 1. fomgr: fomgr on every node (the lab's default config, group "vip" with both
#    VIPs), `fomctl vip move vip --to nodeT --wait 10` on the current holder, cycling
#    over the ordered pairs (2 3 1 3 2 1 ...); then `vip clear` (auto failback to node1).
# 2. wrk (fomgr still running): fomgr's status server listens on 127.0.0.1:9900 in
#    each node's namespace. wrk (2 threads, 16 connections, --latency) runs for
#    --wrk-seconds on loopback inside node2's namespace against /metrics or /status
#    (alternately); 3 s into it the holder node1 is cut (`lab cut`), node2 takes the
#    VIP under load; the probe measures the failover. The same failover is measured
#    without wrk, interleaved (unloaded, /metrics, /status, ...). After each, node1's
#    link is restored and fomgr fails back to node1. Before the series, each
#    endpoint also gets one wrk run with no failover as a reference.
# 3. keepalived: fomgr is stopped on every node (SIGTERM: it releases the VIPs;
#    corosync keeps running, it manages nothing) before keepalived starts: never two
#    managers of the VIP. One keepalived per node (`lab spawn`, so recorded and
#    stopped by the lab), VRRPv3, VRID 51, priorities 150/100/50, the same VIPs
#    (IPv6 as an excluded address, as in tests/bench/failover-bench.sh), for each
#    advert_int in --adverts (1 and 0.01 s by default: 0.01 is the fastest keepalived
#    2.2.7 accepts, VRRPv3 centiseconds):
#    (a) priority: the next node's config is rewritten with the master's priority
#        + 1 and its keepalived parent gets SIGHUP (reload); it preempts.
#    (b) stop: SIGTERM to the master's keepalived (node1, priority 150): it sends
#        priority 0 and node2 takes over; then node1's keepalived is started again
#        and preempts back (that preemption is not timed, but the sampler runs
#        through it).
#
# Bounded: every lab step under `timeout`, every probe and wrk with a fixed window,
# every wait with a timeout; after --max-minutes (default 11) no new measurement
# starts and the tables show what was measured. A trap tears the lab down however
# the script ends; only processes started by this script (through the lab) are
# signalled, by their recorded PID.
set -uo pipefail

FO_TOP=${FO_TOP:-$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)}
FO_BUILD=${FO_BUILD:-$FO_TOP/build/gcc}
export FO_TOP FO_BUILD
LAB=$FO_TOP/scripts/lab

MOVES=20
KA_MOVES=10
ADVERTS="1 0.01"
WRK_REPS=5
WRK_SECONDS=10
RESULTS=
LAB_ID=70
MAX_MINUTES=11
DO_KA=1
DO_WRK=1
KEEP_LOGS=
EXTRA_ADDRS=0
BENCH_ARGS="$*"
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_START=$(load_avg)

VIP4=192.0.2.100
VIP6=2001:db8::100
PORT=7777
INTERVAL_MS=5
PROBE_TIMEOUT_MS=200
STEP_TIMEOUT_S=60
N=3

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
log() { printf '%s %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; }
die() {
	log "switchover-bench: $*"
	exit 1
}
now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

while (($#)); do
	case $1 in
	--moves) MOVES=${2:-}; shift 2 ;;
	--ka-moves) KA_MOVES=${2:-}; shift 2 ;;
	--adverts) ADVERTS=${2:-}; shift 2 ;;
	--wrk-reps) WRK_REPS=${2:-}; shift 2 ;;
	--wrk-seconds) WRK_SECONDS=${2:-}; shift 2 ;;
	--results) RESULTS=${2:-}; shift 2 ;;
	--lab-id) LAB_ID=${2:-}; shift 2 ;;
	--max-minutes) MAX_MINUTES=${2:-}; shift 2 ;;
	--no-keepalived) DO_KA=0; shift ;;
	--no-wrk) DO_WRK=0; shift ;;
	--keep-logs) KEEP_LOGS=${2:-}; shift 2 ;;
	--extra-addrs)
		EXTRA_ADDRS=${2:-}
		[[ $EXTRA_ADDRS =~ ^[0-9]+$ ]] && ((EXTRA_ADDRS <= 254)) || { usage >&2; exit 2; }
		shift 2
		;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

for v in MOVES KA_MOVES WRK_REPS WRK_SECONDS MAX_MINUTES; do
	if ! [[ ${!v} =~ ^[0-9]+$ ]] || ((${!v} < 1 || ${!v} > 1000)); then die "bad $v: '${!v}'"; fi
done
((WRK_SECONDS >= 6)) || die "--wrk-seconds must be at least 6 (the cut is made 3 s in)"
[[ $LAB_ID =~ ^7[0-9]$ ]] || die "--lab-id must be 70..79"
for a in $ADVERTS; do [[ $a =~ ^[0-9]+(\.[0-9]{1,2})?$ ]] || die "bad advert_int '$a'"; done
[[ $(id -u) == 0 ]] || die "must run as root"
RESULTS=${RESULTS:-$FO_TOP/build/bench/switchover-results.md}
RAW=${RESULTS%.md}.tsv
TOOLS=${FO_TOOLS:-$FO_BUILD/tests}
FO_PROBE=$TOOLS/fo-probe
FOMCTL=$FO_BUILD/fomctl/fomctl
for b in "$FO_PROBE" "$TOOLS/fo-echo" "$FO_BUILD/fomgr/fomgr" "$FOMCTL"; do
	[[ -x $b ]] || die "$b not built (FO_BUILD=$FO_BUILD)"
done
"$FO_PROBE" --help 2>&1 | grep -q -- --epoch || die "$FO_PROBE has no --epoch"
((DO_KA == 0)) || command -v keepalived >/dev/null || die "keepalived not installed"
((DO_WRK == 0)) || command -v wrk >/dev/null || die "wrk not installed (apt-get install -y wrk)"
STATE=${FO_LAB_STATE:-/run/fomgr-lab/$LAB_ID}
RUN_START_MS=$(now_ms)
DEADLINE_MS=$((RUN_START_MS + MAX_MINUTES * 60000))
SEQ=0

lab() { timeout "$STEP_TIMEOUT_S" "$LAB" "$@"; }
ns() { echo "fo$LAB_ID-$1"; }
time_left() { (($(now_ms) < DEADLINE_MS)); }
uniq_name() { # VAR PREFIX: VAR=PREFIX-N, a fresh name for lab spawn (no subshell)
	SEQ=$((SEQ + 1))
	printf -v "$1" '%s-%s' "$2" "$SEQ"
}

# --- cleanup ---------------------------------------------------------------------------

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n $KEEP_LOGS && -d $STATE ]]; then
		{ mkdir -p "$KEEP_LOGS" && cp -a "$STATE" "$KEEP_LOGS/lab$LAB_ID-$(date +%H%M%S)"; } 2>/dev/null || true
	fi
	# lab down stops every process this script started through the lab (recorded
	# PID + start time) and deletes the namespaces: nothing else is signalled.
	"$LAB" down "$LAB_ID" >/dev/null 2>&1 || true
	if ((rc != 0)) && [[ -s $RAW ]]; then
		log "interrupted (rc=$rc): tables of what was measured follow"
		report || true
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- queries ---------------------------------------------------------------------------

holders() { # ADDR: nodes whose eth0 holds ADDR, space-separated
	local k out=()
	for ((k = 1; k <= N; k++)); do
		if ip -n "$(ns "node$k")" -o addr show dev eth0 2>/dev/null |
			awk -v a="$1" '{ split($4, p, "/"); if (p[1] == a) f = 1 } END { exit !f }'; then
			out+=("node$k")
		fi
	done
	echo "${out[*]}"
}

wait_until() { # TIMEOUT_S CMD...: every 50 ms until CMD succeeds
	local end=$(($(now_ms) + ${1%.*} * 1000))
	shift
	while :; do
		"$@" && return 0
		(($(now_ms) < end)) || return 1
		sleep 0.05
	done
}

only_holder() { # NODE: exactly NODE holds both VIPs
	[[ $(holders $VIP4) == "$1" && $(holders $VIP6) == "$1" ]]
}

all_quorate() {
	local k
	for ((k = 1; k <= N; k++)); do
		[[ $(lab membership "$LAB_ID" "$k") == "quorate=yes nodes=$N members=1,2,3 "* ]] || return 1
	done
}

client_who() {
	local out f
	out=$(timeout 5 ip netns exec "$(ns client)" "$FO_PROBE" --target "$VIP4" --port "$PORT" --once \
		--interval-ms 20 --timeout-ms 600 2>/dev/null) || return 0
	for f in $out; do [[ $f == answered_by=* ]] && echo "${f#answered_by=}"; done
}
client_answered_by() { [[ $(client_who) == "$1" ]]; }

kv() { # KEY LINE
	local f
	for f in $2; do
		if [[ $f == "$1="* ]]; then
			echo "${f#*=}"
			return 0
		fi
	done
	return 1
}

ctl() { # K fomctl-args...
	local k=$1
	shift
	timeout 30 "$FOMCTL" --socket "$STATE/node$k/run/control.sock" "$@"
}

# --- probe -----------------------------------------------------------------------------

PROBE=
probe_start() { # DURATION_MS
	uniq_name PROBE probe
	lab spawn "$LAB_ID" client "$PROBE" "$FO_PROBE" --target "$VIP4" --port "$PORT" \
		--interval-ms "$INTERVAL_MS" --timeout-ms "$PROBE_TIMEOUT_MS" --duration-ms "$1" --epoch >/dev/null
}
probe_done() { grep -q '^epoch ' "$STATE/client/$PROBE.log" 2>/dev/null; }

# Waits for the probe; sets P_GAP (max_gap_ms), P_TRANS (transitions), P_ARR (the
# arrival gap around the first transition, ms) and P_LOST.
P_GAP='' P_TRANS='' P_ARR='' P_LOST=''
probe_finish() { # TIMEOUT_S
	local sum ep t
	P_GAP=- P_TRANS=- P_ARR=- P_LOST=-
	wait_until "$1" probe_done || {
		log "  probe $PROBE did not finish: $(tail -n 2 "$STATE/client/$PROBE.log" 2>&1)"
		return 1
	}
	sum=$(grep '^sent=' "$STATE/client/$PROBE.log" | tail -n 1)
	ep=$(grep '^epoch ' "$STATE/client/$PROBE.log" | tail -n 1)
	P_GAP=$(kv max_gap_ms "$sum") || P_GAP=-
	P_TRANS=$(kv transitions "$sum") || P_TRANS=-
	P_LOST=$(kv lost "$sum") || P_LOST=-
	t=$(kv transitions "$ep") || t=
	t=${t%%,*}
	[[ $t == */* ]] && P_ARR=${t##*/}
	return 0
}

# --- sampler (never two holders) ---------------------------------------------------------

SAMPLER=
sampler_start() {
	uniq_name SAMPLER sampler
	cat >"$STATE/sampler.sh" <<EOF
while :; do
	for k in 1 2 3; do
		a=\$(ip -n fo$LAB_ID-node\$k -o addr show dev eth0)
		h4=0; h6=0
		[[ \$a == *" $VIP4/"* ]] && h4=1
		[[ \$a == *" $VIP6/"* ]] && h6=1
		echo "node\$k \$h4 \$h6"
	done
done
EOF
	lab spawn "$LAB_ID" br "$SAMPLER" timeout 900 bash "$STATE/sampler.sh" >/dev/null
	sleep 0.3
}

# Stops the sampler; prints "PROVEN NAIVE READS".
sampler_stop() {
	lab stop "$LAB_ID" br "$SAMPLER" >/dev/null 2>&1 || true
	/usr/bin/python3 - "$STATE/br/$SAMPLER.log" <<'EOF'
import bisect, sys
rows = [l.split() for l in open(sys.argv[1]) if len(l.split()) == 3 and l.startswith("node")]
proven = 0
for col in (1, 2):
    idx, held = {}, {}
    for i, r in enumerate(rows):
        idx.setdefault(r[0], []).append(i)
        held.setdefault(r[0], []).append(r[col] == "1")
    for i, r in enumerate(rows):
        if r[col] != "1":
            continue
        for other in idx:
            if other == r[0]:
                continue
            k = bisect.bisect_left(idx[other], i)
            if 0 < k < len(idx[other]) and held[other][k - 1] and held[other][k]:
                proven += 1
                break
naive = 0
for j in range(0, len(rows) - 2, 3):
    rnd = rows[j:j + 3]
    if any(sum(r[col] == "1" for r in rnd) >= 2 for col in (1, 2)):
        naive += 1
print(proven, naive, len(rows))
EOF
}

# The kernel's own account: `ip -ts -o monitor address` in every node's namespace
# during the series; each address add and delete on eth0 with the time ip read it
# (one machine, one clock). The VIP sets are replayed from the holders at the start;
# prints "OVERLAPS MAX_OVERLAP_MS EVENTS MIN_EMPTY_MS": the number of spans during
# which two nodes held a VIP at once, the longest of them, and the shortest span with
# no holder between a delete and the next add (the break-before-make margin). The
# times are those at which each ip process read the event: scheduling jitter of
# about 0.1 ms, so sub-millisecond overlaps or margins are not conclusive.
MONITORS=() MON_INIT=
monitor_start() {
	local k name
	MONITORS=()
	for k in 1 2 3; do
		uniq_name name "mon$k"
		lab spawn "$LAB_ID" "node$k" "$name" timeout 900 ip -ts -o monitor address >/dev/null
		MONITORS+=("$name")
	done
	sleep 0.3
	MON_INIT="v4=$(holders $VIP4 | tr ' ' ,) v6=$(holders $VIP6 | tr ' ' ,)"
}
monitor_stop() {
	local k args=()
	for k in 1 2 3; do
		lab stop "$LAB_ID" "node$k" "${MONITORS[$((k - 1))]}" >/dev/null 2>&1 || true
		args+=("$STATE/node$k/${MONITORS[$((k - 1))]}.log")
	done
	/usr/bin/python3 - "$VIP4" "$VIP6" "$MON_INIT" "${args[@]}" <<'PYEOF'
import re, sys
from datetime import datetime
vip4, vip6, init, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
held = {}
for part in init.split():
    key, val = part.split("=", 1)
    held[vip4 if key == "v4" else vip6] = set(v for v in val.split(",") if v)
ev = []
rx = re.compile(r"^\[([0-9T:.\-]+)\]\s+(Deleted\s+)?\d+:\s+eth0\s+inet6?\s+([0-9a-f:.]+)/")
for k, f in enumerate(files, 1):
    for line in open(f):
        m = rx.match(line)
        if not m or m.group(3) not in (vip4, vip6):
            continue
        t = datetime.fromisoformat(m.group(1)).timestamp()
        ev.append((t, "node%d" % k, m.group(3), not m.group(2)))
ev.sort()
spans, start, empty, estart = [], {}, [], {}
for t, node, vip, add in ev:
    h = held.setdefault(vip, set())
    before, was_empty = len(h) >= 2, not h
    (h.add if add else h.discard)(node)
    after = len(h) >= 2
    if after and not before:
        start[vip] = (t, ",".join(sorted(h)))
    elif before and not after:
        t0, who = start.pop(vip)
        spans.append((t - t0) * 1000)
        if spans[-1] >= 1:
            print("    kernel overlap: %s held by %s from %s for %.2f ms"
                  % (vip, who, datetime.fromtimestamp(t0).strftime("%H:%M:%S.%f")[:-3], spans[-1]), file=sys.stderr)
    if not h and not was_empty:
        estart[vip] = t
    elif h and was_empty and vip in estart:
        empty.append((t - estart.pop(vip)) * 1000)
print(len(spans) + len(start), "%.2f" % max(spans + [0]), len(ev), "%.2f" % min(empty) if empty else "-")
PYEOF
}

# --- raw records -----------------------------------------------------------------------------

# series \t n \t from \t to \t max_gap_ms \t arrival_gap_ms \t lost \t transitions \t note
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RAW"; }
declare -A OVERLAP=() # series -> "PROVEN NAIVE READS"
declare -A KOVER=()   # series -> "OVERLAPS MAX_MS EVENTS" from ip monitor
declare -a SERIES=()  # in run order
declare -A SERIES_TITLE=()
declare -a WRK_ROWS=() # markdown rows

# --- 1. fomgr switchovers ------------------------------------------------------------------

fomgr_up() {
	local k
	for k in 1 2 3; do fomgr_start "$k" || die "start-fomgr $k"; done
	wait_until 30 only_holder node1 || die "node1 never took the VIPs: '$(holders $VIP4)'"
	wait_until 30 members3 || die "the three fomgr never joined"
}
members3() { ctl 1 status --json 2>/dev/null | grep -q '"members":3,'; }

phase_fomgr_moves() {
	local seq=(2 3 1 3 2 1) i from to=1 out rc note s=fomgr-move
	SERIES+=("$s")
	SERIES_TITLE[$s]="fomgr \`fomctl vip move --wait\`"
	log "fomgr: $MOVES switchovers with fomctl vip move (probe every $INTERVAL_MS ms)"
	sampler_start
	monitor_start
	from=1
	for ((i = 1; i <= MOVES; i++)); do
		time_left || { log "  out of time after $((i - 1)) moves"; break; }
		to=${seq[$(((i - 1) % 6))]}
		probe_start 2000
		sleep 0.5
		out=$(ctl "$from" vip move vip --to "node$to" --wait 10 2>&1)
		rc=$?
		probe_finish 10
		note=ok
		((rc == 0)) || note="fomctl rc=$rc: ${out//$'\t'/ }"
		[[ $P_TRANS == "node$from->node$to@"* && $P_TRANS != *,* ]] || note="$note; client saw '$P_TRANS'"
		wait_until 10 only_holder "node$to" || note="$note; holders '$(holders $VIP4)'"
		record "$s" "$i" "node$from" "node$to" "$P_GAP" "$P_ARR" "$P_LOST" "$P_TRANS" "$note"
		log "  move $i node$from -> node$to: max_gap_ms=$P_GAP arrival_gap_ms=$P_ARR lost=$P_LOST ($note; ${out##*$'\n'})"
		from=$to
	done
	OVERLAP[$s]=$(sampler_stop)
	KOVER[$s]=$(monitor_stop)
	log "  two-holder samples (proven naive reads): ${OVERLAP[$s]}; kernel events (overlaps max_ms events): ${KOVER[$s]}"
	ctl 1 vip clear vip >/dev/null 2>&1 || log "  vip clear failed"
	wait_until 20 only_holder node1 || die "no failback to node1 after vip clear: '$(holders $VIP4)'"
}

# --- 2. wrk under a failover ------------------------------------------------------------------

wrk_summary() { # LOGFILE -> "rps|avg_ms|p50_ms|p99_ms|requests|non2xx|errors|bytes_per_request"
	awk '
	function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
	/^ +Latency / && !avg { avg = ms($2) }
	/^ +50%/ { p50 = ms($2) }
	/^ +99%/ { p99 = ms($2) }
	function bytes(v) { if (v ~ /GB$/) return v * 1073741824; if (v ~ /MB$/) return v * 1048576; if (v ~ /KB$/) return v * 1024; return v + 0 }
	/requests in/ { req = $1; rd = bytes($5) }
	/Non-2xx/ { non = $NF }
	/Socket errors/ { gsub(/,/, ""); err = $4 + $6 + $8 + $10 }
	/^Requests\/sec/ { rps = $2 }
	END { printf "%s|%.2f|%.2f|%.2f|%s|%d|%d|%.0f\n", rps, avg, p50, p99, req, non, err, req ? rd / req : 0 }' "$1"
}

WRK=
wrk_start() { # PATH
	uniq_name WRK wrk
	lab spawn "$LAB_ID" node2 "$WRK" timeout $((WRK_SECONDS + 20)) wrk -t2 -c16 -d"${WRK_SECONDS}s" \
		--timeout 2s --latency "http://127.0.0.1:9900$1" >/dev/null
}
wrk_done() { grep -q '^Requests/sec' "$STATE/node2/$WRK.log" 2>/dev/null; }

baseline_fomgr() {
	wait_until 60 all_quorate || return 1
	wait_until 30 only_holder node1 || return 1
	wait_until 10 client_answered_by node1 || return 1
	sleep 1.5 # the test profile can flap shortly after a link comes back
	all_quorate && only_holder node1
}

phase_wrk() {
	local path r kind s=fomgr-cut-idle w note taker
	log "wrk: reference runs without a failover (node2, ${WRK_SECONDS} s each)"
	for path in /metrics /status; do
		curl_check "$path"
		wrk_start "$path"
		wait_until $((WRK_SECONDS + 25)) wrk_done || die "wrk $path never finished: $(tail -3 "$STATE/node2/$WRK.log")"
		w=$(wrk_summary "$STATE/node2/$WRK.log")
		WRK_ROWS+=("$path|none|$w")
		log "  $path: $w"
	done
	SERIES+=(fomgr-cut-idle fomgr-cut-metrics fomgr-cut-status)
	SERIES_TITLE[fomgr-cut-idle]="fomgr failover (cut of node1), no load"
	SERIES_TITLE[fomgr-cut-metrics]="fomgr failover (cut of node1), wrk on node2 /metrics"
	SERIES_TITLE[fomgr-cut-status]="fomgr failover (cut of node1), wrk on node2 /status"
	log "wrk: $WRK_REPS failovers each unloaded, under wrk /metrics and under wrk /status"
	for ((r = 1; r <= WRK_REPS; r++)); do
		for kind in idle /metrics /status; do
			time_left || { log "  out of time"; return 0; }
			s=fomgr-cut-${kind#/}
			baseline_fomgr || { log "  no baseline (node1 alone, quorate): skipping"; continue; }
			if [[ $kind != idle ]]; then
				wrk_start "$kind"
				sleep 3
			fi
			probe_start 4500
			sleep 0.4
			lab cut "$LAB_ID" 1 >/dev/null
			probe_finish 15
			note=ok
			taker=${P_TRANS%%@*}
			taker=${taker#node1->}
			[[ $P_TRANS == "node1->node"[23]"@"* && $P_TRANS != *,* ]] || note="client saw '$P_TRANS'"
			[[ $taker == node2 ]] || note="$note; taken over by '$taker', not node2 (wrk's node)"
			if [[ $kind != idle ]]; then
				wait_until $((WRK_SECONDS + 25)) wrk_done || die "wrk never finished: $(tail -3 "$STATE/node2/$WRK.log")"
				w=$(wrk_summary "$STATE/node2/$WRK.log")
				WRK_ROWS+=("$kind|cut node1 at 3 s (rep $r)|$w")
				log "  wrk $kind: $w"
			fi
			record "$s" "$r" node1 "$taker" "$P_GAP" "$P_ARR" "$P_LOST" "$P_TRANS" "$note"
			log "  $s $r: node1 -> $taker max_gap_ms=$P_GAP arrival_gap_ms=$P_ARR lost=$P_LOST ($note)"
			lab restore "$LAB_ID" 1 >/dev/null
		done
	done
	baseline_fomgr || log "  no final baseline"
}

curl_check() { # PATH: one request, to see the endpoint answers in node2's namespace
	local code
	code=$(timeout 5 ip netns exec "$(ns node2)" wrk -t1 -c1 -d1s "http://127.0.0.1:9900$1" 2>&1 |
		awk '/Non-2xx/ { print "non-2xx:" $NF } /^Requests\/sec/ { print "rps:" $2 }' | tr '\n' ' ')
	log "  check $1 on node2: $code"
	[[ $code == *rps:* && $code != *non-2xx* ]] || die "node2's 127.0.0.1:9900$1 does not answer 2xx: $code"
}

# --- 3. keepalived ----------------------------------------------------------------------------

keepalived_conf() { # K PRIORITY ADVERT
	cat <<EOF
# Written by tests/bench/switchover-bench.sh for lab $LAB_ID, node$1: VRRP only.
global_defs {
	router_id node$1
	vrrp_version 3
	vrrp_garp_lower_prio_repeat 3
}

vrrp_instance VI_fo {
	state BACKUP
	interface eth0
	virtual_router_id 51
	priority $2
	advert_int $3
	virtual_ipaddress {
		$VIP4/24 dev eth0
	}
	virtual_ipaddress_excluded {
		$VIP6/64 dev eth0
$(extra_addrs '		' | sed 's|$| dev eth0|')
	}
}
EOF
}

# --extra-addrs more addresses, one line each (keepalived's; the lab writes fomgr's).
extra_addrs() { # PREFIX
	local i
	for ((i = 1; i <= EXTRA_ADDRS; i++)); do echo "$1203.0.113.$i/32"; done
}

# The lab's default config, with the extra addresses in the group.
fomgr_start() { # K
	FO_LAB_EXTRA_ADDRS=$EXTRA_ADDRS lab start-fomgr "$LAB_ID" "$1" >/dev/null
}

ka_start() { # K
	local d=$STATE/node$1 i
	rm -f "$d/keepalived.pid" "$d/keepalived-vrrp.pid"
	lab spawn "$LAB_ID" "node$1" keepalived keepalived -n -l -D -G -P -f "$d/keepalived.conf" \
		-p "$d/keepalived.pid" -r "$d/keepalived-vrrp.pid" >/dev/null || return 1
	for ((i = 0; i < 100; i++)); do
		[[ -s $d/keepalived-vrrp.pid ]] && return 0
		sleep 0.05
	done
	log "  keepalived on node$1 started no VRRP child: $(tail -3 "$d/keepalived.log")"
	return 1
}
ka_stop() { lab stop "$LAB_ID" "node$1" keepalived >/dev/null 2>&1 || true; }

ka_parent() { # K: the recorded keepalived parent's PID, if it is still that process
	local pid start stat
	read -r pid start <"$STATE/pids/node$1.keepalived" 2>/dev/null || return 1
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	[[ ${20} == "$start" ]] || return 1
	echo "$pid"
}

ka_all_base() { # ADVERT: every keepalived restarted with priorities 150/100/50
	local k prio=(0 150 100 50)
	for k in 1 2 3; do ka_stop "$k"; done
	sleep 0.3
	for k in 1 2 3; do keepalived_conf "$k" "${prio[$k]}" "$1" >"$STATE/node$k/keepalived.conf"; done
	for k in 1 2 3; do ka_start "$k" || die "keepalived on node$k"; done
}

ka_window_ms() { # ADVERT KIND -> probe duration
	awk -v a="$1" -v k="$2" 'BEGIN { w = (k == "prio" ? 3 : 4) * a * 1000 + 1500; if (w < 2000) w = 2000; printf "%d", w }'
}

ka_settle() { # ADVERT: seconds to wait for a stable master
	awk -v a="$1" 'BEGIN { printf "%d", 8 * a + 6 }'
}

phase_keepalived() {
	local a k check i from to prio pid note s win pr
	log "keepalived: stopping fomgr (SIGTERM) on every node; corosync keeps running, unused"
	for k in 1 2 3; do lab stop-fomgr "$LAB_ID" "$k" >/dev/null || true; done
	wait_until 10 no_holder || die "a VIP is still held after fomgr stopped: '$(holders $VIP4)'"
	for a in $ADVERTS; do
		time_left || break
		keepalived_conf 1 150 "$a" >"$STATE/node1/keepalived.conf"
		check=$(timeout 10 ip netns exec "$(ns node1)" keepalived -t -f "$STATE/node1/keepalived.conf" \
			-p "$STATE/node1/kt.pid" -r "$STATE/node1/kt-vrrp.pid" 2>&1)
		[[ -z $check ]] || die "keepalived -t, advert_int $a: $(head -3 <<<"$check")"

		# (a) priority raise + SIGHUP
		s=ka-prio-$a
		SERIES+=("$s")
		SERIES_TITLE[$s]="keepalived advert_int $a, backup's priority raised (SIGHUP)"
		ka_all_base "$a"
		wait_until "$(ka_settle "$a")" only_holder node1 || die "keepalived: node1 never master alone"
		sleep 1
		log "keepalived advert_int $a: $KA_MOVES handovers by priority"
		prio=(0 150 100 50)
		from=1
		win=$(ka_window_ms "$a" prio)
		sampler_start
		monitor_start
		for ((i = 1; i <= KA_MOVES; i++)); do
			time_left || break
			to=$((from % 3 + 1))
			prio[to]=$((prio[from] + 1))
			((prio[to] <= 254)) || { log "  priorities exhausted"; break; }
			keepalived_conf "$to" "${prio[$to]}" "$a" >"$STATE/node$to/keepalived.conf"
			pid=$(ka_parent "$to") || die "keepalived on node$to is gone"
			probe_start "$win"
			sleep 0.4
			kill -HUP "$pid"
			probe_finish $((win / 1000 + 10))
			note=ok
			[[ $P_TRANS == "node$from->node$to@"* && $P_TRANS != *,* ]] || note="client saw '$P_TRANS'"
			wait_until "$(ka_settle "$a")" only_holder "node$to" || note="$note; holders '$(holders $VIP4)'"
			record "$s" "$i" "node$from" "node$to" "$P_GAP" "$P_ARR" "$P_LOST" "$P_TRANS" "$note"
			log "  $s $i node$from(${prio[$from]}) -> node$to(${prio[$to]}): max_gap_ms=$P_GAP arrival_gap_ms=$P_ARR lost=$P_LOST ($note)"
			from=$to
			sleep 0.5
		done
		OVERLAP[$s]=$(sampler_stop)
		KOVER[$s]=$(monitor_stop)
		log "  two-holder samples (proven naive reads): ${OVERLAP[$s]}; kernel events (overlaps max_ms events): ${KOVER[$s]}"

		# (b) SIGTERM of the master
		s=ka-stop-$a
		SERIES+=("$s")
		SERIES_TITLE[$s]="keepalived advert_int $a, master stopped (SIGTERM)"
		ka_all_base "$a"
		wait_until "$(ka_settle "$a")" only_holder node1 || die "keepalived: node1 never master alone"
		log "keepalived advert_int $a: $KA_MOVES handovers by stopping the master"
		win=$(ka_window_ms "$a" stop)
		sampler_start
		monitor_start
		for ((i = 1; i <= KA_MOVES; i++)); do
			time_left || break
			wait_until "$(ka_settle "$a")" only_holder node1 || { log "  node1 not master alone"; continue; }
			wait_until 5 client_answered_by node1 || log "  client not answered by node1"
			sleep 0.5
			probe_start "$win"
			sleep 0.4
			ka_stop 1
			probe_finish $((win / 1000 + 10))
			note=ok
			pr=${P_TRANS%%@*}
			pr=${pr#node1->}
			[[ $P_TRANS == "node1->node"[23]"@"* && $P_TRANS != *,* ]] || note="client saw '$P_TRANS'"
			record "$s" "$i" node1 "$pr" "$P_GAP" "$P_ARR" "$P_LOST" "$P_TRANS" "$note"
			log "  $s $i node1 -> $pr: max_gap_ms=$P_GAP arrival_gap_ms=$P_ARR lost=$P_LOST ($note)"
			ka_start 1 || die "keepalived on node1 (restart)"
			log "  node1's keepalived started again (it preempts node2)"
		done
		wait_until "$(ka_settle "$a")" only_holder node1 || true
		OVERLAP[$s]=$(sampler_stop)
		KOVER[$s]=$(monitor_stop)
		log "  two-holder samples (proven naive reads): ${OVERLAP[$s]}; kernel events (overlaps max_ms events): ${KOVER[$s]}"
		for k in 1 2 3; do ka_stop "$k"; done
		wait_until 10 no_holder || die "VIP still held after keepalived stopped: '$(holders $VIP4)'"
	done
}
no_holder() { [[ -z $(holders $VIP4)$(holders $VIP6) ]]; }

# --- report ---------------------------------------------------------------------------------

stats() { # SERIES COLUMN(5|6) -> "n|median|p95|max"
	awk -F'\t' -v s="$1" -v c="$2" '$1 == s && $c != "-" && $c != "" { print $c }' "$RAW" | sort -g | awk '
	{ v[NR] = $1 } END { if (!NR) { print "0|-|-|-"; exit }
	printf "%d|%s|%s|%s\n", NR, v[int((NR + 1) / 2)], v[int((NR * 95 + 99) / 100)], v[NR] }'
}

report() {
	local s st sa ov pr nv rd irr
	{
		echo "## Switchover benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'), lab $LAB_ID)"
		echo
		echo "fomgr $(git -C "$FO_TOP" rev-parse --short HEAD 2>/dev/null) (build $FO_BUILD), $(corosync -v 2>/dev/null | head -1 | sed 's/ (built.*//'), $(keepalived --version 2>&1 | head -1), $(wrk -v 2>&1 | head -1 | awk '{ print $1, $2 }'); $(nproc) CPUs."
		echo "Client probe every $INTERVAL_MS ms (answers later than $PROBE_TIMEOUT_MS ms count as lost). Unreachable window = fo-probe max_gap_ms"
		echo "(between sends of consecutive answered probes; resolution $INTERVAL_MS ms); arrival gap = from the old holder's last answer to the new"
		echo "holder's first, on arrival. Median is the lower middle, p95 the nearest rank. Two-holder samples: proven overlaps in the"
		echo "sampler's sequential reads of all nodes' addresses (must be 0); rounds as read: naive count, includes moves between reads;"
		echo "kernel: spans with two holders of a VIP replayed from \`ip -ts monitor address\` in every node's namespace (add/delete"
		echo "times as each ip process read them: ~0.1 ms jitter, sub-ms values are not conclusive); shortest no-holder: the smallest"
		echo "delete-to-next-add margin (break before make)."
		echo
		echo "### Unreachable window per switchover / handover"
		echo
		echo "| series | n | median ms | p95 ms | max ms | arrival gap median / max ms | irregular | two-holder samples | rounds as read (of reads) | kernel: overlaps, longest ms (events) | kernel: shortest no-holder ms |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|"
		for s in "${SERIES[@]}"; do
			st=$(stats "$s" 5)
			sa=$(stats "$s" 6)
			irr=$(awk -F'\t' -v s="$s" '$1 == s && $9 != "ok"' "$RAW" | wc -l)
			ov=${OVERLAP[$s]:-}
			if [[ -n $ov ]]; then
				read -r pr nv rd <<<"$ov"
				ov="$pr | $nv ($rd)"
			else
				ov="n/a | n/a"
			fi
			if [[ -n ${KOVER[$s]:-} ]]; then
				read -r pr nv rd em <<<"${KOVER[$s]}"
				ov="$ov | $pr, $nv ($rd) | $em"
			else
				ov="$ov | n/a | n/a"
			fi
			IFS='|' read -r n med p95 max <<<"$st"
			IFS='|' read -r _ amed _ amax <<<"$sa"
			echo "| ${SERIES_TITLE[$s]:-$s} | $n | $med | $p95 | $max | $amed / $amax | $irr | $ov |"
		done
		if ((${#WRK_ROWS[@]})); then
			echo
			echo "### /metrics and /status under wrk (node2's namespace, 127.0.0.1:9900, 2 threads, 16 connections, ${WRK_SECONDS} s)"
			echo
			echo "| endpoint | failover during the run | requests/s | latency avg ms | p50 ms | p99 ms | requests | non-2xx | socket errors | bytes/request |"
			echo "|---|---|---|---|---|---|---|---|---|---|"
			local row
			for row in "${WRK_ROWS[@]}"; do echo "| ${row//|/ | } |"; done
			echo
			echo "bytes/request: wrk's bytes read / requests (headers included). Load average: $LOAD_START at the start, $(load_avg) at the end."
			echo
			echo "### Failover time (cut of the holder node1) with and without wrk load on the node taking over"
			echo
			echo "| load | n | median ms | p95 ms | max ms | arrival gap median / max ms |"
			echo "|---|---|---|---|---|---|"
			for s in fomgr-cut-idle fomgr-cut-metrics fomgr-cut-status; do
				st=$(stats "$s" 5)
				sa=$(stats "$s" 6)
				IFS='|' read -r n med p95 max <<<"$st"
				IFS='|' read -r _ amed _ amax <<<"$sa"
				echo "| ${s#fomgr-cut-} | $n | $med | $p95 | $max | $amed / $amax |"
			done
		fi
		irr=$(awk -F'\t' '$9 != "ok" { printf "- %s #%s %s->%s: %s\n", $1, $2, $3, $4, $9 }' "$RAW")
		if [[ -n $irr ]]; then
			echo
			echo "Irregular measurements (kept in the figures above):"
			echo "$irr"
		fi
		if ((DO_KA)); then
			echo
			echo "The two-holder columns of the \"master stopped\" series include node1's keepalived start after each stop (it preempts"
			echo "node2, not timed); the log names every kernel overlap of 1 ms or more with its time."
			echo
			echo "keepalived config of node1 (node2, node3: priority 100, 50; in the priority series the next node's priority is"
			echo "rewritten to the master's + 1 before its SIGHUP), advert_int one of: $ADVERTS"
			echo
			echo '```'
			keepalived_conf 1 150 "${ADVERTS%% *}"
			echo '```'
			echo "keepalived runs as \`keepalived -n -l -D -G -P -f nodeK/keepalived.conf -p nodeK/keepalived.pid -r nodeK/keepalived-vrrp.pid\`"
			echo "(lab spawn in nodeK's namespace), with fomgr stopped on every node."
		fi
		echo
		echo "Addresses in the group: $((2 + EXTRA_ADDRS)) ($VIP4, $VIP6$( ((EXTRA_ADDRS)) && echo " and 203.0.113.1-$EXTRA_ADDRS/32"))."
		echo "Run: \`tests/bench/switchover-bench.sh $BENCH_ARGS\` in $(( ($(now_ms) - RUN_START_MS) / 1000 )) s; raw: $RAW"
		"$FO_TOP/tests/bench/machine.sh"
	} | tee "$RESULTS"
}

# --- main ---------------------------------------------------------------------------------------

mkdir -p "$(dirname "$RESULTS")"
: >"$RAW"
"$LAB" down "$LAB_ID" >/dev/null 2>&1 || true
log "lab up $LAB_ID (3 nodes, corosync profile test)"
lab up "$LAB_ID" 3 --corosync-profile test >/dev/null || die "lab up"
lab wait-quorum "$LAB_ID" all --timeout 30 >/dev/null || die "no quorum"
for k in 1 2 3; do lab start-echo "$LAB_ID" "$k" "$PORT" >/dev/null || die "start-echo $k"; done
fomgr_up
phase_fomgr_moves
((DO_WRK)) && phase_wrk
((DO_KA)) && phase_keepalived
report
read -r pr _ <<<"${OVERLAP[fomgr-move]:-1}"
((pr == 0)) || die "fomgr: two holders seen in $pr samples"
