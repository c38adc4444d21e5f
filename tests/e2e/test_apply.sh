# test_apply.sh - apply as kubectl's three-way merge, the last-applied
# annotation without values, apply --dry-run, diff, patch (held against
# kubectl patch --local) and create -o.

b64() { printf '%s' "$1" | base64 -w0; }

# kubectl is the oracle: it computes a patch offline (patch --local).  Not
# a Debian package: a machine without it fails here, loudly.
need_kubectl() {
	command -v kubectl >/dev/null || fail "kubectl (1.32) is needed as the oracle and is not on PATH"
}

# keys NAME: the data keys of a secret, sorted, space-separated
keys() {
	ctl get secret "$1" -o json | jq -r '.data // {} | keys | join(" ")'
}

# meta NAME FIELD: labels or annotations (without kubectl's) as k=v, sorted
meta() {
	ctl get secret "$1" -o json | jq -r --arg f "$2" '.metadata[$f] // {} |
		del(.["kubectl.kubernetes.io/last-applied-configuration"]) | to_entries |
		map("\(.key)=\(.value)") | join(" ")'
}

value() {
	ctl get secret "$1" -o json | jq -r --arg k "$2" '.data[$k]' | base64 -d
}

# manifest KEYS LABELS ANNOTATIONS: secret "app" as kubectl users write it,
# each key's value CANARY-<key>-<round> (base64: Q0FOQVJZ...)
manifest() {
	local k
	echo "apiVersion: v1
kind: Secret
metadata:
  name: app
  labels: {$2}
  annotations: {$3}
data:"
	for k in $1; do echo "  $k: $(b64 "CANARY-$k-$ROUND")"; done
}

# The Kubernetes docs' steps ("Declarative Management of Kubernetes Objects
# Using Configuration Files"), the merge table's rows as they occur:
# in the file -> set; gone from the file but last applied -> cleared;
# never applied (create, edit, label, annotate) -> kept.
test_apply_is_a_three_way_merge() {
	new_store
	ROUND=1
	manifest "a b c" "app: web, tier: one" "owner: team" >"$T/m.yaml"
	expect_eq "first apply" "secret/app created" "$(ctl apply -f "$T/m.yaml")"
	# what was never applied: a key by edit, one by patch, a label, an annotation
	EDITOR="sed -i s/^data:/data:\\n\\x20\\x20byedit:\\x20$(b64 CANARY-edit)/" ctl edit secret app >/dev/null ||
		fail "edit"
	ctl patch secret app -p "{\"data\":{\"bypatch\":\"$(b64 CANARY-patch)\"}}" >/dev/null
	ctl label secret app hand=1 >/dev/null
	ctl annotate secret app note=kept >/dev/null
	expect_eq "before" "a b byedit bypatch c" "$(keys app)"
	# the manifest drops b, changes c, drops label tier and changes app
	ROUND=2
	manifest "a c d" "app: api" "owner: team" >"$T/m.yaml"
	expect_eq "second apply" "secret/app configured" "$(ctl apply -f "$T/m.yaml")"
	expect_eq "keys: b removed, d added, the hand-made kept" "a byedit bypatch c d" "$(keys app)"
	expect_eq "a value applied again" "CANARY-c-2" "$(value app c)"
	expect_eq "never applied, kept" "CANARY-edit" "$(value app byedit)"
	expect_eq "labels" "app=api hand=1" "$(meta app labels)"
	expect_eq "annotations" "note=kept owner=team" "$(meta app annotations)"
	expect_eq "describe leaves kubectl's annotation out, as kubectl" \
		"Annotations:  note=kept" "$(ctl describe secret app | grep -A1 '^Annotations:' | head -1)"
	expect_eq "unchanged" "secret/app unchanged" "$(ctl apply -f "$T/m.yaml")"
	# a secret made by create, then applied: its keys were never applied
	ctl create secret generic made --from-literal=old=CANARY-old >/dev/null
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: made}\nstringData: {new: CANARY-new}\n' |
		ctl apply -f - >/dev/null
	expect_eq "create's key kept" "new old" "$(keys made)"
	# the annotation kubectl reads back names the keys and holds no value
	# as with kubectl, a key dropped from stringData stays in data: the
	# live object has no stringData to delete it from
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: made}\nstringData: {other: CANARY-x}\n' |
		ctl apply -f - >/dev/null
	expect_eq "stringData key dropped, kept" "new old other" "$(keys made)"
	expect_eq "last applied" \
		'{"apiVersion":"v1","data":{"a":"***","c":"***","d":"***"},"kind":"Secret","metadata":{"annotations":{"owner":"team"},"labels":{"app":"api"},"name":"app","namespace":"default"}}' \
		"$(ctl get secret app -o json | jq -r '.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]')"
	# canary sweep: no value in the database, its WAL, or any annotation
	local f
	for f in "$T"/store/store.db*; do
		strings -a "$f" | grep -Eq 'CANARY|Q0FOQVJZ' && fail "a value in clear in $f"
	done
	sqlite3 "$T/store/store.db" .dump | grep -Eq 'CANARY|Q0FOQVJZ' && fail "a value in the database dump"
	ctl get secret app made -o json | jq -c '.items[].metadata' | grep -Eq 'CANARY|Q0FOQVJZ' &&
		fail "a value in an annotation"
	return 0
}

# Whatever writes it, the store keeps kubectl's annotation without values:
# kubectl's own (values in clear), an annotate by hand; not JSON: refused.
test_last_applied_never_holds_a_value() {
	new_store
	cat >"$T/k.yaml" <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: k
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: |
      {"apiVersion":"v1","data":{"k":"Q0FOQVJZLWt1YmVjdGw="},"kind":"Secret","metadata":{"name":"k"},"stringData":{"s":"CANARY-string"}}
stringData: {k: CANARY-kubectl}
YAML
	ctl create -f "$T/k.yaml" >/dev/null
	# kubectl's annotation, redacted, fed back as a manifest fails loudly
	ctl get secret k -o jsonpath='{.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}' >"$T/back.json"
	expect_contains "kept, redacted" "$(cat "$T/back.json")" '"data":{"k":"***"}'
	expect_errno "placeholder is not base64" "illegal base64" ctl apply -f "$T/back.json"
	ctl annotate secret k --overwrite \
		'kubectl.kubernetes.io/last-applied-configuration={"data":{"x":"Q0FOQVJZLWFubm90YXRl"}}' >/dev/null
	expect_eq "redacted" '{"data":{"x":"***"}}' \
		"$(ctl get secret k -o jsonpath='{.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}')"
	expect_errno "not JSON" "must be kubectl's JSON object" \
		ctl annotate secret k --overwrite 'kubectl.kubernetes.io/last-applied-configuration=CANARY'
	local f
	for f in "$T"/store/store.db*; do
		strings -a "$f" | grep -Eq 'CANARY|Q0FOQVJZ' && fail "a value in clear in $f"
	done
	return 0
}

test_apply_dry_run_writes_nothing() {
	new_store
	ROUND=1
	manifest "a" "app: web" "" >"$T/m.yaml"
	expect_eq "client, new" "secret/app created (dry run)" "$(ctl apply -f "$T/m.yaml" --dry-run=client)"
	expect_errno "nothing written" 'not found' ctl get secret app
	ctl apply -f "$T/m.yaml" >/dev/null
	local rev
	rev=$(revision)
	ROUND=2
	manifest "a b" "app: web" "" >"$T/m.yaml"
	expect_eq "server" "secret/app configured (server dry run)" "$(ctl apply -f "$T/m.yaml" --dry-run=server)"
	expect_eq "json: the result" "a b" "$(ctl apply -f "$T/m.yaml" --dry-run=client -o json |
		jq -r '.data | keys | join(" ")')"
	ctl apply -f "$T/m.yaml" --dry-run=server -o yaml | grep -q '^  b: ' || fail "-o yaml has no b"
	expect_eq "revision" "$rev" "$(revision)"
	expect_eq "keys" "a" "$(keys app)"
	# server runs the store's rules, client does not
	sed -i 's/^kind: Secret/kind: Secret\ntype: example.com\/other/' "$T/m.yaml"
	ctl apply -f "$T/m.yaml" --dry-run=client >/dev/null || fail "client dry run checks the store"
	expect_errno "type is immutable" "field is immutable" ctl apply -f "$T/m.yaml" --dry-run=server
	expect_eq "revision" "$rev" "$(revision)"
}

# kubectl diff's contract: exit 0 same, 1 different, >1 error; values masked
test_diff_as_kubectl() {
	new_store
	ROUND=1
	manifest "a b" "app: web" "" >"$T/m.yaml"
	local out rc long
	if out=$(ctl diff -f "$T/m.yaml"); then rc=0; else rc=$?; fi
	expect_eq "a new secret: exit" 1 "$rc"
	expect_contains "new secret" "$out" "+  a: '***'"
	ctl apply -f "$T/m.yaml" >/dev/null
	ctl diff -f "$T/m.yaml" >"$T/out" || fail "no difference, exit $?: $(cat "$T/out")"
	expect_eq "no output" "" "$(cat "$T/out")"
	ROUND=2
	manifest "a c" "app: web" "" >"$T/m.yaml"
	sed -i "s/$(b64 CANARY-a-2)/$(b64 CANARY-a-1)/" "$T/m.yaml"
	if out=$(ctl diff -f "$T/m.yaml"); then rc=0; else rc=$?; fi
	expect_eq "exit" 1 "$rc"
	expect_contains "unchanged value" "$out" " a: '***'"
	expect_contains "removed" "$out" "-  b: '***'"
	expect_contains "added" "$out" "+  c: '***'"
	case "$out" in *CANARY*|*Q0FOQVJZ*) fail "a value in the diff" ;; esac
	sed -i "s/$(b64 CANARY-a-1)/$(b64 CANARY-a-3)/" "$T/m.yaml"
	if out=$(ctl diff -f "$T/m.yaml"); then fail "a change, exit 0"; fi
	expect_contains "changed" "$out" "-  a: '*** (before)'"
	expect_contains "changed" "$out" "+  a: '*** (after)'"
	if out=$(KUBECTL_EXTERNAL_DIFF="diff -q" ctl diff -f "$T/m.yaml"); then rc=0; else rc=$?; fi
	expect_eq "external diff's exit" 1 "$rc"
	expect_contains "external diff" "$out" "v1.Secret.default.app differ"
	# too long to keep whole: refused, not run with its last flag cut short
	long="diff --label=$(printf 'x%.0s' {1..600})"
	if out=$(KUBECTL_EXTERNAL_DIFF=$long ctl diff -f "$T/m.yaml" 2>&1); then rc=0; else rc=$?; fi
	expect_eq "overlong KUBECTL_EXTERNAL_DIFF: exit" 2 "$rc"
	expect_contains "overlong KUBECTL_EXTERNAL_DIFF" "$out" "KUBECTL_EXTERNAL_DIFF: longer than 511 bytes"
	echo "kind: Secret" >"$T/bad.yaml"
	if ctl diff -f "$T/bad.yaml" 2>/dev/null; then rc=0; else rc=$?; fi
	[ "$rc" -gt 1 ] || fail "an error exits $rc, not >1"
	expect_eq "nothing written" "a b" "$(keys app)"
	# its folders go when it is done, whatever random names mkdtemp gave
	# them (one in 62 ends in X, which once read as "not made"): 150 runs
	# make 300 folders
	mkdir "$T/tmp"
	for _ in $(seq 150); do
		if TMPDIR=$T/tmp ctl diff -f "$T/m.yaml" >/dev/null; then fail "a change, exit 0"; fi
	done
	expect_eq "temporary folders removed" "" "$(ls -A "$T/tmp")"
}

# one patch, by secretctl and by kubectl patch --local on the same object
# (kubectl computes it offline): the same data, labels and annotations
patch_vs_kubectl() {
	local type=$1 patch=$2 ours theirs
	ctl get secret p -o json >"$T/p.json"
	theirs=$(kubectl patch --local -f "$T/p.json" --type="$type" -p "$patch" -o json 2>&1) ||
		fail "kubectl: $theirs"
	ctl patch secret p --type="$type" -p "$patch" >/dev/null || fail "secretctl patch --type=$type $patch"
	ours=$(ctl get secret p -o json)
	local norm='{data: (.data // {}), labels: (.metadata.labels // {}), annotations: (.metadata.annotations // {}), type}'
	expect_eq "$type $patch" "$(echo "$theirs" | jq -S -c "$norm")" "$(echo "$ours" | jq -S -c "$norm")"
}

test_patch_types_match_kubectl() {
	need_kubectl
	new_store
	ctl create secret generic p --from-literal=a=1 --from-literal=b=2 >/dev/null
	ctl label secret p app=web tier=one >/dev/null
	patch_vs_kubectl strategic "{\"data\":{\"c\":\"$(b64 3)\",\"a\":null},\"metadata\":{\"labels\":{\"tier\":\"two\"}}}"
	patch_vs_kubectl strategic '{"metadata":{"labels":{"$patch":"replace","only":"this"}}}'
	patch_vs_kubectl strategic '{"data":{"$retainKeys":["c"]}}'
	patch_vs_kubectl merge '{"metadata":{"annotations":{"note":"x"},"labels":{"only":null}}}'
	patch_vs_kubectl json "[{\"op\":\"add\",\"path\":\"/data/d\",\"value\":\"$(b64 4)\"},{\"op\":\"test\",\"path\":\"/type\",\"value\":\"Opaque\"},{\"op\":\"move\",\"from\":\"/data/d\",\"path\":\"/data/e\"},{\"op\":\"copy\",\"from\":\"/data/e\",\"path\":\"/data/f\"}]"
	# kubectl's messages
	expect_eq "no change" "secret/p patched (no change)" "$(ctl patch secret p -p '{"metadata":{"annotations":{"note":"x"}}}')"
	expect_eq "dry run" "secret/p patched (dry run)" "$(ctl patch secret p -p '{"metadata":{"annotations":{"note":"y"}}}' --dry-run)"
	expect_eq "server dry run" "secret/p patched (server dry run)" "$(ctl patch secret p -p '{"metadata":{"annotations":{"note":"y"}}}' --dry-run=server)"
	expect_eq "not written" "note=x" "$(meta p annotations)"
	expect_contains "-o yaml" "$(ctl patch secret p -p '{"metadata":{"annotations":{"note":"z"}}}' -o yaml)" "note: z"
	# YAML from a file, with a value that must stay off the command line
	printf 'stringData:\n  pw: CANARY-file\n' >"$T/patch.yaml"
	expect_eq "patch file" "secret/p patched" "$(ctl patch secret p --patch-file "$T/patch.yaml")"
	expect_eq "value" "CANARY-file" "$(value p pw)"
	# refused, with the store as it was
	local rev
	rev=$(revision)
	expect_errno "test fails" "testing value /type failed: test failed" \
		ctl patch secret p --type=json -p '[{"op":"test","path":"/type","value":"kubernetes.io/tls"}]'
	expect_errno "unknown directive" "unknown patch directive: \$frob" \
		ctl patch secret p -p '{"data":{"$frob":1}}'
	expect_errno "type is immutable" "field is immutable" ctl patch secret p --type=merge -p '{"type":"other"}'
	expect_errno "base64" "illegal base64" ctl patch secret p -p '{"data":{"x":"***"}}'
	expect_errno "bad type" 'must be one of [json merge strategic]' ctl patch secret p --type=apply -p '{}'
	expect_errno "missing" 'not found' ctl patch secret nope -p '{}'
	# jansson quotes the input "near" where it failed: never a value
	local out
	if out=$(ctl patch secret p -p '{"stringData":{"pw":hunter2canary}}' 2>&1); then
		fail "broken JSON patched"
	fi
	expect_contains "broken JSON: where" "$out" "invalid JSON in the patch: invalid token at line 1, column"
	case "$out" in *hunter2*) fail "the patch's value in the error: $out" ;; esac
	expect_eq "revision" "$rev" "$(revision)"
}

# The engine alone (finalizers and ownerReferences, which a stored secret
# does not keep) against kubectl patch --local, object for object.
test_patch_engine_matches_kubectl() {
	need_kubectl
	cat >"$T/o.json" <<'JSON'
{"apiVersion":"v1","kind":"Secret","metadata":{"name":"o","namespace":"default",
 "finalizers":["f1","f2","f3"],"labels":{"a":"1","b":"2"},
 "ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"x","uid":"u1"},
                    {"apiVersion":"v1","kind":"ConfigMap","name":"y","uid":"u2"}]},
 "data":{"k":"dg==","l":"dw=="},"type":"Opaque"}
JSON
	local p type ours theirs n=0 i
	# kubectl takes a quarter of a second to start: all of them at once
	while IFS='|' read -r type p; do
		n=$((n + 1))
		echo "$type|$p" >"$T/case.$n"
		kubectl patch --local -f "$T/o.json" --type="$type" -p "$p" -o json >"$T/k.$n" 2>&1 &
	done <<'CASES'
strategic|{"metadata":{"finalizers":["f4","f1"]}}
strategic|{"metadata":{"$deleteFromPrimitiveList/finalizers":["f2"]}}
strategic|{"metadata":{"$setElementOrder/finalizers":["f3","f1","f2"]}}
strategic|{"metadata":{"ownerReferences":[{"uid":"u2","name":"z"},{"uid":"u3","name":"w","kind":"Pod","apiVersion":"v1"}]}}
strategic|{"metadata":{"ownerReferences":[{"$patch":"delete","uid":"u1"}]}}
strategic|{"metadata":{"ownerReferences":[{"$patch":"replace"},{"uid":"u9","name":"n","kind":"Pod","apiVersion":"v1"}]}}
strategic|{"metadata":{"labels":{"$patch":"delete"}},"data":{"k":null,"m":"eA=="}}
strategic|{"data":{"$retainKeys":["l","n"],"n":"eQ=="}}
merge|{"metadata":{"finalizers":["only"],"labels":{"a":null}}}
json|[{"op":"remove","path":"/metadata/finalizers/1"},{"op":"add","path":"/metadata/finalizers/-","value":"f9"},{"op":"replace","path":"/data/k","value":"eg=="}]
json|[{"op":"move","from":"/metadata/labels/a","path":"/metadata/labels/c"},{"op":"test","path":"/metadata/labels/c","value":"1"}]
CASES
	wait
	for i in $(seq "$n"); do
		IFS='|' read -r type p <"$T/case.$i"
		theirs=$(jq -S -c . "$T/k.$i") || fail "kubectl $type $p: $(cat "$T/k.$i")"
		ours=$("$BIN/test/kpatch" "$type" "$T/o.json" "$p" | jq -S -c .)
		expect_eq "$type $p" "$theirs" "$ours"
	done
	# what kubectl refuses, we refuse, in its words
	n=0
	for p in '[{"op":"test","path":"/data/k","value":"x"}]' '[{"op":"remove","path":"/nope"}]' \
		 '[{"op":"add","path":"/a/b","value":1}]' '[{"op":"move","from":"/nope","path":"/x"}]' \
		 '[{"op":"move","from":"/a/b","path":"/x"}]' '[{"op":"frob","path":"/x"}]'; do
		n=$((n + 1))
		echo "$p" >"$T/bad.$n"
		kubectl patch --local -f "$T/o.json" --type=json -p "$p" -o json >"$T/kbad.$n" 2>&1 &
	done
	wait
	for i in $(seq "$n"); do
		p=$(cat "$T/bad.$i")
		if ours=$("$BIN/test/kpatch" json "$T/o.json" "$p" 2>&1); then fail "kpatch took $p"; fi
		expect_eq "refusal of $p" "$(sed 's/^error: //' "$T/kbad.$i")" "$ours"
	done
	return 0
}

# kubectl create ... -o yaml without --dry-run creates, then prints the
# object as created
test_create_output_creates_and_prints() {
	new_store
	local out
	out=$(ctl create secret generic made --from-literal=k=v -o yaml)
	expect_contains "uid" "$out" "uid: "
	expect_contains "version" "$out" "resourceVersion: "
	expect_contains "value" "$out" "k: $(b64 v)"
	expect_eq "created" "k" "$(keys made)"
	expect_eq "json" "made2" "$(ctl create secret generic made2 --from-literal=k=v -o json | jq -r .metadata.name)"
	expect_eq "server dry run" "secret/made3 created (server dry run)" \
		"$(ctl create secret generic made3 --from-literal=k=v --dry-run=server)"
	expect_errno "not written" 'not found' ctl get secret made3
}
