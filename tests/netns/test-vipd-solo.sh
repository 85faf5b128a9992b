#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vipd in solo mode, end to end, in a fresh network namespace with a veth to a
# peer namespace: start, drop, plumb, announce, put back, vipctl access,
# reload (SIGHUP and vipctl), SIGTERM, and the monitor (docs/privileges.md):
# kill -9 of the engine (addresses removed at once, the engine back and
# re-plumbed), the Security user who cannot signal the monitor and kills the
# engine ten times, SIGTERM to the monitor leaving nothing behind.
#
# Usage: test-vipd-solo.sh VIPD VIPCTL
# Exit 77 (skip) without root, unless VIPD_REQUIRE_NETNS=1 (then fail).
set -u
# shellcheck source=netns-solo.sh
. "$(dirname "$0")/netns-solo.sh"

VIPD=${1:?vipd binary}
VIPCTL=${2:?vipctl binary}
NS=vt-$$-vipd
PEER=vt-$$-peer
TMP=
PIDS=()


[ "$(id -u)" -eq 0 ] || skip_or_fail "needs root"
command -v tcpdump >/dev/null || skip_or_fail "needs tcpdump"
id ecuser >/dev/null 2>&1 || skip_or_fail "needs the ecuser account (tools/deps)"

cleanup() {
	# TERM first: timeout(1) passes it on to tcpdump; then KILL what is left.
	# Engines first (children of a monitor this test started), then the rest.
	for p in "${PIDS[@]}"; do
		for e in $(pgrep -P "$p" 2>/dev/null); do kill -9 "$e" 2>/dev/null; done
	done
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	sleep 0.2
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
	ip netns del "$PEER" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT

nsip() { ip -n "$NS" "$@"; }


has_addr() { nsip -o addr show dev veth0 | grep -q " $1/"; }
lacks_addr() { ! has_addr "$1"; }
all_plumbed() { for a in "$@"; do has_addr "$a" || return 1; done; }
none_plumbed() { for a in "$@"; do has_addr "$a" && return 1; done; return 0; }

# ---------------------------------------------------------------- setup
TMP=$(mktemp -d /tmp/vipd-solo.XXXXXX)
chmod 755 "$TMP"      # vipd re-reads the configuration as ecuser on reload
mkdir "$TMP/run"

write_config() { # write_config CAPS ADDR...
	local caps=$1
	shift
	{
		echo "Security {"
		echo "  user = ecuser"
		echo "  group = ecuser"
		echo "  Capabilities = \"$caps\""
		echo "}"
		local i=0
		for a in "$@"; do
			i=$((i + 1))
			case $a in
			*:*) echo "ESMTP_Listener { Listen \"[$a]:25\" { Enable_Duravip = true } }" ;;
			*) echo "Binding \"b$i\" { Bind_Address = $a Enable_Duravip = true }" ;;
			esac
		done
	} >"$TMP/ecelerity.conf.new"
	chmod 644 "$TMP/ecelerity.conf.new"
	mv "$TMP/ecelerity.conf.new" "$TMP/ecelerity.conf"
}
CAPS="cap_net_admin+ep cap_net_raw+ep"
write_config "$CAPS" 198.51.100.21 198.51.100.30 2001:db8:1::30

ip netns add "$NS" || skip_or_fail "cannot create a network namespace"
ip netns add "$PEER"
nsip link add veth0 type veth peer name veth1 netns "$PEER"
nsip link set lo up
nsip addr add 198.51.100.1/24 dev veth0
nsip addr add 2001:db8:1::1/64 dev veth0 nodad
nsip link set veth0 up
ip -n "$PEER" link set veth1 up
ip netns exec "$PEER" sysctl -qw net.ipv4.conf.all.arp_accept=0
ip netns exec "$PEER" sysctl -qw net.ipv6.conf.veth1.disable_ipv6=0 2>/dev/null

CTL="$TMP/run/control"
NOTIFY=
# The restart back-off made short (100 ms doubling to 400 ms, reset after 2 s
# up), so ten restarts in a row fit in the test's time.
start_vipd() {
	ip netns exec "$NS" env NOTIFY_SOCKET="$NOTIFY" VIPD_MONITOR_BACKOFF=100,400,2000 "$VIPD" -f -c "$TMP/ecelerity.conf" --nodename solo1 --control "$CTL" \
		>>"$TMP/vipd.log" 2>&1 &
	VIPD_PID=$!
	PIDS+=("$VIPD_PID")
}
vipctl() { ip netns exec "$NS" "$VIPCTL" -s "$CTL" "$@"; }
# The engine: the monitor's one child.
engine_of() { pgrep -P "$1" 2>/dev/null | head -1; }
as_ecuser() { setpriv --reuid=ecuser --regid=ecuser --clear-groups "$@"; }

# Capture announcements at the peer from before the start (packet socket via tcpdump).
ip netns exec "$PEER" timeout 8 tcpdump -l -n -i veth1 -c 64 \
	'arp or (icmp6 and ip6[40] == 136)' >"$TMP/capture" 2>/dev/null &
CAP_PID=$!
PIDS+=("$CAP_PID")
sleep 0.5

# sd_notify: a datagram socket standing in for systemd's (writable by ecuser:
# STATUS and STOPPING are sent after the drop).
if command -v python3 >/dev/null; then
	NOTIFY="$TMP/notify"
	python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666); s.settimeout(20)
with open(sys.argv[2], "a") as f:
    while True:
        try:
            d = s.recv(4096)
        except socket.timeout:
            break
        f.write(d.decode() + "\n"); f.flush()
' "$NOTIFY" "$TMP/notified" &
	PIDS+=("$!")
	wait_for 2000 test -S "$NOTIFY"
fi

# ---------------------------------------------------------------- start, drop, plumb
t0=$(now_ms)
start_vipd
NOTIFY=
if wait_for 5000 all_plumbed 198.51.100.21 198.51.100.30 2001:db8:1::30; then
	ok "every DuraVIP plumbed $(($(now_ms) - t0)) ms after start"
else
	fail "DuraVIPs plumbed within 5 s"
	nsip addr show
fi

# The monitor stays root; its child, the engine, drops.
ENGINE=$(engine_of "$VIPD_PID")
check "the monitor stays uid 0 ($(awk '/^Uid:/{print $2,$3,$4,$5}' /proc/$VIPD_PID/status))" \
	grep -q '^Uid:[[:space:]]*0[[:space:]]*0[[:space:]]*0[[:space:]]*0$' /proc/$VIPD_PID/status
if [ -n "$ENGINE" ]; then
	ok "the engine runs (pid $ENGINE, a child of monitor $VIPD_PID)"
else
	fail "the engine runs as the monitor's child"
	ENGINE=$VIPD_PID
fi
st=/proc/$ENGINE/status
uid=$(id -u ecuser)
check "the engine runs as ecuser (Uid: $(awk '/^Uid:/{print $2,$3,$4,$5}' "$st"))" \
	awk -v u="$uid" '/^Uid:/{exit !($2==u && $3==u && $4==u && $5==u)}' "$st"
check "CapEff is exactly net_admin+net_raw ($(awk '/^CapEff:/{print $2}' "$st"))" \
	grep -q '^CapEff:[[:space:]]*0000000000003000$' "$st"
check "NoNewPrivs is set" grep -q '^NoNewPrivs:[[:space:]]*1$' "$st"
socks() { ls -l "/proc/$1/fd" 2>/dev/null | grep -o 'socket:\[[0-9]*\]' | sort -u; }
shared=$(comm -12 <(socks "$VIPD_PID") <(socks "$ENGINE") | tr '\n' ' ')
check "the engine shares no socket with the monitor (${shared:-none})" [ -z "$shared" ]
check "only one engine process" [ "$(pgrep -P "$VIPD_PID" | wc -l)" -eq 1 ]

# ---------------------------------------------------------------- announcements
seen_all() {
	grep -q 'who-has 198.51.100.21 tell 198.51.100.21\|Reply 198.51.100.21 is-at' "$TMP/capture" &&
		grep -q 'who-has 198.51.100.30 tell 198.51.100.30\|Reply 198.51.100.30 is-at' "$TMP/capture" &&
		grep -q 'neighbor advertisement, tgt is 2001:db8:1::30' "$TMP/capture"
}
wait_for 3000 seen_all
check "gratuitous ARP for 198.51.100.21 seen at the peer" grep -q 'Request who-has 198.51.100.21 tell 198.51.100.21\|Reply 198.51.100.21 is-at' "$TMP/capture"
check "gratuitous ARP for 198.51.100.30 seen at the peer" grep -q 'who-has 198.51.100.30 tell 198.51.100.30\|Reply 198.51.100.30 is-at' "$TMP/capture"
check "unsolicited NA for 2001:db8:1::30 seen at the peer" grep -q 'neighbor advertisement, tgt is 2001:db8:1::30' "$TMP/capture"

# ---------------------------------------------------------------- put back
nsip addr del 198.51.100.21/32 dev veth0
t0=$(now_ms)
if wait_for 2000 has_addr 198.51.100.21; then
	ok "198.51.100.21 removed from outside was put back in $(($(now_ms) - t0)) ms"
else
	fail "198.51.100.21 put back within 2 s"
fi
check "the put-back is logged" grep -q 'removed from veth0 by someone else' "$TMP/vipd.log"

# ---------------------------------------------------------------- vipctl access
out=$(vipctl cluster duravip show)
check "vipctl as root: cluster duravip show" grep -q 'owned' <<<"$out"
# vipctl --json ARGS: the output must be one JSON document (parsed) for which the
# Python expression $1 (on o) holds.
vipctl_json() {
	local expr=$1
	shift
	ip netns exec "$NS" "$VIPCTL" -s "$CTL" --json "$@" |
		python3 -c "import json, sys; o = json.load(sys.stdin); sys.exit(0 if ($expr) else 1)"
}
check "vipctl --json metrics shows 3 owned" vipctl_json 'o["vipd_duravips_owned"] == 3' metrics
check "vipctl --json cluster duravip show: 3 DuraVIPs, all owned here" \
	vipctl_json 'len(o["duravips"]) == 3 and all(d["self"] and "owned" in d["state"] for d in o["duravips"])' \
	cluster duravip show
check "vipctl --json: a move error with a quote and a backslash in user text is JSON" \
	vipctl_json 'o == {"error": "203.0.113.51 is not a DuraVIP", "status": 1}' cluster duravip move 203.0.113.51 'a"b\'
check "vipctl --json: the group's refusal of a node name carries it escaped" \
	vipctl_json 'o["status"] == 1 and o["error"].startswith("cannot move to \x27a\"b\\xxx")' \
	cluster duravip move 198.51.100.21 "a\"b\\$(printf 'x%.0s' $(seq 300))"
check "vipctl --json: a usage error is JSON" vipctl_json 'o["status"] == 2' cluster duravip show a b
check "vipctl as ecuser (the daemon's user) works" \
	bash -c "ip netns exec '$NS' setpriv --reuid=ecuser --regid=ecuser --clear-groups '$VIPCTL' -s '$CTL' cluster info >/dev/null"
if ip netns exec "$NS" setpriv --reuid=65534 --regid=65534 --clear-groups "$VIPCTL" -s "$CTL" cluster info \
	>/dev/null 2>&1; then
	fail "vipctl as nobody is refused (filesystem permissions)"
else
	ok "vipctl as nobody is refused (filesystem permissions)"
fi
# Open the socket to everyone: the peer-credential check must still refuse nobody.
chmod o+x "$TMP/run" && chmod o+rw "$CTL"
ip netns exec "$NS" setpriv --reuid=65534 --regid=65534 --clear-groups "$VIPCTL" -s "$CTL" cluster info \
	>"$TMP/denied" 2>&1
rc=$?
check "vipctl as nobody on an open socket is refused by SO_PEERCRED (exit $rc)" [ "$rc" -eq 3 ]
check "vipctl --json as nobody: the refusal is JSON" bash -c "ip netns exec '$NS' setpriv --reuid=65534 \
	--regid=65534 --clear-groups '$VIPCTL' -s '$CTL' --json cluster info |
	python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)[\"status\"] == 3 else 1)'"
chmod o-rw "$CTL" && chmod o-x "$TMP/run"

# ---------------------------------------------------------------- reload
write_config "$CAPS" 198.51.100.21 198.51.100.40 2001:db8:1::30
kill -HUP "$VIPD_PID"
check "SIGHUP reload adds 198.51.100.40" wait_for 3000 has_addr 198.51.100.40
check "SIGHUP reload removes 198.51.100.30" wait_for 3000 lacks_addr 198.51.100.30

write_config "$CAPS" 198.51.100.21 198.51.100.41 2001:db8:1::30
out=$(vipctl config reload)
echo "$out" | sed 's/^/     | /'
check "vipctl config reload reports the change" grep -q 'Reconfigured: 1 DuraVIP added (198.51.100.41)' <<<"$out"
check "vipctl config reload adds 198.51.100.41" wait_for 3000 has_addr 198.51.100.41
check "vipctl config reload removes 198.51.100.40" wait_for 3000 lacks_addr 198.51.100.40

write_config "cap_net_admin+ep cap_net_raw+ep cap_net_bind_service+ep" 198.51.100.21 198.51.100.41 2001:db8:1::30
out=$(vipctl config reload)
echo "$out" | sed 's/^/     | /'
check "a Security change is reported as needing a restart" grep -q 'needs a restart' <<<"$out"
check "... and not applied (CapEff unchanged)" grep -q '^CapEff:[[:space:]]*0000000000003000$' "$st"

write_config "$CAPS" 198.51.100.21 198.51.100.41 2001:db8:1::30
echo 'Binding "broken" { Bind_Address = ' >>"$TMP/ecelerity.conf"
vipctl config reload >"$TMP/reload-bad" 2>&1
rc=$?
check "a broken configuration is refused (exit $rc): Reconfigure failed" grep -q 'Reconfigure failed' "$TMP/reload-bad"
check "... and the running DuraVIPs stay" all_plumbed 198.51.100.21 198.51.100.41 2001:db8:1::30
write_config "$CAPS" 198.51.100.21 198.51.100.41 2001:db8:1::30

# ---------------------------------------------------------------- SIGTERM
ENGINE=$(engine_of "$VIPD_PID")
kill -TERM "$VIPD_PID"
if wait_for 5000 bash -c "! kill -0 $VIPD_PID 2>/dev/null"; then
	wait "$VIPD_PID"
	rc=$?
	check "SIGTERM: vipd exits 0 (got $rc)" [ "$rc" -eq 0 ]
else
	fail "vipd exits within 5 s of SIGTERM"
fi
check "SIGTERM leaves no DuraVIP plumbed" none_plumbed 198.51.100.21 198.51.100.41 2001:db8:1::30
check "SIGTERM leaves no engine process" bash -c "! kill -0 ${ENGINE:-0} 2>/dev/null"
check "the monitor said it was a clean stop" grep -q 'monitor: the engine stopped after releasing every DuraVIP' "$TMP/vipd.log"
if [ -f "$TMP/notified" ]; then
	# READY=1 comes once from the monitor; the others each close a RELOADING=1.
	unasked=$(awk '/^RELOADING=1$/{r=1} /^READY=1$/{if (!r) n++; r=0} END{print n+0}' "$TMP/notified")
	check "sd_notify READY=1 sent once outside reloads ($unasked)" [ "$unasked" -eq 1 ]
	check "sd_notify STATUS sent after the drop" grep -q '^STATUS=3 of 3 DuraVIPs owned here' "$TMP/notified"
	check "sd_notify RELOADING=1 on reload" grep -q '^RELOADING=1$' "$TMP/notified"
	check "sd_notify STOPPING=1 sent" grep -q '^STOPPING=1$' "$TMP/notified"
fi

# ---------------------------------------------------------------- kill -9 of the engine
start_vipd
if wait_for 5000 all_plumbed 198.51.100.21 198.51.100.41 2001:db8:1::30; then
	ok "restarted vipd plumbed every DuraVIP"
else
	fail "restarted vipd plumbed every DuraVIP"
fi
ENGINE=$(engine_of "$VIPD_PID")
# Time the removals and the re-adds as the kernel reports them (ip -ts monitor), not by polling.
ip -n "$NS" -ts monitor address >"$TMP/monitor" 2>/dev/null &
MON_PID=$!
PIDS+=("$MON_PID")
sleep 0.3
t0=$(date +%s%N)
kill -9 "$ENGINE"
wait_for 2000 none_plumbed 198.51.100.21 198.51.100.41 2001:db8:1::30
gone=$?
wait_for 5000 all_plumbed 198.51.100.21 198.51.100.41 2001:db8:1::30
back=$?
sleep 0.1
kill "$MON_PID" 2>/dev/null
wait "$MON_PID" 2>/dev/null
ts_ns() { date -d "$1" +%s%N; }
last_del=$(grep 'Deleted' "$TMP/monitor" | grep -E '198\.51\.100\.(21|41)/|2001:db8:1::30/' | tail -1 |
	sed -E 's/^\[([^]]+)\].*/\1/')
last_add=$(grep -v 'Deleted' "$TMP/monitor" | grep -E '198\.51\.100\.(21|41)/|2001:db8:1::30/' | tail -1 |
	sed -E 's/^\[([^]]+)\].*/\1/')
if [ "$gone" -eq 0 ] && [ -n "$last_del" ]; then
	ok "kill -9 of the engine: the last address was removed $(( ($(ts_ns "$last_del") - t0) / 1000 )) us after the kill (monitor)"
else
	fail "kill -9 of the engine: addresses removed by the monitor within 2 s"
	nsip addr show
fi
if [ "$back" -eq 0 ] && [ -n "$last_add" ] && [ -n "$last_del" ]; then
	ok "the engine came back and re-plumbed everything $(( ($(ts_ns "$last_add") - $(ts_ns "$last_del")) / 1000000 )) ms after the flush ($(( ($(ts_ns "$last_add") - t0) / 1000000 )) ms after the kill)"
else
	fail "the engine came back and re-plumbed within 5 s"
fi
NEW=$(engine_of "$VIPD_PID")
check "a new engine runs (pid ${NEW:-none}, was $ENGINE)" [ -n "$NEW" ] && [ "$NEW" != "$ENGINE" ]
check "the monitor flushed and restarted" grep -q 'monitor: restarting the engine in 100 ms' "$TMP/vipd.log"

# ---------------------------------------------------------------- the Security user
out=$(as_ecuser kill -s TERM "$VIPD_PID" 2>&1)
check "ecuser cannot SIGTERM the monitor: $out" grep -qi 'not permitted' <<<"$out"
out=$(as_ecuser kill -s KILL "$VIPD_PID" 2>&1)
check "ecuser cannot SIGKILL the monitor: $out" grep -qi 'not permitted' <<<"$out"
check "... and the monitor lives" kill -0 "$VIPD_PID"

flushed_before=$(grep -c 'monitor: removed 3 vipd addresses' "$TMP/vipd.log")
ip -n "$NS" -ts monitor address >"$TMP/monitor2" 2>/dev/null &
MON_PID=$!
PIDS+=("$MON_PID")
sleep 0.3
kills_ok=0 orphans=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	E=$(engine_of "$VIPD_PID")
	sig=KILL
	[ $((i % 2)) -eq 0 ] && sig=TERM
	if [ -z "$E" ] || ! as_ecuser kill -s "$sig" "$E"; then
		echo "     | kill $i: no engine or kill failed"
		continue
	fi
	# Once the engine is gone, its addresses must be gone too, until the next engine runs.
	wait_for 2000 bash -c "! kill -0 $E 2>/dev/null"
	N=$(engine_of "$VIPD_PID")
	if [ -z "$N" ] || [ "$N" = "$E" ]; then
		none_plumbed 198.51.100.21 198.51.100.41 2001:db8:1::30 || orphans=$((orphans + 1))
	fi
	if wait_for 5000 all_plumbed 198.51.100.21 198.51.100.41 2001:db8:1::30 &&
		N=$(engine_of "$VIPD_PID") && [ -n "$N" ] && [ "$N" != "$E" ]; then
		kills_ok=$((kills_ok + 1))
	fi
done
sleep 0.1
kill "$MON_PID" 2>/dev/null
wait "$MON_PID" 2>/dev/null
check "ecuser killed the engine 10 times (SIGKILL and SIGTERM): restarted and re-plumbed each time ($kills_ok)" [ "$kills_ok" -eq 10 ]
check "the monitor survived" kill -0 "$VIPD_PID"
check "no address was left plumbed without an engine ($orphans seen)" [ "$orphans" -eq 0 ]
flushed=$(( $(grep -c 'monitor: removed 3 vipd addresses' "$TMP/vipd.log") - flushed_before ))
check "each of the 5 SIGKILLs was followed by a flush of the 3 addresses ($flushed)" [ "$flushed" -eq 5 ]
dels=$(grep 'Deleted' "$TMP/monitor2" | grep -cE '198\.51\.100\.(21|41)/|2001:db8:1::30/')
check "the kernel saw every address removed after every kill ($dels removals)" [ "$dels" -ge 30 ]
check "one engine runs" [ "$(pgrep -P "$VIPD_PID" | wc -l)" -eq 1 ]

# ---------------------------------------------------------------- SIGTERM to the monitor: nothing left
ENGINE=$(engine_of "$VIPD_PID")
kill -TERM "$VIPD_PID"
if wait_for 5000 bash -c "! kill -0 $VIPD_PID 2>/dev/null"; then
	wait "$VIPD_PID"
	rc=$?
	check "SIGTERM after the restarts: vipd exits 0 (got $rc)" [ "$rc" -eq 0 ]
else
	fail "vipd exits within 5 s of SIGTERM"
fi
check "... no DuraVIP plumbed" none_plumbed 198.51.100.21 198.51.100.41 2001:db8:1::30
check "... no engine left (pid $ENGINE)" bash -c "! kill -0 ${ENGINE:-0} 2>/dev/null"

# ---------------------------------------------------------------- vipd --flush
start_vipd
wait_for 5000 all_plumbed 198.51.100.21 198.51.100.41 2001:db8:1::30 || fail "third start plumbed"
ENGINE=$(engine_of "$VIPD_PID")
kill -STOP "$VIPD_PID" "$ENGINE"  # frozen: neither the monitor nor the engine touches anything now
out=$(ip netns exec "$NS" "$VIPD" --flush)
check "vipd --flush: $out" none_plumbed 198.51.100.21 198.51.100.41 2001:db8:1::30
check "vipd --flush keeps the node's own address" has_addr 198.51.100.1
kill -9 "$ENGINE" "$VIPD_PID"
wait "$VIPD_PID" 2>/dev/null

echo "--- vipd log"
sed 's/^/     | /' "$TMP/vipd.log"
[ "$FAILS" -eq 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "all checks passed"
