# test_golden.sh - secretctl's output, line for line, against golden files
# (tests/e2e/golden/*.txt); ages, times, uids and revisions are masked.

golden_store() {
	new_store
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
	golden_store
	golden get.txt ctl get secrets
	golden get-all.txt ctl get secrets -A
	golden describe.txt ctl describe secret app
	golden get-yaml.txt ctl get secret app -o yaml
	golden get-json.txt ctl get secret app -o json
}
