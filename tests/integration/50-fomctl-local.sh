#!/usr/bin/env bash
# 50-fomctl-local: what fomctl does without a daemon (issue 13). `--json` prints
# one JSON object on stdout for every outcome, errors included (a usage error, no
# daemon, a log that is not a log); `log verify DIR` is "cannot read" (66), not
# "broken" (65); `status --watch` refuses an interval under 0.5 s, which would
# hammer the daemon. Env: FO_BUILD.
set -eu

: "${FO_BUILD:?FO_BUILD must point at the build directory}"
FOMCTL=$FO_BUILD/fomctl/fomctl
TOOL=$FO_BUILD/tests/audit-tool
[ -x "$FOMCTL" ] || { echo "FAIL: $FOMCTL not built"; exit 1; }
[ -x "$TOOL" ] || { echo "FAIL: $TOOL not built"; exit 1; }
TMP=$(mktemp -d /tmp/fo50.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# run WANT_RC ARGS...: runs fomctl, keeps stdout in $TMP/out, checks the exit status
run() {
	want=$1
	shift
	rc=0
	"$FOMCTL" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" = "$want" ] || fail "fomctl $*: exit $rc, expected $want: $(cat "$TMP/out" "$TMP/err")"
}
# is_json_error CODE: stdout is exactly one JSON refusal with that code
is_json_error() {
	python3 - "$TMP/out" "$1" <<'PY' || fail "stdout is not one JSON refusal with code $1: $(cat "$TMP/out")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
j = json.loads(lines[0])
assert j["ok"] is False and j["code"] == int(sys.argv[2]) and j["error"], j
PY
}

# log verify: a directory is no log (66); an intact log verifies (0) and a
# broken one is 65, both with --json too.
run 66 log verify "$TMP"
grep -q "not an audit log" "$TMP/err" || fail "log verify DIR did not say why: $(cat "$TMP/err")"
run 66 --json log verify "$TMP"
is_json_error 66
"$TOOL" append "$TMP/audit.log" 3 100 >/dev/null || fail "audit-tool append"
run 0 --json log verify "$TMP/audit.log"
grep -q '"intact":true' "$TMP/out" || fail "an intact log: $(cat "$TMP/out")"
sed -i '2s/"seq":2/"seq":9/' "$TMP/audit.log"
run 65 log verify "$TMP/audit.log"
grep -q "BROKEN at line 2" "$TMP/out" || fail "an edited log: $(cat "$TMP/out")"
echo "log verify: DIR exits 66 with a reason; intact 0; edited 65"

# log report: the same verdicts; --json and --since.
run 65 log report "$TMP/audit.log"
grep -q '^chain: BROKEN at line 2' "$TMP/out" || fail "log report of an edited log: $(cat "$TMP/out")"
"$TOOL" append "$TMP/fresh.log" 3 100 >/dev/null || fail "audit-tool append"
run 0 log report "$TMP/fresh.log" --since 1h
grep -q '^chain: intact' "$TMP/out" && grep -q '3 record(s), 3 in range' "$TMP/out" || fail "log report: $(cat "$TMP/out")"
run 0 --json log report "$TMP/fresh.log" --since 2000-01-01
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["records"] == 3 and r["chain"]["intact"], r' "$TMP/out" ||
	fail "log report --json: $(cat "$TMP/out")"
run 66 log report "$TMP"
printf 'not a log\n' >"$TMP/text"
run 66 --json log report "$TMP/text"
is_json_error 66
run 64 log report "$TMP/fresh.log" --since yesterday
echo "log report: intact 0, edited 65, a directory or a text file 66, a bad --since 64"

# --json errors: usage, and no daemon on the socket.
run 64 --json frobnicate
is_json_error 64
run 69 --json --socket "$TMP/none.sock" status
is_json_error 69
run 64 --json status --timeout soon
is_json_error 64
echo "--json: usage errors and an absent daemon are one JSON refusal each"

# --watch: at least 0.5 s between requests; 0.5 itself is allowed (it gets as far
# as the missing socket: 69, not a usage error).
run 64 status --watch --interval 0
grep -q "at least 0.5 seconds" "$TMP/err" || fail "--interval 0 refused without a reason: $(cat "$TMP/err")"
run 64 status --watch --interval 0.1
run 69 --socket "$TMP/none.sock" status --watch --interval 0.5
echo "--watch: --interval 0 and 0.1 refused (64); 0.5 accepted"
echo PASS
