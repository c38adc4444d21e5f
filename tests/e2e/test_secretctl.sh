# test_secretctl.sh - secretctl against a real store: kubectl's verbs and
# output, and every refusal leaving the store exactly as it was.

test_init_makes_store_and_key_once() {
	new_store
	expect_eq "key mode" "400" "$(stat -c %a "$T/store/master.key")"
	expect_eq "key size" "32" "$(stat -c %s "$T/store/master.key")"
	expect_eq "db mode" "600" "$(stat -c %a "$T/store/store.db")"
	expect_eq "journal" "wal" "$(sqlite3 "$T/store/store.db" 'PRAGMA journal_mode')"
	expect_eq "namespaces" "default" "$(ctl get ns -o name | sed 's|namespace/||')"
	local before
	before=$(sha256sum "$T/store/master.key")
	expect_errno "second init" "already exists; refusing to overwrite it" ctl init
	expect_eq "key untouched" "$before" "$(sha256sum "$T/store/master.key")"
}

test_key_file_permissions_refused() {
	new_store
	chmod 0440 "$T/store/master.key"
	expect_errno "group-readable key" "accessible by group or others (mode 0440)" ctl get secrets
	chmod 0400 "$T/store/master.key"
	chown 65534 "$T/store/master.key"
	expect_errno "foreign key owner" "is owned by uid 65534, not by the current user" ctl get secrets
}

test_create_get_describe_delete() {
	new_store
	expect_eq "create" "secret/db created" \
		"$(ctl create secret generic db --from-literal=username=admin --from-literal=password='s3 cr=t')"
	local out
	out=$(ctl get secrets)
	expect_eq "header" "NAME   TYPE     DATA   AGE" "$(echo "$out" | head -1)"
	expect_contains "row" "$(echo "$out" | tail -1)" "db     Opaque   2      "
	expect_eq "password b64" "$(printf 's3 cr=t' | base64)" \
		"$(ctl get secret db -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["password"])')"
	out=$(ctl get secret db -o yaml)
	expect_contains "yaml kind" "$out" "kind: Secret"
	expect_contains "yaml data" "$out" "  username: YWRtaW4="
	expect_contains "yaml ns" "$out" "  namespace: default"
	out=$(ctl describe secret db)
	expect_contains "describe sizes" "$out" "password:  7 bytes"
	expect_contains "describe sizes" "$out" "username:  5 bytes"
	case "$out" in *admin*|*s3*) fail "describe printed a value: $out" ;; esac
	expect_eq "delete" 'secret "db" deleted' "$(ctl delete secret db)"
	expect_errno "get deleted" 'secret "db" in namespace "default" not found' ctl get secret db
	expect_eq "empty list" "No resources found in default namespace." "$(ctl get secrets 2>&1)"
}

test_namespaces_and_all_namespaces() {
	new_store
	expect_eq "create ns" "namespace/prod created" "$(ctl create namespace prod)"
	ctl create secret generic api -n prod --from-literal=token=t >/dev/null
	ctl create secret generic web --from-literal=k=v >/dev/null
	local out
	out=$(ctl get secrets -A)
	expect_eq "-A header" "NAMESPACE   NAME   TYPE     DATA   AGE" "$(echo "$out" | head -1)"
	expect_eq "-A rows" "default prod" "$(echo "$out" | tail -n +2 | awk '{print $1}' | xargs)"
	expect_eq "-n" "api" "$(ctl get secrets -n prod -o name | sed 's|secret/||')"
	expect_errno "secret in missing ns" 'namespace "nope" not found' \
		ctl create secret generic x -n nope --from-literal=a=b
	expect_errno "default cannot go" 'namespace "default" may not be deleted' ctl delete ns default
	expect_eq "delete ns" 'namespace "prod" deleted' "$(ctl delete namespace prod)"
	expect_errno "secrets went along" 'not found' ctl get secret api -n prod
	expect_eq "ns list" "default" "$(ctl get namespaces -o name | sed 's|namespace/||' | xargs)"
}

test_from_file_env_file_and_types() {
	new_store
	printf 'line1\nline2\n' >"$T/cert.pem"
	head -c 300 /dev/urandom >"$T/blob.bin"
	mkdir "$T/dir"
	echo one >"$T/dir/a.txt"
	echo two >"$T/dir/.b"
	echo bad >"$T/dir/bad name"
	mkdir "$T/dir/sub"
	printf '\xef\xbb\xbfUSER=me\n# comment\n\n  PASS=p w  \nFROM_ENV\n' >"$T/app.env"
	FROM_ENV=inherited ctl create secret generic files --from-file="$T/cert.pem" \
		--from-file=bin="$T/blob.bin" --from-env-file="$T/app.env" \
		--type=example.com/custom --immutable >/dev/null
	local j
	j=$(ctl get secret files -o json)
	expect_eq "keys" "FROM_ENV PASS USER bin cert.pem" \
		"$(echo "$j" | python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["data"])))')"
	expect_eq "binary value" "$(base64 -w0 "$T/blob.bin")" \
		"$(echo "$j" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["bin"])')"
	expect_eq "env value keeps trailing spaces" "p w  " \
		"$(echo "$j" | python3 -c 'import json,sys,base64; print(base64.b64decode(json.load(sys.stdin)["data"]["PASS"]).decode(), end="")')"
	expect_eq "value from environment" "inherited" \
		"$(echo "$j" | python3 -c 'import json,sys,base64; print(base64.b64decode(json.load(sys.stdin)["data"]["FROM_ENV"]).decode(), end="")')"
	expect_eq "type" "example.com/custom" \
		"$(echo "$j" | python3 -c 'import json,sys; print(json.load(sys.stdin)["type"])')"
	expect_eq "immutable" "True" \
		"$(echo "$j" | python3 -c 'import json,sys; print(json.load(sys.stdin)["immutable"])')"
	# a file whose name is no key is refused, as kubectl refuses it
	expect_errno "folder with a bad name" "\"bad name\" is not valid key name for a Secret a valid config key must consist of alphanumeric characters" \
		ctl create secret generic folder --from-file="$T/dir"
	rm "$T/dir/bad name"
	ctl create secret generic folder --from-file="$T/dir" >/dev/null
	expect_eq "folder keys" ".b a.txt" \
		"$(ctl get secret folder -o json | python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["data"])))')"
}

test_refusals_leave_store_unchanged() {
	new_store
	ctl create secret generic keep --from-literal=a=1 >/dev/null
	local rev before
	rev=$(revision)
	before=$(ctl get secrets -A -o json)
	expect_errno "bad key" \
		'secret "x" in namespace "default": key "a/b": must consist of alphanumeric characters' \
		ctl create secret generic x --from-literal=a/b=1
	expect_errno "bad name" 'secret "Bad" in namespace "default": metadata.name: a lowercase RFC 1123 subdomain' \
		ctl create secret generic Bad --from-literal=a=1
	expect_errno "dot key" "must not be '..'" ctl create secret generic x --from-literal=..=1
	expect_errno "duplicate key" 'cannot add key "a", another key by that name already exists' \
		ctl create secret generic x --from-literal=a=1 --from-literal=a=2
	expect_errno "exists" 'secret "keep" in namespace "default" already exists' \
		ctl create secret generic keep --from-literal=a=2
	head -c 1048577 /dev/zero >"$T/toobig"
	expect_errno "too big" "larger than 1048576 bytes" ctl create secret generic x --from-file="$T/toobig"
	head -c 1048000 /dev/zero >"$T/half1"
	head -c 1000 /dev/zero >"$T/half2"
	expect_errno "sum too big" "data: Too long: must have at most 1048576 bytes" \
		ctl create secret generic x --from-file="$T/half1" --from-file="$T/half2"
	expect_errno "literal without =" "invalid literal source hunter2, expected key=value" \
		ctl create secret generic x --from-literal=hunter2
	expect_errno "bad env name" '"1BAD" is not a valid key name' \
		ctl create secret generic x --from-env-file=<(echo 1BAD=x)
	expect_errno "unknown flag" "unknown flag: --from-literal" ctl get secrets --from-literal=a=b
	expect_errno "bad output" 'output format "xml"' ctl get secrets -o xml
	expect_errno "unknown command" 'unknown command "frobnicate"' ctl frobnicate
	expect_eq "revision unchanged" "$rev" "$(revision)"
	expect_eq "objects unchanged" "$before" "$(ctl get secrets -A -o json)"
}

test_help_everywhere() {
	local out
	for cmd in "" "init" "create namespace" "create secret generic" "get secrets" \
		"get namespaces" "describe secret" "delete secret" "delete namespace"; do
		# shellcheck disable=SC2086
		out=$("$BIN/secretctl" $cmd --help) || fail "secretctl $cmd --help failed"
		expect_contains "help for '$cmd'" "$out" "secretctl"
	done
	out=$("$BIN/secretfs" --help) || fail "secretfs --help failed"
	expect_contains "secretfs help" "$out" "MOUNTPOINT"
}

# Each flag is one row of tools/ctl/flags.c: a command's --help lists the
# flags it takes from that row, and refusing one names the flag given.
test_flags_come_from_one_table() {
	local out
	out=$("$BIN/secretctl" create secret tls --help) || fail "create secret tls --help failed"
	expect_contains "tls flags" "$out" "Flags:"
	expect_contains "tls --cert" "$out" "      --cert PATH"
	expect_contains "tls -n" "$out" "  -n, --namespace NS"
	out=$("$BIN/secretctl" rekey --help) || fail "rekey --help failed"
	expect_contains "rekey --new-passphrase-fd" "$out" "      --new-passphrase-fd N"
	out=$("$BIN/secretctl" --help) || fail "--help failed"
	expect_contains "global --passphrase-fd" "$out" "      --passphrase-fd N"
	case $("$BIN/secretctl" status --help) in
	*Flags:*) fail "status takes no flag of its own, yet its help lists some" ;;
	esac
	new_store
	expect_errno "the flag given" "unknown flag: --key
See 'secretctl get secrets --help' for usage." ctl get secrets --key=x
	expect_errno "docker flag" "unknown flag: --docker-email
See 'secretctl create secret generic --help' for usage." ctl create secret generic x --docker-email=e
	expect_errno "no arguments" "get events takes no arguments" ctl get events x
	expect_errno "one name" "exactly one NAME is required, got 2" \
		ctl create secret generic a b --from-literal=k=v
}

# What kubectl says where secretctl used to mislead: resource types it does
# not serve, a verb without its resource, a command group without its
# subcommand, unknown flags (with the one a single edit away), a literal
# without '=', a selector no label can match, apply without -f.
test_messages_as_kubectl() {
	local out
	new_store
	expect_errno "typo" "error: the server doesn't have a resource type \"secert\"" ctl get secert
	expect_errno "not served" "error: the server doesn't have a resource type \"pods\"" ctl get pods
	expect_errno "delete typo" "the server doesn't have a resource type \"secert\"" ctl delete secert x
	out=$(ctl get 2>&1) && fail "bare get succeeded"
	expect_contains "bare get" "$out" 'You must specify the type of resource to get. Use "secretctl api-resources" for a complete list of supported resources.'
	expect_contains "what get serves" "$out" "secretctl get serves: namespaces secrets keys events"
	expect_contains "bare get's error" "$out" "error: Required resource not specified."
	out=$(ctl api-resources) || fail "api-resources failed"
	# kubectl's tabwriter: each column the longest cell and 3 spaces
	expect_contains "api-resources" "$out" "NAME         SHORTNAMES   APIVERSION    NAMESPACED   KIND        VERBS"
	expect_contains "api-resources" "$out" "namespaces   ns           v1            false        Namespace   [create,get,delete]"
	# every command on the resource, "create namespace" and "create secret
	# generic" included though they name it in the singular or go on
	expect_eq "api-resources verbs" "Namespace [create,get,delete]
Secret [create,get,describe,delete,label,annotate,patch,edit]" \
		"$(echo "$out" | awk '$1 == "namespaces" || $1 == "secrets" {print $(NF-1), $NF}')"
	out=$(ctl create secret 2>&1) && fail "create secret without a type succeeded"
	expect_contains "create secret lists its types" "$out" "secretctl create secret (generic | tls | docker-registry)"
	expect_contains "with what each makes" "$out" "  tls               Create a kubernetes.io/tls secret"
	out=$(ctl create secret --help) || fail "create secret --help failed"
	expect_contains "create secret --help is the group's" "$out" "Available Commands:"
	case $out in *"create -f"*) fail "create secret --help shows create -f's help: $out" ;; esac
	expect_errno "subcommand typo" "unknown command \"generc\" for \"secretctl create secret\"

Did you mean this?
	generic" ctl create secret generc x
	expect_errno "command typo" "unknown command \"aply\" for \"secretctl\"" ctl aply -f x
	for verb in apply create delete; do
		out=$(ctl $verb 2>&1) && fail "bare $verb succeeded"
		case $out in *-k*) fail "$verb without arguments mentions -k: $out" ;; esac
	done
	expect_contains "apply wants -f" "$(ctl apply 2>&1)" "error: must specify -f"
	expect_errno "unknown flag" "error: unknown flag: --form-literal
did you mean --from-literal?
See 'secretctl create secret generic --help' for usage." ctl create secret generic x --form-literal=a=hunter2
	case $(ctl create secret generic x --form-literal=a=hunter2 2>&1) in
	*hunter2*) fail "the refused flag's value was echoed" ;; esac
	expect_errno "two edits: no suggestion" "error: unknown flag: --frm-litrl
See" ctl create secret generic x --frm-litrl=a=b
	expect_errno "shorthand" "error: unknown shorthand flag: 'z' in -z" ctl get secrets -z
	expect_errno "missing argument" "error: flag needs an argument: 'n' in -n" ctl get secrets -n
	expect_errno "literal" "error: secret \"x\": invalid literal source a, expected key=value" \
		ctl create secret generic x --from-literal=a
	expect_errno "selector a=b=c" 'unable to parse requirement: values[0][a]: Invalid value: "b=c"' \
		ctl get secrets -l a=b=c
	expect_errno "selector key" 'unable to parse requirement: key: Invalid value: "a b"' \
		ctl get secrets -l 'a b=c'
}

# Every command's --help has kubectl's Examples section, each example a
# secretctl (or shell) line under a "# why" comment.
test_every_command_has_examples() {
	local words out n=0
	while read -r words; do
		# shellcheck disable=SC2086
		out=$("$BIN/secretctl" $words --help) || fail "secretctl $words --help failed"
		case $out in
		*$'\nExamples:\n  # '*) ;;
		*) fail "secretctl $words --help has no Examples section: $out" ;;
		esac
		n=$((n + 1))
	done < <("$BIN/secretctl" --help | awk '/^  secretctl / {
		w = ""; for (i = 2; i <= NF && $i ~ /^[a-z][a-z-]*$/; i++) w = w (w ? " " : "") $i
		print w }')
	[ "$n" -ge 27 ] || fail "only $n commands in secretctl --help"
}

test_config_errors_name_file_and_line() {
	new_store
	printf '[store]\npath = x\n[nonsense]\n' >"$T/bad.ini"
	expect_errno "unknown section" "bad.ini:3: unknown section [nonsense]" \
		"$BIN/secretctl" -c "$T/bad.ini" get secrets
	expect_errno "same in the driver" "bad.ini:3: unknown section [nonsense]" \
		"$BIN/secretfs" -c "$T/bad.ini" "$T"
	chmod 0666 "$T/secretfs.ini"
	expect_errno "writable config" "writable by group or others" ctl get secrets
	chmod 0644 "$T/secretfs.ini"
	SECRETFS_CONFIG=$T/secretfs.ini "$BIN/secretctl" get secrets 2>&1 | grep -q "No resources" ||
		fail "SECRETFS_CONFIG was not used"
}

# Long operations draw a progress line on a terminal (script(1) gives the
# command one) and say nothing extra when stderr is a file or a pipe.
test_progress_only_on_a_terminal() {
	new_store
	python3 - >"$T/many.json" <<'PY'
import json
items = [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s-%d" % i},
          "stringData": {"k": "v%d" % i}} for i in range(1500)]
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
PY
	ctl apply -f "$T/many.json" >"$T/out" 2>"$T/err" || fail "apply failed: $(head -3 "$T/err")"
	expect_eq "quiet when not a terminal" "" "$(cat "$T/err")"
	expect_eq "every secret reported" "1500" "$(grep -c ' created$' "$T/out")"
	ctl delete -f "$T/many.json" >/dev/null
	script -qec "'$BIN/secretctl' -c '$T/secretfs.ini' apply -f '$T/many.json' >'$T/out2'" /dev/null >"$T/tty" ||
		fail "apply on a terminal failed: $(cat "$T/tty")"
	expect_contains "a progress line on a terminal" "$(cat "$T/tty")" "applying ["
	expect_contains "it reaches the end" "$(cat "$T/tty")" "] 1500/1500"
	expect_contains "then erased" "$(cat "$T/tty")" $'\r\033[K'
	expect_eq "stdout unchanged" "1500" "$(grep -c ' created$' "$T/out2")"
	script -qec "'$BIN/secretctl' -c '$T/secretfs.ini' rotate-key" /dev/null >"$T/tty" ||
		fail "rotate-key on a terminal failed: $(cat "$T/tty")"
	expect_contains "rotate-key progress" "$(cat "$T/tty")" "re-sealing ["
	expect_contains "rotate-key result" "$(cat "$T/tty")" "1500 secrets re-sealed"
	ctl rotate-key >"$T/out" 2>"$T/err"
	expect_eq "rotate-key quiet when not a terminal" "" "$(cat "$T/err")"
}

# status: the store's figures, and each running mount of it with the
# revision it serves, caught up after a change; gone once it stops.
test_status_shows_the_store_and_its_mounts() {
	new_store
	ctl create namespace shop >/dev/null
	ctl create secret generic a --from-literal=k=v >/dev/null
	ctl create secret generic b -n shop --from-literal=k=v >/dev/null
	local out rev
	out=$(ctl status)
	expect_contains "store path" "$out" "Store:       $T/store/store.db"
	expect_contains "revision" "$out" "Revision:    $(revision)"
	expect_contains "namespaces" "$out" "Namespaces:  2"
	expect_contains "secrets" "$out" "Secrets:     2"
	expect_contains "key ring" "$out" "Key ring:    1 data key, key 1 seals new values"
	expect_contains "none running" "$out" "none running"

	# a status file of a daemon that is gone: not shown, and swept by the
	# next daemon to start
	mkdir -p /run/secretfs/status
	echo '{"pid": 999999999, "store": "'"$T/store/store.db"'", "revision": 1, "mounts": [{"mountpoint": "/gone", "mode": "full"}]}' \
		>/run/secretfs/status/999999999.json
	# a live process that is no secretfs (a reused pid): not shown
	echo '{"pid": '$$', "store": "'"$T/store/store.db"'", "revision": 1, "mounts": [{"mountpoint": "/reused", "mode": "full"}]}' \
		>/run/secretfs/status/e2e-$$.json
	eval "cleanup_extra() { rm -f /run/secretfs/status/999999999.json /run/secretfs/status/e2e-$$*.json; }"
	out=$(ctl status)
	case $out in *"/gone"* | *"/reused"*) fail "a mount that is not running is listed: $out" ;; esac

	mount_fs
	# (the daemon writes its own status, and sweeps, just after its mounts are up)
	eventually 5 '! test -e /run/secretfs/status/999999999.json' ||
		fail "a dead daemon's status file was not swept"
	# a live secretfs serving another store: not shown
	echo '{"pid": '"$FS_PID"', "store": "/elsewhere/store.db", "revision": 1, "mounts": [{"mountpoint": "/other-store", "mode": "full"}]}' \
		>/run/secretfs/status/e2e-$$-other.json
	eventually 5 'ctl status | grep -q "^  $M "' || fail "the mount is not listed: $(ctl status)"
	ctl create secret generic c --from-literal=k=v >/dev/null
	rev=$(revision)
	eventually 5 '[ "$(ctl status | awk -v m="$M" '\''$1 == m {print $5, $6}'\'')" = "$rev 0" ]' ||
		fail "the mount did not catch up to revision $rev: $(ctl status)"
	expect_eq "its row" "$M - full $FS_PID $rev 0" "$(ctl status | awk -v m="$M" '$1 == m {print $1, $2, $3, $4, $5, $6}')"
	out=$(ctl status)
	case $out in *"/other-store"*) fail "another store's mount is listed: $out" ;; esac
	local pid=$FS_PID
	[ -f "/run/secretfs/status/$pid.json" ] || fail "no status file for $pid"
	unmount_fs
	expect_contains "stopped" "$(ctl status)" "none running"
	[ -e "/run/secretfs/status/$pid.json" ] && fail "status file left behind"
	return 0
}

# kubectl's TYPE/NAME form, wherever kubectl takes resources
test_type_slash_name() {
	new_store
	ctl create secret generic a --from-literal=k=1 >/dev/null
	ctl create secret generic b --from-literal=k=2 >/dev/null
	expect_eq "get" "secret/a" "$(ctl get secret/a -o name)"
	expect_eq "get two" "secret/a
secret/b" "$(ctl get secrets/a secret/b -o name)"
	expect_eq "label" "secret/a labeled" "$(ctl label secret/a app=x)"
	# a label key with a resource's name as its prefix is a change, not a name
	expect_eq "prefixed key" "secret/a labeled" "$(ctl label secret a ns/tier=x secret/k=v)"
	expect_eq "prefixed key removed" "secret/a labeled" "$(ctl label secret/a ns/tier- --overwrite)"
	expect_eq "keys kept" "app=x
secret/k=v" "$(ctl label secret a --list)"
	expect_contains "describe" "$(ctl describe secret/a)" "app=x"
	expect_eq "namespace" "namespace/default" "$(ctl get ns/default -o name)"
	expect_errno "mixed types" "one resource type at a time" ctl get secret/a namespace/default
	expect_eq "delete" 'secret "b" deleted' "$(ctl delete secret/b)"
	# a command's own arguments are left alone
	expect_eq "exec" "secret/x 1" "$(ctl exec --from a -- sh -c 'echo secret/x $k')"
}

# issue 16: a JSONPath filter, slice or quoted name never answers with
# another secret's value (the old reader took [?(...)] for [0], printed one
# item for [0:2] and nothing for [-1:] and ['tls\.crt'])
test_jsonpath_never_answers_wrong() {
	new_store
	ctl create secret generic a-db --from-literal=password=first >/dev/null
	ctl create secret generic b-db --from-literal=password=second >/dev/null
	ctl create secret tls c-tls --cert="$(dirname "${BASH_SOURCE[0]}")/data/test-cert.pem" \
		--key="$(dirname "${BASH_SOURCE[0]}")/data/test-key.pem" >/dev/null
	expect_eq "filter" "c-tls" \
		"$(ctl get secrets -o 'jsonpath={.items[?(@.type=="kubernetes.io/tls")].metadata.name}')"
	expect_eq "filter on a value" "$(printf second | base64)" \
		"$(ctl get secrets -o 'jsonpath={.items[?(@.metadata.name=="b-db")].data.password}')"
	expect_eq "no match, no answer" "" \
		"$(ctl get secrets -o 'jsonpath={.items[?(@.metadata.name=="z")].data.password}')"
	expect_eq "slice" "a-db b-db" "$(ctl get secrets -o 'jsonpath={.items[0:2].metadata.name}')"
	expect_eq "negative slice" "c-tls" "$(ctl get secrets -o 'jsonpath={.items[-1:].metadata.name}')"
	expect_eq "quoted name" "$(base64 -w0 <"$(dirname "${BASH_SOURCE[0]}")/data/test-cert.pem")" \
		"$(ctl get secret c-tls -o "jsonpath={.data['tls\\.crt']}")"
	expect_eq "range" "$(printf 'a-db\tOpaque\nb-db\tOpaque\nc-tls\tkubernetes.io/tls\n')" \
		"$(ctl get secrets -o 'jsonpath={range .items[*]}{.metadata.name}{"\t"}{.type}{"\n"}{end}')"
	expect_eq "@" "Secret" "$(ctl get secret a-db -o 'jsonpath={@.kind}')"
	# what kubectl refuses is refused, with the place, and prints nothing
	expect_errno "bad operator" 'unrecognized filter operator = (there are ==; !=; <; <=; >; >=) at column 17' \
		ctl get secrets -o 'jsonpath={.items[?(@.type="x")].metadata.name}'
	expect_errno "past the end" 'array index out of bounds: index 7, length 3' \
		ctl get secrets -o 'jsonpath={.items[7].data.password}'
	expect_eq "an error prints nothing" "" \
		"$(ctl get secrets -o 'jsonpath={.items[0].metadata.name}{.items[7]}' 2>/dev/null)"
}

test_get_columns_sort_selectors() {
	new_store
	ctl create namespace prod >/dev/null
	ctl create secret generic s10 --from-literal=a=1 --from-literal=b=2 >/dev/null
	ctl create secret generic s9 --from-literal=a=1 >/dev/null
	ctl create secret generic t1 --type=example.com/x --from-literal=a=1 -n prod >/dev/null
	ctl label secret s9 tier=web >/dev/null
	expect_eq "custom-columns" "$(printf 'NAME   KEYS        TIER\ns10    MQ==,Mg==   <none>\ns9     MQ==        web')" \
		"$(ctl get secrets -o 'custom-columns=NAME:.metadata.name,KEYS:{.data.*},TIER:.metadata.labels.tier')"
	printf 'NAME  TYPE\n.metadata.name  .type\n' >"$T/cols"
	expect_eq "custom-columns-file" "$(printf 'NAME   TYPE\ns10    Opaque\ns9     Opaque')" \
		"$(ctl get secrets -o custom-columns-file="$T/cols")"
	expect_eq "no headers" "s10 Opaque 2 s9 Opaque 1" "$(ctl get secrets --no-headers | awk '{print $1, $2, $3}' | xargs)"
	expect_eq "sort by data size" "s9 s10" \
		"$(ctl get secrets --sort-by='{.data.b}' -o jsonpath='{.items[*].metadata.name}')"
	expect_eq "sort the table" "s9 s10" "$(ctl get secrets --sort-by=.data.b --no-headers | awk '{print $1}' | xargs)"
	expect_errno "sort by nothing" "couldn't find any field with path \"{.nope}\" in the list of objects" \
		ctl get secrets --sort-by=.nope
	expect_eq "field selector" "secret/s9" "$(ctl get secrets --field-selector metadata.name=s9 -o name)"
	expect_eq "field selectors" "prod/t1" \
		"$(ctl get secrets -A --field-selector 'type!=Opaque,metadata.namespace==prod' -o jsonpath='{.items[*].metadata.namespace}/{.items[*].metadata.name}')"
	expect_errno "other fields" "field label not supported: data.a" ctl get secrets --field-selector data.a=1
	expect_errno "not found" 'secret "nope" in namespace "default" not found' ctl get secret nope
	expect_eq "ignore not found" "" "$(ctl get secret nope --ignore-not-found 2>&1)"
	expect_eq "ignore not found, one found" "secret/s9" "$(ctl get secret nope s9 --ignore-not-found -o name 2>&1)"
}

test_delete_all_and_ignore_not_found() {
	new_store
	ctl create namespace prod >/dev/null
	for s in a b; do ctl create secret generic $s --from-literal=k=v >/dev/null; done
	ctl create secret generic c --from-literal=k=v -n prod >/dev/null
	ctl create secret generic keep --type=example.com/x --from-literal=k=v -n prod >/dev/null
	expect_errno "missing" 'secret "nope" in namespace "default" not found' ctl delete secret nope
	expect_eq "ignore-not-found" "" "$(ctl delete secret nope --ignore-not-found 2>&1)"
	expect_errno "--all and names" "--all cannot be combined with NAMEs" ctl delete secret a --all
	expect_errno "--all and -l" "cannot set --all and --selector at the same time" ctl delete secret --all -l x=y
	expect_eq "--all" "$(printf 'secret "a" deleted\nsecret "b" deleted')" "$(ctl delete secret --all)"
	expect_eq "the namespace only" "c keep" "$(ctl get secrets -n prod -o jsonpath='{.items[*].metadata.name}')"
	expect_eq "-A with a field selector" 'secret "c" deleted' "$(ctl delete secrets -A --field-selector type=Opaque)"
	expect_eq "--all again" "No resources found" "$(ctl delete secret --all 2>&1)"
	expect_eq "what is left" "prod/keep" "$(ctl get secrets -A --no-headers | awk '{print $1 "/" $2}')"
	expect_eq "delete ns ignore" "" "$(ctl delete namespace nope --ignore-not-found 2>&1)"
}

test_version() {
	new_store
	expect_eq "client" "Client Version: v0.1.0" "$(ctl version --client)"
	local schema
	schema=$(sqlite3 "$T/store/store.db" 'PRAGMA user_version')
	expect_eq "with the store" "Client Version: v0.1.0
Store Version: schema $schema, revision 1 ('$T/store/store.db')" "$(ctl version)"
	expect_eq "json" "\"v0.1.0\" $schema" \
		"$(ctl version -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps(d["clientVersion"]["gitVersion"]), d["storeVersion"]["schemaVersion"])')"
	expect_contains "help" "$(ctl version --help)" "Examples:"
	expect_errno "no store" "Client Version: v0.1.0" bash -c "'$BIN/secretctl' -c /nonexistent version"
}

# get -w as kubectl prints it: the listing, then a row per change (a
# selector's secret that stops matching is DELETED), EVENT with
# --output-watch-events, objects or {"type","object"} with -o json
test_get_watch_formats() {
	new_store
	ctl create secret generic a --from-literal=k=v >/dev/null
	# secretctl itself in the background (not ctl's subshell), so that
	# track can end it whatever happens
	"$BIN/secretctl" -c "$T/secretfs.ini" get secrets -w --output-watch-events >"$T/table" 2>&1 &
	track $! secretctl
	"$BIN/secretctl" -c "$T/secretfs.ini" get secrets -l app=web --watch-only -o json \
		--output-watch-events >"$T/json" 2>&1 &
	track $! secretctl
	"$BIN/secretctl" -c "$T/secretfs.ini" get namespaces --watch-only -o name >"$T/ns" 2>&1 &
	track $! secretctl
	eventually 5 '[ -s "$T/table" ]'
	sleep 0.2 # the others read the store's revision too
	ctl create secret generic web --from-literal=k=v >/dev/null
	ctl label secret web app=web >/dev/null
	ctl label secret web app- >/dev/null
	ctl delete secret web >/dev/null
	ctl create namespace n1 >/dev/null
	eventually 5 '[ "$(wc -l <"$T/table")" -ge 6 ] && grep -q n1 "$T/ns"'
	expect_eq "table" "EVENT   NAME   TYPE     DATA   AGE
ADDED   a      Opaque   1
ADDED   web    Opaque   1
MODIFIED   web    Opaque   1
MODIFIED   web    Opaque   1
DELETED    web    Opaque   1" "$(sed -E 's/ +[0-9]+s$//; s/( +)AGE$/\1AGE/' "$T/table" | head -6)"
	eventually 5 '[ "$(grep -c "\"type\"" "$T/json")" -ge 2 ]'
	expect_eq "json events" "ADDED web
DELETED web" "$(python3 -c 'import json,sys
d = json.JSONDecoder(); s = open(sys.argv[1]).read(); i = 0
while i < len(s.rstrip()):
    o, i = d.raw_decode(s, i); i += 1
    print(o["type"], o["object"]["metadata"]["name"])' "$T/json")"
	expect_eq "namespaces" "namespace/n1" "$(cat "$T/ns")"
}
