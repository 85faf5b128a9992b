# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# tests/netns/netns-lab.sh: what the netns tests that run a lab with real
# corosync share (sourced). Skips with 77, or fails when VIPD_REQUIRE_NETNS=1
# (tools/check as root), when something is missing.

netns_skip() {
	if [ "${VIPD_REQUIRE_NETNS:-0}" = 1 ]; then echo "FAIL (required): $*"; exit 1; fi
	echo "SKIP: $*"
	exit 77
}

# Root, corosync and nsenter, or skip.
netns_need_corosync() {
	[ "$(id -u)" = 0 ] || netns_skip "needs root"
	command -v corosync >/dev/null || netns_skip "corosync is not installed"
	command -v nsenter >/dev/null || netns_skip "nsenter is not installed"
}

# netns_lab LAB TAG: the lab script and its prefix (VIPD_LAB_PREFIX, else TAG
# and our pid); the lab is taken down on exit, and so is every command in
# NETNS_CLEANUP (a test appends its own).
netns_lab() {
	NETNS_LAB=$1
	export LAB_PREFIX=${VIPD_LAB_PREFIX:-$2$(($$ % 10000))}
	NETNS_CLEANUP=${NETNS_CLEANUP:-}
	trap '"$NETNS_LAB" down >/dev/null 2>&1 || true; eval "$NETNS_CLEANUP"' EXIT
}
