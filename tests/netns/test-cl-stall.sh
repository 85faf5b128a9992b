#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The cpg backend against a real corosync that stops answering (tools/lab,
# two nodes): cl-stall on n1 plays vipd's loop while
#
#   1. n2's corosync is killed and started again: membership changes that
#      stall delivery for a moment must not trip the liveness watchdog;
#   2. n1's corosync is SIGSTOPped: the backend reports not alive within
#      timeout + probe interval (+ 100 ms slack), and no send or
#      dispatch on the loop thread takes long while it stays stopped;
#   3. SIGCONT: alive again, own messages delivered again;
#   4. SIGSTOP again: leave and free return within a bound (the worker is
#      left behind), then SIGCONT.
#
#   test-cl-stall.sh CL_STALL LAB [LAB_NET]
set -euo pipefail

stall=$1 lab=$2
[ -n "${3:-}" ] && export LAB_LAB_NET=$3

# shellcheck source=netns-lab.sh
. "$(dirname "$0")/netns-lab.sh"
netns_need_corosync

netns_lab "$lab" cs

"$lab" up 2
"$lab" start-corosync --wait 30
S=$("$lab" path)
pid=$("$lab" pid n1 corosync)
timeout_ms=150 # the lab's token (fast timing): vipd's default duravip_liveness_timeout
"$lab" bg n1 stall "$stall" --corosync-pid "$pid" --timeout-ms "$timeout_ms" \
	--watch-ms 9000 --stopped-ms 2000 >/dev/null
out=$S/n1/stall.log

wait_for() { # pattern seconds
	local k
	for ((k = 0; k < $2 * 10; k++)); do
		grep -q "$1" "$out" 2>/dev/null && return 0
		"$lab" pid n1 stall >/dev/null 2>&1 || break
		sleep 0.1
	done
	grep -q "$1" "$out" 2>/dev/null
}
wait_for '^READY' 20 || { echo "FAIL: cl-stall not ready"; cat "$out"; exit 1; }
# membership changes during the watch window
"$lab" kill n2 corosync -9
sleep 3
"$lab" start-corosync --wait 20 n2
wait_for '^RESULT' 30 || { echo "FAIL: no result"; cat "$out"; exit 1; }
for ((k = 0; k < 50; k++)); do
	"$lab" pid n1 stall >/dev/null 2>&1 || break
	sleep 0.1
done
cat "$out"
# cl-stall continues corosync on the way out; make sure it runs
kill -CONT "$pid" 2>/dev/null || true
if grep -q '^FAIL' "$out" || ! grep -q '^FREE with' "$out"; then
	echo "FAIL"
	exit 1
fi
echo "PASS"
