# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034
# tests/soak/soak-run.sh: start-up, the fault loop, clean-up and the report of
# tests/soak/soak (sourced after soak-lib.sh and soak-faults.sh).

STARTED=0 ABORT=0 NF=0 WATCHDOG="" RC=0

# A watchdog: the whole run ends at DURATION + 300 s whatever happens.
start_watchdog() {
	(
		trap 'kill "$sp" 2>/dev/null; exit 0' TERM
		sleep $((DURATION + 300)) &
		sp=$!
		wait "$sp" && kill -TERM $$
	) &
	WATCHDOG=$!
}

start_guard() {
	local -a cmd=("$LABNET" watch --links --min-ms 1 --events "$WORK/events" --state "$STATE"
		--ready "$WORK/guard.ready" --max-seconds $((DURATION + 600)) "$PREFIX" 3)
	# Real-time priority keeps the time stamps honest on a busy machine.
	L bg host watch chrt -f 1 "${cmd[@]}" >/dev/null
	local k
	for ((k = 0; k < 100; k++)); do [ -f "$WORK/guard.ready" ] && return 0; sleep 0.05; done
	log "the guard did not start at real-time priority; without it"
	L kill host watch >/dev/null 2>&1
	L bg host watch "${cmd[@]}" >/dev/null
	for ((k = 0; k < 100; k++)); do [ -f "$WORK/guard.ready" ] && return 0; sleep 0.05; done
	return 1
}

startup() {
	F_KINDS[0]=startup F_ACTS[0]="lab up 3, corosync, vipd on $NODES" F_T0S[0]=$T0
	FI=0 F_FAIL="" F_CONV=""
	L up 3 --timing "${SOAK_TIMING:-safe}" >"$WORK/lab.log" 2>&1 || { F_FAILS[0]="lab up failed (see $WORK/lab.log)"; return 1; }
	S=$(L path)
	STARTED=1
	start_guard || { F_FAILS[0]="the guard (lab-net watch) did not start"; return 1; }
	L start-corosync --wait 30 >>"$WORK/lab.log" 2>&1 || { F_FAILS[0]="no corosync ring"; return 1; }
	local n
	for n in $NODES; do start_vipd "$n" || F_FAIL+="start-vipd $n failed; "; done
	now
	wait_settled startup "$NOW" 30 "$NODES" 1
	F_FAILS[0]=$F_FAIL
	if worker_of n1; then
		MODEL="one vipd process per node"
		[ "$WKIND" = engine ] && MODEL="vipd as a monitor with an engine child"
	fi
	log "startup: ${F_CONV:-${F_FAIL%; }} (${MODEL:-no vipd on n1})"
	[ -z "$F_FAIL" ]
}

soak_main() {
	only_kinds
	WORK=$(mktemp -d /tmp/vipd-soak.XXXXXX)
	chmod 755 "$WORK" # vipd reads its configuration as ecuser
	cp -r "$top/tools/lab/conf" "$WORK/conf"
	local f
	for f in "$WORK"/conf/n*/ecelerity-cluster.conf; do # SOAK_GUARD: checked with the arguments
		[ -z "${SOAK_GUARD:-}" ] ||
			sed -i "s/^cluster {\$/cluster {\n  duravip_takeover_guard = $SOAK_GUARD/" "$f"
	done
	chmod -R a+rX "$WORK/conf"
	STATE=$WORK/state
	trap soak_exit EXIT
	trap 'exit 130' INT TERM
	start_watchdog
	log "soak: seed $SEED, duration $DURATION s, faults ${FAULTS/#0/unlimited}, bound $BOUND s, lab $PREFIX${ONLY:+, only $ONLY}"
	if [ -d "/run/vipd-lab/$PREFIX" ]; then
		F_KINDS[0]=startup F_T0S[0]=$T0 F_FAILS[0]="lab '$PREFIX' exists (lab --prefix $PREFIX down)"
		return
	fi
	startup || return
	local deadline=$((T0 + DURATION * 1000000)) i
	for ((i = 1; FAULTS == 0 || i <= FAULTS; i++)); do
		now
		[ "$NOW" -lt "$deadline" ] || break
		L pid host watch >/dev/null 2>&1 || { log "the guard died: stopping"; GUARD_DIED=1; break; }
		draw_fault
		NF=$i
		run_fault "$i"
		[ "$ABORT" = 1 ] && { log "the cluster did not recover: stopping"; break; }
		sleep_ms "$D_GAP"
	done
}

# The guard's verdict: VIOLATION lines and the summary line (lab-guard.c).
read_guard() {
	local line vi
	V_LINES=() V_FAULT=() GUARD_SUMMARY=""
	declare -gA V_COUNT=()
	[ -f "$WORK/logs/watch.log" ] || return 0
	while read -r line; do
		if [[ $line =~ ^VIOLATION\ t=[^\ ]+\ ([^\ ]+)\ on\ (.+)\ start=([0-9]+)\.([0-9]{6})\ ms=([0-9.]+)(\ open)?$ ]]; then
			local start=${BASH_REMATCH[3]}${BASH_REMATCH[4]} f=0 i
			for ((i = 1; i <= NF; i++)); do [ "${F_T0S[i]:-0}" -le "$start" ] && f=$i; done
			V_COUNT[$f]=$((${V_COUNT[$f]:-0} + 1))
			secs $((start - T0))
			vi="${BASH_REMATCH[1]} on ${BASH_REMATCH[2]} at $REPLY s for ${BASH_REMATCH[5]} ms"
			[ -n "${BASH_REMATCH[6]}" ] && vi+=" (still open at the end)"
			V_LINES+=("$vi, in #$f ${F_KINDS[f]:-?}: ${F_ACTS[f]:-}")
		elif [[ $line == watch:* ]]; then
			GUARD_SUMMARY=$line
		fi
	done <"$WORK/logs/watch.log"
}

report() {
	local i passed=0 failed=0 k list="" worst="" median="" n
	read_guard
	now
	secs $((NOW - T0))
	echo
	echo "==== soak report: seed $SEED, $NF faults in $REPLY s, ${MODEL:-model unknown}"
	for k in "${KINDS[@]}"; do [ -n "${COUNT[$k]:-}" ] && list+="$k ${COUNT[$k]}, "; done
	echo "faults injected: $NF${list:+ (${list%, })}"
	echo "guard: ${GUARD_SUMMARY:-NO SUMMARY (the guard died?)}"
	local vtotal=${#V_LINES[@]}
	[[ $GUARD_SUMMARY =~ violations=([0-9]+) ]] && vtotal=${BASH_REMATCH[1]}
	local longest=0
	[[ $GUARD_SUMMARY =~ longest_ms=([0-9.]+) ]] && longest=${BASH_REMATCH[1]}
	echo "duplicate intervals (> 1 ms, one DuraVIP on two reachable nodes): $vtotal, longest $longest ms"
	for i in "${V_LINES[@]}"; do echo "  $i"; done
	n=${#CONVS[@]}
	if [ "$n" -gt 0 ]; then
		local sorted
		mapfile -t sorted < <(printf '%s\n' "${CONVS[@]}" | sort -n)
		read -r worst wi wl <<<"${sorted[n - 1]}"
		read -r median _ <<<"${sorted[(n - 1) / 2]}"
		secs "$worst"; worst=$REPLY
		secs "$median"; median=$REPLY
		echo "convergence: worst $worst s (#$wi ${F_KINDS[wi]:-} $wl), median $median s over $n settles"
	else
		echo "convergence: none measured"
	fi
	echo "not converged:"
	for ((i = 0; i <= NF; i++)); do
		[ -n "${F_FAILS[i]:-}" ] && echo "  #$i ${F_KINDS[i]:-}: ${F_ACTS[i]:-}: ${F_FAILS[i]%; }"
	done
	for ((i = 1; i <= NF; i++)); do
		if [ -z "${F_FAILS[i]:-}" ] && [ -z "${V_COUNT[$i]:-}" ]; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
		fi
	done
	# Start-up counts when it failed or had a duplicate; so does a guard
	# without a verdict (no verdict is no pass).
	[ -n "${F_FAILS[0]:-}" ] || [ -n "${V_COUNT[0]:-}" ] && failed=$((failed + 1))
	[ -n "$GUARD_SUMMARY" ] && [ "${GUARD_DIED:-0}" = 0 ] || failed=$((failed + 1))
	if [ "$RC" != 0 ]; then
		echo "interrupted (exit status $RC): counted as one failure"
		failed=$((failed + 1))
	fi
	SUMMARY="soak: $passed passed, $failed failed"
	[ "$failed" = 0 ]
}

soak_exit() {
	local rc=$? ok=1
	trap - EXIT INT TERM
	[ -n "$WATCHDOG" ] && kill "$WATCHDOG" 2>/dev/null
	[ "$rc" = 0 ] || RC=$rc
	cont_all
	if [ "$STARTED" = 1 ]; then
		L kill host watch >/dev/null 2>&1 # the guard closes open intervals, prints its verdict
		mkdir -p "$WORK/logs"
		local f
		for f in "$S"/*/*.log; do [ -f "$f" ] && cp "$f" "$WORK/logs/$(basename "$(dirname "$f")")-$(basename "$f")"; done
		mv "$WORK/logs/host-watch.log" "$WORK/logs/watch.log" 2>/dev/null
		[ -f "$WORK/events" ] && mv "$WORK/events" "$WORK/logs/events"
		L down >/dev/null 2>&1
	fi
	report || ok=0
	if [ $ok = 0 ] || [ "$KEEP" = 1 ]; then
		echo "logs: $WORK/logs (vipd, corosync, the guard's verdict and event log)"
	else
		rm -rf "$WORK"
	fi
	echo "$SUMMARY"
	[ $ok = 1 ] && exit 0
	exit 1
}
