#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vipd's monitor on real corosync (two lab nodes, tools/lab): n1 runs vipd with
# a cluster scope, n2 a silent listener (mon-listen) that prints what monitors
# multicast. Checks, as the other members see it (docs/privileges.md):
#   1. the monitor (uid 0) joins the group and multicasts MONITOR{n1};
#   2. kill -9 of n1's engine: FLUSHED{n1} arrives (timed from the kill), the
#      monitor restarts the engine, and says MONITOR{n1} again on the new view;
#   3. SIGTERM to the monitor: it exits 0 and leaves no engine behind.
#
#   test-vipd-monitor-corosync.sh VIPD MON_LISTEN LAB [LAB_NET]
set -euo pipefail

vipd=$1 listen=$2 lab=$3
[ -n "${4:-}" ] && export LAB_LAB_NET=$4
export LAB_VIPD=$vipd

# shellcheck source=netns-lab.sh
. "$(dirname "$0")/netns-lab.sh"
netns_need_corosync
id ecuser >/dev/null 2>&1 || netns_skip "needs the ecuser account (tools/deps)"

WORK=$(mktemp -d /tmp/vipd-monitor-cs.XXXXXX)
NETNS_CLEANUP='rm -rf "$WORK"'
netns_lab "$lab" mo
FAILS=0
ok() { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
wait_for() { # seconds command...
	local t=$1 k
	shift
	for ((k = 0; k < t * 50; k++)); do
		"$@" && return 0
		sleep 0.02
	done
	return 1
}

chmod 755 "$WORK"
cat >"$WORK/ecelerity.conf" <<'CONF'
Security {
  user = ecuser
  group = ecuser
  capabilities = "cap_net_admin+ep cap_net_raw+ep"
}
cluster {
  nodename = "n1"
  cluster_group = "mo-test"
  view_mature_time = 1
  Topology "203.0.113.0/24" { interface = "eth0" cidrmask = "32" }
}
Binding "b1" { Bind_Address = 203.0.113.150 Enable_Duravip = true Duravip_Preference = "n1" }
CONF
chmod 644 "$WORK/ecelerity.conf"

"$lab" up 2 >/dev/null
"$lab" start-corosync --wait 30 >/dev/null
S=$("$lab" path)
"$lab" bg n2 listen "$listen" --group mo-test --max-seconds 100 >/dev/null
L=$S/n2/listen.log
wait_for 10 grep -q '^JOINED' "$L" || { fail "the listener joined"; exit 1; }

"$lab" start-vipd n1 "$WORK/ecelerity.conf" >/dev/null
V=$S/n1/vipd.log
count() { grep -c "^$1 name=n1 " "$L" || true; }
if wait_for 10 grep -q '^MONITOR name=n1 ' "$L"; then
	ok "n2 got MONITOR{n1} from n1's monitor"
else
	fail "MONITOR{n1} within 10 s"
fi
MON=$("$lab" pid n1 vipd)
ENGINE=$("$lab" pid n1 engine || true)
if grep -q '^Uid:[[:space:]]*0[[:space:]]*0[[:space:]]*0[[:space:]]*0$' "/proc/$MON/status"; then
	ok "the monitor (pid $MON) is uid 0"
else
	fail "the monitor is uid 0"
fi
if [ -n "$ENGINE" ] && wait_for 10 bash -c "awk -v u=$(id -u ecuser) '/^Uid:/{exit !(\$2==u)}' /proc/$ENGINE/status"; then
	ok "the engine (pid $ENGINE) runs as ecuser"
else
	fail "the engine runs as ecuser"
fi
wait_for 5 grep -q 'monitor: engine .* is ready' "$V" || fail "the engine is ready"

# ---- kill -9 of the engine: FLUSHED, restart, MONITOR again
monitors=$(count MONITOR)
t0=$(date +%s%N)
"$lab" kill n1 engine -9
if wait_for 3 grep -q '^FLUSHED name=n1 ' "$L"; then
	t1=$(sed -n 's/^FLUSHED name=n1 .* ms=\([0-9]*\)$/\1/p' "$L" | head -1)
	ok "FLUSHED{n1} delivered at n2 $((t1 - t0 / 1000000)) ms after \`lab kill n1 engine -9\` began"
else
	fail "FLUSHED{n1} within 3 s of kill -9 of the engine"
	tail -20 "$V"
fi
if wait_for 5 bash -c "N=\$('$lab' pid n1 engine 2>/dev/null) && [ -n \"\$N\" ] && [ \"\$N\" != '$ENGINE' ]"; then
	ok "the monitor started a new engine ($("$lab" pid n1 engine))"
else
	fail "a new engine within 5 s"
fi
if wait_for 5 bash -c "[ \$(grep -c '^MONITOR name=n1 ' '$L') -gt $monitors ]"; then
	ok "MONITOR{n1} again on the new view ($(count MONITOR) in all)"
else
	fail "MONITOR{n1} again after the restart"
fi
check_flush=$(grep -c 'monitor: removed [0-9]* vipd address' "$V" || true)
[ "$check_flush" -eq 1 ] && ok "the monitor flushed once" || fail "the monitor flushed once ($check_flush)"
[ "$(count FLUSHED)" -eq 1 ] && ok "exactly one FLUSHED" || fail "exactly one FLUSHED ($(count FLUSHED))"

# ---- SIGTERM to the monitor: clean exit, nothing left
ENGINE=$("$lab" pid n1 engine || true)
wait_for 5 bash -c "[ \$(grep -c 'monitor: engine .* is ready' '$V') -ge 2 ]" || true
"$lab" kill n1 vipd
if grep -q 'monitor: exiting with status 0' "$V"; then
	ok "SIGTERM: the monitor exits 0"
else
	fail "SIGTERM: the monitor exits 0"
	tail -20 "$V"
fi
if [ -z "$ENGINE" ] || ! kill -0 "$ENGINE" 2>/dev/null; then
	ok "no engine left"
else
	fail "no engine left (pid $ENGINE)"
fi
[ "$(count FLUSHED)" -eq 1 ] && ok "a clean stop sends no FLUSHED" || fail "a clean stop sends no FLUSHED"

echo "--- n1 vipd log"
sed 's/^/     | /' "$V"
echo "--- n2 listener"
sed 's/^/     | /' "$L"
[ "$FAILS" -eq 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "all checks passed"
