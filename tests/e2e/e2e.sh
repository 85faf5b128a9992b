#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/e2e/e2e.sh SCENARIO VIPD VIPCTL LABNET: one end-to-end scenario on a
# three-node lab with real corosync (see e2e-lib.sh). Root; exits 77 when
# something is missing unless VIPD_REQUIRE_NETNS=1, then 1.
#
#   00-lab         the lab itself: reachability, partition, heal, link, down
#   01-steady      six DuraVIPs with preferences: each on its preferred node, announced
#   02-kill-vipd   kill -9 of an owner's vipd (its monitor): the engine hands off, survivors take over
#   03-kill-corosync  kill -9 of a node's corosync: survivors take over after detection
#   03-link-down   a node's link goes down: survivors take over after detection
#   04-sigterm     SIGTERM: hand-over without waiting for detection
#   05-rejoin      the preferred node comes back and gets its addresses by hand-off
#   06-partition   1 | 2: the single node releases, the pair owns all; heal converges
#   07-console     vipctl move, balance, and config reload adding a DuraVIP
#   08-bulk        1,000 DuraVIPs: kill an owner, every address plumbed and announced
#   09-ipv6        IPv6 DuraVIPs: neighbour advertisements move the client's entries
#   10-crash-engine   kill -9 of an owner's engine: its monitor flushes and says so; survivors
#                  take over only then; the monitor restarts the engine, which gets them back
#   11-hung-vipd   n2's engine stopped, n1's corosync killed: n1's DuraVIPs reach n3 within 3 s
#                  while n2 keeps its own; after SIGCONT the cluster converges
#   12-hung-corosync  n3's corosync stopped: n3 releases within 2 s, survivors take over,
#                  never two owners; after SIGCONT the cluster converges
#   13-health      a health check on each node's listener: stop n1's, the client follows n1's
#                  DuraVIPs to a survivor within fall x interval + 1 s; start it again: they
#                  come back after view_mature_time; never two owners
#   14-standby     vipctl cluster node standby / active on a live cluster: n2's DuraVIPs go to
#                  the others by hand-off and come back after view_mature_time; never two owners
#   15-neigh       the shared neighbour cache: the client talks to n1's DuraVIP from a new address;
#                  within 5 s n2 and n3 list that address and the client's MAC, learnt by n1
#                  (`vipctl --json cluster arp show`, parsed); n3's vipd restarted gets it again
#   16-arp-unicast arp_all_hosts = false: after a failover the client's neighbour entries (IPv4
#                  and IPv6) follow the new owner, told by unicast from the shared neighbour cache,
#                  while a bystander on the bridge captures no broadcast announcement of them;
#                  with true (n1 back, taking them over again) the bystander captures them
#   17-hung-node   n3's engine and corosync both stopped (nothing can release its DuraVIPs):
#                  the survivors' address probes are answered by n3's kernel, so they plumb
#                  nothing of n3's for 3 s (never two owners; the probes are counted); n3's
#                  engine resumed releases (its corosync still stopped) and the survivors take
#                  over within 3 s; corosync resumed, the cluster converges
#   18-hung-node-ipv6  the same with IPv6 DuraVIPs: the survivors' DAD solicitations are
#                  answered by n3's kernel, so n3's address stays on n3 alone until its engine
#                  resumes and releases it
#   19-probe-guard duravip_takeover_guard = probe, takeover delay 30 s: n3's link cut, the
#                  survivors take its DuraVIPs within 5 s after unanswered probes; n3's
#                  engine and corosync stopped: its kernel answers their probes, so they plumb
#                  nothing of n3's for 3 s; its engine resumed releases, the survivors take
#                  over within 5 s; never two owners
set -uo pipefail
scenario=${1:?scenario}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=e2e-lib.sh
. "$here/e2e-lib.sh"
e2e_init "${2:?vipd}" "${3:?vipctl}" "${4:?lab-net}"

steady_six() {
	six_vips | write_conf "$WORK/conf"
	start_cluster "$WORK/conf/ecelerity.conf"
	local a
	for a in $SIX; do expect_owner "$a" "$(pref_of "$a")" 10; done
}

survivors_of() { # dead node -> the other two
	local n out=""
	for n in n1 n2 n3; do [ "$n" = "$1" ] || out+="$n "; done
	echo "$out"
}

# Every address preferred by DEAD is held by exactly one survivor, which the
# client's neighbour entry follows and which answers.
expect_taken_over() { # dead timeout
	local a h
	for a in $SIX; do
		[ "$(pref_of "$a")" = "$1" ] || continue
		# shellcheck disable=SC2046
		check "$a taken over by a survivor" wait_until "$2" held_by_one_of "$a" $(survivors_of "$1")
		h=$(holders "$a")
		[ -n "$h" ] || continue
		check "client's neighbour entry for $a moved to $h" wait_until 4 client_mac_is "$a" "$h"
		check "$h answers on $a" test "$(answer "$a")" = "$h"
	done
}

reach() { # from to-address: does a TCP connect to port 7000 get an answer?
	L exec "$1" python3 -c '
import socket, sys
try:
    socket.create_connection((sys.argv[1], 7000), timeout=0.5).recv(16)
except OSError:
    sys.exit(1)' "$2"
}

unreachable() { ! reach "$@"; }

s_00_lab() {
	L up 3 >/dev/null 2>&1 || { fail "lab up"; exit 1; }
	S=$(L path)
	local n
	for n in n1 n2 n3; do L bg "$n" listen python3 -c "$listener" "$n" >/dev/null; done
	L bg host watch "$LABNET" watch --links --exclude-file "$EXCLUDE" \
		--ready "$WORK/watch.ready" "$PREFIX" 3 >/dev/null
	wait_until 5 test -f "$WORK/watch.ready" || fail "watcher did not start"
	check "client reaches n1" wait_until 3 reach c 203.0.113.11
	check "client reaches n3 over IPv6" wait_until 3 reach c 2001:db8::1:3
	check "n1 reaches n3" reach n1 203.0.113.13
	check "each node has its own /run" test "$(L exec n1 ls /run)" != "$(ls /run)"
	L partition n1,n2 n3 >/dev/null
	check "partition: n1 no longer reaches n3" unreachable n1 203.0.113.13
	check "partition: n1 still reaches n2" reach n1 203.0.113.12
	check "partition: the client still reaches n3" reach c 203.0.113.13
	L heal >/dev/null
	check "heal: n1 reaches n3 again" wait_until 2 reach n1 203.0.113.13
	L link n2 down
	check "link down: the client no longer reaches n2" unreachable c 203.0.113.12
	L link n2 up
	check "link up: the client reaches n2 again" wait_until 3 reach c 203.0.113.12
	# A plumbed duplicate is what the watcher must catch: put one address on
	# two nodes (outside vipd) and expect exactly that violation.
	L exec n1 ip addr add 198.51.100.77/32 dev eth0
	L exec n2 ip addr add 198.51.100.77/32 dev eth0
	# A node whose link is down is left out, and only while it is: .78 on n1
	# and a cut n3 is no duplicate until the link comes back; .79 is gone
	# before that.
	L link n3 down
	L exec n1 ip addr add 198.51.100.78/32 dev eth0
	L exec n3 ip addr add 198.51.100.78/32 dev eth0
	L exec n1 ip addr add 198.51.100.79/32 dev eth0
	L exec n3 ip addr add 198.51.100.79/32 dev eth0
	sleep 0.3
	L exec n3 ip addr del 198.51.100.79/32 dev eth0
	local up_at
	up_at=$(date +%s.%N)
	L link n3 up
	sleep 0.2
	L exec n3 ip addr del 198.51.100.78/32 dev eth0
	sleep 0.1
	L kill host watch >/dev/null
	check "the watcher reports an address held by two nodes" \
		grep -q 'VIOLATION .* 198.51.100.77 on n1 n2' "$S/host/watch.log"
	check "the watcher leaves a node out while its link is down, not after" \
		awk -v up="$up_at" '/^VIOLATION .* 198.51.100.78 on n1 n3 / {
			for (i = 1; i <= NF; i++) if ($i ~ /^start=/) s = substr($i, 7)
			for (i = 1; i <= NF; i++) if ($i ~ /^ms=/) ms = substr($i, 4)
			if (s + 0 >= up + 0 && ms + 0 > 100 && ms + 0 < 400) ok = 1 }
			END { exit !ok }' "$S/host/watch.log"
	check "a duplicate that ends while the link is down is none" \
		bash -c '! grep -q "198.51.100.79" "$1"' _ "$S/host/watch.log"
	local pids
	pids=$(cat "$S"/n*/*.pid | awk '{ print $1 }')
	L down >/dev/null 2>&1
	check "lab down deletes its namespaces" test -z "$(ip netns list | grep "^$PREFIX-")"
	local p alive=0
	for p in $pids; do [ -d "/proc/$p" ] && [ "$(awk '{ print $3 }' "/proc/$p/stat")" != Z ] && alive=1; done
	check "lab down stops every process it started" test $alive = 0
	if [ "$E2E_FAILS" = 0 ]; then log "PASS"; exit 0; fi
	exit 1
}

s_01_steady() {
	steady_six
	check "vipctl cluster duravip show lists six owned DuraVIPs" \
		test "$(L exec n1 "$VIPCTL" cluster duravip show | grep -c 'state: *owned')" = 6
}

s_02_kill_vipd() {
	steady_six
	# kill -9 of n1's monitor: its engine sees the monitor go and hands its
	# addresses off; n1 stays connected, so it is NOT excluded from the
	# two-owner rule.
	local t0
	t0=$(date +%s%N)
	L kill n1 vipd -9
	check "n1 holds no DuraVIP within 0.5 s of kill -9 of its monitor" wait_until 0.5 count_is n1 0
	expect_taken_over n1 3
	log "n1's DuraVIPs answered by survivors $((($(date +%s%N) - t0) / 1000000)) ms after kill -9 (incl. checks)"
}

s_03_kill_corosync() {
	steady_six
	# n2's vipd stays up and connected to the LAN: it must let go of its
	# addresses itself, so n2 is NOT excluded from the two-owner rule.
	L kill n2 corosync -9
	expect_taken_over n2 5
	check "n2 (corosync gone) holds no DuraVIP" wait_until 5 count_is n2 0
}

s_03_link_down() {
	steady_six
	# The watcher leaves n3 out while its link is down (--links), and only then.
	L link n3 down
	expect_taken_over n3 5
	check "n3 (cut off, not quorate) releases its DuraVIPs" wait_until 5 count_is n3 0
	L link n3 up
	local a
	for a in $SIX; do expect_owner "$a" "$(pref_of "$a")" 15; done
}

s_04_sigterm() {
	steady_six
	local t0 t1
	t0=$(date +%s%N)
	L kill n1 vipd
	wait_until 3 held_by_one_of 203.0.113.101 n2 n3
	wait_until 3 held_by_one_of 203.0.113.102 n2 n3
	t1=$(date +%s%N)
	log "n1's DuraVIPs on survivors $(((t1 - t0) / 1000000)) ms after SIGTERM (polling included)"
	check "n1 released everything" test "$(count_on n1)" = 0
	expect_taken_over n1 1
}

s_05_rejoin() {
	steady_six
	L kill n1 vipd -9
	expect_taken_over n1 3
	wait_until 1 count_is n1 0
	L start-vipd n1 "$CONF" >/dev/null
	expect_owner 203.0.113.101 n1 10
	expect_owner 203.0.113.102 n1 10
	local a
	for a in $SIX; do check "$a has one owner, its preferred node" is_held_by "$a" "$(pref_of "$a")"; done
}

s_06_partition() {
	steady_six
	# The client still reaches n3: it is NOT excluded from the two-owner rule.
	L partition n1,n2 n3 >/dev/null
	check "n3 (alone, not quorate) releases" wait_until 5 count_is n3 0
	expect_taken_over n3 5
	L heal >/dev/null
	local a
	for a in $SIX; do expect_owner "$a" "$(pref_of "$a")" 15; done
}

s_07_console() {
	# Six DuraVIPs by preference and three without one. n1 starts alone and
	# takes all nine; the three stay there (an owned address does not move), so
	# the cluster starts unbalanced: 5 / 2 / 2.
	{
		six_vips
		local i
		for i in 110 111 112; do
			echo "Binding \"f$i\" { Bind_Address = \"203.0.113.$i\" Enable_Duravip = true }"
		done
	} | write_conf "$WORK/conf"
	start_cluster "$WORK/conf/ecelerity.conf" 9
	local a
	for a in $SIX; do check "$a on its preferred node" wait_until 10 is_held_by "$a" "$(pref_of "$a")"; done
	check "unbalanced before: n1 holds 5" count_is n1 5
	check "vipctl cluster duravip move 203.0.113.101 n3" \
		L exec n2 "$VIPCTL" cluster duravip move 203.0.113.101 n3
	expect_owner 203.0.113.101 n3 5
	check "vipctl cluster duravip balance" L exec n1 "$VIPCTL" cluster duravip balance
	balanced() {
		local c1 c2 c3 max min c
		c1=$(count_on n1) c2=$(count_on n2) c3=$(count_on n3)
		max=$c1 min=$c1
		for c in $c2 $c3; do
			[ "$c" -gt "$max" ] && max=$c
			[ "$c" -lt "$min" ] && min=$c
		done
		[ $((c1 + c2 + c3)) = 9 ] && [ $((max - min)) -le 1 ]
	}
	check "after balance the loads differ by at most one" wait_until 10 balanced
	log "loads: n1 $(count_on n1), n2 $(count_on n2), n3 $(count_on n3)"
	check "the moved DuraVIP stays where it was put" is_held_by 203.0.113.101 n3
	echo 'Binding "c7" { Bind_Address = "203.0.113.107" Enable_Duravip = true }' >>"$WORK/conf/ecelerity.conf"
	local n
	for n in n1 n2 n3; do
		check "vipctl config reload on $n" L exec "$n" "$VIPCTL" config reload
	done
	check "the new DuraVIP 203.0.113.107 is plumbed on one node" \
		wait_until 5 held_by_one_of 203.0.113.107 n1 n2 n3
	local h
	h=$(holders 203.0.113.107)
	[ -n "$h" ] && expect_owner 203.0.113.107 "$h" 2
}

s_08_bulk() {
	# 1,000 DuraVIPs in 198.18.0.0/15, outside the client's subnet: the client's
	# arp_accept = 2 keeps them out of the machine-wide neighbour table; the
	# announcements are counted with a packet socket.
	# Preferences spread them: 334 on n1, 333 on n2 and n3.
	awk 'BEGIN { for (i = 1; i <= 1000; i++)
		printf "Binding \"v%d\" { Bind_Address = \"198.18.%d.%d\" Enable_Duravip = true Duravip_Preference = \"n%d\" }\n",
			i, int(i / 256), i % 256, (i - 1) % 3 + 1 }' | write_conf "$WORK/conf"
	start_cluster "$WORK/conf/ecelerity.conf"
	settled() { [ "$(count_on n1)" = 334 ] && [ "$(count_on n2)" = 333 ] && [ "$(count_on n3)" = 333 ]; }
	check "all 1,000 DuraVIPs plumbed on their preferred nodes" wait_until 20 settled
	local c1 out
	c1=$(count_on n1)
	log "spread: n1 $c1, n2 $(count_on n2), n3 $(count_on n3)"
	check "n1 owns some of them" test "$c1" -gt 0
	# A crash of n1's engine: its monitor flushes, says FLUSHED, the survivors plumb.
	out=$(L net capture --ns "$PREFIX-c" --match 198.18.0.0/15 --expect "$c1" \
		--plumb "$PREFIX-n2,$PREFIX-n3" --not-mac "$MAC_n1" --timeout 15 \
		-- kill -KILL "$(L pid n1 engine)")
	log "capture: $out"
	check "all $c1 of n1's addresses announced by survivors" grep -q "distinct=$c1 " <<<"$out"
	check "all 1,000 plumbed on the survivors" wait_until 5 total_is 1000 n2 n3
	check "n1 holds none (its engine released them)" test "$(count_on n1)" = 0
	check "the client learnt no bulk address" test "$(L exec c ip neigh show to 198.18.0.0/15 | wc -l)" = 0
}

# Three IPv6 DuraVIPs, 2001:db8::100:N preferring nN, and the cluster started.
start_v6_three() {
	write_conf "$WORK/conf" <<'EOF'
ESMTP_Listener {
  Listen "[2001:db8::100:1]:25" { Enable_Duravip = true Duravip_Preference = "n1" }
  Listen "[2001:db8::100:2]:25" { Enable_Duravip = true Duravip_Preference = "n2" }
  Listen "[2001:db8::100:3]:25" { Enable_Duravip = true Duravip_Preference = "n3" }
}
EOF
	start_cluster "$WORK/conf/ecelerity.conf"
}

s_09_ipv6() {
	start_v6_three
	local i
	for i in 1 2 3; do
		check "2001:db8::100:$i held by n$i" wait_until 10 is_held_by "2001:db8::100:$i" "n$i"
		# An unsolicited NA only updates an entry the client already has.
		check "n$i answers on 2001:db8::100:$i" test "$(answer "2001:db8::100:$i")" = "n$i"
		check "client's entry for 2001:db8::100:$i is n$i's MAC" client_mac_is "2001:db8::100:$i" "n$i"
	done
	L kill n1 vipd -9
	check "2001:db8::100:1 taken over" wait_until 3 held_by_one_of 2001:db8::100:1 n2 n3
	local h
	h=$(holders 2001:db8::100:1)
	if [ -n "$h" ]; then
		check "neighbour advertisement moved the client's entry to $h" \
			wait_until 4 client_mac_is 2001:db8::100:1 "$h"
		check "$h answers on 2001:db8::100:1" test "$(answer 2001:db8::100:1)" = "$h"
	fi
}

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

s_10_crash_engine() {
	steady_six
	local t0 pid
	pid=$(L pid n1 engine)
	t0=$(date +%s%N)
	L kill n1 engine -9
	check "n1's monitor removed the crashed engine's DuraVIPs within 0.5 s" wait_until 0.5 count_is n1 0
	expect_taken_over n1 3
	log "n1's DuraVIPs on survivors $(ms_since "$t0") ms after kill -9 of its engine (polling included)"
	check "n1's monitor restarted the engine" wait_until 5 sh -c "p=\$($LAB --prefix $PREFIX pid n1 engine 2>/dev/null) && [ \"\$p\" != $pid ]"
	expect_owner 203.0.113.101 n1 10
	expect_owner 203.0.113.102 n1 10
}

s_11_hung_vipd() {
	steady_six
	local stopped t0
	stopped=$(L pid n2 engine)
	kill -STOP "$stopped"
	log "n2's engine $stopped stopped"
	sleep 0.5
	t0=$(date +%s%N)
	L kill n1 corosync -9
	check "n1's DuraVIPs on n3 within 3 s of n1's loss, n2 stopped" \
		wait_until 3 sh -c "[ \"\$($LAB --prefix $PREFIX addrs n3 | awk '{print \$2}' | grep -c '^203.0.113.10[12]$')\" = 2 ]"
	log "n1's DuraVIPs on n3 $(ms_since "$t0") ms after kill -9 of n1's corosync"
	check "the stopped n2 still holds its own" test "$(holders 203.0.113.103) $(holders 203.0.113.104)" = "n2 n2"
	check "n1 (corosync gone) holds nothing" wait_until 3 count_is n1 0
	t0=$(date +%s%N)
	kill -CONT "$stopped"
	log "n2's engine resumed"
	# view_mature_time (1 s) + 2 s: n2 and n3 hold their preferred ones, n1's stay on n3.
	converged() {
		is_held_by 203.0.113.101 n3 && is_held_by 203.0.113.102 n3 && is_held_by 203.0.113.103 n2 &&
			is_held_by 203.0.113.104 n2 && is_held_by 203.0.113.105 n3 && is_held_by 203.0.113.106 n3
	}
	check "converged within view_mature_time + 2 s after n2 resumed" wait_until 3 converged
	log "converged $(ms_since "$t0") ms after SIGCONT"
	check "vipctl on n2 answers" L exec n2 "$VIPCTL" cluster membership
}

s_12_hung_corosync() {
	steady_six
	local cpid t0
	cpid=$(L pid n3 corosync)
	t0=$(date +%s%N)
	kill -STOP "$cpid"
	log "n3's corosync $cpid stopped"
	check "n3 holds none of its DuraVIPs within 2 s" wait_until 2 count_is n3 0
	log "n3 released $(ms_since "$t0") ms after SIGSTOP of its corosync (polling included)"
	expect_taken_over n3 3
	log "n3's DuraVIPs answered by survivors $(ms_since "$t0") ms after SIGSTOP"
	# n3's loop never blocks on its stopped corosync: its console answers and says so.
	check "n3's vipctl cluster info reports corosync not live" sh -c "$LAB --prefix $PREFIX exec n3 $VIPCTL --json cluster info |
		python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"live\"] is False else 1)'"
	kill -CONT "$cpid"
	log "n3's corosync resumed"
	local a
	for a in $SIX; do expect_owner "$a" "$(pref_of "$a")" 15; done
}

# The six DuraVIPs and a health check on each node's own listener (port 7000, the one
# the client's connects are answered by).
HC_INTERVAL=0.2 HC_FALL=3 HC_RISE=2
steady_six_checked() {
	{
		six_vips
		echo "Health_Check \"svc\" { connect = \"127.0.0.1:7000\" interval = $HC_INTERVAL timeout = 1" \
			"fall = $HC_FALL rise = $HC_RISE }"
	} | write_conf "$WORK/conf"
	start_cluster "$WORK/conf/ecelerity.conf"
	local a
	for a in $SIX; do expect_owner "$a" "$(pref_of "$a")" 10; done
}

# DuraVIP a is with one of the nodes given and the client's neighbour entry points there.
followed() { # addr nodes...
	local a=$1 h
	shift
	held_by_one_of "$a" "$@" || return 1
	h=$(holders "$a")
	client_mac_is "$a" "$h"
}
both_followed() { followed 203.0.113.101 "$@" && followed 203.0.113.102 "$@"; }
answered() { # addr: its holder answers the client's TCP connect
	local h
	h=$(holders "$1")
	check "$h answers the client's TCP connect to $1" answers_within "$1" "$h" 3
}
both_home() { is_held_by 203.0.113.101 n1 && is_held_by 203.0.113.102 n1; }
member_json() { # node expr: evaluate expr on that node's `cluster membership --json` (as j)
	L exec "$1" "$VIPCTL" --json cluster membership | python3 -c "import json,sys; j=json.load(sys.stdin); print($2)"
}

s_13_health() {
	steady_six_checked
	local t0 took limit
	limit=$(awk -v f=$HC_FALL -v i=$HC_INTERVAL 'BEGIN { print f * i + 1 }')
	t0=$(date +%s%N)
	L kill n1 listen >/dev/null
	check "n1's DuraVIPs followed by the client to a survivor within fall x interval + 1 s = ${limit} s" \
		wait_until "$limit" both_followed n2 n3
	took=$(ms_since "$t0")
	log "client's neighbour entries on a survivor $took ms after n1's listener stopped (polling included)"
	answered 203.0.113.101
	answered 203.0.113.102
	log "the survivors answer the client's TCP connects $(ms_since "$t0") ms after n1's listener stopped"
	check "n1 holds nothing" wait_until 1 count_is n1 0
	check "n1 says why: unhealthy, svc, connection refused" \
		test "$(member_json n1 'j["node"]["reason"]')" = "svc (connect 127.0.0.1:7000: Connection refused, 3 of 3)"
	check "n2 shows n1 as out (unhealthy)" \
		test "$(member_json n2 '[m["out"] for m in j["members"] if m["name"] == "n1" and not m["monitor"]][0]')" = "['unhealthy']"
	sleep 1
	check "n1 takes nothing while unhealthy" count_is n1 0
	local a
	for a in 203.0.113.103 203.0.113.104 203.0.113.105 203.0.113.106; do
		check "$a stays with its preferred node" is_held_by "$a" "$(pref_of "$a")"
	done
	t0=$(date +%s%N)
	L bg n1 listen python3 -c "$listener" n1 >/dev/null
	check "n1's DuraVIPs come back within rise x interval + view_mature_time + 3 s" wait_until 4.4 both_home
	took=$(ms_since "$t0")
	log "n1's DuraVIPs back on n1 $took ms after its listener started (rise 2 x 0.2 s, view_mature_time 1 s)"
	check "not before view_mature_time (1 s): $took ms" test "$took" -ge 1000
	for a in 203.0.113.101 203.0.113.102; do expect_owner "$a" n1 5; done
}

s_14_standby() {
	steady_six
	local t0 took
	t0=$(date +%s%N)
	check "vipctl cluster node standby on n2" L exec n2 "$VIPCTL" cluster node standby
	both_n2_followed() { followed 203.0.113.103 n1 n3 && followed 203.0.113.104 n1 n3; }
	check "n2's DuraVIPs followed by the client to n1/n3" wait_until 3 both_n2_followed
	log "the client's neighbour entries on n1/n3 $(ms_since "$t0") ms after standby (polling included)"
	answered 203.0.113.103
	answered 203.0.113.104
	check "n2 holds nothing" wait_until 1 count_is n2 0
	check "n1 shows n2 in standby" \
		test "$(member_json n1 '[m["out"] for m in j["members"] if m["name"] == "n2" and not m["monitor"]][0]')" = "['standby']"
	check "n2 says it is in standby" test "$(member_json n2 'j["node"]["standby"]')" = True
	check "a move to n2 in standby changes nothing" L exec n1 "$VIPCTL" cluster duravip move 203.0.113.105 n2
	sleep 1
	check "n2 still holds nothing" count_is n2 0
	t0=$(date +%s%N)
	check "vipctl cluster node active on n2" L exec n2 "$VIPCTL" cluster node active
	n2_home() { is_held_by 203.0.113.103 n2 && is_held_by 203.0.113.104 n2; }
	check "n2's DuraVIPs come back within view_mature_time + 3 s" wait_until 4 n2_home
	took=$(ms_since "$t0")
	log "n2's DuraVIPs back $took ms after active (view_mature_time 1 s)"
	check "not before view_mature_time (1 s): $took ms" test "$took" -ge 1000
	local a
	for a in $SIX; do expect_owner "$a" "$(pref_of "$a")" 5; done
}

# Does NODE's `cluster arp show --json` list HOST with MAC, learnt by BY on eth0?
neigh_listed() { # node host mac by
	L exec "$1" "$VIPCTL" --json cluster arp show | python3 -c '
import json, sys
hosts = json.load(sys.stdin)["neighbour_cache"]["hosts"]
want = {"address": sys.argv[1], "mac": sys.argv[2], "node": sys.argv[3], "interface": "eth0"}
sys.exit(0 if any(all(h[k] == v for k, v in want.items()) for h in hosts) else 1)' "$2" "$3" "$4"
}

neigh_metric() { # node name -> its value in `vipctl --json metrics`
	L exec "$1" "$VIPCTL" --json metrics | python3 -c 'import json, sys; print(int(json.load(sys.stdin)[sys.argv[1]]))' "$2"
}

# wait_secs SECONDS command...: poll every 0.2 s until it succeeds, bounded by the clock (a slow
# command counts against the time, unlike wait_until's count of polls).
wait_secs() {
	local end=$(($(date +%s%N) + $1 * 1000000000))
	shift
	while :; do
		"$@" && return 0
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

s_15_neigh() {
	steady_six
	local mac t0 took
	mac=$(L exec c ip -br link show dev eth0 | awk '{ print $3 }')
	# a host n1 has never heard of: a second address of the client (its own namespace)
	not_listed() { ! neigh_listed "$@"; }
	check "the client gets a second address 203.0.113.201" L exec c ip addr add 203.0.113.201/24 dev eth0
	check "n2 does not know 203.0.113.201 before" not_listed n2 203.0.113.201 "$mac" n1
	check "the client connects to 203.0.113.101 (n1) from 203.0.113.201" \
		L exec c python3 -c '
import socket
s = socket.socket()
s.settimeout(2)
s.bind(("203.0.113.201", 0))
s.connect(("203.0.113.101", 7000))
s.recv(16)'
	t0=$(date +%s%N)
	check "n2 lists 203.0.113.201 with the client's MAC, learnt by n1, within 5 s of the connect" \
		wait_secs 5 neigh_listed n2 203.0.113.201 "$mac" n1
	took=$(ms_since "$t0")
	log "n2 lists the client's new address $took ms after the connect (one poll takes about a second here)"
	check "n1 lists it as learnt there" neigh_listed n1 203.0.113.201 "$mac" n1
	check "n3 too" wait_secs 3 neigh_listed n3 203.0.113.201 "$mac" n1
	check "n2 did not learn it itself" not_listed n2 203.0.113.201 "$mac" n2
	check "n2's metrics count the shared entries" test "$(neigh_metric n2 vipd_neigh_cache_entries)" -ge 1
	check "n2 merged NEIGH messages of the others" \
		test "$(neigh_metric n2 vipd_neigh_messages_received_total)" -ge 1
	check "n1 sent NEIGH messages" test "$(neigh_metric n1 vipd_neigh_messages_sent_total)" -ge 1
	log "n2's text view:"
	L exec n2 "$VIPCTL" cluster arp show | sed -n '/^Neighbour cache/,$p' | sed 's/^/    /'
	# a new member gets a full copy: n3's vipd restarted starts with an empty cache
	L kill n3 vipd
	check "n3's vipd stopped" wait_secs 10 count_is n3 0
	L start-vipd n3 "$CONF" >/dev/null
	check "n3, restarted, lists 203.0.113.201 learnt by n1 (the copy sent at its join) within 10 s" \
		wait_secs 10 neigh_listed n3 203.0.113.201 "$mac" n1
	for a in $SIX; do expect_owner "$a" "$(pref_of "$a")" 10; done
}

# 16-arp-unicast: one IPv4 and one IPv6 DuraVIP, both preferred by n1.
UNI="203.0.113.121 2001:db8::100:21"
uni_conf() { # dir arp_all_hosts
	write_conf "$1" "  arp_all_hosts = $2" <<'EOF'
Binding "u4" { Bind_Address = "203.0.113.121" Enable_Duravip = true Duravip_Preference = "n1" }
ESMTP_Listener {
  Listen "[2001:db8::100:21]:25" { Enable_Duravip = true Duravip_Preference = "n1" }
}
EOF
}
knows_client() { # node: its neighbour cache (cluster arp show --json) has the client's two addresses
	L exec "$1" "$VIPCTL" cluster arp show --json | python3 -c '
import json, sys
hosts = json.load(sys.stdin)["neighbour_cache"]["hosts"]
sys.exit(0 if {"203.0.113.200", "2001:db8::1:c8"} <= {h["address"] for h in hosts} else 1)'
}
metric() { # node name: one value of `vipctl metrics --json`
	L exec "$1" "$VIPCTL" metrics --json | python3 -c '
import json, sys
print(int(json.load(sys.stdin)[sys.argv[1]]))' "$2"
}
metric_sum() { # name nodes...: the sum of one metric over the nodes (a missing one counts 0)
	local name=$1 n sum=0 v
	shift
	for n in "$@"; do
		v=$(metric "$n" "$name")
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}
# A capture at the bystander of broadcast and multicast announcements of UNI, in the background
# for S seconds; its result line (packets=N) ends up in $S/host/TAG.log.
bystander_capture() { # tag seconds
	L bg host "$1" "$LABNET" capture --ns "$PREFIX-b" --match 203.0.113.121/32,2001:db8::100:21/128 \
		--group-only --timeout "$2" --ready "$WORK/$1.ready" >/dev/null
	wait_until 5 test -f "$WORK/$1.ready" || fail "capture $1 did not start"
}
captured() { # tag: its packets= once it has ended (bounded), else empty
	wait_until 15 grep -q 'packets=' "$S/host/$1.log" || return 0
	sed -n 's/.* packets=\([0-9]*\) .*/\1/p' "$S/host/$1.log" | tail -1
}

s_16_arp_unicast() {
	local a h n t_held got
	uni_conf "$WORK/conf" false
	start_cluster "$WORK/conf/ecelerity.conf"
	for a in $UNI; do check "$a held by n1" wait_until 10 is_held_by "$a" n1; done
	t_held=$(date +%s%N)
	# The client talks to both: its entries point at n1, n1's kernel learns the client.
	for a in $UNI; do
		check "n1 answers on $a" test "$(answer "$a")" = n1
		check "client's entry for $a is n1's MAC" client_mac_is "$a" n1
	done
	for n in n2 n3; do
		check "$n's neighbour cache has the client (IPv4 and IPv6), learnt by n1" wait_until 10 knows_client "$n"
	done
	# n1's own announcements (the first and 5 repeats 1.1 s apart) are over before the capture.
	while [ $(($(date +%s%N) - t_held)) -lt 7000000000 ]; do sleep 0.2; done
	bystander_capture cap1 8
	L kill n1 vipd -9
	for a in $UNI; do check "$a taken over" wait_until 5 held_by_one_of "$a" n2 n3; done
	# No connect before these checks: the entries can only have moved by an announcement.
	for a in $UNI; do
		h=$(holders "$a")
		[ -n "$h" ] || continue
		check "client's entry for $a moved to $h's MAC" wait_until 5 client_mac_is "$a" "$h"
	done
	for a in $UNI; do
		h=$(holders "$a")
		[ -n "$h" ] || continue
		got=$(metric "$h" vipd_announce_unicast_total)
		check "$h sent unicast announcements (vipd_announce_unicast_total $got)" test "${got:-0}" -gt 0
		got=$(metric "$h" vipd_announce_fallbacks_total)
		check "$h broadcast none for want of hosts (vipd_announce_fallbacks_total $got)" test "$got" = 0
		check "$h answers on $a" test "$(answer "$a")" = "$h"
	done
	got=$(captured cap1)
	check "the bystander captured no broadcast announcement of them (packets=$got)" test "$got" = 0

	# With true: n1 comes back and takes them over again, and broadcasts.
	uni_conf "$WORK/conf2" true
	check "n1 released everything" wait_until 2 count_is n1 0
	bystander_capture cap2 12
	L start-vipd n1 "$WORK/conf2/ecelerity.conf" >/dev/null
	for a in $UNI; do
		check "$a back on n1" wait_until 10 is_held_by "$a" n1
		check "client's entry for $a moved back to n1's MAC" wait_until 5 client_mac_is "$a" n1
	done
	got=$(captured cap2)
	check "the bystander captured n1's broadcast announcements (packets=$got)" test "${got:-0}" -gt 0
}

# shellcheck source=e2e-probe.sh
. "$here/e2e-probe.sh"

fn=s_${scenario//-/_}
declare -F "$fn" >/dev/null || { echo "unknown scenario $scenario" >&2; exit 2; }
log "scenario $scenario"
"$fn"
e2e_done
