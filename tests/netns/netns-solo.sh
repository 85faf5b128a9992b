# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# tests/netns/netns-solo.sh: what the netns tests that run vipd alone in a
# namespace share (sourced): skip or fail, the ok/FAIL lines and their
# counters (PASSES, FAILS), and a bounded wait.

PASSES=0
FAILS=0

# Exit 77 (skip), or 1 when VIPD_REQUIRE_NETNS=1 (tools/check as root).
skip_or_fail() {
	if [ "${VIPD_REQUIRE_NETNS:-0}" = 1 ]; then
		echo "FAIL: $*" >&2
		exit 1
	fi
	echo "SKIP: $*" >&2
	exit 77
}

ok() { echo "ok   - $*"; PASSES=$((PASSES + 1)); }
fail() { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }
check() { # check "description" command...
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# wait_for MAX_MS command...: poll every 20 ms until command succeeds.
wait_for() {
	local max=$1 start
	shift
	start=$(now_ms)
	while ! "$@"; do
		[ $(($(now_ms) - start)) -ge "$max" ] && return 1
		sleep 0.02
	done
	return 0
}
