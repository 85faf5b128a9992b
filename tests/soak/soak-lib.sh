# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034
# tests/soak/soak-lib.sh: the lab, the state the guard publishes, and the
# settle check of tests/soak/soak (sourced; the faults are in soak-faults.sh).
# Times are integer microseconds of CLOCK_REALTIME ($EPOCHREALTIME, the clock
# lab-net watch stamps its events with).

NODES="n1 n2 n3"
# The DuraVIPs of tools/lab/conf/duravips.conf; .111 follows mx-a (.101), so
# it is never the subject of a move.
VIPS="203.0.113.101 203.0.113.102 203.0.113.103 203.0.113.104 203.0.113.111 203.0.113.112 2001:db8::100:13"
MOVABLE=(203.0.113.101 203.0.113.102 203.0.113.103 203.0.113.104 203.0.113.112 2001:db8::100:13)
SETTLE_US=500000

T0=${EPOCHREALTIME/./}
now() { NOW=${EPOCHREALTIME/./}; }
secs() { # µs -> "S.ss" in REPLY
	local x=$1 sign=""
	[ "$x" -lt 0 ] && { sign=-; x=$((-x)); }
	printf -v REPLY '%s%d.%02d' "$sign" $((x / 1000000)) $((x % 1000000 / 10000))
}
msecs() { printf -v REPLY '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }
log() {
	now
	secs $((NOW - T0))
	printf '[%7s] %s\n' "$REPLY" "$*"
}
sleep_ms() { sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"; }

# The random sequence: bash's generator, seeded once, drawn only here.
RANDOM=$SEED
rnd() { R=$(((RANDOM * 32768 + RANDOM) % $1)); } # 0..N-1 in R

L() { "$LAB" --prefix "$PREFIX" "$@"; }
vipctl_on() { # node args... (bounded: a stopped vipd does not answer)
	local n=$1
	shift
	timeout "${VIPCTL_TIMEOUT:-5}" "$LAB" --prefix "$PREFIX" exec "$n" "$VIPCTL" "$@"
}

# --- processes ---

starttime() { # pid -> field 22 of /proc/pid/stat in REPLY, empty if gone or a zombie
	local s
	REPLY=""
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	[ "$1" = Z ] && return 1
	REPLY=${20}
}
vipd_pid() { VPID=$(L pid "$1" vipd 2>/dev/null) || VPID=""; [ -n "$VPID" ]; }
# The engine of a monitor: a child of the recorded vipd that runs vipd (the
# same program as its parent, or $VIPD) and is not its reaper. EPID empty in
# the one-process model.
engine_of() { # pid
	local c comm exe cexe
	EPID="" EST=""
	exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		comm=$(cat "/proc/$c/comm" 2>/dev/null) || continue
		case $comm in *reaper*) continue ;; esac
		cexe=$(readlink "/proc/$c/exe" 2>/dev/null) || continue
		[ "$cexe" = "$exe" ] || [ "$cexe" = "$VIPD_REAL" ] || continue
		starttime "$c" || continue
		EPID=$c EST=$REPLY
		return 0
	done
	return 1
}
signal_checked() { # pid starttime signal: only that very process
	starttime "$1" && [ "$REPLY" = "$2" ] && kill -s "$3" "$1" 2>/dev/null
}
# The vipd process that does the work on a node: engine if any, else vipd.
worker_of() { # node -> WPID WST, WKIND engine|vipd
	WPID="" WST="" WKIND=""
	vipd_pid "$1" || return 1
	if engine_of "$VPID"; then
		WPID=$EPID WST=$EST WKIND=engine
	else
		starttime "$VPID" || return 1
		WPID=$VPID WST=$REPLY WKIND=vipd
	fi
}
start_vipd() { L start-vipd "$1" "$WORK/conf/$1/ecelerity.conf" >/dev/null 2>&1; }
# After a kill: a node with no vipd 2 s later gets one started again (true,
# RESTARTED_AT: the time just before).
restart_if_gone() { # node since_us
	now
	local wait=$(($2 + 2000000 - NOW))
	[ $wait -gt 0 ] && sleep_ms $((wait / 1000))
	vipd_pid "$1" && return 1
	now
	RESTARTED_AT=$NOW
	start_vipd "$1" || { F_FAIL+="start-vipd $1 failed; "; return 1; }
	F_ACT+=", vipd restarted"
	return 0
}

# Processes this run has stopped: always continued again, also on exit.
declare -A STOPPED=()
stop_proc() { signal_checked "$1" "$2" STOP && STOPPED[$1]=$2; }
cont_proc() { signal_checked "$1" "$2" CONT; unset "STOPPED[$1]"; }
cont_all() {
	local p
	for p in "${!STOPPED[@]}"; do cont_proc "$p" "${STOPPED[$p]}"; done
}

# --- the guard's state file (see tools/lab/lab-guard.c) ---

declare -A ST_HOLD=()
read_state() { # -> ST_TIME (µs of the last change), ST_DOWN, ST_HOLD[addr]
	local kind a rest
	ST_TIME=0 ST_DOWN=""
	ST_HOLD=()
	[ -f "$STATE" ] || return 1
	while read -r kind a rest; do
		case $kind in
		time) ST_TIME=${a/./} ;;
		down) ST_DOWN+=" $a" ;;
		addr) ST_HOLD[$a]=$rest ;;
		esac
	done <"$STATE"
}

# Every DuraVIP on exactly one of ALLOWED (none anywhere if ALLOWED is empty),
# nothing else plumbed, and ADDR on NODE if given. BAD says what is wrong.
holders_ok() { # "allowed nodes" [addr node]
	local allowed=" $1 " a h
	BAD=""
	for a in "${!ST_HOLD[@]}"; do
		[[ " $VIPS " == *" $a "* ]] || BAD+="$a (not a DuraVIP) on ${ST_HOLD[$a]}; "
	done
	for a in $VIPS; do
		h=${ST_HOLD[$a]:-}
		if [ -z "${1// /}" ]; then
			[ -z "$h" ] || BAD+="$a on $h (no side may hold); "
		elif [ -z "$h" ]; then
			BAD+="$a on no node; "
		elif [[ $h == *" "* ]]; then
			BAD+="$a on $h; "
		elif [[ $allowed != *" $h "* ]]; then
			BAD+="$a on $h (not allowed); "
		fi
	done
	if [ $# -ge 3 ] && [ "${ST_HOLD[$2]:-}" != "$3" ]; then
		BAD+="$2 on ${ST_HOLD[$2]:-no node}, not on $3 (the move target); "
	fi
	[ -z "$BAD" ]
}

# Every vipd connected, quorate and mature in a view of all three nodes.
cluster_whole() {
	local n out=""
	for n in $NODES; do
		out+=$(VIPCTL_TIMEOUT=2 vipctl_on "$n" --json cluster info 2>/dev/null || echo '{"node":"'"$n"'","unreachable":true}')
		out+=$'\n'
	done
	BAD=$(python3 -c '
import json, sys
bad = []
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    try:
        o = json.loads(line)
    except ValueError:
        bad.append("unparsable vipctl output")
        continue
    n = o.get("node", "?")
    if o.get("unreachable"):
        bad.append(n + ": vipctl gets no answer")
        continue
    for k in ("connected", "quorate", "in_view", "mature"):
        if o.get(k) is not True:
            bad.append(n + ": not " + k)
    members = o.get("members", [])
    if not all(isinstance(m, str) for m in members):
        bad.append(n + ": a member not known by name yet")
    elif sorted(members) != ["n1", "n2", "n3"]:
        bad.append(n + ": members " + ",".join(members))
print("; ".join(bad))' <<<"$out") || BAD="the check itself failed"
	[ -z "$BAD" ]
}

# wait_settled LABEL REF_US BOUND_S "ALLOWED" WHOLE [ADDR NODE]: wait until the
# addresses are right and unchanged for SETTLE_US since REF or their last
# change (and, with WHOLE=1, the cluster is whole, then still unchanged
# SETTLE_US later). CONV (µs) is from
# REF to the last address change; it is recorded as a convergence time.
wait_settled() {
	local label=$1 ref=$2 bound=$3 allowed=$4 whole=$5
	shift 5
	local deadline=$((ref + bound * 1000000)) whole_at=0 last_check=0 seen=-1 quiet ok=0
	now
	while :; do # at least one look, even if the bound has passed already
		read_state
		if [ "$ST_TIME" != "$seen" ]; then whole_at=0; seen=$ST_TIME; fi
		# Unchanged for SETTLE_US, counted from the action at the earliest:
		# a kill's effect (the reaper's removal) may not be seen yet at once.
		quiet=$((NOW - (ST_TIME > ref ? ST_TIME : ref)))
		if holders_ok "$allowed" "$@"; then
			if [ $quiet -lt $SETTLE_US ]; then
				BAD="addresses still changing"
			elif [ "$whole" = 0 ] || { [ $whole_at -gt 0 ] &&
				[ $((NOW - whole_at)) -ge $SETTLE_US ]; }; then
				ok=1
				break
			elif [ $whole_at = 0 ] && [ $((NOW - last_check)) -ge 250000 ]; then
				last_check=$NOW
				if cluster_whole; then now; whole_at=$NOW; fi
			fi
		fi
		[ "$NOW" -lt "$deadline" ] || break
		sleep 0.05
		now
	done
	if [ $ok = 0 ]; then
		F_FAIL+="$label: not settled within ${bound} s: ${BAD%; }; "
		return 1
	fi
	CONV=$((ST_TIME > ref ? ST_TIME - ref : 0))
	[ "${RECOVERING:-0}" = 1 ] || [ "$FI" = 0 ] || CONVS+=("$CONV $FI $label")
	secs $CONV
	F_CONV+="${F_CONV:+, }$label $REPLY s"
	return 0
}
