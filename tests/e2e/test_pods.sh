# test_pods.sh - a Pod manifest's secret and projected volumes served as
# the kubelet lays them out (secretfs --pod, 'pod = FILE' in a view, the
# OCI hook's io.secretfs.pod), with the Kubernetes documentation's own
# examples, verbatim (tests/e2e/data/pods, see its README.md).

pods=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/data/pods

# mysecret and mysecret2 as the pages create them
pod_secrets() {
	ctl create secret generic mysecret --from-literal=username=admin \
		--from-literal=password=1f2d1e2e67df >/dev/null
	ctl create secret generic mysecret2 --from-literal=password=second-pw >/dev/null
}

# pod_mount FILE: secretfs --pod FILE at $M
pod_mount() {
	M=$T/mnt
	mkdir -p "$M"
	start_fs "$M" --pod "$1" "$M"
}

# listing PATH: "MODE NAME" of everything below PATH, sorted
listing() {
	(cd "$1" && find . -mindepth 1 -printf '%M %p\n' | sort -k2)
}

test_pod_examples_give_the_kubelets_files_and_modes() {
	new_store
	# dotfiles: one file, .secret-file, its bytes as decoded, mode 0644
	ctl apply -f "$pods/dotfile-secret.yaml" >"$T/apply.out" 2>&1 || fail "apply: $(cat "$T/apply.out")"
	pod_mount "$pods/dotfile-secret.yaml"
	expect_eq "dotfile volume" "-rw-r--r-- ./secret-volume/.secret-file" "$(listing "$M" | grep -v '^d')"
	printf 'value-2\r\n\r\n' | cmp - "$M/secret-volume/.secret-file" || fail "the dotfile's bytes differ"
	expect_eq "the folders" "drwxr-xr-x ./secret-volume" "$(listing "$M" | grep '^d')"
	unmount_fs

	pod_secrets
	# items: username at my-group/my-username, mode 0777; password not projected
	pod_mount "$pods/secret-items-mode.yaml"
	expect_eq "items and mode" "drwxr-xr-x ./foo
drwxr-xr-x ./foo/my-group
-rwxrwxrwx ./foo/my-group/my-username" "$(listing "$M")"
	expect_eq "its value" admin "$(cat "$M/foo/my-group/my-username")"
	unmount_fs

	# defaultMode 0400 (YAML octal): every file
	pod_mount "$pods/secret-default-mode.yaml"
	expect_eq "defaultMode" "-r-------- ./foo/password
-r-------- ./foo/username" "$(listing "$M" | grep -v '^d')"
	unmount_fs

	# projected, two secrets into one folder; mode: 511 is 0777
	pod_mount "$pods/projected-secrets-nondefault-permission-mode.yaml"
	expect_eq "projected" "drwxr-xr-x ./all-in-one
drwxr-xr-x ./all-in-one/my-group
-rwxrwxrwx ./all-in-one/my-group/my-password
-rw-r--r-- ./all-in-one/my-group/my-username" "$(listing "$M")"
	expect_eq "from the second secret" second-pw "$(cat "$M/all-in-one/my-group/my-password")"
	# a change shows at the next open
	ctl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Secret
metadata: {name: mysecret2}
stringData: {password: third-pw}
YAML
	expect_eq "updated" third-pw "$(cat "$M/all-in-one/my-group/my-password")"
	unmount_fs
}

test_pod_optional_secret_and_kubelet_layout() {
	new_store
	cat >>"$T/secretfs.ini" <<INI
[mount]
layout = kubelet
INI
	# optional: the volume is there, empty, until mysecret exists
	pod_mount "$pods/optional-secret.yaml"
	expect_eq "empty volume" "drwxr-xr-x ./foo" "$(listing "$M" | grep -v '\.\.')"
	pod_secrets
	eventually 2 'test "$(cat "$M/foo/username")" = admin' || fail "the optional secret did not appear"
	# as atomic_writer.go leaves it: ..data -> ..rev-N, each name -> ..data/NAME
	local rev
	rev=$(readlink "$M/foo/..data")
	case $rev in ..rev-[0-9]*) ;; *) fail "..data -> [$rev]" ;; esac
	expect_eq "links" "lrwxrwxrwx ./foo/..data -> $rev
lrwxrwxrwx ./foo/password -> ..data/password
lrwxrwxrwx ./foo/username -> ..data/username" \
		"$(cd "$M" && find . -mindepth 2 -maxdepth 2 -type l -printf '%M %p -> %l\n' | sort)"
	expect_eq "the generation" "-rw-r--r-- ./foo/$rev/password
-rw-r--r-- ./foo/$rev/username" "$(listing "$M" | grep -- "-r.*$rev/")"
	# a change moves ..data; the old generation is gone, never mixed
	ctl create secret generic mysecret --from-literal=username=root --dry-run=client -o yaml |
		ctl replace -f - >/dev/null
	[ "$(readlink "$M/foo/..data")" != "$rev" ] || fail "..data did not move"
	expect_eq "new value" root "$(cat "$M/foo/username")"
	[ -e "$M/foo/$rev/username" ] && fail "the replaced generation $rev is still served"
	[ -e "$M/foo/password" ] && fail "a key the new generation lacks is still there"
	unmount_fs
}

test_pod_rules_refusals_and_pending() {
	new_store
	local bad=$T/bad.yaml
	# the kubelet's path rules and the API server's, each named
	for c in "/etc/x:must be a relative path" "a/../b:must not contain '..'" \
		"..a:must not start with '..'" ".:must name a file"; do
		cat >"$bad" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  volumes:
  - name: v
    secret: {secretName: s, items: [{key: k, path: "${c%%:*}"}]}
YAML
		expect_errno "path ${c%%:*}" "spec.volumes[0].secret.items[0].path: Invalid value: \"${c%%:*}\": ${c#*:}" \
			"$BIN/secretfs" -c "$T/secretfs.ini" -f --pod "$bad" "$T"
	done
	printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  volumes:\n  - name: v\n    secret: {secretName: s, defaultMode: 01000}\n' >"$bad"
	expect_errno "mode" "spec.volumes[0].secret.defaultMode: must be a number from 0 to 0777" \
		"$BIN/secretfs" -c "$T/secretfs.ini" -f --pod "$bad" "$T"
	printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  volumes:\n  - name: v\n    projected: {sources: [{secret: {name: a, items: [{key: k, path: x/y}]}}, {secret: {name: b, items: [{key: k, path: x}]}}]}\n' >"$bad"
	expect_errno "clash" 'conflicting duplicate paths' "$BIN/secretfs" -c "$T/secretfs.ini" -f --pod "$bad" "$T"
	printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  volumes:\n  - name: v\n    secret: {secretName: s}\n  - name: v\n    emptyDir: {}\n' >"$bad"
	expect_errno "twice" 'spec.volumes[1].name: Duplicate value: "v"' "$BIN/secretfs" -c "$T/secretfs.ini" -f --pod "$bad" "$T"
	# a view is a pod's volumes or grants, not both
	cp -p "$T/secretfs.ini" "$T/both.ini"
	printf '[view v]\nsecret = default/s\npod = %s\n' "$pods/optional-secret.yaml" >>"$T/both.ini"
	expect_errno "pod and secret" "[view v] pod: a view is one pod's volumes, or secret, optional and item lines, not both" \
		"$BIN/secretfs" -c "$T/both.ini" -f --view v "$T"
	# a listed key missing from a required secret: pending, as the kubelet
	# fails the volume's set-up; other kinds of volume are the runtime's
	cat >"$bad" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop}
spec:
  volumes:
  - name: cache
    emptyDir: {}
  - name: creds
    secret: {secretName: db, items: [{key: token, path: t/token, mode: 0440}]}
YAML
	ctl create namespace shop >/dev/null
	ctl create secret generic db -n shop --from-literal=user=u >/dev/null
	M=$T/mnt
	mkdir -p "$M"
	"$BIN/secretfs" -c "$T/secretfs.ini" -f --pod "$bad" "$M" 2>"$T/fs.log" &
	FS_PID=$!
	eventually 2 'grep -q "pending" "$T/fs.log"' || fail "not pending: $(cat "$T/fs.log")"
	expect_contains "emptyDir noted" "$(cat "$T/fs.log")" 'volume "cache" is not a secret or projected volume: the container runtime mounts it'
	expect_contains "the key named" "$(cat "$T/fs.log")" 'has no key "token" (projected as "t/token")'
	mountpoint -q "$M" && fail "mounted with a listed key missing"
	expect_contains "status" "$(ctl status)" "shop/db/token"
	ctl create secret generic db -n shop --from-literal=token=tk --dry-run=client -o yaml | ctl replace -f - >/dev/null
	eventually 2 'mountpoint -q "$M"' || fail "not mounted once the key exists: $(cat "$T/fs.log")"
	expect_eq "served" "-r--r----- ./creds/t/token" "$(listing "$M" | grep -v '^d')"
	expect_eq "value" tk "$(cat "$M/creds/t/token")"
	unmount_fs
}

# A pod view in the .ini, given to a real runc container by the OCI hook at
# its volumeMounts' mountPath, as the kubelet would mount it.
test_pod_oci_hook_mounts_the_volumes_at_their_mount_paths() {
	new_store
	pod_secrets
	cat >>"$T/secretfs.ini" <<INI
[view mypod]
pod = $pods/secret-items-mode.yaml
match = cgroup:/secretfs-test/podc-*
INI
	local hook="$BIN/secretfs-oci-hook -c $T/secretfs.ini --state-dir $T/oci" out
	out=$(container podc --annotation "io.secretfs.pod=$pods/secret-items-mode.yaml" \
		--hook "createRuntime=$hook" --hook "poststop=$hook" -- \
		sh -c 'ls -l /etc/foo/my-group/my-username; cat /etc/foo/my-group/my-username; echo; ls /etc/foo') ||
		fail "the container failed: $out"
	expect_contains "mode 0777 at the mountPath" "$out" "-rwxrwxrwx"
	expect_contains "the file" "$out" "/etc/foo/my-group/my-username"
	expect_contains "its value" "$out" "admin"
	case $out in *password*) fail "password was projected: $out" ;; esac
	# not this container's pod: refused
	out=$(container other --annotation "io.secretfs.pod=$pods/secret-items-mode.yaml" \
		--hook "createRuntime=$hook" -- echo started 2>&1) && fail "a stranger got the pod's volumes: $out"
	expect_contains "refusal" "$out" "is not for this container"
	awk -v d="$T/oci" 'index($2, d) == 1 {print "left mounted: " $2; bad = 1} END {exit bad}' /proc/mounts ||
		fail "the hook left mounts behind"
}
