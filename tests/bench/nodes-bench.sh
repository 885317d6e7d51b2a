#!/bin/bash
# Cluster size benchmark (issue 11): hard-failover time against the number of nodes
# (2 with a quorum device, 3, 5, 7) on the shipped corosync profile (token 600 ms,
# no per-node growth, consensus 720 ms; 1000 / 1200 before 2026-12-04), and the idle CPU and memory of corosync +
# fomgr per node at each size, in one run on this machine.
#
#   tests/bench/nodes-bench.sh [--sizes "2q 3 5 7"] [--reps N] [--idle-s S]
#                              [--lab-id ID] [--results FILE]
#
# Needs root, a build with fomgr, fo-echo and fo-probe (FO_BUILD, default build/gcc),
# corosync-qnetd and corosync-qdevice for "2q". Run it alone, under the lab lock
# (flock /tmp/fo-lab.lock tests/bench/nodes-bench.sh): other labs on the same cores
# change both figures. Prints a Markdown table and writes it to the results file
# (default build/bench/nodes-results.md); every repetition, raw, to the .tsv beside it.
#
# ONE SIZE. `scripts/lab up ID N --corosync-profile shipped` (2q: N = 2 and
# --qdevice: ffsplit, a witness running corosync-qnetd), fomgr with the lab's
# default config on every node (one group, 192.0.2.100, prefer node1 .. nodeN,
# failback auto), fo-echo on every node. Once node1 holds the VIP:
#   IDLE  for --idle-s seconds nothing happens; CPU is the utime + stime each
#         recorded process gained (/proc/PID/stat) over that time, in % of one core;
#         memory its VmRSS at the end. Per node: corosync + fomgr, the mean over
#         the nodes (2q: corosync-qdevice per node and corosync-qnetd on the witness
#         in their own columns).
#   FAILOVER  --reps times: the client probes the VIP every 5 ms (fo-probe); 1 s
#         later node1, the holder, is cut off from both networks (`lab cut ID 1`: a
#         dead node, as its peers and the client see it). The outage is fo-probe's
#         max_gap_ms (the longest span between the sends of two answered probes: the
#         window lies within 10 ms below it). A repetition counts when the probe
#         began on node1 and ended on exactly one other node. node1 is restored and
#         the VIP awaited back on it (failback auto) before the next one.
set -euo pipefail

FO_TOP=${FO_TOP:-$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)}
FO_BUILD=${FO_BUILD:-$FO_TOP/build/gcc}
export FO_TOP FO_BUILD
LAB=$FO_TOP/scripts/lab
SIZES="2q 3 5 7"
REPS=3
IDLE_S=20
ID=84
RESULTS=$FO_BUILD/bench/nodes-results.md
VIP=192.0.2.100
PORT=7777
INTERVAL_MS=5

while (($#)); do
	case $1 in
	--sizes) SIZES=$2; shift 2 ;;
	--reps) REPS=$2; shift 2 ;;
	--idle-s) IDLE_S=$2; shift 2 ;;
	--lab-id) ID=$2; shift 2 ;;
	--results) RESULTS=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "nodes-bench: unknown option $1" >&2; exit 64 ;;
	esac
done
[[ $(id -u) == 0 ]] || { echo "nodes-bench: run as root" >&2; exit 1; }
[[ $REPS =~ ^[0-9]+$ && $IDLE_S =~ ^[0-9]+$ ]] || { echo "nodes-bench: --reps and --idle-s are counts" >&2; exit 64; }
PROBE=$FO_BUILD/tests/fo-probe
[[ -x $PROBE && -x $FO_BUILD/fomgr/fomgr ]] || { echo "nodes-bench: build $FO_BUILD first" >&2; exit 1; }
STATE=/run/fomgr-lab/$ID
TSV=${RESULTS%.md}.tsv
mkdir -p "$(dirname "$RESULTS")"
trap '"$LAB" down "$ID" >/dev/null 2>&1 || true' EXIT

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

holders() {
	local k out=()
	for ((k = 1; k <= N; k++)); do
		ip -n "fo$ID-node$k" -o addr show dev eth0 | grep -q " $VIP/" && out+=("node$k")
	done
	echo "${out[*]}"
}

wait_holder() { # NODE TIMEOUT_S
	local until=$(($(now_ms) + $2 * 1000))
	while [[ $(holders) != "$1" ]]; do
		(($(now_ms) < until)) || return 1
		sleep 0.1
	done
}

ticks() { # PID: utime + stime
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# For each REGEX (on the lab's record names: node1.corosync, witness.qnetd, ...),
# "cpu rss": the CPU its processes used over IDLE_S in % of one core and their
# VmRSS in MB, summed per host (node or witness), then the mean over the hosts;
# "- -" when none matches.
idle_figures() { # REGEX...
	local hz g i
	local -a names=() pids=() before=() after=()
	hz=$(getconf CLK_TCK)
	while read -r name pid; do
		[[ $pid =~ ^[0-9]+$ ]] || continue
		names+=("$name")
		pids+=("$pid")
	done < <("$LAB" pids "$ID")
	for i in "${!pids[@]}"; do before+=("$(ticks "${pids[i]}")"); done
	sleep "$IDLE_S"
	for i in "${!pids[@]}"; do after+=("$(ticks "${pids[i]}")"); done
	for g in "$@"; do
		local cpu=0 rss=0 hosts
		hosts=$(printf '%s\n' "${names[@]}" | { grep -E "$g" || true; } | cut -d. -f1 | sort -u | wc -l)
		for i in "${!names[@]}"; do
			[[ ${names[i]} =~ $g ]] || continue
			cpu=$((cpu + after[i] - before[i]))
			rss=$((rss + $(rss_kb "${pids[i]}")))
		done
		if ((hosts == 0)); then
			echo "- -"
		else
			awk -v c="$cpu" -v r="$rss" -v n="$hosts" -v hz="$hz" -v s="$IDLE_S" \
				'BEGIN { printf "%.2f %.1f\n", 100 * c / hz / s / n, r / 1024 / n }'
		fi
	done
}

one_failover() { # SIZE REP: prints the outage in ms, or "discarded REASON"
	local out summary gap by window=12000
	[[ $1 == 2q ]] && window=30000
	"$LAB" spawn "$ID" client "bench$2" "$PROBE" --target $VIP --port $PORT --interval-ms $INTERVAL_MS \
		--duration-ms $window >/dev/null
	sleep 1
	"$LAB" cut "$ID" 1 >/dev/null
	local until=$(($(now_ms) + window + 5000))
	until grep -q '^sent=' "$STATE/client/bench$2.log" 2>/dev/null; do
		(($(now_ms) < until)) || break
		sleep 0.2
	done
	summary=$(grep '^sent=' "$STATE/client/bench$2.log" | tail -n 1 || true)
	"$LAB" restore "$ID" 1 >/dev/null
	"$LAB" wait-quorum "$ID" all --timeout 60 >/dev/null || true
	wait_holder node1 60 || log "size $1: node1 did not get the VIP back: '$(holders)'"
	sleep 3
	gap=$(grep -o 'max_gap_ms=[0-9]*' <<<"$summary" | cut -d= -f2)
	by=$(grep -o 'transitions=[^ ]*' <<<"$summary" | cut -d= -f2)
	if [[ -z $gap || $by != node1-\>node[2-9]@* || $by == *,* ]]; then
		echo "discarded transitions=${by:-none}"
	else
		echo "$gap"
	fi
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print v[int((NR + 1) / 2)] }'; }

machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), kernel $(uname -r), corosync $(corosync -v | grep -o "'[^']*'" | tr -d "'")"
printf 'size\trep\toutage_ms\n' >"$TSV"
rows=()
for size in $SIZES; do
	case $size in
	2q) N=2; extra=(--qdevice) ;;
	[0-9]) N=$size; extra=() ;;
	*) echo "nodes-bench: bad size '$size' (2q, or 1-9)" >&2; exit 64 ;;
	esac
	log "size $size: lab up $ID $N ${extra[*]}"
	"$LAB" down "$ID" >/dev/null
	"$LAB" up "$ID" "$N" --corosync-profile shipped "${extra[@]}" >/dev/null
	"$LAB" wait-quorum "$ID" all --timeout 60 >/dev/null
	[[ $size != 2q ]] || "$LAB" wait-qdevice "$ID" all --timeout 60 >/dev/null
	for ((k = 1; k <= N; k++)); do
		"$LAB" start-fomgr "$ID" "$k" >/dev/null
		"$LAB" start-echo "$ID" "$k" $PORT >/dev/null
	done
	wait_holder node1 60 || { log "size $size: node1 never held the VIP"; exit 1; }
	sleep 5
	log "size $size: idle for ${IDLE_S}s"
	mapfile -t idle < <(idle_figures '^node[0-9]\.(corosync|fomgr)$' '^node[0-9]\.qdevice$' '^witness\.qnetd$')
	outages=()
	for ((r = 1; r <= REPS; r++)); do
		o=$(one_failover "$size" "$r")
		printf '%s\t%s\t%s\n' "$size" "$r" "$o" >>"$TSV"
		log "size $size rep $r: $o"
		[[ $o == discarded* ]] || outages+=("$o")
	done
	med=$(printf '%s\n' "${outages[@]}" | median)
	max=$(printf '%s\n' "${outages[@]}" | sort -n | tail -n 1)
	read -r cpu rss <<<"${idle[0]}"
	read -r qcpu qrss <<<"${idle[1]}"
	read -r wcpu wrss <<<"${idle[2]}"
	label=$N; [[ $size == 2q ]] && label="2 + qdevice"
	extra_col="-"
	[[ $size == 2q ]] && extra_col="qdevice ${qcpu} % / ${qrss} MB per node; qnetd ${wcpu} % / ${wrss} MB"
	rows+=("| $label | ${med} ms | ${max:-"-"} ms | ${#outages[@]}/$REPS | ${cpu} % | ${rss} MB | $extra_col |")
	"$LAB" down "$ID" >/dev/null
done

{
	echo "Hard failover (the holder cut off) and idle cost per node, shipped corosync profile"
	echo "(token 600 ms, consensus 720 ms, knet 200 / 600 ms), $REPS repetitions, ${IDLE_S} s idle; $machine."
	echo
	echo "| nodes | outage, median | outage, max | counted | idle CPU, corosync + fomgr per node | RSS, corosync + fomgr per node | the device |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
	printf '%s\n' "${rows[@]}"
} | tee "$RESULTS"
