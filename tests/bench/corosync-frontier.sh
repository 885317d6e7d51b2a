#!/bin/bash
# The corosync profile frontier (issue 14, item 1): for each token, how often
# corosync changes its membership when nobody touched anything (idle, every core
# saturated, the disk busy), and how long a client goes unanswered when the VIP's
# holder is cut off. The fastest profile with no spurious change is the "fast"
# one; the fastest whose token is at least twice that one's, also without a
# change, is the default.
#
#   tests/bench/corosync-frontier.sh [--tokens "150 200 300 400 600 1000"]
#                                    [--minutes M] [--loads "idle cpu disk"]
#                                    [--cuts N] [--sched rr|other] [--sim-seeds N]
#                                    [--results FILE] [--lab-id ID]
#
# PROFILES. Token T (ms), token_coefficient 0, consensus 1.2 x T (corosync's own
# ratio), join 50, knet_ping_interval 200 ms and knet_ping_timeout max(T, 600 ms):
# scripts/lab's profile tT (the timers are printed with each row). Why the knet
# timers are not derived from the token: libknet's heartbeat thread sends pings
# and checks pong timeouts on a 200 ms clock (its threads timer resolution, which
# corosync 3.1.7 never changes), so a ping interval below 200 ms is 200 ms in
# fact, and a ping timeout of 200 ms (the old fast profile's; corosync derives
# token / 2 = 100 ms from a 200 ms token) calls both of a node's links down
# whenever one tick's slack outgrows the round trip: 83 memberships in 150 s on an
# idle lab, every node in turn every 8-18 s. With 200 / 600 the same token 200 ran
# 150 s with none. The token still finds a dead node: knet's link state only
# decides when a link that came back is used again.
#
# SCHEDULING. --sched rr (the default) runs corosync as packaged (sched_rr: yes,
# realtime round-robin, what a real node does); --sched other at ordinary
# priority, as the rest of the lab (FO_LAB_SCHED_RR, scripts/lab).
#
# ONE TOKEN. `scripts/lab up ID 3 --corosync-profile tT`, fomgr started on every
# node with the lab's default config (its ring watch reads corosync as in
# production), 20 s to settle, then for each load: the number of `A new
# membership` lines each node's corosync logs while the load runs M minutes
# (default 10; the row shows the most any node logged) and knet's `is down` lines.
#   idle  nothing
#   cpu   stress-ng --cpu $(nproc): every core busy, root namespace, ordinary priority
#   disk  stress-ng --hdd 2 (write, read, fsync; files under build/frontier-io on
#         the checkout's disk, removed after)
# Then the lab goes down and tests/bench/failover-bench.sh --profiles tT
# --scenarios cut --no-keepalived --reps N (default 10) measures the unanswered
# gap of a cut of the holder (median and p95; its own table is kept beside the
# results). Each load is started and stopped by PID (stress-ng also has
# --timeout), the trap tears down the lab and stops the loads however it ends.
#
# FOMGR'S SIDE. A token corosync keeps steady may still be too short for fomgr's
# own margins (the isolation wait, the lost-holder grace, the bridge wait: all in
# terms of T and C, against knet's fixed 200 ms tick): the simulator runs N seeds
# (--sim-seeds, default 2000, 0: not run) with the same profile (tests/sim --token
# T) and the row shows how many failed with two holders (and in all). The fast
# profile is the fastest token with no membership change under any load and no
# two holders in the simulator; the default the fastest of those with at least
# twice its token.
#
# Exits non-zero when a series did not run (a lab did not come up or lost quorum
# for good, a load did not start, the cut produced no sample). Lab ID default 66
# (namespaces fo66-*); failover-bench runs on 87.
set -uo pipefail

FO_TOP=${FO_TOP:-$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)}
FO_BUILD=${FO_BUILD:-$FO_TOP/build/gcc}
export FO_TOP FO_BUILD
LAB=$FO_TOP/scripts/lab

TOKENS="150 200 300 400 600 1000"
MINUTES=10
LOADS="idle cpu disk"
CUTS=10
SCHED=rr
RESULTS=
LAB_ID=66
FB_LAB_ID=87
SETTLE_S=20
SIM_SEEDS=2000
LOAD_PID=
IO_DIR=$FO_TOP/build/frontier-io

usage() { sed -n '9,13p' "$0" | sed 's/^# \{0,1\}//'; }
log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "corosync-frontier: $*"
	exit 1
}

while (($#)); do
	case $1 in
	--tokens) TOKENS=${2:-}; shift 2 ;;
	--minutes) MINUTES=${2:-}; shift 2 ;;
	--loads) LOADS=${2:-}; shift 2 ;;
	--cuts) CUTS=${2:-}; shift 2 ;;
	--sched) SCHED=${2:-}; shift 2 ;;
	--sim-seeds) SIM_SEEDS=${2:-}; shift 2 ;;
	--results) RESULTS=${2:-}; shift 2 ;;
	--lab-id) LAB_ID=${2:-}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

for t in $TOKENS; do [[ $t =~ ^[1-9][0-9]*$ ]] || die "bad token '$t'"; done
for l in $LOADS; do [[ $l =~ ^(idle|cpu|disk)$ ]] || die "unknown load '$l' (idle, cpu, disk)"; done
[[ $MINUTES =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--minutes must be a number"
[[ $CUTS =~ ^[0-9]+$ ]] || die "--cuts must be a whole number (0: no cut)"
[[ $SIM_SEEDS =~ ^[0-9]+$ ]] || die "--sim-seeds must be a whole number (0: not run)"
((SIM_SEEDS == 0)) || [[ -x $FO_BUILD/tests/sim ]] || die "no simulator in $FO_BUILD/tests (cmake --build $FO_BUILD --target sim)"
case $SCHED in rr) export FO_LAB_SCHED_RR=1 ;; other) export FO_LAB_SCHED_RR=0 ;; *) die "--sched rr|other" ;; esac
[[ $LAB_ID =~ ^[0-9]{1,4}$ ]] || die "bad --lab-id"
((EUID == 0)) || die "needs root (network namespaces)"
command -v stress-ng >/dev/null || die "needs stress-ng (scripts/install-deps.sh)"
[[ -x $FO_BUILD/fomgr/fomgr ]] || die "no fomgr in $FO_BUILD (cmake -S . -B $FO_BUILD && cmake --build $FO_BUILD)"
RESULTS=${RESULTS:-$FO_TOP/build/bench/corosync-frontier.md}
OUT_DIR=${RESULTS%.md}.d
mkdir -p "$OUT_DIR" || die "cannot make $OUT_DIR"

lab() { timeout 120 "$LAB" "$@"; }

stop_load() {
	[[ -n $LOAD_PID ]] || return 0
	kill -TERM "$LOAD_PID" 2>/dev/null
	wait "$LOAD_PID" 2>/dev/null
	LOAD_PID=
	rm -rf "$IO_DIR"
}

cleanup() {
	stop_load
	"$LAB" down "$LAB_ID" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_load() { # LOAD SECONDS
	local secs=$2
	case $1 in
	idle) return 0 ;;
	cpu) stress-ng --cpu "$(nproc)" --timeout "${secs}s" --quiet >/dev/null 2>&1 & ;;
	disk)
		mkdir -p "$IO_DIR" || return 1
		stress-ng --hdd 2 --hdd-bytes 256M --hdd-opts wr-seq,rd-rnd,fsync --temp-path "$IO_DIR" \
			--timeout "${secs}s" --quiet >/dev/null 2>&1 &
		;;
	esac
	LOAD_PID=$!
	sleep 1
	kill -0 "$LOAD_PID" 2>/dev/null || { LOAD_PID=; return 1; }
}

count_lines() { # FILE PATTERN
	grep -c -- "$2" "$1" 2>/dev/null || true
}

declare -A CHANGES=() DOWNS=() TIMERS=() GAP=() SIM=()

# The membership changes of one token under each load.
watch_token() { # T
	local t=$1 load k secs log_file m d max_m max_d
	local state=/run/fomgr-lab/$LAB_ID
	"$LAB" down "$LAB_ID" >/dev/null 2>&1 || true
	lab up "$LAB_ID" 3 --corosync-profile "t$t" >/dev/null || die "token $t: lab up failed"
	lab wait-quorum "$LAB_ID" all --timeout 30 >/dev/null || die "token $t: lab not quorate"
	for k in 1 2 3; do lab start-fomgr "$LAB_ID" "$k" >/dev/null || die "token $t: fomgr on node$k"; done
	TIMERS[$t]=$(lab totem "$LAB_ID" 1 | awk '{ v = $NF }
		/totem.token /   { t = v } /consensus/ { c = v }
		/ping_interval/  { pi = v } /ping_timeout/ { pt = v }
		END { printf "token %s, consensus %s, knet ping %s / %s", t, c, pi, pt }')
	log "token $t: ${TIMERS[$t]}, corosync sched $SCHED; settling ${SETTLE_S} s"
	sleep "$SETTLE_S"
	secs=$(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 60 }')
	for load in $LOADS; do
		local -a bm=() bd=()
		for k in 1 2 3; do
			log_file=$state/node$k/corosync.log
			bm[k]=$(count_lines "$log_file" 'A new membership')
			bd[k]=$(count_lines "$log_file" ' is down')
		done
		start_load "$load" "$((secs + 5))" || die "token $t: the $load load did not start"
		log "token $t: $load for $secs s"
		sleep "$secs"
		[[ $load == idle ]] || kill -0 "$LOAD_PID" 2>/dev/null || die "token $t: the $load load ended early"
		stop_load
		max_m=0 max_d=0
		for k in 1 2 3; do
			log_file=$state/node$k/corosync.log
			m=$(($(count_lines "$log_file" 'A new membership') - bm[k]))
			d=$(($(count_lines "$log_file" ' is down') - bd[k]))
			((m > max_m)) && max_m=$m
			((d > max_d)) && max_d=$d
		done
		CHANGES[$t.$load]=$max_m
		DOWNS[$t.$load]=$max_d
		log "token $t: $load: $max_m membership change(s), $max_d knet link-down line(s) on the worst node"
		# A ring that churned must be whole again before the next load counts.
		lab wait-quorum "$LAB_ID" all --timeout 60 >/dev/null || die "token $t: not quorate after $load"
		sleep 5
	done
	mkdir -p "$OUT_DIR/t$t"
	for k in 1 2 3; do cp "$state/node$k/corosync.log" "$OUT_DIR/t$t/node$k-corosync.log" 2>/dev/null; done
	"$LAB" down "$LAB_ID" >/dev/null 2>&1 || true
}

# The unanswered gap of a cut of the holder, through failover-bench.
cut_token() { # T
	local t=$1 res=$OUT_DIR/failover-t$1.md stats
	((CUTS > 0)) || return 0
	log "token $t: $CUTS cuts (failover-bench, lab $FB_LAB_ID)"
	"$FO_TOP/tests/bench/failover-bench.sh" --profiles "t$t" --no-keepalived --scenarios cut \
		--reps "$CUTS" --lab-id "$FB_LAB_ID" --results "$res" --max-minutes 30 \
		>/dev/null 2>"$OUT_DIR/failover-t$t.log" || die "token $t: failover-bench failed (see $OUT_DIR/failover-t$t.log)"
	stats=$(awk -F'\t' 'NR > 1 && $6 == "ok" { print $7 }' "${res%.md}.tsv" | sort -g | awk '
		{ v[++n] = $1 }
		END {
			if (n == 0) exit
			med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
			r = int(0.95 * n); if (r < 0.95 * n) r++
			printf "%.0f %.0f %d\n", med, v[r], n
		}')
	[[ -n $stats ]] || die "token $t: the cut produced no sample (see $res)"
	GAP[$t]=$stats
	log "token $t: cut gap median/p95/n $stats"
}

# fomgr's margins at this token: two-holder failures of the simulator.
sim_token() { # T
	local t=$1 out duals all
	((SIM_SEEDS > 0)) || return 0
	out=$("$FO_BUILD/tests/sim" --seeds "$SIM_SEEDS" --first-seed 20261204 --keep-going --token "$t" 2>&1)
	grep -q "^sim: $SIM_SEEDS seed(s)" <<<"$out" || die "token $t: the simulator did not run ($(tail -1 <<<"$out"))"
	duals=$(grep -c 'FAILED.*two holders' <<<"$out")
	all=$(grep -c 'FAILED' <<<"$out")
	SIM[$t]="$duals / $SIM_SEEDS ($all)"
	log "token $t: simulator $SIM_SEEDS seeds, $duals with two holders, $all failed in all"
}

report() {
	local t load row fast='' default='' stable
	{
		echo "Corosync profile frontier: 3-node lab, corosync sched $SCHED, $MINUTES min per load, $CUTS cuts per token."
		echo "changes = \`A new membership\` lines the worst node logged during the load (0 = nobody touched it and nothing"
		echo "happened); in brackets knet's \`is down\` lines. gap = client unanswered on a cut of the holder (fo-probe every 5 ms)."
		echo
		echo -n "| token | timers |"
		for load in $LOADS; do echo -n " $load changes |"; done
		echo " cut gap median | p95 | n | simulator: two holders / seeds (failed) |"
		echo -n "|---|---|"
		for load in $LOADS; do echo -n "---|"; done
		echo "---|---|---|---|"
		for t in $TOKENS; do
			row="| $t | ${TIMERS[$t]:--} |"
			stable=1
			for load in $LOADS; do
				row+=" ${CHANGES[$t.$load]:--} (${DOWNS[$t.$load]:--}) |"
				[[ ${CHANGES[$t.$load]:-x} == 0 ]] || stable=0
			done
			read -r med p95 n <<<"${GAP[$t]:-- - -}"
			row+=" $med | $p95 | $n | ${SIM[$t]:--} |"
			echo "$row"
			[[ ${SIM[$t]:-0 } == 0\ * ]] || stable=0
			if ((stable)); then
				[[ -n $fast ]] || fast=$t
				[[ -z $default && -n $fast ]] && ((t >= 2 * fast)) && default=$t
			fi
		done
		echo
		echo "fast (fastest token with no change under any load and no two holders in the simulator): ${fast:-none}"
		echo "default (the same, with at least 2 x the fast token): ${default:-none}"
		"$FO_TOP/tests/bench/machine.sh"
	} | tee "$RESULTS"
	log "results written to $RESULTS (logs and failover tables in $OUT_DIR)"
}

start=$(date +%s)
log "corosync-frontier: tokens $TOKENS; loads $LOADS, $MINUTES min each; $CUTS cuts; results $RESULTS"
for t in $TOKENS; do
	watch_token "$t"
	cut_token "$t"
	sim_token "$t"
done
report
log "done in $(($(date +%s) - start)) s"
