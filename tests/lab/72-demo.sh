#!/bin/bash
# The demo as a reader sees it in a log (stdout not a terminal): it builds every
# program an operator then needs (fomgr, fomctl, healthcheck) into a build dir of
# its own, says what it builds, prints no terminal escapes, shows `fomctl status`,
# the failover and the failback. Lab id 72 (the demo's own cleanup removes it).
source "$(dirname "$0")/lib.sh"
OUT=$(mktemp /tmp/fo72.XXXXXX)
DEMO_BUILD=$FO_BUILD/demo-build
trap 'rc=$?; rm -f "$OUT"; FO_BUILD=$DEMO_BUILD "$LAB" down 72 >/dev/null 2>&1; exit $rc' EXIT
[[ $(id -u) == 0 ]] || fail "the demo runs as root"
rc=0
FO_DEMO_ID=72 FO_BUILD=$DEMO_BUILD "$FO_TOP/scripts/demo" >"$OUT" 2>&1 </dev/null || rc=$?
((rc == 0)) || fail "the demo exited $rc: $(tail -n 30 "$OUT")"
grep -q $'\033' "$OUT" && fail "terminal escapes in the demo's output to a file: $(grep -c $'\033' "$OUT") line(s)"
grep -q '^== Building fomgr, fomctl, healthcheck' "$OUT" || fail "the demo does not say what it builds"
grep -q '^  built: fomgr, fomctl, healthcheck' "$OUT" || fail "the demo did not build every program"
for b in fomgr/fomgr fomctl/fomctl healthcheck/healthcheck; do
	[[ -x $DEMO_BUILD/$b ]] || fail "$DEMO_BUILD/$b missing after the demo"
done
n=$(grep -c '^NODE .* ONLINE' "$OUT" || true)
((n >= 3)) || fail "fomctl status shown $n time(s), expected 3: $(cat "$OUT")"
grep -q 'transition group=vip .*reason=failover' "$OUT" || fail "no failover transition shown"
grep -q '^VIP held by: node1 , back at' "$OUT" || fail "the VIP did not fail back to node1: $(grep 'VIP held' "$OUT")"
grep -q 'transition group=vip .*to=node1 reason=failback' "$OUT" ||
	fail "no failback transition shown; the demo's transition lines: $(grep 'transition group=\|VIP held by' "$OUT")"
grep -q '^  [0-9]* probes sent, [0-9]* answered; longest silence [0-9]* ms' "$OUT" || fail "no readable probe summary"
log "demo: $(wc -l <"$OUT") lines, no escapes; fomctl status $n times; $(grep -m1 'longest silence' "$OUT" | sed 's/^ *//')"
log "PASS"
