# test_golden.sh - secretctl's output, line for line, against golden files
# (tests/e2e/golden/*.txt); ages, times, uids and revisions are masked.

source "$(dirname "${BASH_SOURCE[0]}")/api.sh"

# golden_store: the objects of the golden files, in the store of $T
golden_store() {
	ctl create namespace prod >/dev/null
	# create, not apply: apply adds kubectl's last-applied annotation
	ctl create -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: app
  labels: {team: web, tier: front}
  annotations: {owner: ops}
stringData: {user.name.id: admin, password: s3cr3t}
---
apiVersion: v1
kind: Secret
metadata: {name: tls}
type: kubernetes.io/tls
stringData: {tls.crt: C, tls.key: K}
---
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: prod}
stringData: {k: v}
YAML
}

mask() {
	sed -E 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/<uid>/;
		s/   [0-9]+(s|m[0-9]*s?|h[0-9]*m?|d[0-9]*h?|y[0-9]*d?)$/   <age>/;
		s/"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"/"<time>"/;
		s/(resourceVersion": |resourceVersion: )"[0-9]+"/\1"<rv>"/'
}

golden() { # golden FILE COMMAND...
	local file=$1 here
	shift
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	"$@" | mask >"$T/out"
	diff -u "$here/golden/$file" "$T/out" >"$T/diff" || fail "$file differs: $(cat "$T/diff")"
}

test_golden_outputs() {
	new_store
	golden_store
	golden get.txt ctl get secrets
	golden get-all.txt ctl get secrets -A
	golden describe.txt ctl describe secret app
	golden get-yaml.txt ctl get secret app -o yaml
	golden get-json.txt ctl get secret app -o json
}

# --- kubectl's JSONPath, custom-columns and --sort-by -----------------------------
#
# golden/jsonpath/cases.txt lists kubectl get invocations; golden/jsonpath/
# kubectl.txt holds what kubectl 1.32 printed for each on the objects of
# jsonpath_store, read from secretfs-apiserver (api.sh's start_api, as
# test_apiserver.sh runs it).  secretctl must print all of it;
# kubectl itself runs the cases marked "+ " (in the release pass) beside it.  Times, uids and
# resourceVersions are masked; errors are reduced to their reason, as
# kubectl's add a dump of the object (values included) that ours never do.
# Regenerate the golden file with
#   REGEN_JSONPATH=1 BIN=$PWD/bin tests/e2e/run.sh test_jsonpath_matches_kubectl

jsonpath_store() {
	golden_store
	ctl create secret generic s10 --from-literal=n=10 >/dev/null
	ctl create secret generic s9 --from-literal=n=9 >/dev/null
	ctl label secret s9 app.kubernetes.io/name=web team=api >/dev/null
}

jsonpath_mask() {
	sed -E 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/<uid>/g;
		s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z/<time>/g;
		s/("resourceVersion": ?|resourceVersion: )"[0-9]*"/\1"<rv>"/g;
		s/^([a-z0-9]+ +)[0-9]+[smhdy][0-9smhdy]*$/\1<age>/'
}

# what one program printed for the case, its status and its error's reason
jsonpath_case() { # jsonpath_case LINE COMMAND...
	local line=$1 out rc args tmpl e err=$T/case.$BASHPID
	shift
	trap - ERR # a failure is an answer here (this runs in its own subshell)
	if [[ $line == "-o "* ]]; then args=(-o "${line#-o }"); else read -ra args <<<"$line"; fi
	tmpl=${line#-o }
	tmpl=${tmpl#*=}
	out=$("$@" get secrets "${args[@]}" 2>"$err"; echo "<EOF>$?")
	rc=${out##*<EOF>}
	printf '=== %s\n%s<EOF>\n--- rc=%s\n' "$line" "${out%<EOF>*}" "$rc"
	while IFS= read -r e; do
		case $e in
		"error: error executing jsonpath \"$tmpl\": "*)
			e=${e#"error: error executing jsonpath \"$tmpl\": "}
			e=${e#Error executing template: }
			echo "error executing: ${e%. Printing more information for debugging the template:}" ;;
		"error: error parsing jsonpath $tmpl, "*)
			e=${e#"error: error parsing jsonpath $tmpl, "}
			echo "error parsing: ${e% at column *}" ;;
		"Error from server (NotFound): secrets \""*)
			e=${e#*\"}
			echo "not found: ${e%%\"*}" ;;
		"error: secret \""*" not found")
			e=${e#*\"}
			echo "not found: ${e%%\"*}" ;;
		"	"* | "") ;; # kubectl's dump of the template and the object
		*) echo "${e#error: }" ;;
		esac
	done <"$err"
	rm -f "$err"
}

jsonpath_cases() { # jsonpath_cases JOBS all|live COMMAND...: the cases, masked
	local here line jobs=$1 which=$2 i=0 pids=()
	shift 2
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	mkdir -p "$T/cases"
	while IFS= read -r line; do
		[[ -z $line || $line == "#"* ]] && continue
		[[ $which == live && $line != "+ "* ]] && continue
		line=${line#+ }
		i=$((i + 1))
		jsonpath_case "$line" "$@" >"$T/cases/$(printf %03d $i)" &
		pids+=($!)
		# (not a bare wait: the API server is a child too)
		[ ${#pids[@]} -lt "$jobs" ] || { wait "${pids[@]}"; pids=(); }
	done <"$here/golden/jsonpath/cases.txt"
	[ ${#pids[@]} = 0 ] || wait "${pids[@]}"
	cat "$T"/cases/* | jsonpath_mask
	rm -r "$T/cases"
}

test_jsonpath_matches_kubectl() {
	local here golden
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	golden=$here/golden/jsonpath/kubectl.txt
	# kubectl's answers do not depend on our build: asked in the release
	# pass (a few seconds), compared with the recorded ones in all
	if [[ $BIN != *san* ]]; then
		start_api
		jsonpath_store
		if [ -n "${REGEN_JSONPATH:-}" ]; then
			jsonpath_cases 4 all k 1.32 admin >"$golden"
		fi
		# the cases marked "+ " (kubectl takes 0.1 s of CPU for each)
		jsonpath_cases 4 live k 1.32 admin >"$T/kubectl.txt"
		jsonpath_cases 4 live ctl >"$T/secretctl.txt"
		diff -u "$T/kubectl.txt" "$T/secretctl.txt" >"$T/diff" ||
			fail "secretctl differs from kubectl $(k 1.32 admin version --client | head -1): $(cat "$T/diff")"
	else
		new_store
		jsonpath_store
	fi
	jsonpath_cases 4 all ctl >"$T/secretctl.txt"
	diff -u "$golden" "$T/secretctl.txt" >"$T/diff" || fail "secretctl differs from kubectl: $(cat "$T/diff")"
	[ "$(grep -c '^===' "$golden")" -ge 80 ] || fail "too few cases ran"
}
