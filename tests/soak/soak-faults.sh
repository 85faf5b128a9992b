# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034
# tests/soak/soak-faults.sh: the faults of tests/soak/soak, the recovery after
# one that did not settle, and the run (sourced after soak-lib.sh).

KINDS=(kill9-vipd kill9-monitor kill9-corosync stop-vipd stop-corosync stall link partition
	sigterm-vipd reload move balance stop-node)
WEIGHTS=(3 2 2 2 2 2 2 2 1 1 1 1 2)
FAILOVER_BOUND=3 # s: a stall's failover, while the stopped vipd is still stopped

# --only: the weight of every kind not named is 0.
only_kinds() {
	local i k ok
	[ -n "$ONLY" ] || return 0
	for k in ${ONLY//,/ }; do
		[[ " ${KINDS[*]} " == *" $k "* ]] || { echo "soak: no fault kind $k (${KINDS[*]})" >&2; exit 2; }
	done
	for i in "${!KINDS[@]}"; do
		ok=0
		for k in ${ONLY//,/ }; do [ "$k" = "${KINDS[i]}" ] && ok=1; done
		[ $ok = 1 ] || WEIGHTS[i]=0
	done
}

# One fault's parameters; always the same draws, whatever the fault.
draw_fault() {
	local total=0 w i r
	for w in "${WEIGHTS[@]}"; do total=$((total + w)); done
	rnd $total
	r=$R
	for i in "${!KINDS[@]}"; do
		r=$((r - WEIGHTS[i]))
		[ $r -lt 0 ] && break
	done
	D_KIND=${KINDS[i]}
	rnd 3; D_NODE=n$((R + 1))
	rnd 3; D_OTHER=n$((R + 1))	 # a move's target
	rnd 2901; D_HOLD=$((R + 100)) # ms stopped, cut or down
	rnd 1000; D_PICK=$R		 # which address, which partition
	rnd 2501; D_GAP=$((R + 500))	 # ms after the fault has settled
}

others_of() { local n o=""; for n in $NODES; do [ "$n" = "$1" ] || o+="$n "; done; echo "${o% }"; }

f_kill9() { # node monitor(0|1)
	local n=$1 ref epid est k
	worker_of "$n" || { F_FAIL+="no vipd ran on $n before the fault; "; start_vipd "$n"; return; }
	if [ "$2" = 1 ] && [ "$WKIND" = engine ]; then
		epid=$WPID est=$WST
		F_ACT="kill -9 of the monitor $VPID on $n"
		now; ref=$NOW
		L kill "$n" vipd -9 >/dev/null 2>&1
		# The engine must not outlive its monitor (nobody would manage it).
		for ((k = 0; k < 140; k++)); do
			signal_checked "$epid" "$est" 0 || break
			sleep 0.05
		done
		if signal_checked "$epid" "$est" 0; then
			F_FAIL+="engine $epid outlived its monitor by 7 s (killed); "
			signal_checked "$epid" "$est" KILL
		fi
	else
		[ "$2" = 1 ] && FKIND=kill9-vipd # no engine: one process
		F_ACT="kill -9 of the $WKIND $WPID on $n"
		now; ref=$NOW
		if [ "$WKIND" = engine ]; then
			signal_checked "$WPID" "$WST" KILL
		else
			L kill "$n" vipd -9 >/dev/null 2>&1
		fi
	fi
	# With no vipd left on the node, the others take over before the restart
	# (not judged after an engine that outlived its monitor).
	[ -n "$F_FAIL" ] || vipd_pid "$n" || wait_settled failover "$ref" 2 "$(others_of "$n")" 0
	restart_if_gone "$n" "$ref" && ref=$RESTARTED_AT
	wait_settled after "$ref" "$BOUND" "$NODES" 1
}

f_kill9_corosync() { # node
	local n=$1 killed ref
	F_ACT="kill -9 of corosync on $n, restarted after ${D_HOLD} ms"
	now; killed=$NOW
	L kill "$n" corosync -9 >/dev/null 2>&1 || F_FAIL+="kill of corosync on $n failed; "
	sleep_ms "$D_HOLD"
	now; ref=$NOW
	L start-corosync --no-wait "$n" >/dev/null 2>&1 || F_FAIL+="corosync on $n did not start; "
	restart_if_gone "$n" "$killed" && ref=$RESTARTED_AT
	wait_settled after "$ref" "$BOUND" "$NODES" 1
}

# The node's corosync -> CPID CST (its start time), or F_FAIL said and false.
corosync_of() { # node
	CPID="" CST=""
	if ! CPID=$(L pid "$1" corosync 2>/dev/null) || ! starttime "$CPID"; then
		F_FAIL+="no corosync ran on $1 before the fault; "
		return 1
	fi
	CST=$REPLY
}

f_stop() { # node vipd|corosync
	local n=$1 pid st ref
	if [ "$2" = vipd ]; then
		worker_of "$n" || { F_FAIL+="no vipd ran on $n before the fault; "; return; }
		pid=$WPID st=$WST
		F_ACT="SIGSTOP of the $WKIND $pid on $n for ${D_HOLD} ms"
	else
		corosync_of "$n" || return
		pid=$CPID st=$CST
		F_ACT="SIGSTOP of corosync $pid on $n for ${D_HOLD} ms"
	fi
	stop_proc "$pid" "$st" || { F_FAIL+="SIGSTOP of $pid failed; "; return; }
	sleep_ms "$D_HOLD"
	now; ref=$NOW
	cont_proc "$pid" "$st"
	wait_settled after "$ref" "$BOUND" "$NODES" 1
}

# A whole node hung: its vipd and its corosync stopped, so nothing releases its
# addresses while the survivors see it lost; then vipd resumed (its corosync
# still stopped: it releases), 0.3 s later corosync.
f_stop_node() { # node
	local n=$1 epid est cpid cst ref
	worker_of "$n" || { F_FAIL+="no vipd ran on $n before the fault; "; return; }
	epid=$WPID est=$WST
	corosync_of "$n" || return
	cpid=$CPID cst=$CST
	F_ACT="SIGSTOP of the $WKIND $epid and of corosync $cpid on $n for ${D_HOLD} ms"
	stop_proc "$epid" "$est" || { F_FAIL+="SIGSTOP of $epid failed; "; return; }
	if ! stop_proc "$cpid" "$cst"; then
		cont_proc "$epid" "$est"
		F_FAIL+="SIGSTOP of $cpid failed; "
		return
	fi
	sleep_ms "$D_HOLD"
	cont_proc "$epid" "$est"
	sleep_ms 300
	now; ref=$NOW
	cont_proc "$cpid" "$cst"
	wait_settled after "$ref" "$BOUND" "$NODES" 1
}

# A hung member must not stall failover: SIGSTOP the vipd of one node, kill -9
# the vipd of another, and expect every DuraVIP to have one holder again within
# FAILOVER_BOUND while the first is still stopped; then SIGCONT it.
f_stall() { # node (stopped); the next node is killed
	local n=$1 k pid st skind ref killed
	k=n$((${n#n} % 3 + 1))
	worker_of "$n" || { F_FAIL+="no vipd ran on $n before the fault; "; return; }
	pid=$WPID st=$WST skind=$WKIND
	worker_of "$k" || { F_FAIL+="no vipd ran on $k before the fault; "; return; }
	F_ACT="SIGSTOP of the $skind $pid on $n, then kill -9 of the $WKIND $WPID on $k"
	stop_proc "$pid" "$st" || { F_FAIL+="SIGSTOP of $pid failed; "; return; }
	sleep 0.1
	now; killed=$NOW
	if [ "$WKIND" = engine ]; then
		signal_checked "$WPID" "$WST" KILL
	else
		L kill "$k" vipd -9 >/dev/null 2>&1
	fi
	wait_settled failover "$killed" "$FAILOVER_BOUND" "$NODES" 0
	now; ref=$NOW
	cont_proc "$pid" "$st"
	restart_if_gone "$k" "$killed" && ref=$RESTARTED_AT
	wait_settled after "$ref" "$BOUND" "$NODES" 1
}

f_link() { # node
	local n=$1 ref
	F_ACT="link of $n down, up ${D_HOLD} ms after the rest settled"
	now; ref=$NOW
	L link "$n" down || F_FAIL+="link down failed; "
	wait_settled cut "$ref" "$BOUND" "$(others_of "$n")" 0
	sleep_ms "$D_HOLD"
	now; ref=$NOW
	L link "$n" up || F_FAIL+="link up failed; "
	wait_settled healed "$ref" "$BOUND" "$NODES" 1
}

f_partition() { # node
	local n=$1 rest allowed ref
	now; ref=$NOW
	if [ $((D_PICK % 5)) = 0 ]; then
		F_ACT="partition n1 | n2 | n3"
		L partition n1 n2 n3 >/dev/null 2>&1 || F_FAIL+="partition failed; "
		allowed=""
	else
		allowed=$(others_of "$n")
		rest=${allowed// /,}
		F_ACT="partition $n | $rest"
		L partition "$n" "$rest" >/dev/null 2>&1 || F_FAIL+="partition failed; "
	fi
	F_ACT+=", healed ${D_HOLD} ms after it settled"
	wait_settled cut "$ref" "$BOUND" "$allowed" 0
	sleep_ms "$D_HOLD"
	now; ref=$NOW
	L heal >/dev/null 2>&1
	wait_settled healed "$ref" "$BOUND" "$NODES" 1
}

f_sigterm() { # node
	local n=$1 ref
	F_ACT="SIGTERM of vipd on $n, restarted after ${D_HOLD} ms"
	vipd_pid "$n" || { F_FAIL+="no vipd ran on $n before the fault; "; start_vipd "$n"; return; }
	if ! L kill "$n" vipd >/dev/null 2>&1; then
		F_FAIL+="vipd on $n still ran 10 s after SIGTERM (killed); "
		L kill "$n" vipd -9 >/dev/null 2>&1
	fi
	sleep_ms "$D_HOLD"
	now; ref=$NOW
	start_vipd "$n" || F_FAIL+="start-vipd $n failed; "
	wait_settled after "$ref" "$BOUND" "$NODES" 1
}

f_vipctl() { # node what
	local n=$1 rc addr target ref
	case $2 in
	reload) F_ACT="vipctl config reload on $n"; set -- config reload ;;
	balance) F_ACT="vipctl cluster duravip balance on $n"; set -- cluster duravip balance ;;
	move)
		addr=${MOVABLE[D_PICK % ${#MOVABLE[@]}]} target=$D_OTHER
		F_ACT="vipctl cluster duravip move $addr $target on $n"
		set -- cluster duravip move "$addr" "$target"
		;;
	esac
	now; ref=$NOW
	vipctl_on "$n" "$@" >/dev/null 2>&1
	rc=$?
	if [ $rc != 0 ]; then
		F_FAIL+="vipctl $* on $n: exit $rc; "
		wait_settled after "$ref" "$BOUND" "$NODES" 1
	elif [ -n "${addr:-}" ]; then
		wait_settled after "$ref" "$BOUND" "$NODES" 1 "$addr" "$target"
	else
		wait_settled after "$ref" "$BOUND" "$NODES" 1
	fi
}

# After a fault that did not settle: undo every fault, start what is missing,
# wait; then restart every vipd; then give up (ABORT).
recover() {
	local n
	log "   recovering: heal, links up, SIGCONT, start what is missing"
	L heal >/dev/null 2>&1
	for n in $NODES; do L link "$n" up >/dev/null 2>&1; done
	cont_all
	for n in $NODES; do
		L pid "$n" corosync >/dev/null 2>&1 || L start-corosync --no-wait "$n" >/dev/null 2>&1
		vipd_pid "$n" || start_vipd "$n"
	done
	now
	RECOVERING=1
	if ! wait_settled recovery "$NOW" $((3 * BOUND)) "$NODES" 1; then
		log "   recovering: restarting every vipd"
		for n in $NODES; do
			L kill "$n" vipd >/dev/null 2>&1 || L kill "$n" vipd -9 >/dev/null 2>&1
			start_vipd "$n"
		done
		now
		wait_settled recovery "$NOW" $((3 * BOUND)) "$NODES" 1 || ABORT=1
	fi
	RECOVERING=0
	[ "$ABORT" = 1 ] || log "   recovered"
}

declare -A COUNT=()
F_KINDS=() F_ACTS=() F_T0S=() F_FAILS=() CONVS=()
run_fault() { # index
	FI=$1
	F_FAIL="" F_CONV="" F_ACT=""
	FKIND=$D_KIND
	now
	F_T0S[FI]=$NOW
	case $D_KIND in
	kill9-vipd) f_kill9 "$D_NODE" 0 ;;
	kill9-monitor) f_kill9 "$D_NODE" 1 ;;
	kill9-corosync) f_kill9_corosync "$D_NODE" ;;
	stop-vipd) f_stop "$D_NODE" vipd ;;
	stop-corosync) f_stop "$D_NODE" corosync ;;
	stop-node) f_stop_node "$D_NODE" ;;
	stall) f_stall "$D_NODE" ;;
	link) f_link "$D_NODE" ;;
	partition) f_partition "$D_NODE" ;;
	sigterm-vipd) f_sigterm "$D_NODE" ;;
	reload) f_vipctl "$D_NODE" reload ;;
	move) f_vipctl "$D_NODE" move ;;
	balance) f_vipctl "$D_NODE" balance ;;
	esac
	F_KINDS[FI]=$FKIND F_ACTS[FI]=$F_ACT
	COUNT[$FKIND]=$((${COUNT[$FKIND]:-0} + 1))
	if [ -n "$F_FAIL" ]; then
		log "#$FI $FKIND: $F_ACT: NOT CONVERGED: ${F_FAIL%; }"
		recover
	else
		log "#$FI $FKIND: $F_ACT: $F_CONV"
	fi
	F_FAILS[FI]=$F_FAIL
}
