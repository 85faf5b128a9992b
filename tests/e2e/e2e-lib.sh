# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034
# tests/e2e/e2e-lib.sh: helpers for the end-to-end scenarios (sourced by e2e.sh).
#
# Each scenario builds its own lab (tools/lab/lab, prefix "e<pid>") with three
# nodes on real corosync (the lab's fast timing, or $E2E_TIMING; see below), a listener on every node that answers a
# TCP connect on port 7000 with the node's name, vipd on every node, and a
# watcher (lab-net watch) that sees every address change on every node and
# counts any DuraVIP held by two nodes the client can reach at once. Only a
# node whose link is down is left out of that rule, and only while its link is
# down (lab-net watch --links follows the switch ports): a node whose vipd was
# killed, or whose corosync is gone, must have released what it held itself.
# (exclude/include name nodes to leave out by hand; no scenario needs it.)
# Assertions look at what the client namespace sees: its neighbour entry for a
# DuraVIP (learnt from the announcement) and who answers a TCP connect.

E2E_FAILS=0
E2E_T0=$(date +%s.%N)
MAC_n1=02:76:6c:00:00:01
MAC_n2=02:76:6c:00:00:02
MAC_n3=02:76:6c:00:00:03

log() { printf '[%6.2f] %s\n' "$(awk -v a="$E2E_T0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" "$*"; }
ok() { log "ok   - $*"; }
fail() { log "FAIL - $*"; E2E_FAILS=$((E2E_FAILS + 1)); }
check() { # description command...
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}

skip_or_fail() {
	if [ "${VIPD_REQUIRE_NETNS:-0}" = 1 ]; then
		echo "FAIL: $* (VIPD_REQUIRE_NETNS=1)" >&2
		exit 1
	fi
	echo "SKIP: $*" >&2
	exit 77
}

# e2e_init VIPD VIPCTL LABNET: check what the scenario needs, set up cleanup.
e2e_init() {
	VIPD=$1 VIPCTL=$2 LABNET=$3
	[ "$(id -u)" = 0 ] || skip_or_fail "needs root"
	local p
	for p in "$VIPD" "$VIPCTL" "$LABNET"; do
		[ -x "$p" ] || skip_or_fail "missing $p"
	done
	for p in corosync corosync-quorumtool nsenter unshare nft python3 ip; do
		command -v "$p" >/dev/null || skip_or_fail "missing $p (tools/deps)"
	done
	id ecuser >/dev/null 2>&1 || skip_or_fail "needs the ecuser account (tools/deps)"
	export LAB_VIPD=$VIPD LAB_LAB_NET=$LABNET
	PREFIX=${E2E_PREFIX:-e$$}
	PREFIX=${PREFIX:0:6}
	LAB=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tools/lab" && pwd)/lab
	WORK=$(mktemp -d /tmp/vipd-e2e.XXXXXX)
	chmod 755 "$WORK" # vipd reads its configuration as ecuser after the drop
	EXCLUDE=$WORK/exclude
	: >"$EXCLUDE"
	trap e2e_cleanup EXIT
	trap 'exit 130' INT TERM
}

e2e_cleanup() {
	local rc=$?
	if [ $rc != 0 ] && [ -n "${S:-}" ] && [ -d "$S" ]; then
		local n
		echo "---- DuraVIPs plumbed now:"
		L addrs | sort | tr '\n' ' '
		echo
		for n in n1 n2 n3; do
			echo "---- $n corosync: $(L exec "$n" corosync-quorumtool -s 2>&1 | grep -E 'Total votes|Quorate' | tr -s ' \n' ' ')"
		done
		for n in n1 n2 n3; do
			echo "---- $n corosync memberships (last 4):"
			grep -E 'new membership|Members\[' "$S/$n/corosync.log" 2>/dev/null | tail -n 4
		done
		for n in n1 n2 n3; do
			echo "---- $n vipd.log (last 15 lines)"
			tail -n 15 "$S/$n/vipd.log" 2>/dev/null
		done
	fi
	L down >/dev/null 2>&1 || true
	rm -rf "$WORK"
	exit $rc
}

L() { "$LAB" --prefix "$PREFIX" "$@"; }

# wait_until SECONDS command...: poll every 50 ms, bounded.
wait_until() {
	local n k
	n=$(awk -v l="$1" 'BEGIN { print int(l * 20) }')
	shift
	for ((k = 0; k < n; k++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# Configuration: ecelerity.conf including ecelerity-cluster.conf, the
# DuraVIP lines read from stdin, optional extra lines for the cluster scope.
# One file set for every node (nodename comes from --nodename).
write_conf() { # dir [cluster-lines]
	mkdir -p "$1"
	cat >"$1/ecelerity-cluster.conf" <<EOF
security {
  user = ecuser
  group = ecuser
  capabilities = "cap_net_admin+ep cap_net_raw+ep"
}
cluster {
  cluster_group = "e2e"
  view_mature_time = 1
  view_balance_interval = 3600
  # The fault timing (round timeout, liveness, takeover delay) is left at its
  # defaults, derived from the lab's corosync token (docs/fault-tolerance.md).
  duravip_balance_set_size = 3
  Topology "203.0.113.0/24" { interface = "eth0" cidrmask = "32" }
  Topology "198.18.0.0/15" { interface = "eth0" cidrmask = "32" }
  Topology "2001:db8::/64" { interface = "eth0" cidrmask = "128" }
${2:-}
}
EOF
	{
		echo 'include "ecelerity-cluster.conf"'
		cat
	} >"$1/ecelerity.conf"
}

# The six DuraVIPs of scenarios 1-7: two per node by preference.
six_vips() {
	cat <<'EOF'
Binding "a1" { Bind_Address = "203.0.113.101" Enable_Duravip = true Duravip_Preference = "n1" }
Binding "a2" { Bind_Address = "203.0.113.102" Enable_Duravip = true Duravip_Preference = "n1" }
Binding "b1" { Bind_Address = "203.0.113.103" Enable_Duravip = true Duravip_Preference = "n2" }
Binding "b2" { Bind_Address = "203.0.113.104" Enable_Duravip = true Duravip_Preference = "n2" }
ESMTP_Listener {
  Listen "203.0.113.105:25" { Enable_Duravip = true Duravip_Preference = "n3" }
  Listen "203.0.113.106:25" { Enable_Duravip = true Duravip_Preference = "n3" }
}
EOF
}
SIX="203.0.113.101 203.0.113.102 203.0.113.103 203.0.113.104 203.0.113.105 203.0.113.106"
pref_of() { case $1 in *.101 | *.102) echo n1 ;; *.103 | *.104) echo n2 ;; *) echo n3 ;; esac; }

listener='
import socket, sys
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 7000))
s.listen(64)
while True:
    c, _ = s.accept()
    try:
        c.sendall((sys.argv[1] + "\n").encode())
    finally:
        c.close()
'

# start_cluster CONF [N]: lab, corosync, listeners, vipd everywhere, watcher.
# With N, vipd starts on n1 first and the others only once n1 holds N DuraVIPs.
start_cluster() {
	CONF=$1
	local first=${2:-}
	# The lab's fast profile (token 60; E2E_TIMING=safe for token 300). It
	# held 10 minutes with both cores busy on an otherwise quiet machine; on
	# one shared with other jobs' builds (load 13-15) a ring re-forms when a
	# corosync is not scheduled for longer than the token, every vipd's
	# liveness watchdog releases, and checks fail. See
	# docs/fault-tolerance.md, "The floor of corosync's timing".
	L up 3 --timing "${E2E_TIMING:-fast}" >/dev/null 2>&1 || { fail "lab up"; exit 1; }
	S=$(L path)
	L start-corosync --wait 20 >/dev/null 2>&1 || { fail "corosync ring"; exit 1; }
	local n
	for n in n1 n2 n3; do
		L bg "$n" listen python3 -c "$listener" "$n" >/dev/null
		L start-vipd "$n" "$CONF" >/dev/null
		if [ "$n" = n1 ] && [ -n "$first" ]; then
			wait_until 10 count_is n1 "$first" || fail "n1 alone did not take all $first DuraVIPs"
		fi
	done
	L bg host watch "$LABNET" watch --links --exclude-file "$EXCLUDE" \
		--ready "$WORK/watch.ready" "$PREFIX" 3 >/dev/null
	wait_until 5 test -f "$WORK/watch.ready" || fail "watcher did not start"
	log "cluster up: lab $PREFIX, corosync ring, vipd on n1 n2 n3"
}

stop_watch() { # -> checks the watcher's verdict
	L kill host watch >/dev/null 2>&1 || true
	local line
	line=$(grep '^watch:' "$S/host/watch.log" | tail -1)
	grep '^VIOLATION' "$S/host/watch.log" | head -5 | sed 's/^/    /'
	check "no DuraVIP on two live nodes at once ($line)" \
		grep -q 'violations=0$' <<<"$line"
}

exclude() { echo "$*" >"$EXCLUDE"; }
include_all() { : >"$EXCLUDE"; }

# Who holds an address right now (node names, space separated).
holders() { L addrs | awk -v a="$1" '$2 == a { printf "%s%s", s, $1; s = " " }'; }
is_held_by() { [ "$(holders "$1")" = "$2" ]; }
count_on() { L addrs "$1" | wc -l; }
count_is() { [ "$(count_on "$1")" = "$2" ]; } # node n
total_is() { local n=$1; shift; [ "$(L addrs "$@" | wc -l)" = "$n" ]; } # n nodes...
held_by_one_of() { # addr nodes...
	local h
	h=$(holders "$1")
	shift
	local n
	for n in "$@"; do [ "$h" = "$n" ] && return 0; done
	return 1
}

# What the client sees.
client_mac() { L exec c ip neigh show "$1" dev eth0 | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }'; }
client_mac_is() { local m="MAC_$2"; [ "$(client_mac "$1")" = "${!m}" ]; }
answer() { # addr -> the name of the node that answers TCP port 7000 on it
	L exec c python3 -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], 7000), timeout=1)
    print(s.recv(64).decode().strip())
except OSError as e:
    print("error:", e)
' "$1"
}

answers_within() { # addr node tries: connect up to TRIES times (each times out after 1 s)
	local k
	for ((k = 0; k < $3; k++)); do
		[ "$(answer "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# expect_owner ADDR NODE [S]: held by NODE alone, the client's neighbour entry
# points at NODE (from the announcement), and NODE answers a connect. The
# connect is retried for a few seconds: after a heal corosync may re-form its
# ring more than once, and each time a node without quorum releases for a
# moment; a SYN lost in such a gap would only be resent after a second. (That
# no address is ever on two nodes is checked by the watcher, strictly.)
expect_owner() {
	local a=$1 n=$2 t=${3:-5}
	check "$a held by $n" wait_until "$t" is_held_by "$a" "$n"
	check "client's neighbour entry for $a is $n's MAC" wait_until 4 client_mac_is "$a" "$n"
	if answers_within "$a" "$n" 4; then
		ok "$n answers a TCP connect to $a"
	else
		fail "$n answers a TCP connect to $a (got: $(answer "$a"))"
	fi
}

e2e_done() {
	stop_watch
	if [ "$E2E_FAILS" = 0 ]; then
		log "PASS"
		exit 0
	fi
	log "$E2E_FAILS check(s) failed"
	exit 1
}
