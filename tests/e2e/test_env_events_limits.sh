# test_env_events_limits.sh - secrets as environment variables (exec, env)
# with invalid names skipped and recorded as events; [limits]; expired
# bootstrap tokens disappearing from listings and mounts.

test_exec_and_env() {
	new_store
	ctl create secret generic db --from-literal=DB_USER=admin --from-literal=DB_PASS="it's a secret" \
		--from-literal=1BAD=x --from-literal=with.dot=ok >/dev/null
	ctl create secret generic extra --from-literal=DB_USER=override >/dev/null
	local out
	out=$(ctl exec --from db --from extra -- sh -c 'echo "$DB_USER|$DB_PASS"' 2>"$T/err")
	expect_eq "exec" "override|it's a secret" "$out"
	expect_contains "warning names the key" "$(cat "$T/err")" "Keys [1BAD] from the EnvFrom secret default/db were skipped"
	out=$(ctl exec --from db --prefix APP_ -- env 2>/dev/null)
	expect_contains "prefix" "$out" "APP_DB_USER=admin"
	expect_contains "dots are valid names" "$out" "APP_with.dot=ok"
	expect_contains "prefixed 1BAD is valid" "$out" "APP_1BAD=x"
	out=$(ctl env --from db 2>/dev/null)
	expect_eq "env eval" "admin|it's a secret" "$(eval "$out"; echo "$DB_USER|$DB_PASS")"
	out=$(ctl get events)
	expect_contains "event" "$out" "Warning   InvalidEnvironmentVariableNames   secret/db"
	case "$out" in *admin*|*"it's a secret"*) fail "an event holds a value: $out" ;; esac
	expect_errno "no --from" "at least one --from SECRET is required" ctl env
	expect_errno "missing secret" 'secret "nope" in namespace "default" not found' ctl exec --from nope -- true
}

# env's output evals in bash and dash to the very bytes stored: values with
# quotes, newlines, $(...), backticks, backslashes, non-UTF-8, empty, 64 KiB;
# keys that are not shell names (api-url) are skipped as exec skips invalid
# ones, so that an eval never stops half-way.
test_env_round_trips_through_eval_in_bash_and_dash() {
	local sh k d=$T/v
	command -v dash >/dev/null || fail "dash is missing (apt-get install dash)"
	new_store
	mkdir "$d"
	printf "it's 'quoted' \"twice\"" >"$d/QUOTES"
	printf 'line one\nline two\n\n' >"$d/NEWLINES"
	printf '$(touch %s/pwned) `touch %s/pwned` ${HOME} $HOME' "$T" "$T" >"$d/EXPANSIONS"
	printf 'back\\slash \\n \\\\ \\'"'" >"$d/BACKSLASHES"
	printf '\377\376\300\200 caf\351' >"$d/NOT_UTF8"
	: >"$d/EMPTY"
	head -c 65536 /dev/urandom | tr '\0' '\1' >"$d/BIG"
	ctl create secret generic app --from-file="$d" --from-literal=api-url=https://x >/dev/null
	ctl env --from app >"$T/env.sh" 2>"$T/err" || fail "env failed: $(cat "$T/err")"
	expect_contains "warning names the key" "$(cat "$T/err")" \
		"Keys [api-url] from the EnvFrom secret default/app were skipped"
	expect_contains "event" "$(ctl get events)" "InvalidEnvironmentVariableNames   secret/app"
	for sh in bash dash; do
		mkdir "$T/$sh"
		# set -e: a line the shell refuses fails the test
		"$sh" -ec 'eval "$(cat "$1")"; cd "$2"; for k in QUOTES NEWLINES EXPANSIONS BACKSLASHES NOT_UTF8 EMPTY BIG; do
			eval "printf %s \"\${$k}\"" >"$k"; done' _ "$T/env.sh" "$T/$sh" ||
			fail "$sh could not eval env's output"
		for k in QUOTES NEWLINES EXPANSIONS BACKSLASHES NOT_UTF8 EMPTY BIG; do
			expect_eq "$sh: $k byte for byte" "$(od -An -c "$d/$k")" "$(od -An -c "$T/$sh/$k")"
		done
	done
	[ -e "$T/pwned" ] && fail "eval ran a command substitution from a value"
	return 0
}

test_max_secrets_per_namespace() {
	new_store
	printf '[limits]\nmax_secrets_per_namespace = 2\n' >>"$T/secretfs.ini"
	ctl create secret generic a --from-literal=k=v >/dev/null
	ctl create secret generic b --from-literal=k=v >/dev/null
	expect_errno "quota" 'secrets "c" is forbidden: exceeded quota in namespace "default": max_secrets_per_namespace=2, used: 2, requested: 1' \
		ctl create secret generic c --from-literal=k=v
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: b}\nstringData: {k: w}\n' >"$T/b.yaml"
	expect_eq "updates still allowed" "secret/b configured" "$(ctl apply -f "$T/b.yaml")"
	ctl create namespace other >/dev/null
	ctl create secret generic c -n other --from-literal=k=v >/dev/null || fail "quota is per namespace"
}

test_expired_bootstrap_token_disappears() {
	new_store
	local past future
	past=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
	future=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
	for t in "abcdef:$past" "ghijkl:$future"; do
		ctl create secret generic "bootstrap-token-${t%%:*}" -n default --type=bootstrap.kubernetes.io/token \
			--from-literal=token-id="${t%%:*}" --from-literal=token-secret=0123456789abcdef \
			--from-literal=expiration="${t#*:}" >/dev/null || fail "token ${t%%:*} refused"
	done
	expect_eq "listing" "secret/bootstrap-token-ghijkl" "$(ctl get secrets -o name)"
	expect_errno "get" 'secret "bootstrap-token-abcdef" in namespace "default" not found' \
		ctl get secret bootstrap-token-abcdef
	mount_fs
	expect_eq "mount" "bootstrap-token-ghijkl" "$(ls "$M/default")"
	expect_errno "mount lookup" "No such file or directory" cat "$M/default/bootstrap-token-abcdef/token-id"
	expect_errno "bad token id" 'data[token-id]: Invalid value: must be 6 characters of [a-z0-9]' \
		ctl create secret generic bootstrap-token-abcdeg --type=bootstrap.kubernetes.io/token \
		--from-literal=token-id=ABCDEF --from-literal=token-secret=0123456789abcdef
}

# At most STORE_MAX_KEYS (4,096) keys per secret, refused by that rule and
# naming the secret (20,000 keys used to end in a bare "out of memory"):
# from a manifest (at the limit, created and updated), from a folder of
# files (counted before any is read), and the store left as it was.
test_max_keys_per_secret() {
	new_store
	keys() { # keys NAME N: a manifest of N keys
		python3 -c 'import sys
print("apiVersion: v1\nkind: Secret\nmetadata: {name: %s}\nstringData:" % sys.argv[1])
for i in range(int(sys.argv[2])): print("  k%d: v" % i)' "$1" "$2"
	}
	keys full 4096 >"$T/full.yaml"
	expect_eq "at the limit" "secret/full created" "$(ctl apply -f "$T/full.yaml")"
	sed -i 's/^  k1: v$/  k1: w/' "$T/full.yaml"
	expect_eq "updated at the limit" "secret/full configured" "$(ctl apply -f "$T/full.yaml")"
	expect_eq "all there" 4096 "$(ctl get secrets | awk '$1 == "full" {print $3}')"
	local rev
	rev=$(revision)
	keys over 4097 >"$T/over.yaml"
	expect_errno "one over" 'Secret "over" is invalid: data: Too many: 4097: must have at most 4096 keys' \
		ctl apply -f "$T/over.yaml"
	keys huge 20000 >"$T/huge.yaml"
	expect_errno "far over" 'Secret "huge" is invalid: data: Too many: 20000: must have at most 4096 keys' \
		ctl apply -f "$T/huge.yaml"
	# in memory: 4,097 files on a loaded disk take seconds to create
	files=$(mktemp -d /dev/shm/secretfs-keys.XXXXXX)
	cleanup_extra() { rm -rf "$files"; }
	seq -f "$files/f%g" 4097 | xargs touch
	expect_errno "folder one over" 'secret "files": data: Too many: 4097: must have at most 4096 keys' \
		ctl create secret generic files --from-file="$files"
	expect_eq "store unchanged" "$rev" "$(revision)"
}

# labels_json FILE NAME COUNT: a Secret with COUNT labels, in no key order
labels_json() {
	python3 - "$@" <<'PY'
import json, random, sys
path, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
keys = [f"k{i:06d}" for i in range(n)]
random.Random(1).shuffle(keys)
json.dump({"apiVersion": "v1", "kind": "Secret",
           "metadata": {"name": name, "labels": {k: "v" for k in keys}},
           "stringData": {"a": "b"}}, open(path, "w"))
PY
}

# cpu_time COMMAND...: the CPU seconds (user + system) COMMAND took, its
# output dropped (CPU, not wall time: the disk here is shared)
cpu_time() {
	local TIMEFORMAT=%U+%S t
	t=$({ time "$@" >/dev/null 2>&1; } 2>&1) || fail "'$*' failed"
	python3 -c "print(round($t, 2))"
}

# cpu_under WHAT SECONDS COMMAND...
cpu_under() {
	local what=$1 max=$2 t
	shift 2
	t=$(cpu_time "$@")
	python3 -c "import sys; sys.exit(0 if $t < $max else 1)" || fail "$what took $t s of CPU (at most $max)"
}

# Many labels cost linear time (200,000 once took 74 s to apply and 87 s to
# list: 30,000 took about 10 s of CPU to list then, 0.2 s now); and the
# whole object is limited as etcd limits it, 1.5 MiB, with a message naming
# it and the store left as it was.
test_many_labels_and_the_object_limit() {
	new_store
	labels_json "$T/many.json" many 30000
	# as with kubectl, apply's last-applied annotation (the labels again)
	# cannot exceed 256 KiB: such an object is created, not applied
	expect_errno "apply" 'metadata.annotations: Too long: must have at most 262144 bytes' \
		ctl apply -f "$T/many.json"
	cpu_under "create" 3 ctl create -f "$T/many.json"
	expect_eq "all listed" "30000" "$(ctl get secrets -o json |
		python3 -c 'import json, sys; print(len(json.load(sys.stdin)["items"][0]["metadata"]["labels"]))')"
	cpu_under "get -o json" 3 ctl get secrets -o json
	cpu_under "get -o yaml" 3 ctl get secrets -o yaml
	cpu_under "selector" 3 ctl get secrets -l k029999=v
	cpu_under "label" 3 ctl label secret many extra=1
	expect_eq "labelled" "1" "$(ctl get secret many -o 'jsonpath={.metadata.labels.extra}')"
	local rev
	rev=$(revision)
	labels_json "$T/big.json" big 200000
	expect_errno "too large" \
		'secret "big" in namespace "default": etcdserver: request is too large: its names, data, labels and annotations hold 1600018 bytes, at most 1572864 per object' \
		ctl create -f "$T/big.json"
	expect_eq "store unchanged" "$rev" "$(revision)"
	expect_errno "not created" "not found" ctl get secret big
}
