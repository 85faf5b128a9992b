#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The ownership protocol on real corosync (knet) in three lab nodes, each with
# its own network and mount namespace (tools/lab). One cl-member per node runs
# the real protocol over the cpg backend and prints its view of the assignment.
#
#   1. the three agree on one assignment; after maturity the preferred
#      DuraVIPs (i < 3 prefers n(i+1)) are at home and each node holds
#      exactly what the assignment gives it; balancing rounds (BALANCE over
#      CPG) even the six out to two each;
#   2. kill -9 n3's corosync: n1 and n2 agree on a new assignment that moves
#      only n3's addresses; n3 reports LOST and holds nothing;
#   3. corosync back on n3: its member reconnects, nothing moves to n3 before
#      its view is mature, then its preferred address returns, and the
#      balancing rounds even the loads out again;
#   4. partition n3 from n1 and n2 (lab partition): votequorum tells n3 it
#      is inquorate, so it releases everything while n1 and n2 take over;
#      after the heal the three agree again;
#   5. SIGSTOP n3's member (it stops speaking, keeps what it holds), then
#      kill -9 n2's corosync: n1 closes the round at the round timeout
#      (2 s in cl-member) and takes n2's addresses while n3's stay n3's;
#      SIGCONT n3: n1 and n3 agree again, n3 still holding its own.
#
#   test-cl-corosync.sh CL_MEMBER LAB [LAB_NET]
set -euo pipefail

member=$1 lab=$2
[ -n "${3:-}" ] && export LAB_LAB_NET=$3

# shellcheck source=netns-lab.sh
. "$(dirname "$0")/netns-lab.sh"
netns_need_corosync

netns_lab "$lab" cl

"$lab" up 3
"$lab" start-corosync --wait 30
S=$("$lab" path)
for n in n1 n2 n3; do
	"$lab" bg "$n" member "$member" --node "$n" --vips 6 --mature-ms 2000 \
		--balance-ms 1500 --max-seconds 170 >/dev/null
done

log() { echo "$S/$1/member.log"; }
last_state() { grep '^STATE' "$(log "$1")" 2>/dev/null | tail -1; }
owners() { last_state "$1" | sed -n 's/.* owners=//p'; }
held() { last_state "$1" | sed -n 's/.* hold=\([^ ]*\) owners=.*/\1/p'; }
assigned() { owners "$2" | tr ',' '\n' | awk -F: -v n="$1" '$2 == n { printf "%s,", $1 }'; }

wait_until() { # description seconds command...
	local desc=$1 t=$2 k start=$SECONDS
	shift 2
	for ((k = 0; k < t * 10; k++)); do
		if "$@"; then
			echo "ok: $desc (after $((SECONDS - start)) s)"
			return 0
		fi
		sleep 0.1
	done
	echo "FAIL: $desc (within $t s)"
	for n in n1 n2 n3; do
		echo "--- $n"
		tail -n 6 "$(log "$n")" || true
	done
	exit 1
}

# Every node named: complete round, quorate, same owners, every DuraVIP owned,
# and each holds exactly what is assigned to it.
agree() {
	local first="" n o
	for n in "$@"; do
		last_state "$n" | grep -q " members=$# round=1 quorate=1 " || return 1
		o=$(owners "$n")
		[ -n "$o" ] || return 1
		case ",$o" in *:-,*) return 1 ;; esac
		[ -z "$first" ] && first=$o
		[ "$o" = "$first" ] || return 1
		[ "$(held "$n")" = "$(assigned "$n" "$n")" ] || return 1
	done
}
preferred_home() {
	[[ $(owners "$1") == 198.51.100.10:n1,198.51.100.11:n2,198.51.100.12:n3,* ]]
}
all_agree_home() { agree n1 n2 n3 && preferred_home n1; }
balanced() { # every node owns two of the six
	local n
	for n in n1 n2 n3; do
		[ "$(owners n1 | tr ',' '\n' | grep -c ":$n\$")" = 2 ] || return 1
	done
}
all_home_balanced() { all_agree_home && balanced; }

wait_until "three members agree" 30 agree n1 n2 n3
wait_until "preferred addresses at home after maturity" 20 all_agree_home
wait_until "balancing rounds: two each" 30 all_home_balanced
before=$(owners n1)
echo "assignment: $before"

"$lab" kill n3 corosync -9
survivors() {
	agree n1 n2 || return 1
	[[ $(owners n1) != *:n3,* ]] || return 1
	grep -q '^LOST' "$(log n3)" || return 1
	[ -z "$(held n3)" ]
}
wait_until "n1 and n2 agree without n3; n3 lost and holds nothing" 20 survivors
after=$(owners n1)
echo "assignment: $after"
# only n3's addresses moved
IFS=, read -ra b <<<"$before"
IFS=, read -ra a <<<"$after"
for i in "${!b[@]}"; do
	case ${b[i]} in
	*:n3) ;;
	*) [ "${b[i]}" = "${a[i]}" ] || { echo "FAIL: ${b[i]} moved to ${a[i]}"; exit 1; } ;;
	esac
done
echo "ok: only n3's addresses moved"

"$lab" start-corosync --wait 30 n3
rejoined() { grep -q '^CONNECTED' <(sed -n '/^LOST/,$p' "$(log n3)"); }
wait_until "n3's member reconnected" 20 rejoined
wait_until "n3 back: three agree, its preferred address returned" 30 all_agree_home
# Before its view matured n3 had a complete round with 198.51.100.12 elsewhere.
if ! sed -n '/^LOST/,$p' "$(log n3)" | grep ' members=3 round=1 ' | head -1 |
	grep -q '198\.51\.100\.12:n[12],'; then
	echo "FAIL: 198.51.100.12 went back to n3 before its view was mature"
	sed -n '/^LOST/,$p' "$(log n3)" | head -n 8
	exit 1
fi
echo "ok: the hand-back waited for maturity"
wait_until "balanced again: two each" 30 all_home_balanced

"$lab" partition n1,n2 n3
cut_off() {
	agree n1 n2 || return 1
	[[ $(owners n1) != *:n3,* ]] || return 1
	last_state n3 | grep -q " quorate=0 " || return 1
	[ -z "$(held n3)" ]
}
wait_until "partition: n3 inquorate and empty, n1 and n2 hold all" 20 cut_off
"$lab" heal
wait_until "healed: three agree, preferred at home, balanced" 40 all_home_balanced

n3_had=$(held n3)
before=$(owners n1)
kill -STOP "$("$lab" pid n3 member)"
t0=$(date +%s%N)
"$lab" kill n2 corosync -9
silent_kept() {
	last_state n1 | grep -q " members=2 round=1 quorate=1 " || return 1
	[[ $(owners n1) != *:n2,* ]] || return 1
	[[ $(owners n1) != *:-,* ]] || return 1
	local a
	for a in ${n3_had//,/ }; do
		[[ ,$(owners n1) == *,$a:n3,* ]] || return 1 # still n3's
	done
	[ "$(held n1)" = "$(assigned n1 n1)" ]
}
wait_until "n3 stopped, n2 lost: n1 took n2's addresses, n3 keeps its own" 20 silent_kept
echo "measured: n2's addresses at n1 $((($(date +%s%N) - t0) / 1000000)) ms after its corosync was killed (round timeout 2000 ms)"
echo "assignment: $before -> $(owners n1)"
kill -CONT "$("$lab" pid n3 member)"
resumed() { agree n1 n3 && [ "$(held n3)" = "$n3_had" ]; }
wait_until "n3 resumed: n1 and n3 agree, n3 still holds its own" 20 resumed
echo "PASS"
