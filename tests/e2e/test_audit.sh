# test_audit.sh - the audit log: rotated by size, and what a view does
# when its records cannot be written (audit_failure = open | closed).

# one secret, default/s; the config's [audit] section is the caller's
audit_store() {
	new_store
	ctl create secret generic s --from-literal=k=value >/dev/null
}

test_audit_log_rotates_by_size() {
	audit_store
	cat >>"$T/secretfs.ini" <<INI
[audit]
path = $T/audit/audit.log
max_size = 2K
max_files = 2
[view v]
secret = default/s
audit = on
INI
	M=$T/v
	mkdir -p "$M"
	start_fs "$M" --view v "$M"
	local i
	for i in $(seq 60); do cat "$M/default/s/k" >/dev/null; done
	expect_eq "files kept" "audit.log audit.log.1 audit.log.2" "$(ls "$T/audit" | xargs)"
	python3 - "$T/audit" <<'PY' || fail "bad rotated files: $(ls -l "$T/audit")"
import json, os, sys
d = sys.argv[1]
n = 0
for f in ("audit.log", "audit.log.1", "audit.log.2"):
    p = os.path.join(d, f)
    assert os.path.getsize(p) <= 2048, (f, os.path.getsize(p))
    assert os.stat(p).st_mode & 0o777 == 0o600, f
    for line in open(p):
        r = json.loads(line)          # whole records only
        assert r["secret"] == "s" and r["allowed"] is True
        n += 1
# three files of up to 2 KiB, records of about 250 bytes
assert n >= 15, n
PY
	# the newest record is in audit.log
	local before
	before=$(wc -l <"$T/audit/audit.log")
	cat "$M/default/s/k" >/dev/null
	[ "$(wc -l <"$T/audit/audit.log")" -eq $((before + 1)) ] || [ "$(wc -l <"$T/audit/audit.log")" -eq 1 ] ||
		fail "the last open is not in audit.log"
}

# The audit log on a full file system: a view with audit_failure = closed
# refuses opens (EIO), one with the default (open) serves them; both count
# the lost records, which 'secretctl status' shows, with one log line for
# a burst; once there is room again, opens are recorded and served.
test_audit_failure_open_or_closed_on_a_full_disk() {
	audit_store
	mkdir -p "$T/auditfs" "$T/views"
	mount -t tmpfs -o size=64k,mode=0700 tmpfs "$T/auditfs"
	cat >>"$T/secretfs.ini" <<INI
[audit]
path = $T/auditfs/audit.log
[view failopen]
secret = default/s
audit = on
[view failclosed]
secret = default/s
audit = on
audit_failure = closed
INI
	M=$T/views/failopen
	start_fs "$T/views/failopen $T/views/failclosed" --views "$T/views"
	cleanup_extra() {
		! mountpoint -q "$T/views/failclosed" || fusermount3 -u "$T/views/failclosed"
		! mountpoint -q "$T/views/failopen" || fusermount3 -u "$T/views/failopen"
		umount -l "$T/auditfs"
	}
	[ -f "$T/auditfs/audit.log" ] || fail "no audit log created"
	dd if=/dev/zero of="$T/auditfs/fill" bs=4k 2>/dev/null || true
	local i out
	for i in 1 2 3; do
		expect_eq "fail-open view serves" "value" "$(cat "$T/views/failopen/default/s/k")"
		out=$(cat "$T/views/failclosed/default/s/k" 2>&1) && fail "fail-closed view served an unaudited read"
		expect_contains "fail-closed view refuses" "$out" "Input/output error"
	done
	expect_eq "one log line for the burst" 1 "$(grep -c "cannot write the audit log" "$T/fs.log")"
	grep "cannot write the audit log" "$T/fs.log" | grep -q "No space left on device" ||
		fail "the log line does not say why: $(cat "$T/fs.log")"
	eventually 3 'ctl status | grep -q "6 audit records could not be written, 3 opens refused for it"' ||
		fail "status does not count them: $(ctl status)"
	rm "$T/auditfs/fill"
	expect_eq "fail-closed view serves again" "value" "$(cat "$T/views/failclosed/default/s/k")"
	grep -q '"view":"failclosed".*"allowed":true' "$T/auditfs/audit.log" ||
		fail "the open was not recorded: $(cat "$T/auditfs/audit.log")"
}
