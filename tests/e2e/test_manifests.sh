# test_manifests.sh - apply, create, replace and delete -f: YAML (block and
# flow, comments, quoted keys, trailing commas, several documents, List)
# and JSON; other kinds skipped; strict base64; all or nothing.

b64() { printf '%s' "$1" | base64 -w0; }

# value NAME KEY [NS]: the decoded value of a key
value() {
	ctl get secret "$1" -n "${3:-default}" -o json |
		python3 -c 'import json,sys,base64; print(base64.b64decode(json.load(sys.stdin)["data"][sys.argv[1]]).decode(), end="")' "$2"
}

test_apply_yaml_documents_lists_and_other_kinds() {
	new_store
	ctl create namespace prod >/dev/null
	cat >"$T/m.yaml" <<YAML
# Kubernetes' documentation writes flow style with trailing commas
apiVersion: v1
kind: Secret
metadata:
  name: "db"          # quoted
  namespace: prod
  labels: {app: web, "tier": "1",}
  annotations:
    'owner': team-a
type: Opaque
data:
  username: $(b64 admin)
  "password": $(b64 from-data)
stringData:
  password: from-stringData
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata: {name: tls, namespace: prod}
  type: kubernetes.io/tls
  data: {tls.crt: $(b64 CERT), tls.key: $(b64 KEY),}
YAML
	local out
	out=$(ctl apply -f "$T/m.yaml" 2>"$T/err")
	expect_eq "apply" "secret/db created
secret/tls created" "$out"
	expect_contains "other kinds skipped" "$(cat "$T/err")" 'skipping Pod "web"'
	expect_eq "data" "admin" "$(value db username prod)"
	expect_eq "stringData wins" "from-stringData" "$(value db password prod)"
	expect_eq "labels" '{"app": "web", "tier": "1"}' \
		"$(ctl get secret db -n prod -o json | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["metadata"]["labels"], sort_keys=True))')"
	expect_eq "again" "secret/db unchanged
secret/tls unchanged" "$(ctl apply -f "$T/m.yaml" 2>/dev/null)"
	sed -i 's/from-stringData/changed/' "$T/m.yaml"
	expect_eq "changed" "secret/db configured
secret/tls unchanged" "$(ctl apply -f "$T/m.yaml" 2>/dev/null)"
	expect_eq "replace" "secret/db replaced
secret/tls replaced" "$(ctl replace -f "$T/m.yaml" 2>/dev/null)"
	expect_eq "delete" 'secret "db" deleted
secret "tls" deleted' "$(ctl delete -f "$T/m.yaml" 2>/dev/null)"
	expect_errno "replace missing" 'secret "db" in namespace "prod" not found' ctl replace -f "$T/m.yaml"
}

test_apply_json_stdin_and_folders() {
	new_store
	mkdir "$T/dir"
	printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"j1"},"data":{"k":"%s"}}\n' "$(b64 one)" >"$T/dir/a.json"
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: y1}\nstringData: {k: two}\n' >"$T/dir/b.yml"
	echo "not a manifest" >"$T/dir/README.txt"
	expect_eq "folder" "secret/j1 created
secret/y1 created" "$(ctl apply -f "$T/dir")"
	printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s1"},"stringData":{"k":"three"}}' |
		ctl create -f - >/dev/null || fail "create -f - failed"
	expect_eq "stdin" "three" "$(value s1 k)"
	expect_errno "create existing" 'secret "s1" in namespace "default" already exists' \
		sh -c "printf '{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s1\"}}' | $BIN/secretctl -c $T/secretfs.ini create -f -"
}

test_manifest_errors_change_nothing() {
	new_store
	local rev
	rev=$(revision)
	bad() { # bad WHAT MESSAGE YAML...
		local what=$1 msg=$2
		shift 2
		printf '%s\n' "$@" >"$T/bad.yaml"
		expect_errno "$what" "$msg" ctl apply -f "$T/bad.yaml"
	}
	bad "invalid base64" 'Secret "x" is invalid: data[k]: Invalid value: illegal base64 data' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x}' 'data: {k: "not base64!"}'
	bad "url-safe alphabet" 'data[k]: Invalid value: illegal base64 data' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x}' 'data: {k: "-_-_"}'
	bad "bad padding" 'data[k]: Invalid value: illegal base64 data' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x}' 'data: {k: "YWJj="}'
	bad "labels not a map" 'metadata.labels: Invalid value: must be a map of strings' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x, labels: [a, b]}'
	bad "no name" 'resource name may not be empty' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {labels: {a: b}}'
	bad "type rule" 'Secret "t" is invalid: data[tls.key]: Required value' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: t}' 'type: kubernetes.io/tls' \
		'data: {tls.crt: Q0VSVA==}'
	bad "bad key" 'key "a/b": must consist of alphanumeric characters' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x}' 'stringData: {a/b: v}'
	bad "label key" 'Secret "x" is invalid: metadata.labels: Invalid value: "bad key": name part must consist of alphanumeric characters' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x, labels: {bad key: v}}'
	bad "label value" 'metadata.labels: Invalid value: "v!": a valid label must be an empty string' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x, labels: {app: "v!"}}'
	bad "label value length" 'metadata.labels: Invalid value: "'"$(printf 'v%.0s' $(seq 64))"'": must be no more than 63 characters' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x, labels: {app: '"$(printf 'v%.0s' $(seq 64))"'}}'
	bad "label prefix" 'metadata.labels: Invalid value: "Example.com/app": prefix part a lowercase RFC 1123 subdomain' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x, labels: {Example.com/app: v}}'
	bad "annotation key" 'metadata.annotations: Invalid value: "a/b/c": a qualified name must consist' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x, annotations: {a/b/c: v}}'
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n  annotations:\n    big: "%s"\n' \
		"$(head -c 262142 /dev/zero | tr '\0' a)" >"$T/big.yaml"
	expect_errno "annotations size" 'metadata.annotations: Too long: must have at most 262144 bytes' \
		ctl apply -f "$T/big.yaml"
	bad "YAML syntax" 'bad.yaml: line' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x' 'data: ]'
	bad "self alias" 'refers to itself' \
		'a: &x [1, *x]'
	# as strict as kubectl: a key given twice, a version but v1, no
	# version, a number where a string belongs
	bad "duplicate key YAML" 'bad.yaml: line 4: key "k" already set in map' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x}' 'stringData: {k: a, k: b}'
	bad "duplicate key block" 'bad.yaml: line 6: key "k" already set in map' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x}' 'stringData:' '  k: a' '  k: b'
	bad "duplicate key JSON" 'line 1: key "k" already set in map' \
		'{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"},"data":{"k":"YQ==","k":"Yg=="}}'
	bad "duplicate metadata" 'key "metadata" already set in map' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x}' 'metadata: {name: y}'
	bad "apiVersion v2" 'resource mapping not found for name: "x" namespace: "" from "'"$T"'/bad.yaml": no matches for kind "Secret" in version "v2"' \
		'apiVersion: v2' 'kind: Secret' 'metadata: {name: x}'
	bad "no apiVersion" 'error validating "'"$T"'/bad.yaml": error validating data: apiVersion not set' \
		'kind: Secret' 'metadata: {name: x}'
	bad "apiVersion in a List item" 'no matches for kind "Secret" in version "apps/v1"' \
		'apiVersion: v1' 'kind: List' 'items:' '- {apiVersion: apps/v1, kind: Secret, metadata: {name: x}}'
	bad "number as stringData value" 'stringData[k]: Invalid value: must be a string (json: cannot unmarshal number into Go struct field Secret.stringData of type string)' \
		'{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"},"stringData":{"k":1}}'
	bad "number as name" 'metadata.name: Invalid value: must be a string (json: cannot unmarshal number into Go struct field ObjectMeta.metadata.name of type string)' \
		'{"apiVersion":"v1","kind":"Secret","metadata":{"name":7}}'
	bad "number as namespace" 'metadata.namespace: Invalid value: must be a string (json: cannot unmarshal number into Go struct field ObjectMeta.metadata.namespace of type string)' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x, namespace: 12}'
	bad "bool as label" 'metadata.labels[a]: Invalid value: must be a string (json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of type string)' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x, labels: {a: true}}'
	# a NUL byte in a name is refused, never cut (YAML "\0", JSON "\u0000")
	bad "NUL in name" 'Secret "x\x00evil" is invalid: metadata.name: Invalid value: "x\x00evil": a lowercase RFC 1123 subdomain' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: "x\0evil"}'
	bad "NUL in namespace" 'metadata.namespace: Invalid value: "default\x00": a lowercase RFC 1123 label' \
		'{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x","namespace":"default\u0000"}}'
	bad "NUL in key" 'data[a\x00b]: Invalid value: "a\x00b": must consist of alphanumeric characters' \
		'{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"},"stringData":{"a\u0000b":"v"}}'
	bad "NUL in data key" 'data[a\x00b]: Invalid value: "a\x00b": must consist of alphanumeric characters' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x}' 'data: {"a\0b": YQ==}'
	bad "NUL in label key" 'metadata.labels: Invalid value: "app\x00x": name part must consist' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x, labels: {"app\0x": web}}'
	bad "NUL in label value" 'metadata.labels: Invalid value: "web\x00": a valid label must be' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x, labels: {app: "web\0"}}'
	bad "NUL in annotation key" 'metadata.annotations: Invalid value: "a\x00": name part must consist' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x, annotations: {"a\0": v}}'
	bad "NUL in annotation value" 'metadata.annotations[a]: Invalid value: must not contain a NUL byte' \
		'{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x","annotations":{"a":"v\u0000"}}}'
	bad "NUL in type" 'type: Invalid value: "Opaque\x00x": must not contain a NUL byte' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x}' 'type: "Opaque\0x"'
	bad "NUL in resourceVersion" 'metadata.resourceVersion: Invalid value: must be a positive decimal number' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: x, resourceVersion: "5\0x"}'
	bad "NUL in kind" 'no matches for kind "Secret\x00"' \
		'apiVersion: v1' 'kind: "Secret\0"' 'metadata: {name: x}'
	# one bad object among good ones: nothing is written
	bad "all or nothing" 'Secret "second" is invalid' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: first}' 'stringData: {k: v}' '---' \
		'apiVersion: v1' 'kind: Secret' 'metadata: {name: second}' 'type: kubernetes.io/ssh-auth'
	expect_errno "first not created" 'not found' ctl get secret first
	expect_eq "revision unchanged" "$rev" "$(revision)"
	# a namespace other than -n
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: other}\n' >"$T/ns.yaml"
	expect_errno "namespace mismatch" 'does not match the namespace "default"' ctl apply -n default -f "$T/ns.yaml"
}

# A value may hold any byte: NUL and non-UTF-8 bytes round-trip exactly,
# from data (base64) and stringData (JSON "\u0000", YAML "\0"), through get
# and through a mount; a name with a NUL byte never replaces the name before
# it (it used to: "db\u0000evil" was applied as "db").
test_manifest_nul_bytes_exact() {
	new_store
	ctl create secret generic db --from-literal=password=real >/dev/null
	printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db\\u0000evil"},"stringData":{"password":"evil"}}' >"$T/evil.json"
	expect_errno "NUL in name" 'metadata.name: Invalid value: "db\x00evil"' ctl apply -f "$T/evil.json"
	expect_eq "db untouched" "real" "$(value db password)"
	local bin
	bin=$(printf 'a\000b\377\001\n\000' | base64 -w0)
	printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"j"},"stringData":{"s":"x\\u0000y\\u0000"},"data":{"d":"%s"}}' "$bin" >"$T/j.json"
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: yy}\nstringData: {s: "x\\0y\\0"}\ndata: {d: %s}\n' "$bin" >"$T/y.yaml"
	ctl apply -f "$T/j.json" -f "$T/y.yaml" >/dev/null
	for s in j yy; do
		expect_eq "$s stringData" "$(printf 'x\000y\000' | base64 -w0)" \
			"$(ctl get secret $s -o jsonpath='{.data.s}')"
		expect_eq "$s data" "$bin" "$(ctl get secret $s -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["d"])')"
	done
	mount_fs
	for s in j yy; do
		expect_eq "$s mounted data" "$bin" "$(base64 -w0 <"$M/default/$s/d")"
		expect_eq "$s mounted stringData" "$(printf 'x\000y\000' | base64 -w0)" "$(base64 -w0 <"$M/default/$s/s")"
	done
}

test_apply_update_rules() {
	new_store
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: f}\nimmutable: true\nstringData: {k: v1}\n' >"$T/f.yaml"
	ctl apply -f "$T/f.yaml" >/dev/null
	sed -i 's/v1}/v2}/' "$T/f.yaml"
	expect_errno "immutable data" 'data: Forbidden: field is immutable when `immutable` is set' \
		ctl apply -f "$T/f.yaml"
	sed -i 's/immutable: true/immutable: false/; s/v2}/v1}/' "$T/f.yaml"
	expect_errno "immutable stays" 'immutable: Forbidden' ctl apply -f "$T/f.yaml"
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: f, labels: {team: blue}}\nimmutable: true\nstringData: {k: v1}\n' >"$T/f.yaml"
	expect_eq "labels may change" "secret/f configured" "$(ctl apply -f "$T/f.yaml")"
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: f}\ntype: example.com/other\nimmutable: true\nstringData: {k: v1}\n' >"$T/f.yaml"
	expect_errno "type fixed" 'type: Invalid value: "example.com/other": field is immutable' \
		ctl apply -f "$T/f.yaml"
}

test_apply_keeps_no_plaintext() {
	new_store
	local canary=CANARY-apply-5e1d
	cat >"$T/c.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: c
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"stringData":{"k":"$canary"}}'
stringData: {k: $canary}
YAML
	ctl apply -f "$T/c.yaml" >/dev/null
	expect_eq "value" "$canary" "$(value c k)"
	# kept as apply writes it, with the key names only
	ctl get secret c -o json | grep -q "$canary" && fail "a value in the last-applied annotation"
	expect_contains "kept redacted" "$(ctl get secret c -o json)" '\"stringData\":{\"k\":\"***\"}' 
	for f in "$T"/store/store.db*; do
		grep -qa "$canary" "$f" && fail "plaintext in $f"
	done
	return 0
}

test_label_selectors_and_jsonpath() {
	new_store
	ctl apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Secret, metadata: {name: web-db, labels: {app: web, tier: db}}, stringData: {password: pw1}}
- {apiVersion: v1, kind: Secret, metadata: {name: web-api, labels: {app: web, tier: api}}, stringData: {token: t1}}
- {apiVersion: v1, kind: Secret, metadata: {name: batch, labels: {app: batch}}, stringData: {tls.crt: C}}
- {apiVersion: v1, kind: Secret, metadata: {name: bare}, stringData: {k: v}}
YAML
	sel() { ctl get secrets -l "$1" -o name | sed 's|secret/||' | xargs; }
	expect_eq "=" "web-api web-db" "$(sel app=web)"
	expect_eq "==" "batch" "$(sel app==batch)"
	expect_eq "!=" "bare batch" "$(sel app!=web)"
	expect_eq "exists" "batch web-api web-db" "$(sel app)"
	expect_eq "not exists" "bare" "$(sel '!app')"
	expect_eq "in" "web-api web-db" "$(sel 'tier in (db, api)')"
	expect_eq "notin, and" "web-db" "$(sel 'app=web,tier notin (api)')"
	expect_errno "bad selector" "unable to parse requirement" ctl get secrets -l 'app in db'
	expect_errno "names and selector" "name cannot be provided when a selector is specified" \
		ctl get secret web-db -l app=web
	expect_eq "jsonpath value" "$(b64 pw1)" "$(ctl get secret web-db -o jsonpath='{.data.password}')"
	expect_eq "jsonpath name" "web-db" "$(ctl get secret web-db -o jsonpath='{.metadata.name}')"
	expect_eq "jsonpath escaped dot" "$(b64 C)" "$(ctl get secret batch -o 'jsonpath={.data.tls\.crt}')"
	expect_eq "jsonpath *" "$(b64 pw1)" "$(ctl get secret web-db -o 'jsonpath={.data.*}')"
	expect_eq "jsonpath list" "bare batch web-api web-db" "$(ctl get secrets -o 'jsonpath={.items[*].metadata.name}')"
	expect_eq "jsonpath text" "name=web-db|Opaque" \
		"$(ctl get secret web-db -o 'jsonpath=name={.metadata.name}{"\n"}{.type}' | tr '\n' '|')"
	expect_eq "delete -l" 'secret "web-api" deleted
secret "web-db" deleted' "$(ctl delete secret -l app=web)"
	expect_eq "left" "bare batch" "$(ctl get secrets -o name | sed 's|secret/||' | xargs)"
}

test_edit_round_trip() {
	new_store
	ctl create secret generic e --from-literal=user=admin >/dev/null
	expect_eq "no change" "Edit cancelled, no changes made." "$(EDITOR=true ctl edit secret e)"
	expect_eq "edited" "secret/e edited" \
		"$(EDITOR="sed -i s/$(b64 admin)/$(b64 root)/" ctl edit secret e)"
	expect_eq "new value" "root" "$(value e user)"
	# an invalid edit reopens with the error on top; the second pass fixes it
	cat >"$T/editor.sh" <<'SH'
#!/bin/sh
if grep -q "was not valid" "$1"; then
	grep -q "illegal base64" "$1" || exit 3
	sed -i 's/not-base64!/Zml4ZWQ=/' "$1"
else
	sed -i 's/cm9vdA==/not-base64!/' "$1"
fi
SH
	chmod +x "$T/editor.sh"
	expect_eq "fixed on the second pass" "secret/e edited" "$(EDITOR="$T/editor.sh" ctl edit secret e 2>/dev/null)"
	expect_eq "fixed value" "fixed" "$(value e user)"
	# an invalid edit left as it is changes nothing
	local rev
	rev=$(revision)
	cat >"$T/breaker.sh" <<'SH'
#!/bin/sh
grep -q "was not valid" "$1" || sed -i 's/Zml4ZWQ=/not-base64!/' "$1"
SH
	chmod +x "$T/breaker.sh"
	expect_errno "abandoned" "Edit cancelled, no valid changes were saved." \
		env EDITOR="$T/breaker.sh" "$BIN/secretctl" -c "$T/secretfs.ini" edit secret e
	expect_eq "store unchanged" "$rev" "$(revision)"
	expect_eq "value kept" "fixed" "$(value e user)"
	ls /dev/shm/secretctl-edit-* 2>/dev/null && fail "the edit left its file behind"
	return 0
}

# A change made while the editor is open wins; the edit is refused with
# the reason, and says that the edited copy (values in clear) is gone.
test_edit_conflict_says_the_copy_was_discarded() {
	new_store
	ctl create secret generic e --from-literal=user=admin >/dev/null
	cat >"$T/racer.sh" <<SH
#!/bin/sh
"$BIN/secretctl" -c "$T/secretfs.ini" annotate secret e meanwhile=yes >/dev/null || exit 3
sed -i 's/$(b64 admin)/$(b64 root)/' "\$1"
SH
	chmod +x "$T/racer.sh"
	local out
	out=$(EDITOR="$T/racer.sh" ctl edit secret e 2>&1) && fail "the edit overwrote a newer change: $out"
	expect_contains "why" "$out" "the object has been modified"
	expect_contains "the copy" "$out" "your edited copy was discarded: it held the secret's values"
	expect_contains "how to go on" "$out" "run 'secretctl edit secret e -n default' again"
	expect_eq "the other change kept" "admin" "$(value e user)"
	return 0
}

# edit_leftovers WHAT PID DEEP CANARY...: no edit tmpfs is mounted, the edit
# folder of secretctl PID (/dev/shm or /tmp/secretctl-edit-PID-*) holds no
# file, no file on /dev/shm holds a CANARY; with DEEP = deep, no file under
# /tmp or $TMPDIR written since $T/started does either (a walk of a busy
# /tmp takes seconds: once per test)
edit_leftovers() {
	local what=$1 pid=$2 deep=$3 found dirs=/dev/shm
	shift 3
	grep -q secretctl-edit /proc/mounts && fail "$what: an edit tmpfs is still mounted"
	found=$(find /dev/shm /tmp "${TMPDIR:-/tmp}" -maxdepth 1 -name "secretctl-edit-$pid-*" -print0 |
		xargs -0 -r -I{} find {} -type f)
	[ -z "$found" ] || fail "$what: left in an edit folder: $found"
	[ "$deep" = deep ] && dirs=$(printf '%s\n' /dev/shm /tmp "${TMPDIR:-/tmp}" | sort -u)
	# shellcheck disable=SC2086
	found=$(find $dirs -xdev -type f -newer "$T/started" -size -4M -print0 2>/dev/null |
		xargs -0 -r grep -lF "${@/#/-e}" 2>/dev/null || true)
	[ -z "$found" ] || fail "$what: the value is still in $found"
}

# The edit's file lives in a tmpfs of secretctl's own mount namespace (as
# root directly, as another user inside a user namespace of its own): other
# processes never see it, a fatal signal wipes it, and on SIGKILL it goes
# with the namespace, the editor getting SIGHUP.  Where no namespace can be
# had (here: another user in a chroot, where both unshare calls fail), a
# fatal signal still wipes it and the next edit removes what SIGKILL left.
# It used to stay on /dev/shm after SIGHUP (a dropped SSH session), SIGTERM
# or SIGKILL.
test_edit_leaves_nothing_on_any_signal() {
	new_store
	local canary b64c sig pid ed file
	canary=CANARY-edit-$RANDOM$RANDOM-$$
	b64c=$(b64 "$canary")
	touch "$T/started"
	ctl create secret generic e --from-literal=pw="$canary" >/dev/null
	# the canary reaches the editor through its environment: no file of
	# the test holds it
	cat >"$T/editor.sh" <<'SH'
#!/bin/sh
grep -q "$CANARY_B64" "$1" && echo "$1" >"$EDIT_DIR/editor.file"
echo $$ >"$EDIT_DIR/editor.pid"
exec sleep 60
SH
	chmod 0755 "$T/editor.sh"
	chmod 0711 "$T"
	mkdir -m 0777 "$T/ed"
	# a failure must not leave an edit and its editor running
	cleanup_extra() {
		local p
		for p in "$T/ed/secretctl.pid" "$T/ed/editor.pid"; do
			[ -s "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null
		done
		return 0
	}
	edit_killed() { # edit_killed private|fallback SIG [RUNAS...]
		local mode=$1 sig=$2
		shift 2
		rm -f "$T/ed/editor.pid" "$T/ed/editor.file"
		"$@" env --default-signal=INT,QUIT CANARY_B64="$b64c" EDIT_DIR="$T/ed" EDITOR="$T/editor.sh" \
			"$BIN/secretctl" -c "$CONF" edit secret e >/dev/null 2>"$T/ed/err" &
		pid=$!
		echo "$pid" >"$T/ed/secretctl.pid"
		eventually 5 'test -s "$T/ed/editor.pid"' || fail "$mode $sig: no editor: $(cat "$T/ed/err")"
		test -s "$T/ed/editor.file" || fail "$mode $sig: the editor did not get the value"
		ed=$(cat "$T/ed/editor.pid")
		file=$(cat "$T/ed/editor.file")
		if [ "$mode" = private ]; then
			[ -s "$T/ed/err" ] && fail "$mode $sig: $(cat "$T/ed/err")"
			test -e "$file" && fail "$sig: the edit's file is seen outside its namespace"
			# what a process outside writes there (an editor's
			# server: code --wait) is wiped too, but for SIGKILL
			[ "$sig" = KILL ] || echo "$canary" >"$(dirname "$file")/outside"
		else
			expect_contains "$mode $sig: warned" "$(cat "$T/ed/err")" "no private mount namespace"
		fi
		kill -"$sig" "$pid"
		wait "$pid" && fail "$mode $sig: secretctl exited 0"
		# dead: gone, or a zombie its new parent has yet to reap
		eventually 5 "[ ! -e /proc/$ed ] || [ \"\$(sed 's/.*) //; s/ .*//' /proc/$ed/stat)\" = Z ]" ||
			fail "$mode $sig: the editor outlived secretctl"
		if [ "$mode" = fallback ] && [ "$sig" = KILL ]; then
			test -s "$file" || fail "fallback: SIGKILL left no file: the test does not test the sweep"
			# shellcheck disable=SC2016
			"$@" env EDITOR=true "$BIN/secretctl" -c "$CONF" edit secret e >/dev/null 2>&1
			test -e "$(dirname "$file")" && fail "fallback: the next edit did not remove $(dirname "$file")"
		fi
		edit_leftovers "$mode $sig" "$pid" shallow "$canary" "$b64c"
	}
	CONF=$T/secretfs.ini
	for sig in HUP TERM INT QUIT SEGV KILL; do
		edit_killed private $sig
	done
	# SIGKILL leaves an empty folder at most; the next edit removes it
	EDITOR=true ctl edit secret e >/dev/null
	test -e "$(dirname "$file")" && fail "the next edit did not remove $(dirname "$file")"
	# another user: a user namespace of its own, the same guarantees
	mkdir -m 0700 "$T/u" "$T/root"
	sed "s|$T/store|$T/u/store|" "$T/secretfs.ini" >"$T/u/secretfs.ini"
	chown -R 65534:65534 "$T/u"
	CONF=$T/u/secretfs.ini
	local as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	"${as_nobody[@]}" "$BIN/secretctl" -c "$CONF" init >/dev/null
	"${as_nobody[@]}" "$BIN/secretctl" -c "$CONF" create secret generic e --from-literal=pw="$canary" >/dev/null
	for sig in HUP KILL; do
		edit_killed private $sig "${as_nobody[@]}"
	done
	# and in a chroot (of / itself, bound again), where a user namespace
	# cannot be made: the fallback folder
	# shellcheck disable=SC2016
	local chrooted=(unshare --mount --propagation private
			sh -c 'mount --rbind / "$0" && exec chroot "$0" "$@"' "$T/root" "${as_nobody[@]}")
	for sig in TERM KILL; do
		edit_killed fallback $sig "${chrooted[@]}"
	done
	edit_leftovers "all signals" "$pid" deep "$canary" "$b64c"
}

# every file in manifests/: valid-* must apply, invalid-* must fail with the
# message of its '# expect:' line (or FILE.expect) and change nothing
test_manifest_table() {
	new_store
	local here f want n=0 rev
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	for f in "$here"/manifests/valid-*; do
		[ "${f%.expect}" = "$f" ] || continue
		ctl apply -f "$f" >/dev/null 2>"$T/err" || fail "$(basename "$f"): $(cat "$T/err")"
		n=$((n + 1))
	done
	for f in "$here"/manifests/invalid-*; do
		[ "${f%.expect}" = "$f" ] || continue
		if [ -f "$f.expect" ]; then
			want=$(cat "$f.expect")
		else
			want=$(sed -n 's/^# expect: //p' "$f")
		fi
		[ -n "$want" ] || fail "$(basename "$f") says nothing to expect"
		rev=$(revision)
		expect_errno "$(basename "$f")" "$want" ctl apply -f "$f"
		expect_eq "$(basename "$f") changed nothing" "$rev" "$(revision)"
		n=$((n + 1))
	done
	[ "$n" -ge 20 ] || fail "only $n manifests ran"
	# the service-account token was given a token
	ctl get secret sa-token -o jsonpath='{.data.token}' | grep -q . || fail "no token generated"
}

# A manifest's resourceVersion is a precondition, as with kubectl: the
# version a file was read at must still be the secret's.
test_resource_version_is_a_precondition() {
	new_store
	ctl create secret generic db --from-literal=password=one >/dev/null
	ctl get secret db -o yaml >"$T/read.yaml"
	sed -i 's/^  password: .*/  password: dHdv/' "$T/read.yaml" # "two"
	cp "$T/read.yaml" "$T/later.yaml"
	expect_eq "unchanged since read" "secret/db configured" "$(ctl apply -f "$T/read.yaml")"
	local before out
	before=$(revision)
	# later.yaml was read before that apply: refused, and nothing written
	out=$(ctl replace -f "$T/later.yaml" 2>&1) && fail "a stale resourceVersion was accepted"
	expect_contains "conflict" "$out" 'Operation cannot be fulfilled on secrets "db": the object has been modified'
	expect_eq "store unchanged" "$before" "$(revision)"
	sed 's/name: db/name: fresh/' "$T/read.yaml" >"$T/create.yaml"
	expect_errno "create with one" "resourceVersion should not be set on objects to be created" \
		ctl create -f "$T/create.yaml"
	sed -i 's/resourceVersion: .*/resourceVersion: "abc"/' "$T/create.yaml"
	expect_errno "not a number" "metadata.resourceVersion: Invalid value" ctl apply -f "$T/create.yaml"
	# without one, last write wins, as kubectl's apply
	sed -i -e '/resourceVersion:/d' -e 's/^  password: .*/  password: dGhyZWU=/' "$T/later.yaml"
	expect_eq "no precondition" "secret/db configured" "$(ctl apply -f "$T/later.yaml")"
	expect_eq "the last write" "three" "$(ctl get secret db -o jsonpath='{.data.password}' | base64 -d)"
}
