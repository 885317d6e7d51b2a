#!/bin/bash
# The man pages cover what the code accepts: every keyword of the config tables
# (fomgr/config.c, healthcheck/hcconfig.c) and every check type appears in bold
# in its section-5 page, every fomctl command, option and exit status in
# fomctl(8), and every long option of the daemons in their section-8 page. Reads
# the pages scdoc made in the build directory.
set -euo pipefail
FO_TOP=${FO_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
FO_BUILD=${FO_BUILD:-$FO_TOP/build/gcc}
MAN=$FO_BUILD/docs/man
missing=0 checked=0

log() { printf '%s [pkg.man-coverage] %s\n' "$(date +%H:%M:%S.%3N)" "$*"; }
[[ -f $MAN/fomgr.conf.5 ]] || { log "FAIL: no man pages in $MAN (is scdoc installed? cmake --build first)"; exit 1; }

# want PAGE WORD...: each WORD in bold somewhere in PAGE.
want() {
	local page=$1 w
	shift
	for w in "$@"; do
		checked=$((checked + 1))
		grep -qF "\\fB$w\\fR" "$MAN/$page" || { log "MISSING in $page: $w"; missing=$((missing + 1)); }
	done
}

mapfile -t keys < <(grep -oE '^\s*\{"[a-z_]+", (FOMGR|GROUP|AUDIT)_FIELD' "$FO_TOP/fomgr/config.c" | grep -oE '"[a-z_]+"' | tr -d '"')
((${#keys[@]} >= 30)) || { log "FAIL: only ${#keys[@]} keywords read from fomgr/config.c: has the table changed shape?"; exit 1; }
want fomgr.conf.5 "${keys[@]}"
log "fomgr.conf(5): ${#keys[@]} keywords"

mapfile -t keys < <(grep -oE '^\s*\{"[a-z_]+", (AGENT|RES|CHECK)\(' "$FO_TOP/healthcheck/hcconfig.c" | grep -oE '"[a-z_]+"' | tr -d '"' | sort -u)
((${#keys[@]} >= 30)) || { log "FAIL: only ${#keys[@]} keywords read from healthcheck/hcconfig.c"; exit 1; }
mapfile -t types < <(grep -E 'type_names\[HC_CHECK_TYPE_MAX( \+ 1)?\]' "$FO_TOP/healthcheck/hcconfig.c" | grep -oE '"[a-z]+"' | tr -d '"')
((${#types[@]} == 6)) || { log "FAIL: check types not read from healthcheck/hcconfig.c"; exit 1; }
want healthcheck.conf.5 "${keys[@]}" "${types[@]}"
log "healthcheck.conf(5): ${#keys[@]} keywords, ${#types[@]} check types"

# fomctl: the commands and options of its usage text, the exit codes of control.h.
usage=$(sed -n '/usage_text\[\] =/,/;$/p' "$FO_TOP/fomctl/main.c")
mapfile -t cmds < <(grep -oE '^\s*"  [a-z]+( [a-z]+)?' <<<"$usage" | sed -E 's/^\s*"  //')
((${#cmds[@]} >= 9)) || { log "FAIL: only ${#cmds[@]} commands read from fomctl's usage"; exit 1; }
mapfile -t opts < <(grep -oE -- '--[a-z]+' <<<"$usage" | sort -u)
mapfile -t codes < <(grep -oE 'CONTROL_EX_[A-Z]+ = [0-9]+' "$FO_TOP/fomgr/control.h" | grep -oE '[0-9]+$')
((${#codes[@]} >= 10)) || { log "FAIL: exit codes not read from fomgr/control.h"; exit 1; }
want fomctl.8 "${cmds[@]}" "${opts[@]}" "${codes[@]}"
log "fomctl(8): ${#cmds[@]} commands, ${#opts[@]} options, ${#codes[@]} exit codes"

for prog in fomgr healthcheck; do
	mapfile -t opts < <(grep -oE '\{"[a-z-]+", (no|required)_argument' "$FO_TOP/$prog/main.c" | grep -oE '"[a-z-]+"' | tr -d '"' | sed 's/^/--/')
	want "$prog.8" "${opts[@]}"
	log "$prog(8): ${#opts[@]} options"
done

((missing == 0)) || { log "FAIL: $missing of $checked words missing from the man pages"; exit 1; }
log "PASS: $checked words, all in the pages"
