#!/bin/bash
# Reliability benchmark (issue 9): the faults that break keepalived, for fomgr and for
# keepalived in the same 3-node lab, in one run. Two networks: the service network
# (eth0: the VIP 192.0.2.100 and the client) and the cluster network (eth1: corosync,
# and keepalived's VRRP adverts, so both hear their peers on the same wire). node1
# holds the VIP when each fault starts; the fault is held HOLD_S (default 12 s), then
# undone. Throughout, a sampler reads every node's addresses (a node every few ms)
# and the client probes the VIP every 10 ms.
#
#   tests/bench/reliability-bench.sh [--reps N] [--hold S] [--results FILE] [--lab-id ID]
#                                    [--no-fomgr] [--no-keepalived] [--faults F,F,...]
#
# Faults (all on node1, the holder):
#   freeze    fomgr: corosync SIGSTOPped; keepalived: its parent and VRRP child
#             SIGSTOPped; then SIGCONT
#   bridge    cluster frames between node1 and node2 dropped; node3 hears both
#   silent    node1's cluster link dropped silently; its service link stays
#   cut       both of node1's links dropped (the cables)
#   loss      10 % of node1's cluster frames dropped, both ways
# fomgr runs on the lab's "shipped" corosync profile (conf/corosync-3node.conf:
# token 600, coefficient 0, consensus 720, knet 200 / 600 ms; 1000 / 1200 before
# 2026-12-04); keepalived 2.2.7 with advert_int 0.1
# (VRRPv3), priorities 150/100/50, VRRP on eth1, the VIP on eth0.
#
# Per repetition: two_holders_ms, the longest run of sampler reads in which two nodes
# held the VIP (lib.sh's sampler_report: a read of B holding between two reads of A
# holding); nobody_ms, the longest span with no holder, during the fault; gap_ms, the
# client's longest silence during the fault (fo-probe max_gap_ms); moves, how often
# the answering node changed during the fault; heal_ms, the client's longest silence
# in the 5 s after the restore; mac_ok, whether the client's neighbour entry for the
# VIP is the holder's MAC 5 s after the restore. Prints a Markdown table (worst of
# the repetitions) and writes it to the results file (default
# build/bench/reliability-results.md). Exits non-zero when a series did not run.
source "$(dirname "$0")/../lab/lib.sh"
VIP=192.0.2.100
REPS=3
HOLD_S=12
ID=85
DO_FOMGR=1
DO_KA=1
RESULTS=
FAULTS=(freeze bridge silent cut loss)
while (($#)); do
	case $1 in
	--reps) REPS=$2; shift 2 ;;
	--hold) HOLD_S=$2; shift 2 ;;
	--results) RESULTS=$2; shift 2 ;;
	--lab-id) ID=$2; shift 2 ;;
	--no-fomgr) DO_FOMGR=0; shift ;;
	--no-keepalived) DO_KA=0; shift ;;
	--faults) IFS=, read -r -a FAULTS <<<"$2"; shift 2 ;;
	*) echo "usage: $0 [--reps N] [--hold S] [--results FILE] [--lab-id ID] [--no-fomgr] [--no-keepalived] [--faults F,F,...]" >&2; exit 2 ;;
	esac
done
for f in "${FAULTS[@]}"; do
	[[ " freeze bridge silent cut loss " == *" $f "* ]] || fail "unknown fault '$f' (freeze bridge silent cut loss)"
done
LAB_TEST=reliability-bench
RESULTS=${RESULTS:-$FO_BUILD/bench/reliability-results.md}
mkdir -p "$(dirname "$RESULTS")"
RAW=${RESULTS%.md}.tsv
: >"$RAW"
((DO_KA == 0)) || command -v keepalived >/dev/null || fail "keepalived not installed (scripts/install-deps.sh)"

keepalived_conf() { # K
	local k=$1 prio
	case $k in 1) prio=150 ;; 2) prio=100 ;; *) prio=50 ;; esac
	cat <<EOF
# Written by tests/bench/reliability-bench.sh for lab $LAB_ID, node$k. VRRP only.
global_defs {
	router_id node$k
	vrrp_version 3
	vrrp_garp_lower_prio_repeat 3
}

vrrp_instance VI_fo {
	state BACKUP
	interface eth1
	virtual_router_id 51
	priority $prio
	advert_int 0.1
	virtual_ipaddress {
		$VIP/24 dev eth0
	}
}
EOF
}

ka_pids() { # K: the keepalived parent and its VRRP child
	local pid start child
	read -r pid start <"$LAB_STATE/pids/node$1.keepalived" 2>/dev/null || return 1
	child=$(cat "$LAB_STATE/node$1/keepalived-vrrp.pid" 2>/dev/null) || return 1
	echo "$pid $child"
}

ka_start() { # K
	local k=$1 d=$LAB_STATE/node$1 i
	keepalived_conf "$k" >"$d/keepalived.conf"
	rm -f "$d/keepalived.pid" "$d/keepalived-vrrp.pid"
	lab spawn "$LAB_ID" "node$k" keepalived keepalived -n -l -D -G -P -f "$d/keepalived.conf" \
		-p "$d/keepalived.pid" -r "$d/keepalived-vrrp.pid" >/dev/null
	for ((i = 0; i < 100; i++)); do
		[[ -s $d/keepalived-vrrp.pid ]] && return 0
		sleep 0.05
	done
	fail "keepalived on node$k started no VRRP child"
}

steady() { # TOOL: node1 alone holds the VIP (and, for fomgr, every node is quorate)
	local k
	if [[ $1 == fomgr ]]; then
		for k in 1 2 3; do quorate_with "node$k" 3 || return 1; done
	fi
	holder_is $VIP node1
}

fault() { # TOOL FAULT on|off
	local tool=$1 f=$2 on=$3 pids
	case $f in
	freeze)
		if [[ $tool == fomgr ]]; then
			lab "$([[ $on == on ]] && echo freeze || echo thaw)" "$LAB_ID" 1 corosync >/dev/null
		else
			pids=$(ka_pids 1) || fail "keepalived on node1 not found"
			# shellcheck disable=SC2086
			kill -s "$([[ $on == on ]] && echo STOP || echo CONT)" $pids
		fi
		;;
	bridge) lab "$([[ $on == on ]] && echo block || echo unblock)" "$LAB_ID" 1 2 >/dev/null ;;
	silent) if [[ $on == on ]]; then lab cut "$LAB_ID" 1 --cluster >/dev/null; else lab restore "$LAB_ID" 1 >/dev/null; fi ;;
	cut) if [[ $on == on ]]; then lab cut "$LAB_ID" 1 >/dev/null; else lab restore "$LAB_ID" 1 >/dev/null; fi ;;
	loss) lab loss "$LAB_ID" 1 "$([[ $on == on ]] && echo 10 || echo 0)" >/dev/null ;;
	esac
}

run_series() { # TOOL
	local tool=$1 f rep t0 t1 main heal report moves mac want holder
	for f in "${FAULTS[@]}"; do
		for ((rep = 1; rep <= REPS; rep++)); do
			wait_for 90 steady "$tool" || fail "$tool: node1 never held $VIP alone before $f (held by '$(holders $VIP)')"
			sleep 2
			probe_start "m-$tool-$f-$rep" $VIP "$LAB_ECHO_PORT" 10 $(((HOLD_S + 1) * 1000))
			sleep 0.5
			t0=$(now_ms)
			fault "$tool" "$f" on
			sleep "$HOLD_S"
			t1=$(now_ms)
			fault "$tool" "$f" off
			probe_start "h-$tool-$f-$rep" $VIP "$LAB_ECHO_PORT" 10 5000
			main=$(probe_wait "m-$tool-$f-$rep" 30)
			heal=$(probe_wait "h-$tool-$f-$rep" 30)
			report=$(sampler_report 1 "$t0" "$t1") || fail "$tool $f: the sampler gave no judgement: $report"
			moves=$(kv transitions "$main")
			moves=$(($(tr -cd ',' <<<"$moves" | wc -c) + (${#moves} > 0)))
			holder=$(holders $VIP)
			want=
			[[ -z $holder || $holder == *" "* ]] || want=$(mac_of "$holder")
			mac=$([[ -n $want && $(client_neigh_mac $VIP) == "$want" ]] && echo yes || echo no)
			printf '%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%d\n' "$tool" "$f" "$rep" "$(kv max_dual_ms "$report")" \
				"$(kv max_orphan_ms "$report")" "$(kv max_gap_ms "$main")" "$moves" "$(kv max_gap_ms "$heal")" \
				"$mac" "$(kv max_read_gap_ms "$report")" >>"$RAW"
			log "$tool $f $rep: $(tail -n 1 "$RAW" | cut -f4-)"
		done
	done
}

lab_init "$ID" 3 shipped
start_echo_all
sampler_start $VIP
if ((DO_FOMGR)); then
	for k in 1 2 3; do lab start-fomgr "$LAB_ID" "$k" >/dev/null; done
	run_series fomgr
	for k in 1 2 3; do lab stop-fomgr "$LAB_ID" "$k" >/dev/null; done
fi
if ((DO_KA)); then
	for k in 1 2 3; do lab stop-corosync "$LAB_ID" "$k" >/dev/null; done
	wait_for 10 eval '[[ -z $(holders $VIP) ]]' || fail "the VIP is still held after fomgr stopped"
	for k in 1 2 3; do ka_start "$k"; done
	run_series keepalived
fi
sampler_stop

worst() { # TOOL FAULT COLUMN
	awk -F'\t' -v t="$1" -v f="$2" -v c="$3" '$1 == t && $2 == f { if (!n || $c + 0 > m) m = $c + 0; n++ } END { print n ? m : "-" }' "$RAW"
}
macs() { # TOOL FAULT
	awk -F'\t' -v t="$1" -v f="$2" '$1 == t && $2 == f { n++; ok += $9 == "yes" } END { print n ? ok "/" n : "-" }' "$RAW"
}
{
	echo "| fault (held ${HOLD_S} s, $REPS reps, worst) | tool | two holders | nobody holds | client gap | moves | heal gap | client on holder's MAC |"
	echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
	for f in "${FAULTS[@]}"; do
		for tool in fomgr keepalived; do
			[[ $(worst $tool "$f" 4) != - ]] || continue
			printf '| %s | %s | %s ms | %s ms | %s ms | %s | %s ms | %s |\n' "$f" "$tool" "$(worst $tool "$f" 4)" \
				"$(worst $tool "$f" 5)" "$(worst $tool "$f" 6)" "$(worst $tool "$f" 7)" "$(worst $tool "$f" 8)" \
				"$(macs $tool "$f")"
		done
	done
	# A sampler that stalled (a fork refused, the machine starved) reads nobody for
	# as long as it stalls: say so beside the figures instead of trusting them.
	awk -F'\t' '$10 + 0 > 1000 { printf "sampler stalled in %s %s rep %s: %s ms between two reads of a node (its nobody-holds figure is uncertain)\n", $1, $2, $3, $10 }' "$RAW"
	"$FO_TOP/tests/bench/machine.sh"
} | tee "$RESULTS"
rows=$(wc -l <"$RAW")
((rows == (DO_FOMGR + DO_KA) * ${#FAULTS[@]} * REPS)) || fail "only $rows of $(((DO_FOMGR + DO_KA) * ${#FAULTS[@]} * REPS)) repetitions ran"
