#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Authenticated cluster messages on real corosync (knet) in three lab nodes
# (tools/lab; docs/protocol.md, "Authentication"). n1 and n2 run the real
# protocol with the lab's cluster key (cl-member --authkey); n3 runs a
# process corosync lets into the same group but without the key
# (cl-member --forge): its own STATE, a copy of the last STATE n1 or n2
# sent, and a MOVE of every DuraVIP to itself, every 300 ms.
#
#   1. n1 and n2 agree, with every DuraVIP owned by one of them (n3's
#      preferred one included) and each holding what is assigned to it,
#      while n3 is in the view (members=3): the round does not wait for n3;
#   2. for 6 s of forgeries (hundreds of messages) the assignment does not
#      change at all, n3 never owns anything, and both count the messages
#      that failed authentication.
#
# The control, the same forgery against a group without a key handing n3
# everything, is tests/unit/test-cl-auth.c (test_no_key_trusts_all).
#
#   test-cl-auth-corosync.sh CL_MEMBER LAB [LAB_NET]
set -euo pipefail

member=$1 lab=$2
[ -n "${3:-}" ] && export LAB_LAB_NET=$3

# shellcheck source=netns-lab.sh
. "$(dirname "$0")/netns-lab.sh"
netns_need_corosync

netns_lab "$lab" ca

"$lab" up 3
"$lab" start-corosync --wait 30
S=$("$lab" path)
[ -f "$S/authkey" ] || { echo "FAIL: the lab wrote no authkey"; exit 1; }
for n in n1 n2; do
	"$lab" bg "$n" member "$member" --node "$n" --vips 6 --mature-ms 1000 --balance-ms 3600000 \
		--max-seconds 100 --authkey "$S/authkey" >/dev/null
done
"$lab" bg n3 member "$member" --node n3 --vips 6 --mature-ms 1000 --balance-ms 3600000 \
	--max-seconds 100 --forge >/dev/null

log() { echo "$S/$1/member.log"; }
last_state() { grep '^STATE' "$(log "$1")" 2>/dev/null | tail -1; }
owners() { last_state "$1" | sed -n 's/.* owners=//p'; }
held() { last_state "$1" | sed -n 's/.* hold=\([^ ]*\) owners=.*/\1/p'; }
authfail() { last_state "$1" | sed -n 's/.* authfail=\([0-9]*\) .*/\1/p'; }
forged() { grep '^FORGED' "$(log n3)" 2>/dev/null | tail -1 | awk '{ print $2 }'; }
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

# n1 and n2: three members in view, round closed, same owners, all owned by
# n1 or n2, each holding exactly its share, and n3's messages refused.
keyed_agree() {
	local first="" n o
	for n in n1 n2; do
		last_state "$n" | grep -q " members=3 round=1 quorate=1 mature=1 " || return 1
		o=$(owners "$n")
		[ -n "$o" ] || return 1
		case ",$o" in *:-,* | *:n3,*) return 1 ;; esac
		[ -z "$first" ] && first=$o
		[ "$o" = "$first" ] || return 1
		[ "$(held "$n")" = "$(assigned "$n" "$n")" ] || return 1
		[ "$(authfail "$n")" -gt 0 ] || return 1
	done
}
forging() { [ "${forged:-0}" -ge 1 ] && [ "$(forged)" -ge $((forged + 50)) ]; }

wait_until "n1 and n2 agree with n3 in the view, n3 left out" 30 keyed_agree
before=$(owners n1)
echo "assignment: $before"
fail_before=$(authfail n1)
forged=$(forged)
forged=${forged:-0}
[ "$forged" -ge 1 ] || { echo "FAIL: n3 forged nothing yet"; exit 1; }

# 2. six seconds of forgeries: sampled every 0.2 s, nothing may change
for ((k = 0; k < 30; k++)); do
	keyed_agree || { echo "FAIL: n1/n2 no longer agree or n3 got in at sample $k"; tail -n 3 "$(log n1)"; exit 1; }
	[ "$(owners n1)" = "$before" ] || { echo "FAIL: the assignment changed: $(owners n1)"; exit 1; }
	sleep 0.2
done
now_forged=$(forged)
now_fail=$(authfail n1)
echo "ok: 6 s of forgeries ($((now_forged - forged)) forged messages from n3) changed nothing"
[ "$now_forged" -gt $((forged + 50)) ] || { echo "FAIL: n3 forged only $((now_forged - forged)) messages"; exit 1; }
[ "$now_fail" -gt "$fail_before" ] || { echo "FAIL: n1 counted no failed messages ($fail_before -> $now_fail)"; exit 1; }
echo "ok: n1 counted $now_fail messages that failed authentication"
grep -q ':n3,' <<<"$(owners n1)" && { echo "FAIL: n3 owns something"; exit 1; }
echo "PASS"
