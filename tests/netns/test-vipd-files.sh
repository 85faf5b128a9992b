#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The files root creates (README, "Security"), in a fresh network namespace:
# a control-socket folder that another user can write to (with a symbolic
# link planted where the socket goes) or that is itself a symbolic link is
# refused and the link's target keeps its owner and mode; the socket is born
# root:group 0660; a planted vipd.pid link is not followed; a second start
# finds the pid file locked and leaves it alone; the pid file is written once
# start-up succeeded and removed at the stop; a relative -c path works after
# daemonizing (and for a reload); a descriptor inherited from the caller
# reaches neither the monitor nor the engine.
#
# Usage: test-vipd-files.sh VIPD VIPCTL
# Exit 77 (skip) without root, unless VIPD_REQUIRE_NETNS=1 (then fail).
set -u
# shellcheck source=netns-solo.sh
. "$(dirname "$0")/netns-solo.sh"

# Absolute: one start runs from another folder.
VIPD=$(realpath "${1:?vipd binary}")
VIPCTL=$(realpath "${2:?vipctl binary}")
NS=vf-$$-vipd
TMP=
PIDS=()


[ "$(id -u)" -eq 0 ] || skip_or_fail "needs root"
id ecuser >/dev/null 2>&1 || skip_or_fail "needs the ecuser account (tools/deps)"

cleanup() {
	# Daemons this test started write their pid into its own pid file.
	[ -n "$TMP" ] && [ -s "$TMP/run/vipd.pid" ] && PIDS+=("$(cat "$TMP/run/vipd.pid")")
	for p in "${PIDS[@]}"; do
		# Only while the pid is still one of ours (its command line names our folder).
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF "$TMP" || continue
		for e in $(pgrep -P "$p" 2>/dev/null); do kill -9 "$e" 2>/dev/null; done
		kill -9 "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT

has_addr() { ip -n "$NS" -o addr show dev veth0 | grep -q " $1/"; }
lacks_addr() { ! has_addr "$1"; }
owner_mode() { stat -c '%U:%G %a' "$1"; }

TMP=$(mktemp -d /tmp/vipd-files.XXXXXX)
chmod 755 "$TMP"
write_config() { # ADDR...
	{
		echo 'Security { user = ecuser group = ecuser Capabilities = "cap_net_admin+ep cap_net_raw+ep" }'
		local i=0
		for a in "$@"; do
			i=$((i + 1))
			echo "Binding \"b$i\" { Bind_Address = $a Enable_Duravip = true }"
		done
	} >"$TMP/ecelerity.conf.new"
	chmod 644 "$TMP/ecelerity.conf.new"
	mv "$TMP/ecelerity.conf.new" "$TMP/ecelerity.conf"
}
write_config 198.51.100.61

ip netns add "$NS" || skip_or_fail "cannot create a network namespace"
ip -n "$NS" link set lo up
ip -n "$NS" link add veth0 type veth peer name veth1
ip -n "$NS" addr add 198.51.100.1/24 dev veth0
ip -n "$NS" link set veth1 up
ip -n "$NS" link set veth0 up

# Foreground, with a bounded wait for it to end (a refused start ends at once).
run_fg_refused() { # LOG CONTROL
	timeout 10 ip netns exec "$NS" "$VIPD" -f -c "$TMP/ecelerity.conf" --nodename f1 --control "$2" >"$1" 2>&1
}
# Daemonized: without systemd's variables, so vipd really goes to the background.
run_bg() { # LOG [ARGS...]; a daemon it leaves is recorded for the cleanup
	local log=$1 rc
	shift
	timeout 10 ip netns exec "$NS" env -u INVOCATION_ID -u NOTIFY_SOCKET "$VIPD" "$@" >"$log" 2>&1
	rc=$?
	[ -s "$TMP/run/vipd.pid" ] && PIDS+=("$(cat "$TMP/run/vipd.pid")")
	return $rc
}
daemon_pid() { cat "$TMP/run/vipd.pid" 2>/dev/null; }
stop_daemon() { # PID
	kill -TERM "$1" 2>/dev/null
	wait_for 5000 bash -c "! kill -0 $1 2>/dev/null"
}

# ---------------------------------------------------------------- the socket's folder
# A folder the Security user owns, with a link planted where the socket goes:
# before, root would bind there and chown/chmod the link's target.
VICTIM="$TMP/victim"
echo precious >"$VICTIM"
chmod 600 "$VICTIM"
mkdir "$TMP/evil"
chown ecuser:ecuser "$TMP/evil"
ln -s "$VICTIM" "$TMP/evil/control"
run_fg_refused "$TMP/evil.log" "$TMP/evil/control"
rc=$?
check "a socket folder owned by ecuser is refused (exit $rc)" [ "$rc" -ne 0 ]
check "... with a message naming the folder and its owner" grep -q "Refusing to start: $TMP/evil is owned by uid $(id -u ecuser)" "$TMP/evil.log"
check "... and the planted link's target kept root:root 600 ($(owner_mode "$VICTIM"))" [ "$(owner_mode "$VICTIM")" = "root:root 600" ]

# A root folder that others may write to: refused as well.
mkdir "$TMP/open"
chmod 1777 "$TMP/open"
ln -s "$VICTIM" "$TMP/open/control"
run_fg_refused "$TMP/open.log" "$TMP/open/control"
rc=$?
check "a world-writable socket folder is refused (exit $rc)" [ "$rc" -ne 0 ]
check "... saying why" grep -q "$TMP/open has mode 1777" "$TMP/open.log"
check "... the target still root:root 600" [ "$(owner_mode "$VICTIM")" = "root:root 600" ]

# The socket folder is itself a link to another folder.
mkdir "$TMP/elsewhere"
chmod 700 "$TMP/elsewhere"
ln -s "$TMP/elsewhere" "$TMP/linked"
run_fg_refused "$TMP/linked.log" "$TMP/linked/control"
rc=$?
check "a socket folder that is a symbolic link is refused (exit $rc)" [ "$rc" -ne 0 ]
check "... saying why" grep -q "$TMP/linked is a symbolic link" "$TMP/linked.log"
check "... and nothing was created behind it ($(ls -A "$TMP/elsewhere" | tr '\n' ' '))" [ -z "$(ls -A "$TMP/elsewhere")" ]
check "... which kept its mode ($(owner_mode "$TMP/elsewhere"))" [ "$(owner_mode "$TMP/elsewhere")" = "root:root 700" ]

# ---------------------------------------------------------------- the pid file
mkdir "$TMP/run"
echo precious >"$TMP/victim2"
ln -s "$TMP/victim2" "$TMP/run/vipd.pid"
run_bg "$TMP/pidlink.log" -c "$TMP/ecelerity.conf" --nodename f1 --control "$TMP/run/control"
rc=$?
check "a planted vipd.pid link stops the start (exit $rc)" [ "$rc" -ne 0 ]
check "... saying why" grep -q "vipd.pid is a symbolic link" "$TMP/pidlink.log"
check "... and its target was not written ($(cat "$TMP/victim2"))" [ "$(cat "$TMP/victim2")" = precious ]
rm "$TMP/run/vipd.pid"

# A relative -c path, daemonized: the engine runs in / and still finds the file.
cd "$TMP" || exit 1
run_bg "$TMP/bg1.log" -c ecelerity.conf --nodename f1 --control "$TMP/run/control"
rc=$?
cd / || exit 1
P1=$(daemon_pid)
check "daemonized with a relative -c path: started (exit $rc)" [ "$rc" -eq 0 ]
check "... and plumbed its DuraVIP" wait_for 5000 has_addr 198.51.100.61
check "the pid file names the running monitor ($P1)" bash -c "[ -n '$P1' ] && kill -0 '$P1' && grep -q '^vipd' /proc/$P1/comm"
check "the control socket was born root:ecuser 660 ($(owner_mode "$TMP/run/control"))" \
	[ "$(owner_mode "$TMP/run/control")" = "root:ecuser 660" ]
write_config 198.51.100.61 198.51.100.62
out=$(ip netns exec "$NS" "$VIPCTL" -s "$TMP/run/control" config reload 2>&1)
check "a reload re-reads the relative -c path: $out" wait_for 3000 has_addr 198.51.100.62

# A second start while the first runs: refused, the first's pid file intact.
run_bg "$TMP/bg2.log" -c "$TMP/ecelerity.conf" --nodename f1 --control "$TMP/run/control"
rc=$?
check "a second start is refused (exit $rc)" [ "$rc" -ne 0 ]
check "... saying why" grep -q "(pid $P1): it runs already" "$TMP/bg2.log"
check "... and the running instance's pid file is still there ($(daemon_pid))" [ "$(daemon_pid)" = "$P1" ]
check "... as is its socket" [ -S "$TMP/run/control" ]

stop_daemon "$P1"
check "SIGTERM: the pid file is removed by its holder" [ ! -e "$TMP/run/vipd.pid" ]
check "... and the DuraVIPs released" lacks_addr 198.51.100.61

# ---------------------------------------------------------------- inherited descriptors
echo secret >"$TMP/secret"
ip netns exec "$NS" "$VIPD" -f -c "$TMP/ecelerity.conf" --nodename f1 --control "$TMP/run/control" \
	>"$TMP/fg.log" 2>&1 7<"$TMP/secret" &
P2=$!
PIDS+=("$P2")
check "started in the foreground with descriptor 7 open" wait_for 5000 has_addr 198.51.100.61
E2=$(pgrep -P "$P2" | head -1)
leaks() { ls -l "/proc/$1/fd" 2>/dev/null | grep -c "$TMP/secret"; }
check "a descriptor inherited by the monitor is closed ($(leaks "$P2"))" [ "$(leaks "$P2")" -eq 0 ]
check "... and never reaches the engine (pid ${E2:-none}: $(leaks "${E2:-0}"))" [ -n "$E2" ] && [ "$(leaks "${E2:-0}")" -eq 0 ]
stop_daemon "$P2"

[ "$FAILS" -eq 0 ] || {
	for f in "$TMP"/*.log; do echo "--- $f"; sed 's/^/     | /' "$f"; done
	echo "$FAILS check(s) failed"
	exit 1
}
echo "all checks passed"
