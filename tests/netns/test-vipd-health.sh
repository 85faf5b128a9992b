#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A solo vipd with a health check command and a notify hook, in a fresh
# network namespace: the check starts failing -> every DuraVIP unplumbed
# within fall x interval + 1 s; passing again -> plumbed after rise passes
# (within rise x interval + 1 s); the hook saw acquire, release and node
# lines and ran with CapEff 0 (so did the check command), the reason is in
# `cluster membership --json`; standby and active alone.
#
# Usage: test-vipd-health.sh VIPD VIPCTL
# Exit 77 (skip) without root, unless VIPD_REQUIRE_NETNS=1 (then fail).
set -u
# shellcheck source=netns-solo.sh
. "$(dirname "$0")/netns-solo.sh"

VIPD=${1:?vipd binary}
VIPCTL=${2:?vipctl binary}
NS=vh-$$-vipd
TMP=
PIDS=()


[ "$(id -u)" -eq 0 ] || skip_or_fail "needs root"
id ecuser >/dev/null 2>&1 || skip_or_fail "needs the ecuser account (tools/deps)"
command -v python3 >/dev/null || skip_or_fail "needs python3 (to parse JSON)"

cleanup() {
	for p in "${PIDS[@]}"; do
		for e in $(pgrep -P "$p" 2>/dev/null); do kill -9 "$e" 2>/dev/null; done
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT

has_addr() { ip -n "$NS" -o addr show dev veth0 | grep -q " $1/"; }
ADDRS="198.51.100.21 198.51.100.30 2001:db8:1::30"
all_plumbed() { for a in $ADDRS; do has_addr "$a" || return 1; done; }
none_plumbed() { for a in $ADDRS; do has_addr "$a" && return 1; done; return 0; }

TMP=$(mktemp -d /tmp/vipd-health.XXXXXX)
chmod 755 "$TMP"
mkdir "$TMP/run" "$TMP/out"
chown ecuser "$TMP/out"   # the check and the hook write here as ecuser
touch "$TMP/healthy"
# The check: healthy while the flag file exists; it also records its own CapEff once.
cat >"$TMP/check.sh" <<EOF
#!/bin/sh
[ -e $TMP/out/check-capeff ] || awk '/^CapEff:/{print \$2}' /proc/self/status >$TMP/out/check-capeff
test -e $TMP/healthy
EOF
# The hook: one line per run, with its CapEff.
cat >"$TMP/hook.sh" <<EOF
#!/bin/sh
echo "\$* capeff=\$(awk '/^CapEff:/{print \$2}' /proc/self/status)" >>$TMP/out/hooks.log
EOF
chmod 755 "$TMP/check.sh" "$TMP/hook.sh"

INTERVAL=0.2
FALL=3
RISE=2
cat >"$TMP/ecelerity.conf" <<EOF
Security { user = ecuser group = ecuser Capabilities = "cap_net_admin+ep cap_net_raw+ep" }
Binding "b1" { Bind_Address = 198.51.100.21 Enable_Duravip = true }
Binding "b2" { Bind_Address = 198.51.100.30 Enable_Duravip = true }
ESMTP_Listener { Listen "[2001:db8:1::30]:25" { Enable_Duravip = true } }
Health_Check "svc" { command = "$TMP/check.sh" interval = $INTERVAL timeout = 1 fall = $FALL rise = $RISE }
Notify { command = "$TMP/hook.sh" timeout = 2 }
EOF
chmod 644 "$TMP/ecelerity.conf"

ip netns add "$NS" || skip_or_fail "cannot create a network namespace"
ip -n "$NS" link add veth0 type veth peer name veth1
ip -n "$NS" link set lo up
ip -n "$NS" addr add 198.51.100.1/24 dev veth0
ip -n "$NS" addr add 2001:db8:1::1/64 dev veth0 nodad
ip -n "$NS" link set veth0 up
ip -n "$NS" link set veth1 up

CTL="$TMP/run/control"
vipctl() { ip netns exec "$NS" "$VIPCTL" -s "$CTL" "$@"; }
json() { # json EXPR: evaluate EXPR on `cluster membership --json` (as j)
	vipctl --json cluster membership | python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"
}

t0=$(now_ms)
ip netns exec "$NS" "$VIPD" -f -c "$TMP/ecelerity.conf" --nodename solo1 --control "$CTL" >>"$TMP/vipd.log" 2>&1 &
PIDS+=("$!")
if wait_for 5000 all_plumbed; then
	ok "plumbed $(($(now_ms) - t0)) ms after start, once the check passed $RISE times"
else
	fail "plumbed within 5 s"
fi

# ---------------------------------------------------------------- the check fails
limit=$((FALL * 200 + 1000))
rm -f "$TMP/healthy"
t0=$(now_ms)
if wait_for 5000 none_plumbed; then
	took=$(($(now_ms) - t0))
	check "unplumbed $took ms after the check started failing (limit fall x interval + 1 s = $limit ms)" \
		[ "$took" -le "$limit" ]
else
	fail "unplumbed after the check started failing"
fi
check "membership: not healthy" [ "$(json 'j["node"]["healthy"]')" = False ]
reason=$(json 'j["node"]["reason"]')
check "membership: the reason ($reason)" [ "$reason" = "svc (command $TMP/check.sh: exited with status 1, 3 of 3)" ]
check "membership: this member is out, unhealthy" [ "$(json 'j["members"][0]["out"]')" = "['unhealthy']" ]
check "metrics: vipd_node_healthy 0" sh -c "ip netns exec $NS $VIPCTL -s $CTL metrics | grep -qx 'vipd_node_healthy 0'"

# ---------------------------------------------------------------- it passes again
limit=$((RISE * 200 + 1000))
touch "$TMP/healthy"
t0=$(now_ms)
if wait_for 5000 all_plumbed; then
	took=$(($(now_ms) - t0))
	check "plumbed again $took ms after the check passes (limit rise x interval + 1 s = $limit ms)" \
		[ "$took" -le "$limit" ]
else
	fail "plumbed again after the check passes"
fi

# ---------------------------------------------------------------- standby, active
vipctl cluster node standby >/dev/null
check "standby: every DuraVIP unplumbed" wait_for 2000 none_plumbed
vipctl cluster node active >/dev/null
check "active: every DuraVIP plumbed again" wait_for 2000 all_plumbed

# ---------------------------------------------------------------- the hook
hooks_have() { grep -q "^$1 capeff=" "$TMP/out/hooks.log" 2>/dev/null; }
for a in $ADDRS; do
	check "hook: acquire $a veth0" wait_for 3000 hooks_have "acquire $a veth0"
	check "hook: release $a veth0" wait_for 3000 hooks_have "release $a veth0"
done
for s in unhealthy healthy standby active; do
	check "hook: node $s" wait_for 3000 hooks_have "node $s"
done
caps=$(sed 's/.*capeff=//' "$TMP/out/hooks.log" | sort -u | tr '\n' ' ')
check "every hook ran with CapEff 0 ($caps)" [ "$caps" = "0000000000000000 " ]
check "the check command ran with CapEff 0 ($(cat "$TMP/out/check-capeff" 2>/dev/null))" \
	grep -qx 0000000000000000 "$TMP/out/check-capeff"
order=$(grep " 198.51.100.21 " "$TMP/out/hooks.log" | awk '{print $1}' | tr '\n' ' ')
check "hook runs for one address in order ($order)" \
	[ "$order" = "acquire release acquire release acquire " ]
check "metrics: no hook failed" sh -c "ip netns exec $NS $VIPCTL -s $CTL metrics | grep -qx 'vipd_hook_failures_total 0'"

# ---------------------------------------------------------------- stop
kill -TERM "${PIDS[0]}"
check "SIGTERM: vipd exits 0" wait "${PIDS[0]}"
PIDS=()
check "SIGTERM: nothing left plumbed" none_plumbed

if [ "$FAILS" -ne 0 ]; then
	echo "--- vipd log"
	tail -40 "$TMP/vipd.log"
	echo "--- hooks"
	cat "$TMP/out/hooks.log" 2>/dev/null
	exit 1
fi
echo "all passed"
