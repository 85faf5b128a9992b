#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Debian package (debian/), as tools/check builds it: its files and
# control data; its maintainer scripts run with recording stand-ins for
# systemd's helpers (the ecuser account made by the real systemd-sysusers in
# the package tree; no start or enable on install; stop on removal only);
# the unit's settings and its systemd-analyze exposure; then the packaged
# vipd, extracted, run in a fresh network namespace under the unit's
# CapabilityBoundingSet= and NoNewPrivileges= (setpriv): the engine's drop,
# plumbing, packaged vipctl, reload by SIGHUP, kill -9 of the engine, SIGTERM.
# The same bounding set without CAP_KILL must break the reload (the monitor
# signals an engine that runs as another user).
#
# Usage: VIPD_DEB=path/to/vipd_*.deb test-vipd-package.sh
# Exit 77 (skip) without root or VIPD_DEB, unless VIPD_REQUIRE_NETNS=1 (fail).
set -u
# shellcheck source=netns-solo.sh
. "$(dirname "$0")/netns-solo.sh"

NS=vt-$$-pkg
TMP=
PIDS=()


[ "$(id -u)" -eq 0 ] || skip_or_fail "needs root"
[ -n "${VIPD_DEB:-}" ] && [ -f "$VIPD_DEB" ] || skip_or_fail "VIPD_DEB names no package (tools/check builds it)"
for t in dpkg-deb setpriv capsh systemd-sysusers systemd-analyze unshare; do
	command -v "$t" >/dev/null || skip_or_fail "needs $t"
done
id ecuser >/dev/null 2>&1 || skip_or_fail "needs the ecuser account (tools/deps)"

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


TMP=$(mktemp -d /tmp/vipd-pkg.XXXXXX)
chmod 755 "$TMP" # the engine re-reads the configuration as ecuser on reload
ROOT=$TMP/root
CTRL=$TMP/control
dpkg-deb -x "$VIPD_DEB" "$ROOT" || skip_or_fail "dpkg-deb -x failed"
dpkg-deb -e "$VIPD_DEB" "$CTRL" || skip_or_fail "dpkg-deb -e failed"

# ---------------------------------------------------------------- files
expected="/etc/default/vipd
/lib/systemd/system/vipd.service
/usr/lib/sysusers.d/vipd.conf
/usr/sbin/vipctl
/usr/sbin/vipd
/usr/share/doc/vipd/changelog.gz
/usr/share/doc/vipd/copyright
/usr/share/doc/vipd/examples/corosync.conf
/usr/share/doc/vipd/examples/ecelerity-cluster.conf
/usr/share/doc/vipd/examples/ecelerity.conf
/usr/share/man/man5/vipd.conf.5.gz
/usr/share/man/man8/vipctl.8.gz
/usr/share/man/man8/vipd.8.gz"
actual=$(cd "$ROOT" && find . -type f -o -type l | sed 's|^\.||' | sort)
if [ "$actual" = "$expected" ]; then
	ok "the package holds exactly the $(wc -l <<<"$expected") expected files"
else
	fail "the package's files"
	diff <(echo "$expected") <(echo "$actual") | sed 's/^/     | /'
fi
check "vipd and vipctl are executables" test -x "$ROOT/usr/sbin/vipd" -a -x "$ROOT/usr/sbin/vipctl"
field() { sed -n "s/^$1: //p" "$CTRL/control"; }
check "control: Package vipd ($(field Package))" [ "$(field Package)" = vipd ]
deps=$(field Depends)
check "control: Depends on a sysusers implementation" \
	grep -q 'systemd | systemd-standalone-sysusers | systemd-sysusers' <<<"$deps"
check "control: Depends on libcpg (corosync client)" grep -q 'libcpg' <<<"$deps"
check "conffiles: /etc/default/vipd, nothing else" [ "$(cat "$CTRL/conffiles")" = /etc/default/vipd ]
out=$("$ROOT/usr/sbin/vipd" --check -c "$ROOT/usr/share/doc/vipd/examples/ecelerity.conf" 2>&1)
rc=$?
check "vipd --check accepts the example ecelerity.conf (exit $rc): $(tail -1 <<<"$out")" [ "$rc" -eq 0 ]

# ---------------------------------------------------------------- maintainer scripts
# Stand-ins for systemd's helpers record their arguments; systemd-sysusers is
# the real one, pointed at the package tree by DPKG_ROOT (as dpkg does).
FAKE=$TMP/fakebin
mkdir -p "$FAKE"
for t in deb-systemd-helper deb-systemd-invoke systemctl; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\nexit 1\n' "$t" "$TMP" >"$FAKE/$t"
	chmod 755 "$FAKE/$t"
done
: >"$TMP/calls"
DPKG_ROOT=$ROOT PATH=$FAKE:$PATH sh -e "$CTRL/postinst" configure >"$TMP/postinst.log" 2>&1
rc=$?
check "postinst configure succeeds (exit $rc)" [ "$rc" -eq 0 ]
pw=$(grep '^ecuser:' "$ROOT/etc/passwd" 2>/dev/null)
check "postinst made the ecuser account through sysusers.d ($pw)" \
	awk -F: '$1 == "ecuser" && $6 == "/nonexistent" && $7 == "/usr/sbin/nologin" { f = 1 } END { exit !f }' \
	"$ROOT/etc/passwd"
check "... with its group ecuser" grep -q '^ecuser:' "$ROOT/etc/group"
if grep -Eq 'deb-systemd-invoke|systemctl .*(start|restart)|helper enable' "$TMP/calls"; then
	fail "postinst neither starts nor enables vipd: $(tr '\n' ';' <"$TMP/calls")"
else
	ok "postinst neither starts nor enables vipd ($(wc -l <"$TMP/calls") helper calls)"
fi
# prerm sees systemd running (a private /run in a private mount namespace).
run_prerm() { # run_prerm ARG: the helper calls it makes
	: >"$TMP/calls"
	unshare --mount --propagation private sh -c '
		mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system &&
		PATH="$1:$PATH" sh -e "$2" "$3"' _ "$FAKE" "$CTRL/prerm" "$1" >/dev/null 2>&1
	cat "$TMP/calls"
}
calls=$(run_prerm remove)
check "prerm remove stops vipd ($calls)" [ "$calls" = "deb-systemd-invoke stop vipd.service" ]
calls=$(run_prerm upgrade)
check "prerm upgrade leaves it running (${calls:-no call})" [ -z "$calls" ]

# ---------------------------------------------------------------- the unit
UNIT=$ROOT/lib/systemd/system/vipd.service
key() { sed -n "s/^$1=//p" "$UNIT" | tr '\n' ' ' | sed 's/ $//'; }
check "Type=notify" [ "$(key Type)" = notify ]
check "ExecStart runs the packaged /usr/sbin/vipd -f ($(key ExecStart))" \
	bash -c '[[ "$1" == "/usr/sbin/vipd -f "* ]]' _ "$(key ExecStart)"
check "ExecReload sends SIGHUP" grep -q -- '-HUP' <<<"$(key ExecReload)"
check "Restart=on-failure" [ "$(key Restart)" = on-failure ]
check "RuntimeDirectory=vipd" [ "$(key RuntimeDirectory)" = vipd ]
for kv in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes; do
	check "$kv" [ "$(key "${kv%%=*}")" = "${kv#*=}" ]
done
check "RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_PACKET AF_INET AF_INET6" \
	[ "$(key RestrictAddressFamilies)" = "AF_UNIX AF_NETLINK AF_PACKET AF_INET AF_INET6" ]
check "SystemCallFilter starts from @system-service" grep -q '^@system-service' <<<"$(key SystemCallFilter)"
check "After= and Wants= corosync.service" \
	bash -c 'grep -qw corosync.service <<<"$1" && grep -qw corosync.service <<<"$2"' _ "$(key After)" "$(key Wants)"
score=$(systemd-analyze security --offline=true "$UNIT" 2>/dev/null | sed -n 's/.*Overall exposure level for vipd.service: \([0-9.]*\).*/\1/p')
systemd-analyze security --offline=true --threshold=33 "$UNIT" >/dev/null 2>&1
rc=$?
check "systemd-analyze security: exposure $score, at most 3.3 (exit $rc)" [ "$rc" -eq 0 ]

# ---------------------------------------------------------------- the packaged vipd, sandboxed
# The unit's bounding set as setpriv's list, and as names to compare with.
unit_caps=$(key CapabilityBoundingSet | tr 'A-Z ' 'a-z\n' | sed 's/^cap_//' | grep . | sort -u)
bset() { # bset [CAP-TO-LEAVE-OUT]
	printf -- '-all'
	grep -vx "${1:-}" <<<"$unit_caps" | sed 's/^/,+/' | tr -d '\n'
}
check "the unit's bounding set holds kill, setuid, setgid, setpcap, net_admin, net_raw" \
	bash -c 'for c in kill setuid setgid setpcap net_admin net_raw; do grep -qx $c <<<"$1" || exit 1; done' _ "$unit_caps"

cat >"$TMP/ecelerity.conf" <<'EOF'
Security {
  user = ecuser
  group = ecuser
  Capabilities = "cap_net_admin+ep cap_net_raw+ep"
}
Binding "b1" { Bind_Address = 198.51.100.21 Enable_Duravip = true }
ESMTP_Listener { Listen "[2001:db8:1::30]:25" { Enable_Duravip = true } }
EOF
chmod 644 "$TMP/ecelerity.conf"

ip netns add "$NS" || skip_or_fail "cannot create a network namespace"
ip -n "$NS" link add veth0 type veth peer name veth1
ip -n "$NS" link set lo up
ip -n "$NS" addr add 198.51.100.1/24 dev veth0
ip -n "$NS" addr add 2001:db8:1::1/64 dev veth0 nodad
ip -n "$NS" link set veth0 up
ip -n "$NS" link set veth1 up
has_addr() { ip -n "$NS" -o addr show dev veth0 | grep -q " $1/"; }
lacks_addr() { ! has_addr "$1"; }
none_plumbed() { lacks_addr 198.51.100.21 && lacks_addr 198.51.100.22 && lacks_addr 2001:db8:1::30; }
CTL=$TMP/run/control

start_sandboxed() { # start_sandboxed BOUNDING-SET LOG
	local nnp=()
	[ "$(key NoNewPrivileges)" = yes ] && nnp=(--no-new-privs)
	ip netns exec "$NS" setpriv "${nnp[@]}" --bounding-set "$1" \
		env VIPD_MONITOR_BACKOFF=100,400,2000 "$ROOT/usr/sbin/vipd" -f -c "$TMP/ecelerity.conf" \
		--nodename pkg1 --control "$CTL" >>"$2" 2>&1 &
	MON=$!
	PIDS+=("$MON")
}
status_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
caps_of() { capsh --decode="$1" | sed 's/^[^=]*=//' | tr ',' '\n' | sed 's/^cap_//' | sort -u; }

start_sandboxed "$(bset)" "$TMP/vipd.log"
if wait_for 5000 bash -c "ip -n $NS -o addr show dev veth0 | grep -q ' 198.51.100.21/' &&
	ip -n $NS -o addr show dev veth0 | grep -q ' 2001:db8:1::30/'"; then
	ok "the packaged vipd plumbed both DuraVIPs under the unit's bounding set and no_new_privs"
else
	fail "the packaged vipd plumbed both DuraVIPs within 5 s"
fi
ENGINE=$(pgrep -P "$MON" | head -1)
host_bnd=$(caps_of "$(status_field self CapBnd)")
want_bnd=$(comm -12 <(echo "$unit_caps") <(echo "$host_bnd"))
got_bnd=$(caps_of "$(status_field "$MON" CapBnd)")
check "monitor: bounding set is the unit's (within this machine's): $(echo $got_bnd)" [ "$got_bnd" = "$want_bnd" ]
check "monitor: uid 0, NoNewPrivs 1" bash -c "grep -q '^Uid:[[:space:]]*0[[:space:]]' /proc/$MON/status &&
	grep -q '^NoNewPrivs:[[:space:]]*1' /proc/$MON/status"
if [ -n "$ENGINE" ]; then
	uid=$(id -u ecuser)
	check "engine: runs as ecuser ($(awk '/^Uid:/{print $2,$3,$4,$5}' /proc/$ENGINE/status))" \
		awk -v u="$uid" '/^Uid:/{exit !($2==u && $3==u && $4==u && $5==u)}' "/proc/$ENGINE/status"
	check "engine: CapEff is net_admin+net_raw ($(status_field "$ENGINE" CapEff))" \
		[ "$(status_field "$ENGINE" CapEff)" = 0000000000003000 ]
	check "engine: NoNewPrivs 1" [ "$(status_field "$ENGINE" NoNewPrivs)" = 1 ]
else
	fail "the engine runs as the monitor's child"
fi
out=$(ip netns exec "$NS" "$ROOT/usr/sbin/vipctl" -s "$CTL" --json metrics)
check "packaged vipctl --json metrics: 2 owned" \
	python3 -c 'import json,sys; sys.exit(json.loads(sys.argv[1]).get("vipd_duravips_owned") != 2)' "$out"

sed -i 's/198\.51\.100\.21/198.51.100.22/' "$TMP/ecelerity.conf"
kill -HUP "$MON"
check "SIGHUP to the monitor reloads the engine: 198.51.100.22 plumbed" wait_for 3000 has_addr 198.51.100.22
check "... and 198.51.100.21 removed" wait_for 3000 lacks_addr 198.51.100.21

ENGINE=$(pgrep -P "$MON" | head -1)
kill -9 "$ENGINE"
check "kill -9 of the engine: the monitor flushes its addresses" wait_for 2000 none_plumbed
check "... and a new engine plumbs them again" wait_for 5000 has_addr 198.51.100.22

kill -TERM "$MON"
if wait_for 5000 bash -c "! kill -0 $MON 2>/dev/null"; then
	wait "$MON"
	rc=$?
	check "SIGTERM: vipd exits 0 (got $rc)" [ "$rc" -eq 0 ]
else
	fail "vipd exits within 5 s of SIGTERM"
fi
check "SIGTERM leaves no DuraVIP plumbed" none_plumbed

# Without CAP_KILL the monitor cannot signal its dropped engine.
sed -i 's/198\.51\.100\.22/198.51.100.21/' "$TMP/ecelerity.conf"
start_sandboxed "$(bset kill)" "$TMP/vipd-nokill.log"
wait_for 5000 has_addr 198.51.100.21 || fail "vipd without CAP_KILL started"
sed -i 's/198\.51\.100\.21/198.51.100.22/' "$TMP/ecelerity.conf"
kill -HUP "$MON"
if wait_for 1500 has_addr 198.51.100.22; then
	fail "without CAP_KILL in the bounding set the reload still worked: the check above proves nothing"
else
	ok "without CAP_KILL in the bounding set SIGHUP does not reach the engine (CAP_KILL is needed)"
fi
{
	for e in $(pgrep -P "$MON"); do kill -9 "$e"; done
	kill -9 "$MON"
	wait "$MON"
} 2>/dev/null

if [ "$FAILS" -ne 0 ]; then
	echo "--- vipd log"
	sed 's/^/     | /' "$TMP/vipd.log"
fi
echo "vipd-package: $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
