# SPDX-License-Identifier: MIT
# tests/e2e/e2e-probe.sh: the scenarios of probing before a takeover
# (docs/fault-tolerance.md, "Probing before a takeover" and "The takeover
# guard"), sourced by e2e.sh, whose header lists them: 17-hung-node,
# 18-hung-node-ipv6, 19-probe-guard.

# n3's engine and corosync both stopped: nothing can release its DuraVIPs.
hang_n3() {
	N3_ENGINE=$(L pid n3 engine)
	N3_COROSYNC=$(L pid n3 corosync)
	kill -STOP "$N3_ENGINE"
	kill -STOP "$N3_COROSYNC"
	log "n3's engine $N3_ENGINE and corosync $N3_COROSYNC stopped"
}

resume_n3() { # engine | corosync
	if [ "$1" = engine ]; then
		kill -CONT "$N3_ENGINE"
		log "n3's engine resumed (its corosync still stopped)"
	else
		kill -CONT "$N3_COROSYNC"
		log "n3's corosync resumed"
	fi
}

s_17_hung_node() {
	steady_six
	local t0 claims got
	hang_n3
	# n1 and n2 lose n3 (about 0.2 s), wait the takeover delay, then probe n3's DuraVIPs:
	# n3's kernel still has them and answers, so they wait.
	sleep 3
	check "n3 still holds its two DuraVIPs (its engine cannot release them)" count_is n3 2
	check "no survivor plumbed them" test "$(holders 203.0.113.105) $(holders 203.0.113.106)" = "n3 n3"
	claims=$(metric_sum vipd_probe_claims_total n1 n2)
	check "the survivors' probes were answered (vipd_probe_claims_total on n1 + n2: $claims)" \
		test "$claims" -gt 0
	# The console of the node the group gave 203.0.113.105 says why it is not plumbed there.
	got=$(L exec n1 "$VIPCTL" --json cluster duravip show 203.0.113.105 | python3 -c '
import json, sys
v = json.load(sys.stdin)["duravips"][0]
print(v["owner"] or "-")')
	check "the group gave 203.0.113.105 to a survivor ($got)" test "$got" = n1 -o "$got" = n2
	check "$got's console shows it probing, claimed, not plumbed" sh -c "$LAB --prefix $PREFIX exec $got $VIPCTL --json cluster duravip show 203.0.113.105 |
		python3 -c 'import json,sys; v=json.load(sys.stdin)[\"duravips\"][0]; sys.exit(0 if v[\"probing\"] is True and v[\"probe_claims\"] > 0 and v[\"plumbed\"] is False else 1)'"
	check "n1 and n2 kept their own" total_is 4 n1 n2
	t0=$(date +%s%N)
	resume_n3 engine
	check "n3 released its DuraVIPs within 2 s" wait_until 2 count_is n3 0
	expect_taken_over n3 3
	log "n3's DuraVIPs answered by survivors $(ms_since "$t0") ms after its engine resumed"
	got=$(metric_sum vipd_probe_cleared_total n1 n2)
	check "they were plumbed after a probe nobody answered (vipd_probe_cleared_total: $got)" test "$got" -ge 2
	resume_n3 corosync
	local a
	for a in $SIX; do expect_owner "$a" "$(pref_of "$a")" 15; done
}

s_18_hung_node_ipv6() {
	start_v6_three
	local i claims h
	for i in 1 2 3; do check "2001:db8::100:$i held by n$i" wait_until 10 is_held_by "2001:db8::100:$i" "n$i"; done
	hang_n3
	sleep 3
	check "2001:db8::100:3 is still on n3 alone" is_held_by 2001:db8::100:3 n3
	claims=$(metric_sum vipd_probe_claims_total n1 n2)
	check "the survivors' DAD solicitations were answered (vipd_probe_claims_total: $claims)" test "$claims" -gt 0
	resume_n3 engine
	check "2001:db8::100:3 taken over by a survivor" wait_until 3 held_by_one_of 2001:db8::100:3 n1 n2
	h=$(holders 2001:db8::100:3)
	[ -n "$h" ] && check "$h answers on 2001:db8::100:3" test "$(answer 2001:db8::100:3)" = "$h"
	resume_n3 corosync
	check "2001:db8::100:3 back on n3" wait_until 15 is_held_by 2001:db8::100:3 n3
}

# duravip_takeover_guard = probe with a takeover delay of 30 s: only the
# probes can explain a takeover within seconds, and only their answers a
# survivor that waits.
s_19_probe_guard() {
	six_vips | write_conf "$WORK/conf" "  duravip_takeover_guard = probe
  duravip_takeover_delay = 30"
	start_cluster "$WORK/conf/ecelerity.conf"
	local a claims cleared got
	for a in $SIX; do expect_owner "$a" "$(pref_of "$a")" 10; done
	cleared=$(metric_sum vipd_probe_cleared_total n1 n2)
	# The watcher leaves n3 out while its link is down (--links), and only then.
	L link n3 down
	expect_taken_over n3 5
	got=$(metric_sum vipd_probe_cleared_total n1 n2)
	check "the survivors plumbed n3's DuraVIPs after unanswered probes ($cleared -> $got)" \
		test "$got" -ge $((cleared + 2))
	check "n3 (cut off, not quorate) releases its DuraVIPs" wait_until 5 count_is n3 0
	L link n3 up
	for a in $SIX; do expect_owner "$a" "$(pref_of "$a")" 15; done
	# n3 hangs whole: its kernel answers the survivors' probes, which alone hold them back.
	claims=$(metric_sum vipd_probe_claims_total n1 n2)
	hang_n3
	sleep 3
	check "no survivor plumbed n3's DuraVIPs" test "$(holders 203.0.113.105) $(holders 203.0.113.106)" = "n3 n3"
	got=$(metric_sum vipd_probe_claims_total n1 n2)
	check "the survivors probed at once and were answered ($claims -> $got claims)" test "$got" -gt "$claims"
	resume_n3 engine
	check "n3 released its DuraVIPs within 2 s" wait_until 2 count_is n3 0
	expect_taken_over n3 5
	resume_n3 corosync
	for a in $SIX; do expect_owner "$a" "$(pref_of "$a")" 15; done
}
