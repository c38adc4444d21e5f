# test_readme.sh - every shell example of README.md runs as written, after a
# 'make install' into $T (tests/e2e/readme_examples.py says how); those that
# cannot run here are marked in the README with the reason, and counted.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# the README's examples that cannot run here, each marked with its reason:
# make run/check, docker/podman, two cluster nodes (2), systemctl, Podman's
# secret driver (needs an image; test_podman runs it on a busybox root)
README_SKIPPED=7

test_readme_examples_run() {
	local r=$T/root out
	# 'make install' as the README's tour assumes it, its paths under $T
	make -s -C "$ROOT" -o all install BIN="$BIN" DESTDIR= PREFIX="$r/usr" \
		SYSCONFDIR="$r/etc" LOCALSTATEDIR="$r/var" >"$T/install.log" 2>&1 ||
		fail "make install failed: $(cat "$T/install.log")"
	# the programs were built for /etc: their default configuration is
	# this install's through the variable they read first
	mkdir -p "$T/stubs"
	printf '#!/bin/sh\necho "$*" >>"%s/stubs/systemctl.log"\n' "$T" >"$T/stubs/systemctl"
	chmod +x "$T/stubs/systemctl"
	eval "cleanup_extra() {
		for m in $r/etc/app $r/mnt/secrets; do mountpoint -q \"\$m\" && umount -l \"\$m\"; done; true; }"
	out=$(PATH="$T/stubs:$r/usr/bin:$r/usr/sbin:$PATH" SECRETFS_CONFIG="$r/etc/secretfs/secretfs.ini" \
		python3 "$ROOT/tests/e2e/readme_examples.py" "$ROOT/README.md" "$T" 2>&1) ||
		fail "a README example failed: $out"
	echo "$out"
	expect_contains "examples run" "$out" "RUN "
	[[ $out =~ RUN\ ([0-9]+)\ SKIPPED\ ([0-9]+) ]] || fail "no count: $out"
	[ "${BASH_REMATCH[1]}" -ge 3 ] || fail "only ${BASH_REMATCH[1]} examples ran: $out"
	expect_eq "examples skipped (each marked with its reason)" "$README_SKIPPED" "${BASH_REMATCH[2]}"
}
