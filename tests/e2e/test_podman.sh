# test_podman.sh - Podman's own secrets kept in the store, through its
# "shell" secret driver, the shipped etc/containers/secretfs.conf and
# 'secretctl podman-driver' (real Podman, runc as its runtime: crun refuses
# this machine's hybrid cgroups; the ulimit flags because the machine lacks
# CAP_SYS_RESOURCE).

here_podman=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

podman_cmd() {
	CONTAINERS_CONF=$T/containers.conf podman --runtime runc "$@"
}

# the shipped containers.conf, its secretctl pointed at this test's store
podman_setup() {
	command -v podman >/dev/null || fail "podman is missing (make deps installs it)"
	new_store
	sed "s|/usr/local/bin/secretctl|$BIN/secretctl -c $T/secretfs.ini|" \
		"$here_podman/../../etc/containers/secretfs.conf" >"$T/containers.conf"
	PODMAN_SECRET=secretfs-e2e-$$
	cleanup_extra() { podman_cmd secret rm "$PODMAN_SECRET" >/dev/null 2>&1; return 0; }
}

test_podman_secret_lives_in_the_store() {
	local id out canary=podman-canary-$$-$RANDOM
	podman_setup
	printf '%s\nsecond line' "$canary" >"$T/value"
	id=$(podman_cmd secret create "$PODMAN_SECRET" "$T/value") || fail "podman secret create failed"
	expect_contains "podman's secret list" "$(podman_cmd secret ls --format '{{.Name}} {{.Driver}}')" \
		"$PODMAN_SECRET shell"
	# one secret per Podman ID in namespace podman, the value under "value"
	expect_eq "store list" "$id" "$(ctl get secrets -n podman -o name | sed 's|secret/||')"
	ctl get secret "$id" -n podman -o 'jsonpath={.data.value}' | base64 -d >"$T/stored"
	cmp "$T/value" "$T/stored" || fail "the store holds another value than podman was given"
	# podman run --secret takes it from the store
	make_rootfs "$T/rootfs"
	podman_cmd run --rm --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
		--secret "$PODMAN_SECRET" --rootfs "$T/rootfs" cat "/run/secrets/$PODMAN_SECRET" >"$T/seen" ||
		fail "podman run --secret failed"
	cmp "$T/value" "$T/seen" || fail "the container read [$(cat "$T/seen")]"
	# nothing of the value in Podman's storage (its secrets.json holds the
	# name, the ID and the driver's options only)
	if grep -rlF "$canary" /var/lib/containers /run/containers 2>/dev/null; then
		fail "the value is in Podman's storage"
	fi
	# podman secret rm deletes it from the store
	podman_cmd secret rm "$PODMAN_SECRET" >/dev/null || fail "podman secret rm failed"
	expect_eq "store after rm" "" "$(ctl get secrets -n podman -o name)"
	# the driver's own refusals name the secret, never a value
	expect_errno "no SECRET_ID" '$SECRET_ID is not set' ctl podman-driver lookup
	out=$(SECRET_ID=$id ctl podman-driver lookup 2>&1) && fail "lookup of a deleted secret succeeded"
	expect_contains "lookup of a deleted secret" "$out" "secret \"$id\" in namespace \"podman\": not found"
	expect_errno "a bad ID" 'secret ID "../x"' env SECRET_ID=../x "$BIN/secretctl" -c "$T/secretfs.ini" podman-driver delete
	expect_errno "an ID with ESC, quoted" 'secret ID "a\x1b[2Kb"' env SECRET_ID=$'a\e[2Kb' \
		"$BIN/secretctl" -c "$T/secretfs.ini" podman-driver lookup
}
