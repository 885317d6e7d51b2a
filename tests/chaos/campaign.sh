#!/bin/bash
# The fault campaign: randomized faults on a 3-node lab (real corosync, real
# kernels, a real client), rounds picked from a seed so that any failure replays.
# A sampler reads every node's addresses round and round (a node every few ms) and
# a client probes the VIP every 10 ms; after each round the invariants are judged:
#
#   one owner   no read shows two holders (a node holding the VIP between two reads
#               of another node both holding it); for asymmetric faults, no run of
#               such reads longer than their documented bound (DUAL_MS below,
#               docs/security.md): 1.5 s for one-way loss, random loss or a
#               flapping link on the holder, 0 otherwise (--strict: 0 for all);
#   no orphan   the longest span in which nobody holds stays within the bound of the
#               fault kind (below) while a quorate set of healthy nodes exists;
#   heal        from the restore on, the client is answered with no gap over 1 s
#               (3 s when a node of a broken pair came back to look again within
#               3 s before the restore: that probe's documented cost, below);
#   recovery    within 30 s of the restore: all nodes quorate, exactly one holder.
#
# usage: campaign.sh [--seed S] [--rounds N] [--max-seconds S] [--lab-id ID] [--strict]
#                    [--kinds K1,K2,...] [--profile P]
#   --kinds picks the rounds from these fault kinds only (to replay one kind of fault).
#   --profile runs the lab on another corosync profile (scripts/lab's: test, the
#   default, or tT); the bounds below are the test profile's (token 600), loose
#   enough for any token up to 600.
#   Prints one line per round and a table per fault kind; exits 1 on any violation,
#   2 when no round ran. FO_CHAOS_KEEP=DIR keeps the lab's state of a failed run.
#   Replay: the same --seed gives the same faults, targets and durations in the same
#   order (timing inside a round is the machine's).
source "$(dirname "$0")/../lab/lib.sh"
VIP=192.0.2.100
SEED=1
ROUNDS=1000000
MAX_SECONDS=240
ID=40
PROFILE=test
HEAL_MS=1000
# Two holders allowed (ms) where the holder's own corosync learns of its eviction
# after the others formed their ring (docs/security.md, "One owner"); 0: never.
declare -A DUAL_MS=([one-way]=1500 [loss]=1500 [flap]=1500)
for kind in cut carrier cluster-cut bridge freeze-corosync kill-corosync freeze-fomgr kill-fomgr switchover-kill; do
	DUAL_MS[$kind]=0
done
RECOVER_S=30
# A node of a broken pair that comes back to look again (docs/security.md, "Each
# probe that finds the bridge again costs node 1 its group once more") makes
# corosync churn until it withdraws again, up to 2 (T + C); a restore inside that
# churn heals when it ends, and the holder may have let go meanwhile: the probe's
# cost (about 2.5 s unheld in the simulator), not the heal's.
PROBE_HEAL_MS=3000
# token 600 + consensus 720 (the lab's test profile): the failover bound of a clean
# fault is token + consensus + the claim round + slack; a bridge partition adds the
# pair watch's wait (2 x (token + consensus)); a flapping or lossy link has no bound
# of its own (corosync may keep re-forming) and is reported, not judged.
declare -A BOUND_MS=(
	[cut]=3000 [carrier]=3000 [cluster-cut]=3000 [freeze-corosync]=3000
	[kill-corosync]=3000 [bridge]=8000 [one-way]=8000 [freeze-fomgr]=3000
	[kill-fomgr]=3000 [switchover-kill]=3000 [loss]=0 [flap]=0
)
KINDS=(cut carrier cluster-cut bridge one-way loss flap freeze-corosync freeze-fomgr kill-corosync kill-fomgr
	switchover-kill)

while (($#)); do
	case $1 in
	--seed) SEED=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--max-seconds) MAX_SECONDS=$2; shift 2 ;;
	--lab-id) ID=$2; shift 2 ;;
	--profile) PROFILE=$2; shift 2 ;;
	--strict) for kind in "${!DUAL_MS[@]}"; do DUAL_MS[$kind]=0; done; shift ;;
	--kinds)
		IFS=, read -r -a picked <<<"$2"
		for kind in "${picked[@]}"; do
			[[ -n ${BOUND_MS[$kind]+x} ]] || { echo "$0: unknown fault kind '$kind' (${KINDS[*]})" >&2; exit 2; }
		done
		KINDS=("${picked[@]}")
		shift 2
		;;
	*) echo "usage: $0 [--seed S] [--rounds N] [--max-seconds S] [--lab-id ID] [--strict] [--kinds K,...] [--profile P]" >&2; exit 2 ;;
	esac
done
[[ $SEED =~ ^[0-9]+$ && $ROUNDS =~ ^[0-9]+$ && $MAX_SECONDS =~ ^[0-9]+$ ]] || fail "seed, rounds and max-seconds are numbers"
LAB_TEST=chaos
FO_LAB_KEEP=${FO_CHAOS_KEEP:-${FO_LAB_KEEP:-}}
FOMCTL=$FO_BUILD/fomctl/fomctl
RANDOM=$SEED # bash's generator: the same seed, the same sequence

pick() { # N: a number in 0..N-1 from the seeded sequence
	echo $((RANDOM % $1))
}

ctl() { # K ARGS...
	local k=$1
	shift
	"$FOMCTL" --socket "$LAB_STATE/node$k/run/control.sock" "$@"
}

holder_k() { # the node number holding the VIP alone, or nothing
	local h
	h=$(holders $VIP)
	[[ -n $h && $h != *" "* ]] && echo "${h#node}"
}

steady() { # all nodes quorate with all members, exactly one holder
	local k
	for ((k = 1; k <= LAB_N; k++)); do
		quorate_with "node$k" "$LAB_N" || return 1
	done
	[[ -n $(holder_k) ]]
}

# Applies fault KIND to node K (and L for pair faults); sets RESTORE to the command
# that undoes it. Faults that run in the background (flap) record their PID.
FLAP_PID=
apply() { # KIND K L
	local kind=$1 k=$2 l=$3
	case $kind in
	cut) lab cut "$LAB_ID" "$k" >/dev/null; RESTORE="lab restore $LAB_ID $k" ;;
	carrier) lab cut "$LAB_ID" "$k" --carrier >/dev/null; RESTORE="lab restore $LAB_ID $k" ;;
	cluster-cut) lab cut "$LAB_ID" "$k" --cluster >/dev/null; RESTORE="lab restore $LAB_ID $k" ;;
	bridge) lab block "$LAB_ID" "$k" "$l" >/dev/null; RESTORE="lab unblock $LAB_ID $k $l" ;;
	one-way) lab block "$LAB_ID" "$k" "$l" --one-way >/dev/null; RESTORE="lab unblock $LAB_ID $k $l" ;;
	loss)
		lab loss "$LAB_ID" "$k" $((5 + $(pick 26))) >/dev/null
		RESTORE="lab loss $LAB_ID $k 0"
		;;
	flap)
		# Down and up every 0.3-1 s, bounded by the round (the restore ends it).
		local period_ms=$((300 + $(pick 700)))
		(
			trap 'exit 0' TERM
			for ((i = 0; i < 100; i++)); do
				lab cut "$LAB_ID" "$k" --cluster >/dev/null
				sleep "$(printf '0.%03d' $((period_ms / 2)))"
				lab restore "$LAB_ID" "$k" >/dev/null
				sleep "$(printf '0.%03d' $((period_ms / 2)))"
			done
		) &
		FLAP_PID=$!
		RESTORE="stop_flap $k"
		;;
	freeze-corosync) lab freeze "$LAB_ID" "$k" corosync >/dev/null; RESTORE="lab thaw $LAB_ID $k corosync" ;;
	freeze-fomgr) lab freeze "$LAB_ID" "$k" fomgr >/dev/null; RESTORE="lab thaw $LAB_ID $k fomgr" ;;
	kill-corosync)
		lab stop-corosync "$LAB_ID" "$k" --kill >/dev/null
		RESTORE="lab start-corosync $LAB_ID $k"
		;;
	kill-fomgr)
		lab stop-fomgr "$LAB_ID" "$k" --kill >/dev/null
		RESTORE="lab start-fomgr $LAB_ID $k"
		;;
	switchover-kill)
		# Node K crashes in the middle of a switchover it was asked for: corosync
		# and fomgr die, and the addresses in its kernel with them (a crashed node
		# answers for nothing; it comes back as after a reboot). Both daemons killed
		# on a kernel that lives on would leave the VIP there until fomgr restarts
		# (systemd: 2 s) and reconciles: docs/security.md.
		ctl "$k" vip move vip --to "node$l" >/dev/null 2>&1 &
		sleep "0.0$(pick 5)"
		lab stop-fomgr "$LAB_ID" "$k" --kill >/dev/null
		lab stop-corosync "$LAB_ID" "$k" --kill >/dev/null
		ip -n "$(ns_of "node$k")" addr del "$VIP/24" dev eth0 2>/dev/null || true
		ip -n "$(ns_of "node$k")" addr del 2001:db8::100/64 dev eth0 2>/dev/null || true
		wait $! 2>/dev/null || true
		RESTORE="restart_node $k"
		;;
	esac
}

probe_near() { # T_MS: a pair watch's probe began within 3 s before T_MS or 1 s after
	local k at
	for ((k = 1; k <= LAB_N; k++)); do
		while read -r at; do
			((at >= $1 - 3000 && at <= $1 + 1000)) && return 0
		done < <(sed -n 's/.*back in the ring to look again.* at_ms=\([0-9]*\).*/\1/p' "$LAB_STATE/node$k/fomgr.log")
	done
	return 1
}

stop_flap() { # K
	if [[ -n $FLAP_PID ]]; then
		kill "$FLAP_PID" 2>/dev/null || true
		wait "$FLAP_PID" 2>/dev/null || true
		FLAP_PID=
	fi
	lab restore "$LAB_ID" "$1" >/dev/null
}

restart_node() { # K
	lab start-corosync "$LAB_ID" "$1" >/dev/null
	lab start-fomgr "$LAB_ID" "$1" >/dev/null
}

cleanup_chaos() {
	local rc=$?
	[[ -z $FLAP_PID ]] || kill "$FLAP_PID" 2>/dev/null || true
	lab_cleanup "$rc" # (a subshell's exit would end the trap here, under set -e)
}

lab_init "$ID" 3 "$PROFILE"
trap cleanup_chaos EXIT # after lab_init, which sets its own
for k in 1 2 3; do lab start-fomgr "$LAB_ID" "$k" >/dev/null; done
start_echo_all
wait_for 20 steady || fail "the lab never became steady: holders '$(holders $VIP)'"
sampler_start $VIP
sleep 0.5
log "campaign: seed=$SEED rounds<=$ROUNDS max_seconds=$MAX_SECONDS lab=$LAB_ID profile=$PROFILE"

declare -A n_kind viol_kind worst_dual worst_orphan worst_heal
stuck=0
for kind in "${KINDS[@]}"; do
	n_kind[$kind]=0 viol_kind[$kind]=0 worst_dual[$kind]=0 worst_orphan[$kind]=0 worst_heal[$kind]=0
done
violations=0 rounds=0
t_begin=$(now_ms)
for ((round = 1; round <= ROUNDS; round++)); do
	(($(now_ms) - t_begin < MAX_SECONDS * 1000)) || break
	kind=${KINDS[$(pick ${#KINDS[@]})]}
	h=$(holder_k)
	# Half the rounds hit the holder, the others any node; pair faults take a peer.
	if (($(pick 2) == 0)) && [[ -n $h ]]; then k=$h; else k=$((1 + $(pick 3))); fi
	l=$((1 + (k + $(pick 2)) % 3))
	dur_ms=$((2000 + $(pick 5000)))
	[[ $kind == bridge || $kind == one-way ]] && dur_ms=$((dur_ms + 6000))
	t0=$(now_ms)
	apply "$kind" "$k" "$l"
	sleep "$((dur_ms / 1000)).$(printf '%03d' $((dur_ms % 1000)))"
	t_restore=$(now_ms)
	eval "$RESTORE"
	probe_start "heal$round" $VIP "$LAB_ECHO_PORT" 10 4000
	healthy=1
	wait_for $RECOVER_S steady || healthy=0
	heal=$(probe_wait "heal$round" 15)
	t_end=$(now_ms)
	report=$(sampler_report 1 "$t0" "$t_end") || fail "round $round: the sampler gave no judgement: $report"
	dual=$(kv dual_reads "$report")
	dual_ms=$(kv max_dual_ms "$report")
	orphan=$(kv max_orphan_ms "$report")
	gap=$(kv max_gap_ms "$heal")
	heal_ms=$HEAL_MS probe=0
	if [[ $kind == bridge || $kind == one-way ]] && probe_near "$t_restore"; then
		heal_ms=$PROBE_HEAL_MS probe=1
	fi
	verdict=ok
	# Asymmetric faults: corosync may evict the holder before the holder's own
	# corosync gives it up; the documented bounds (docs/security.md) per kind.
	if ((DUAL_MS[$kind] > 0)); then
		((dual_ms <= DUAL_MS[$kind])) || verdict="two-holders>${DUAL_MS[$kind]}ms"
	else
		((dual == 0)) || verdict="two-holders"
	fi
	((BOUND_MS[$kind] == 0 || orphan <= BOUND_MS[$kind])) || verdict="orphan>${BOUND_MS[$kind]}ms"
	((gap <= heal_ms)) || [[ $kind == loss || $kind == flap ]] || verdict="heal-gap>${heal_ms}ms"
	if ((!healthy)); then
		verdict="no-recovery"
		# The invariants hold "while a quorate set of healthy nodes exists": when no
		# corosync answers at all (seen: corosync 3.1.7 looping on 'Retransmit List'
		# after heavy loss), none does. Reported, not a violation of fomgr's.
		local_answer=0
		for ((q = 1; q <= 3; q++)); do
			timeout 5 ip netns exec "$(ns_of "node$q")" corosync-quorumtool -s >/dev/null 2>&1 && local_answer=1
		done
		((local_answer)) || verdict="corosync-stuck"
	fi
	rounds=$((rounds + 1))
	n_kind[$kind]=$((n_kind[$kind] + 1))
	((dual_ms > worst_dual[$kind])) && worst_dual[$kind]=$dual_ms
	((orphan > worst_orphan[$kind])) && worst_orphan[$kind]=$orphan
	((gap > worst_heal[$kind])) && worst_heal[$kind]=$gap
	if [[ $verdict == corosync-stuck ]]; then
		stuck=$((stuck + 1))
	elif [[ $verdict != ok ]]; then
		violations=$((violations + 1))
		viol_kind[$kind]=$((viol_kind[$kind] + 1))
	fi
	log "round=$round kind=$kind node=$k peer=$l fault_ms=$((t_restore - t0)) dual_reads=$dual max_dual_ms=$dual_ms max_orphan_ms=$orphan heal_gap_ms=$gap probe=$probe verdict=$verdict"
	((healthy)) || break
done
sampler_stop

printf '\n%-16s %7s %10s %14s %16s %14s\n' kind rounds violations worst_dual_ms worst_orphan_ms worst_heal_ms
for kind in "${KINDS[@]}"; do
	printf '%-16s %7d %10d %14d %16d %14d\n' "$kind" "${n_kind[$kind]}" "${viol_kind[$kind]}" "${worst_dual[$kind]}" \
		"${worst_orphan[$kind]}" "${worst_heal[$kind]}"
done
printf 'campaign seed=%s rounds=%d violations=%d corosync_stuck=%d seconds=%d\n' "$SEED" "$rounds" "$violations" \
	"$stuck" $((($(now_ms) - t_begin) / 1000))
((rounds > 0)) || { log "no round ran"; exit 2; }
((violations == 0)) || fail "$violations violation(s); replay with --seed $SEED"
