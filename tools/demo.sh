#!/bin/sh
# demo.sh - 'make run': create a demo store (once) under demo/, with sample
# secrets of several types, and mount it in the foreground at demo/mnt.
# Ctrl-C unmounts.  Everything lives in the git-ignored demo/ folder.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
demo=$top/demo
bin=$top/bin
conf=$demo/secretfs.ini

mkdir -p "$demo/mnt"
if [ ! -f "$conf" ]; then
	cat >"$conf" <<INI
; the demo's configuration: see etc/secretfs.ini for every setting
[store]
path = store/store.db
key_file = store/master.key
INI
	chmod 0644 "$conf"
fi
ctl() { "$bin/secretctl" -c "$conf" "$@"; }

if [ ! -f "$demo/store/store.db" ]; then
	ctl init
	ctl create namespace shop
	ctl create secret generic db-credentials -n shop \
		--from-literal=username=shop_app --from-literal=password="$(head -c 12 /dev/urandom | base64)"
	ctl create secret generic api-token --type=kubernetes.io/basic-auth \
		--from-literal=username=deploy-bot --from-literal=password="$(head -c 18 /dev/urandom | base64)"
	printf '{"auths":{"registry.example.com":{"auth":"%s"}}}' \
		"$(printf 'robot:%s' "$(head -c 9 /dev/urandom | base64)" | base64)" >"$demo/dockerconfig.json"
	ctl create secret generic registry -n shop --type=kubernetes.io/dockerconfigjson \
		--from-file=.dockerconfigjson="$demo/dockerconfig.json"
	rm -f "$demo/dockerconfig.json"
	printf 'dotfile contents\n' >"$demo/.secret-file"
	ctl create secret generic dotfile-secret --from-file="$demo/.secret-file"
	rm -f "$demo/.secret-file"
	ctl create secret generic frozen-config --immutable --from-literal=mode=production
fi

mountpoint -q "$demo/mnt" && fusermount3 -u "$demo/mnt"
cat <<MSG

secretfs demo: the store is $demo/store, mounted read-only at $demo/mnt
From another terminal, try:

  ls -la $demo/mnt/shop/db-credentials
  cat $demo/mnt/shop/db-credentials/username
  cat $demo/mnt/default/dotfile-secret/.secret-file
  $bin/secretctl -c $conf get secrets -A
  $bin/secretctl -c $conf create secret generic hello --from-literal=greeting=hi
  cat $demo/mnt/default/hello/greeting

Press Ctrl-C here to unmount.

MSG
exec "$bin/secretfs" -c "$conf" -f "$demo/mnt"
