#!/bin/sh
# SPDX-License-Identifier: MIT
# vipd --check on the sample configurations: --json must be valid JSON with the
# expected top-level shape, and a broken file must fail with file:line:col.
# Usage: check-conf-json.sh VIPD   (VIPD_SRCDIR points at the source tree)
set -u
vipd=$1
data=${VIPD_SRCDIR:?}/tests/data
fail=0

sets="single ipv6 topology follow"
if getent passwd ecuser >/dev/null && getent group ecuser >/dev/null; then
	sets="$sets cluster"
else
	echo "note: no ecuser account (tools/deps creates it): skipping tests/data/cluster"
fi

for s in $sets; do
	out=$("$vipd" --check --json -c "$data/$s/ecelerity.conf" --nodename checker 2>&1) || {
		echo "FAIL: vipd --check --json $s exited $?: $out"; fail=1; continue; }
	printf '%s' "$out" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert set(o) == {"security", "control", "cluster", "duravips", "health_checks", "notify", "warnings"}, sorted(o)
assert isinstance(o["health_checks"], list) and (o["notify"] is None or set(o["notify"]) == {"command", "timeout_ms", "from"}), o["notify"]
ag = o["control"]["admin_group"]
assert set(ag) == {"value", "gid", "from"}, ag
assert o["cluster"]["nodename"] == {"value": "checker", "from": "--nodename"}, o["cluster"]["nodename"]
for k in ("user", "group", "capabilities", "privileges", "chroot", "supplemental_groups"):
    assert "value" in o["security"][k] and "from" in o["security"][k], k
for d in o["duravips"]:
    assert set(d) >= {"address", "prefix", "interface", "services", "preference", "follow"}, d
' || { echo "FAIL: $s: bad JSON shape"; fail=1; continue; }
	"$vipd" --check -c "$data/$s/ecelerity.conf" >/dev/null 2>&1 || { echo "FAIL: vipd --check $s"; fail=1; }
	echo "ok: $s"
done

for b in syntax schema follow; do
	err=$("$vipd" --check -c "$data/broken/$b.conf" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -ne 1 ]; then
		echo "FAIL: broken/$b.conf exited $rc, want 1"; fail=1; continue
	fi
	printf '%s\n' "$err" | grep -Eq "broken/$b\.conf:[0-9]+:[0-9]+: error: " ||
		{ echo "FAIL: broken/$b.conf: no file:line:col error in: $err"; fail=1; continue; }
	echo "ok: broken/$b"
done
exit $fail
