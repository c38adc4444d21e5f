#!/bin/bash
# restore_latency.sh BIN: time from starting "sqlite3 .restore" of a backup
# to a mount serving the restored value, 10 times (sqlite3 start-up included)
set -eu
BIN=$1; T=$(mktemp -d /tmp/h5meas.XXXX); export T BIN
source "$(dirname "$0")/../e2e/lib.sh"
new_store
ctl create secret generic a --from-literal=k=old >/dev/null
sqlite3 "$T/store/store.db" ".backup '$T/backup.db'"
mount_fs
ms=()
for i in $(seq 10); do
	ctl delete secret a >/dev/null; ctl create secret generic a --from-literal=k=new >/dev/null
	until [ "$(cat "$M/default/a/k")" = new ]; do :; done
	s=${EPOCHREALTIME/./}
	sqlite3 "$T/store/store.db" ".restore '$T/backup.db'"
	until [ "$(cat "$M/default/a/k")" = old ]; do :; done
	ms+=($(( (${EPOCHREALTIME/./} - s) / 1000 )))
done
echo ".restore to visible, ms: ${ms[*]}"
grep -c "was replaced" "$T/fs.log"
unmount_fs; rm -rf "$T"
