#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Who may do what on the control socket, with real peer credentials
# (SO_PEERCRED / SO_PEERGROUPS) in a fresh network namespace: a member of the
# Security group reads but is refused (exit 3, naming what is needed) every
# command that changes state; Control { admin_group } (a numeric gid here)
# lets its members change state, applied live by a reload and taken back by
# the next; root always may. Twelve `vipctl events` from the Security user
# do not lock root out (per-uid limit, root's reserved slots). Then
# Security { chroot }: a reload reads the configuration inside the chroot.
#
# Usage: test-vipd-authority.sh VIPD VIPCTL
# Exit 77 (skip) without root, unless VIPD_REQUIRE_NETNS=1 (then fail).
set -u
# shellcheck source=netns-solo.sh
. "$(dirname "$0")/netns-solo.sh"

VIPD=${1:?vipd binary}
VIPCTL=${2:?vipctl binary}
NS=va-$$-vipd
TMP=
PIDS=()
ADMIN_GID=47110


[ "$(id -u)" -eq 0 ] || skip_or_fail "needs root"
id ecuser >/dev/null 2>&1 || skip_or_fail "needs the ecuser account (tools/deps)"
command -v python3 >/dev/null || skip_or_fail "needs python3"

cleanup() {
	for p in "${PIDS[@]}"; do
		for e in $(pgrep -P "$p" 2>/dev/null); do kill -9 "$e" 2>/dev/null; done
		kill -9 "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT

has_addr() { ip -n "$NS" -o addr show dev veth0 | grep -q " $1/"; }

TMP=$(mktemp -d /tmp/vipd-auth.XXXXXX)
chmod 755 "$TMP"
EGID=$(id -g ecuser)
write_config() { # FILE EXTRA ADDR...
	local file=$1 extra=$2
	shift 2
	{
		echo "Security { user = ecuser group = ecuser Capabilities = \"cap_net_admin+ep cap_net_raw+ep\" $extra }"
		local i=0
		for a in "$@"; do
			i=$((i + 1))
			echo "Binding \"b$i\" { Bind_Address = $a Enable_Duravip = true }"
		done
	} >"$file.new"
	chmod 644 "$file.new"
	mv "$file.new" "$file"
}
CONF="$TMP/ecelerity.conf"
write_config "$CONF" "" 198.51.100.71

ip netns add "$NS" || skip_or_fail "cannot create a network namespace"
ip -n "$NS" link set lo up
ip -n "$NS" link add veth0 type veth peer name veth1
ip -n "$NS" addr add 198.51.100.1/24 dev veth0
ip -n "$NS" link set veth1 up
ip -n "$NS" link set veth0 up

CTL="$TMP/run/control"
start_vipd() { # CONFIG
	ip netns exec "$NS" "$VIPD" -f -c "$1" --nodename a1 --control "$CTL" >>"$TMP/vipd.log" 2>&1 &
	VIPD_PID=$!
	PIDS+=("$VIPD_PID")
}
stop_vipd() {
	kill -TERM "$VIPD_PID" 2>/dev/null
	wait_for 5000 bash -c "! kill -0 $VIPD_PID 2>/dev/null"
	wait "$VIPD_PID" 2>/dev/null
}
as_root() { ip netns exec "$NS" "$VIPCTL" -s "$CTL" "$@"; }
# The Security group's member: another uid (nobody) with ecuser's gid.
as_member() { ip netns exec "$NS" setpriv --reuid=65534 --regid="$EGID" --clear-groups "$VIPCTL" -s "$CTL" "$@"; }
# The same, also in the admin group (a supplementary gid).
as_admin() { ip netns exec "$NS" setpriv --reuid=65534 --regid="$EGID" --groups="$ADMIN_GID" "$VIPCTL" -s "$CTL" "$@"; }
json_is() { # EXPR: stdin is one JSON document for which the Python expression (on o) holds
	python3 -c "import json, sys; o = json.load(sys.stdin); sys.exit(0 if ($1) else 1)"
}

start_vipd "$CONF"
wait_for 5000 has_addr 198.51.100.71 || fail "vipd plumbed its DuraVIP"

# ---------------------------------------------------------------- read-only vs changes state
as_member cluster info >/dev/null 2>&1
rc=$?
check "a Security-group member reads: cluster info (exit $rc)" [ "$rc" -eq 0 ]
out=$(as_member metrics 2>&1)
check "... metrics" grep -q vipd_duravips_owned <<<"$out"
for cmd in "cluster duravip move 198.51.100.71 a1" "cluster duravip balance" "cluster duravip announce view" "config reload"; do
	# shellcheck disable=SC2086
	out=$(as_member $cmd 2>&1)
	rc=$?
	check "a member is refused '$cmd' (exit $rc)" [ "$rc" -eq 3 ]
	check "... saying it needs root: $out" grep -q "changes state: it needs root (no Control { admin_group } is set)" <<<"$out"
done
# shellcheck disable=SC2086
check "the refusal under --json is one JSON object with status 3" \
	bash -c "ip netns exec $NS setpriv --reuid=65534 --regid=$EGID --clear-groups $VIPCTL -s $CTL --json config reload |
	python3 -c 'import json, sys; o = json.load(sys.stdin); sys.exit(0 if o[\"status\"] == 3 and \"needs root\" in o[\"error\"] else 1)'"
as_root cluster duravip announce view >/dev/null 2>&1
rc=$?
check "root may change state: announce view (exit $rc)" [ "$rc" -eq 0 ]

# ---------------------------------------------------------------- Control { admin_group }, live
echo "Control { admin_group = $ADMIN_GID }" >>"$CONF"
out=$(as_root config reload 2>&1)
echo "$out" | sed 's/^/     | /'
check "the reload says admin_group applies live" grep -q "Control admin_group is now $ADMIN_GID (applied live)" <<<"$out"
out=$(as_admin cluster duravip announce view 2>&1)
rc=$?
check "a member of admin_group may change state now (exit $rc: $out)" [ "$rc" -eq 0 ]
out=$(as_member cluster duravip balance 2>&1)
rc=$?
check "a member outside it is still refused (exit $rc), told the group: $out" \
	grep -q "it needs root or membership in group $ADMIN_GID" <<<"$out"
write_config "$CONF" "" 198.51.100.71
out=$(as_admin --json config reload)
check "the admin group member reloads a file without it: JSON says so" \
	json_is 'o["admin_group_changed"] is True and o["admin_group"] is None' <<<"$out"
out=$(as_admin cluster duravip announce view 2>&1)
rc=$?
check "... and from then on is refused (exit $rc)" [ "$rc" -eq 3 ]

# ---------------------------------------------------------------- root is never locked out
EV=()
for i in $(seq 1 12); do
	ip netns exec "$NS" setpriv --reuid=ecuser --regid=ecuser --clear-groups "$VIPCTL" -s "$CTL" events \
		>"$TMP/ev$i" 2>&1 &
	EV+=("$!")
	PIDS+=("$!")
done
# Each either streams (its first line) or was refused: wait until all twelve said which.
n_sub() { grep -l "^# events of node" "$TMP"/ev* 2>/dev/null | wc -l; }
n_busy() { grep -l "too many connections from your user" "$TMP"/ev* 2>/dev/null | wc -l; }
wait_for 5000 bash -c "[ \$(( \$(grep -l '^# events of node' $TMP/ev* | wc -l) + \$(grep -l 'too many connections' $TMP/ev* | wc -l) )) -ge 12 ]"
sub=$(n_sub) busy=$(n_busy)
check "twelve 'vipctl events' from ecuser: 8 stream ($sub), 4 are refused busy ($busy)" \
	bash -c "[ $sub -eq 8 ] && [ $busy -eq 4 ]"
out=$(as_root cluster info 2>&1)
rc=$?
check "root still gets in (exit $rc)" [ "$rc" -eq 0 ]
for p in "${EV[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
stop_vipd

# ---------------------------------------------------------------- Security { chroot }: reload
CH="$TMP/jail"
mkdir -p "$CH/etc"
chmod 755 "$CH" "$CH/etc"
write_config "$CH/etc/ecelerity.conf" "chroot = \"$CH\"" 198.51.100.72
start_vipd "$CH/etc/ecelerity.conf"
check "vipd in a chroot plumbed its DuraVIP" wait_for 5000 has_addr 198.51.100.72
E=$(pgrep -P "$VIPD_PID" | head -1)
check "the engine is inside the chroot ($(readlink "/proc/${E:-0}/root"))" [ "$(readlink "/proc/${E:-0}/root")" = "$CH" ]
write_config "$CH/etc/ecelerity.conf" "chroot = \"$CH\"" 198.51.100.72 198.51.100.73
out=$(as_root config reload 2>&1)
rc=$?
echo "$out" | sed 's/^/     | /'
check "a reload inside the chroot reads the configuration (exit $rc)" [ "$rc" -eq 0 ]
check "... and adds 198.51.100.73" wait_for 3000 has_addr 198.51.100.73
stop_vipd

[ "$FAILS" -eq 0 ] || {
	sed 's/^/     | /' "$TMP/vipd.log"
	echo "$FAILS check(s) failed"
	exit 1
}
echo "all checks passed"
