#!/bin/bash
# Status cost benchmark (issue 14 item 7): what monitoring costs fomgr as the
# cluster's history grows, and whether fomgr's memory stays flat.
#
#   tests/bench/status-bench.sh [--build DIR]... [--moves N] [--transitions N]
#                               [--wrk-seconds S] [--reps R] [--lab-id ID] [--results FILE]
#
# Needs root, wrk and curl (Debian packages), and builds with fomgr and fomctl:
# every --build DIR (absolute, or relative to the caller's directory) is measured
# in turn in the same run, so an older build and a newer one sit side by side;
# without --build, FO_BUILD (default build/gcc, which scripts/test builds). Prints
# a Markdown table and writes it to the results file (default
# <first build>/bench/status-results.md); every sample, raw, to the same name with
# .tsv. Exits 1 when a series did not run or a figure is missing. About 6 minutes
# per build with the defaults, on a 2-core machine.
#
# THE LAB. `scripts/lab up ID 3 --corosync-profile test` (ID default 60: namespaces
# fo60-*), nothing in the root namespace; documentation prefixes only (192.0.2.0/24
# for the VIPs, 198.51.100.0/24 for corosync).
#
# 1. Documents. fomgr on every node with the lab's default config (one group,
#    `vip`, held by node1). On node2, inside its namespace: the size of GET /status
#    and GET /metrics, and wrk (1 thread, 8 connections, --wrk-seconds) against
#    each: requests per second and fomgr's own CPU per request (its utime + stime
#    over the window, from /proc, divided by the requests wrk counted: less
#    sensitive than requests per second to what else the machine runs). Then
#    --moves switchovers, `fomctl vip move vip --to NODE --wait 10` round the three
#    nodes (each one release and one acquire: the same records a failover leaves
#    in the transitions list and the history), and the same measurements again.
#    --reps rounds, node2's fomgr started again (an empty list) before each, so
#    that the measurements before and after the moves alternate in time and a
#    change in the machine's load falls on both; medians over the rounds. The
#    ratio after/start is the figure issue 14 asks for (at least 0.90).
# 2. Memory. fomgr restarted on every node with 64 groups (one address each,
#    192.0.2.100-163, first preferences spread over the nodes: active-active). The
#    memory of each node's fomgr (/proc: VmRSS; RssAnon, its own heap and data;
#    RssShmem, the shared-memory rings of its IPC with corosync, libqb's
#    /dev/shm/qb-*, which fill once as their write positions go round, printed
#    beside the rings' size) once all 64 are held, and again after the document
#    measurements below ("served"); then `fomctl node standby nodeK`
#    and `unstandby nodeK` round the nodes (each moves a third of the groups away
#    and back: about 84 transitions), each step waited for in the kernel (every
#    group's address on one node, none on the node in standby), until the cluster
#    counted --transitions transitions (the sum of fomgr_transitions_total over
#    the nodes); the memory again after the first 1000 (the cluster history's ring
#    holds 1000) and at the end, with VmHWM. The document measurements of 1. are made at
#    64 groups too, at the start and at the end.
#
# Bounded: every wait has a timeout, wrk and curl have fixed windows; a trap tears
# the lab down however the script ends; only processes the lab recorded are
# signalled.
set -uo pipefail

FO_TOP=${FO_TOP:-$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)}
export FO_TOP
LAB=$FO_TOP/scripts/lab

BUILDS=()
MOVES=100
TRANSITIONS=10000
WRK_SECONDS=4
REPS=3
LAB_ID=60
RESULTS=
GROUPS_N=64
MEASURE=2 # the node whose endpoints are measured

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "status-bench: $*"
	exit 1
}
now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

while (($#)); do
	case $1 in
	--build)
		d=$(cd "${2:-}" 2>/dev/null && pwd) || die "no build directory '${2:-}'"
		BUILDS+=("$d")
		shift 2
		;;
	--moves) MOVES=${2:-}; shift 2 ;;
	--transitions) TRANSITIONS=${2:-}; shift 2 ;;
	--wrk-seconds) WRK_SECONDS=${2:-}; shift 2 ;;
	--reps) REPS=${2:-}; shift 2 ;;
	--lab-id) LAB_ID=${2:-}; shift 2 ;;
	--results) RESULTS=${2:-}; shift 2 ;;
	-h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "status-bench: unknown option $1" >&2; exit 64 ;;
	esac
done
for v in "$MOVES" "$TRANSITIONS" "$WRK_SECONDS" "$REPS" "$LAB_ID"; do
	[[ $v =~ ^[0-9]+$ ]] || die "options take counts ('$v')"
done
((REPS >= 1 && WRK_SECONDS >= 1)) || die "--reps and --wrk-seconds must be at least 1"
((${#BUILDS[@]})) || BUILDS=("${FO_BUILD:-$FO_TOP/build/gcc}")
[[ $(id -u) == 0 ]] || die "run as root"
command -v wrk >/dev/null || die "wrk not installed (apt-get install -y wrk)"
command -v curl >/dev/null || die "curl not installed"
for b in "${BUILDS[@]}"; do
	[[ -x $b/fomgr/fomgr && -x $b/fomctl/fomctl ]] || die "$b: no fomgr/fomgr or fomctl/fomctl (build it first)"
done
RESULTS=${RESULTS:-${BUILDS[0]}/bench/status-results.md}
TSV=${RESULTS%.md}.tsv
mkdir -p "$(dirname "$RESULTS")" || die "cannot make $(dirname "$RESULTS")"
STATE=/run/fomgr-lab/$LAB_ID
MACHINE=$(sh "$FO_TOP/tests/bench/machine.sh")
trap '"$LAB" down "$LAB_ID" >/dev/null 2>&1 || true' EXIT
printf 'build\tseries\tpoint\tmetric\tvalue\n' >"$TSV"

ns() { echo "fo$LAB_ID-node$1"; }
ctl() { # K fomctl-args...
	local k=$1
	shift
	timeout 20 "$FOMCTL" --socket "$STATE/node$k/run/control.sock" "$@"
}
fomgr_pid() { read -r pid _ <"$STATE/pids/node$1.fomgr" && echo "$pid"; }
wait_until() { # TIMEOUT_S CMD...
	local until=$(($(now_ms) + $1 * 1000))
	shift
	until "$@"; do
		(($(now_ms) < until)) || return 1
		sleep 0.1
	done
}

# --- figures ---------------------------------------------------------------------------

declare -A FIG # "build|series|point|metric" -> value
put() { # SERIES POINT METRIC VALUE
	FIG["$BUILD|$1|$2|$3"]=$4
	printf '%s\t%s\t%s\t%s\t%s\n' "$BUILD" "$1" "$2" "$3" "$4" >>"$TSV"
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

http_get() { # K PATH -> body
	ip netns exec "$(ns "$1")" curl -sf --max-time 5 "http://127.0.0.1:9900$2"
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# wrk against node K's PATH: "requests/s cpu_us_per_request"
wrk_once() { # K PATH
	local pid out t0 t1 req rps
	pid=$(fomgr_pid "$1") || return 1
	t0=$(cpu_ticks "$pid")
	out=$(timeout $((WRK_SECONDS + 10)) ip netns exec "$(ns "$1")" wrk -t1 -c8 -d"${WRK_SECONDS}s" \
		"http://127.0.0.1:9900$2" 2>&1) || return 1
	t1=$(cpu_ticks "$pid")
	rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
	req=$(awk '/requests in/ { print $1 }' <<<"$out")
	grep -q 'Non-2xx' <<<"$out" && return 1
	[[ -n $rps && ${req:-0} -gt 0 ]] || return 1
	echo "$rps $(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$req" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')"
}

# Sizes, then ROUNDS rounds of wrk on /status and /metrics alternately; each
# sample goes to the TSV, where summarize finds them.
measure_documents() { # SERIES POINT ROUNDS
	local s=$1 p=$2 path key r w
	for path in /status /metrics; do
		key=${path#/}
		w=$(http_get "$MEASURE" "$path" | wc -c)
		((w > 0)) || { log "  GET $path on node$MEASURE failed"; return 1; }
		put "$s" "$p" "${key}_bytes" "$w"
	done
	for ((r = 1; r <= $3; r++)); do
		for path in /status /metrics; do
			key=${path#/}
			w=$(wrk_once "$MEASURE" "$path") || { log "  wrk $path on node$MEASURE failed"; return 1; }
			printf '%s\t%s\t%s\t%s\t%s\n' "$BUILD" "$s" "$p" "${key}_sample" "$w" >>"$TSV"
			log "    $p $path: ${w% *} requests/s, ${w#* } us of CPU per request"
		done
	done
}
# The medians of every sample of SERIES at POINT in this build.
summarize() { # SERIES POINT
	local s=$1 p=$2 key
	for key in status metrics; do
		put "$s" "$p" "${key}_rps" "$(awk -F'\t' -v b="$BUILD" -v s="$s" -v p="$p" -v k="${key}_sample" \
			'$1 == b && $2 == s && $3 == p && $4 == k { split($5, f, " "); print f[1] }' "$TSV" | median)"
		put "$s" "$p" "${key}_cpu_us" "$(awk -F'\t' -v b="$BUILD" -v s="$s" -v p="$p" -v k="${key}_sample" \
			'$1 == b && $2 == s && $3 == p && $4 == k { split($5, f, " "); print f[2] }' "$TSV" | median)"
	done
	log "  $p: /status $(fig "$s" "$p" status_bytes) B $(fig "$s" "$p" status_rps)/s $(fig "$s" "$p" status_cpu_us) us," \
		"/metrics $(fig "$s" "$p" metrics_bytes) B $(fig "$s" "$p" metrics_rps)/s $(fig "$s" "$p" metrics_cpu_us) us"
}
fig() { echo "${FIG["$BUILD|$1|$2|$3"]:-}"; }

transitions_on() { # K: fomgr_transitions_total summed over reasons
	http_get "$1" /metrics | awk '/^fomgr_transitions_total\{/ { n += $2 } END { print n + 0 }'
}
cluster_transitions() { echo $(($(transitions_on 1) + $(transitions_on 2) + $(transitions_on 3))); }

# The size of the shared-memory rings of fomgr's IPC connections to corosync
# (libqb, /dev/shm/qb-*, each file mapped twice so that a message can run over the
# ring's end: counted once): about what its RssShmem grows to as each ring's write
# position goes round once.
ipc_kb() { # K
	awk '/^[0-9a-f]+-[0-9a-f]+ / { f = $6 ~ /^\/dev\/shm\/qb-/ ? $6 : "" }
	     f != "" && $1 == "Size:" && $2 > size[f] { size[f] = $2 }
	     END { for (f in size) n += size[f]; print n + 0 }' "/proc/$(fomgr_pid "$1")/smaps"
}
rss_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$(fomgr_pid "$1")/status"; }
put_rss() { # SERIES POINT
	local k
	for k in 1 2 3; do
		put "$1" "$2" "rss_kb_node$k" "$(rss_kb "$k" VmRSS)"
		put "$1" "$2" "anon_kb_node$k" "$(rss_kb "$k" RssAnon)"
		put "$1" "$2" "shmem_kb_node$k" "$(rss_kb "$k" RssShmem)"
		put "$1" "$2" "ipc_kb_node$k" "$(ipc_kb "$k")"
		put "$1" "$2" "hwm_kb_node$k" "$(rss_kb "$k" VmHWM)"
	done
	log "  $2: VmRSS $(fig "$1" "$2" rss_kb_node1) $(fig "$1" "$2" rss_kb_node2) $(fig "$1" "$2" rss_kb_node3) kB," \
		"RssAnon $(fig "$1" "$2" anon_kb_node1) $(fig "$1" "$2" anon_kb_node2) $(fig "$1" "$2" anon_kb_node3) kB"
}

# --- the lab ---------------------------------------------------------------------------

vip_count() { # K: VIPs (192.0.2.100-199) on node K's eth0
	ip -n "$(ns "$1")" -o -4 addr show dev eth0 | grep -c ' 192\.0\.2\.1[0-9][0-9]/' || true
}
holds_vip() { [[ $(vip_count "$1") == "$2" ]]; }
members3() { ctl 1 status --json 2>/dev/null | grep -q '"members":3,'; }

fomgr_start_all() { # CONFIG_SUFFIX ("" for the lab's default)
	local k
	for k in 1 2 3; do
		if [[ -n $1 ]]; then
			"$LAB" start-fomgr "$LAB_ID" "$k" "$STATE/node$k/fomgr-$1.conf" >/dev/null || return 1
		else
			"$LAB" start-fomgr "$LAB_ID" "$k" >/dev/null || return 1
		fi
	done
}
fomgr_stop_all() {
	local k
	for k in 1 2 3; do "$LAB" stop-fomgr "$LAB_ID" "$k" >/dev/null 2>&1; done
}

# The lab's default config with GROUPS_N groups in place of `vip`, one address
# each, the first preference going round the nodes.
write_groups_config() { # K
	local k=$1 i p
	"$LAB" fomgr-config "$LAB_ID" "$k" | sed '/^\[group vip\]/,$d'
	for ((i = 0; i < GROUPS_N; i++)); do
		p=$((i % 3 + 1))
		printf '[group g%d]\ninterface = eth0\naddress = 192.0.2.%d/24\nprefer = node%d node%d node%d\nfailback = auto\n\n' \
			"$i" $((100 + i)) "$p" $((p % 3 + 1)) $(((p + 1) % 3 + 1))
	done
}
share() { # K: the groups node K comes first for
	echo $(((GROUPS_N + 3 - $1) / 3))
}
# K in standby: every group held once, none on node K; 0: each node holds the
# groups it comes first for (after unstandby every group moved back).
settled() { # K or 0
	local total=0 k n
	for k in 1 2 3; do
		n=$(vip_count "$k")
		if [[ $1 == 0 ]]; then
			[[ $n == $(share "$k") ]] || return 1
		elif [[ $k == "$1" && $n != 0 ]]; then
			return 1
		fi
		total=$((total + n))
	done
	((total == GROUPS_N))
}

# --- 1. documents ----------------------------------------------------------------------

series_documents() {
	local s=documents r i from to seq=(2 3 1) t0
	log "$BUILD: 1. documents: the lab's default config, $REPS rounds of $MOVES moves"
	fomgr_start_all "" || { log "  fomgr did not start"; return 1; }
	for ((r = 1; r <= REPS; r++)); do
		if ((r > 1)); then # node2's fomgr starts again: its list is empty
			"$LAB" stop-fomgr "$LAB_ID" "$MEASURE" >/dev/null 2>&1
			"$LAB" start-fomgr "$LAB_ID" "$MEASURE" >/dev/null || { log "  node$MEASURE's fomgr did not start"; return 1; }
		fi
		wait_until 30 holds_vip 1 1 || { log "  node1 never took the VIP"; return 1; }
		wait_until 30 members3 || { log "  the three fomgr never joined"; return 1; }
		sleep 1
		put "$s" start transitions_node$MEASURE "$(transitions_on "$MEASURE")"
		measure_documents "$s" start 1 || return 1
		t0=$(now_ms)
		from=1
		for ((i = 0; i < MOVES; i++)); do
			to=${seq[$((i % 3))]}
			ctl "$from" vip move vip --to "node$to" --wait 10 >/dev/null 2>&1 ||
				{ log "  move $((i + 1)) node$from -> node$to failed"; return 1; }
			from=$to
		done
		log "  round $r: $MOVES moves in $((($(now_ms) - t0) / 1000)) s"
		ctl 1 vip clear vip >/dev/null 2>&1
		wait_until 30 holds_vip 1 1 || { log "  node1 did not take the VIP back"; return 1; }
		sleep 1
		put "$s" after transitions_node$MEASURE "$(transitions_on "$MEASURE")"
		measure_documents "$s" after 1 || return 1
	done
	summarize "$s" start
	summarize "$s" after
	fomgr_stop_all
}

# --- 2. memory -------------------------------------------------------------------------

series_memory() {
	local s=memory k cycle=0 node n t0 marked=0
	log "$BUILD: 2. memory: $GROUPS_N groups, $TRANSITIONS transitions"
	for k in 1 2 3; do write_groups_config "$k" >"$STATE/node$k/fomgr-groups.conf"; done
	fomgr_start_all groups || { log "  fomgr did not start with $GROUPS_N groups"; return 1; }
	wait_until 60 settled 0 || { log "  the $GROUPS_N groups were never all held"; return 1; }
	wait_until 30 members3 || { log "  the three fomgr never joined"; return 1; }
	sleep 2
	put_rss "$s" start
	measure_documents "$s" start "$REPS" || return 1
	summarize "$s" start
	put_rss "$s" served # what serving the documents left allocated, before any move
	t0=$(now_ms)
	n=$(cluster_transitions)
	put "$s" start transitions "$n"
	put "$s" served transitions "$n"
	while ((n < TRANSITIONS)); do
		node=$((cycle % 3 + 1))
		ctl "$node" node standby "node$node" >/dev/null 2>&1 || { log "  standby node$node refused"; return 1; }
		wait_until 60 settled "$node" || { log "  standby node$node never settled"; return 1; }
		ctl "$node" node unstandby "node$node" >/dev/null 2>&1 || { log "  unstandby node$node refused"; return 1; }
		wait_until 60 settled 0 || { log "  unstandby node$node never settled"; return 1; }
		cycle=$((cycle + 1))
		n=$(cluster_transitions)
		if ((!marked && n >= 1000)); then
			marked=1
			put "$s" first1000 transitions "$n"
			put_rss "$s" first1000
		fi
		((cycle % 20)) || log "  $n transitions, $cycle standby cycles, $((($(now_ms) - t0) / 1000)) s"
	done
	sleep 2 # what the last moves queued (audit, announces) is done
	put "$s" after transitions "$(cluster_transitions)"
	put_rss "$s" after
	measure_documents "$s" after "$REPS" || return 1
	summarize "$s" after
	log "  $(fig "$s" after transitions) transitions in $cycle standby cycles, $((($(now_ms) - t0) / 1000)) s"
	fomgr_stop_all
}

# --- run -------------------------------------------------------------------------------

FAILED=()
log "$MACHINE"
for BUILD in "${BUILDS[@]}"; do
	FOMCTL=$BUILD/fomctl/fomctl
	"$LAB" down "$LAB_ID" >/dev/null 2>&1
	FO_BUILD=$BUILD "$LAB" up "$LAB_ID" 3 --corosync-profile test >/dev/null || die "lab up failed"
	export FO_BUILD=$BUILD
	series_documents || { FAILED+=("$BUILD documents"); fomgr_stop_all; }
	series_memory || { FAILED+=("$BUILD memory"); fomgr_stop_all; }
	"$LAB" down "$LAB_ID" >/dev/null 2>&1
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b != "") printf "%.2f", b / a; else print "-" }'; }
{
	echo "## fomgr status cost ($(date -u '+%Y-%m-%d %H:%M UTC'))"
	echo
	echo "$MACHINE; load at the end $LOAD_END."
	echo "wrk -t1 -c8 -d${WRK_SECONDS}s on node$MEASURE's loopback, median of $REPS; CPU: fomgr's utime + stime per request."
	echo
	echo "| build | series | point | transitions | /status bytes | /status req/s | /status CPU us/req | /metrics bytes | /metrics req/s | /metrics CPU us/req |"
	echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for BUILD in "${BUILDS[@]}"; do
		for s in documents memory; do
			for p in start after; do
				[[ -n $(fig "$s" "$p" status_rps) ]] || continue
				t=$(fig "$s" "$p" transitions_node$MEASURE)
				[[ $s == memory ]] && t="$(fig "$s" "$p" transitions) (cluster)"
				[[ $s == documents ]] && t="$t (node$MEASURE)"
				echo "| $BUILD | $s | $p | $t | $(fig "$s" "$p" status_bytes) | $(fig "$s" "$p" status_rps) | $(fig "$s" "$p" status_cpu_us) | $(fig "$s" "$p" metrics_bytes) | $(fig "$s" "$p" metrics_rps) | $(fig "$s" "$p" metrics_cpu_us) |"
			done
			[[ -n $(fig "$s" after status_rps) ]] &&
				echo "| $BUILD | $s | after / start | | $(ratio "$(fig "$s" start status_bytes)" "$(fig "$s" after status_bytes)") | $(ratio "$(fig "$s" start status_rps)" "$(fig "$s" after status_rps)") | $(ratio "$(fig "$s" start status_cpu_us)" "$(fig "$s" after status_cpu_us)") | $(ratio "$(fig "$s" start metrics_bytes)" "$(fig "$s" after metrics_bytes)") | $(ratio "$(fig "$s" start metrics_rps)" "$(fig "$s" after metrics_rps)") | $(ratio "$(fig "$s" start metrics_cpu_us)" "$(fig "$s" after metrics_cpu_us)") |"
		done
	done
	echo
	echo "fomgr's memory with $GROUPS_N groups, kB, node1 / node2 / node3 (start: all groups held; served: after the"
	echo "wrk runs at the start; first 1000: once the cluster counted 1000 transitions, when the history's ring is full):"
	echo
	echo "| build | point | transitions (cluster) | VmRSS | RssAnon | RssShmem (of the corosync IPC rings' size) | VmHWM |"
	echo "| --- | --- | ---: | --- | --- | --- | --- |"
	three() { echo "$(fig memory "$1" "$2"_node1) / $(fig memory "$1" "$2"_node2) / $(fig memory "$1" "$2"_node3)"; }
	for BUILD in "${BUILDS[@]}"; do
		for p in start served first1000 after; do
			[[ -n $(fig memory "$p" rss_kb_node1) ]] || continue
			echo "| $BUILD | $p | $(fig memory "$p" transitions) | $(three "$p" rss_kb) | $(three "$p" anon_kb) | $(three "$p" shmem_kb) (of $(three "$p" ipc_kb)) | $(three "$p" hwm_kb) |"
		done
		[[ -n $(fig memory first1000 anon_kb_node1) && -n $(fig memory after anon_kb_node1) ]] || continue
		growth=$(for k in 1 2 3; do
			echo $(($(fig memory after anon_kb_node$k) - $(fig memory first1000 anon_kb_node$k)))
		done | paste -sd/ | sed 's|/| / |g')
		echo "| $BUILD | after - first 1000 | | | $growth | | |"
	done
} | tee "$RESULTS"

# A series that did not run, or ran without a figure, is a failure.
for BUILD in "${BUILDS[@]}"; do
	for key in "documents|start|status_rps" "documents|after|status_rps" "documents|start|metrics_rps" \
		"documents|after|metrics_rps" "memory|start|rss_kb_node1" "memory|first1000|rss_kb_node1" \
		"memory|after|rss_kb_node1" "memory|after|status_rps"; do
		[[ -n ${FIG["$BUILD|$key"]:-} ]] || FAILED+=("$BUILD ${key//|/ }: no figure")
	done
done
if ((${#FAILED[@]})); then
	printf 'status-bench: FAILED: %s\n' "${FAILED[@]}" >&2
	exit 1
fi
log "results in $RESULTS, samples in $TSV"
