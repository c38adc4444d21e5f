# secretfs - one Makefile for the library, the driver, the CLI and the tests.
#
#   make            build bin/secretfs and bin/secretctl
#   make run        install what building and running need, build, mount a
#                   demo store (foreground); no test tools
#   make check      install what is missing (test tools too), build, run every test (twice:
#                   release, then an ASan+UBSan build)
#   make check-asan only the ASan+UBSan run
#   make install    PREFIX=/usr/local SYSCONFDIR=/etc LOCALSTATEDIR=/var DESTDIR=
#   make clean

PREFIX  ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var
CC      ?= cc
VERSION := 0.1.0

# SAN=1 builds everything with AddressSanitizer and UBSan into its own tree;
# SAN=thread with ThreadSanitizer (data races between the daemon's threads).
ifeq ($(SAN),1)
BUILD   ?= build/asan
BIN     ?= bin/asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT     := -O1
else ifeq ($(SAN),thread)
BUILD   ?= build/tsan
BIN     ?= bin/tsan
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
OPT     := -O1
else
BUILD   ?= build/release
BIN     ?= bin
SANFLAGS :=
OPT     := -O2 -D_FORTIFY_SOURCE=2
endif

PKGS    := fuse3 libsodium sqlite3 inih yaml-0.1 jansson libcrypto libcurl libmicrohttpd gnutls
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation -Wvla
CFLAGS  ?= $(OPT) -g
# the paths make install puts things at, compiled in as the defaults (the
# configuration's path, the store's, the key file's, the audit log's)
PATH_DEFS := -DSECRETFS_SYSCONFDIR=\"$(SYSCONFDIR)\" -DSECRETFS_LOCALSTATEDIR=\"$(LOCALSTATEDIR)\"
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE -DSECRETFS_VERSION=\"$(VERSION)\" $(PATH_DEFS) $(CFLAGS) $(WARN) $(SANFLAGS) -fstack-protector-strong \
           -fPIE -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS_ALL := $(SANFLAGS) -pie -Wl,-z,relro,-z,now $(LDFLAGS)

STORE_LIBS := $(shell pkg-config --libs libsodium sqlite3 jansson 2>/dev/null)
FS_LIBS    := $(shell pkg-config --libs fuse3 inih jansson yaml-0.1 2>/dev/null) -lpthread
CTL_LIBS   := $(shell pkg-config --libs inih yaml-0.1 jansson libcrypto 2>/dev/null)
API_LIBS   := $(shell pkg-config --libs libmicrohttpd gnutls inih yaml-0.1 jansson 2>/dev/null) -lpthread
TEST_LIBS  := $(shell pkg-config --libs cmocka 2>/dev/null)

STORE_SRC := store/writer.c store/rows.c store/lastapplied.c store/db.c store/cluster/cluster.c store/cluster/record.c store/cluster/apply.c store/cluster/write.c store/cluster/keyring.c store/cluster/etcd.c store/cluster/objects.c store/cluster/follow.c store/seal.c store/secbuf.c store/secret.c store/validate.c store/types.c store/events.c store/keys.c store/meta.c store/objects.c
# what more than one program reads: the shared .ini sections, passphrases,
# cgroup patterns, private folders, where the API's certificates are (conf/)
CONF_SRC  := conf/conf.c conf/match.c conf/passphrase.c conf/privdir.c conf/pki.c
FS_SRC    := fs/config.c fs/main.c fs/ops.c fs/node.c fs/log.c fs/view.c fs/caller.c fs/audit.c fs/watch.c fs/status.c fs/follow.c fs/value.c fs/volume.c fs/reader.c
# the Kubernetes objects, selectors, JSONPath and manifests every front end
# shares (kube/)
KUBE_SRC  := kube/object.c kube/manifest.c kube/select.c kube/pod.c kube/jsonpath.c kube/rbac.c kube/rbac_valid.c kube/patch.c kube/apply.c
CTL_SRC   := $(wildcard tools/ctl/*.c) tools/output.c tools/input.c tools/kinds.c tools/scratch.c \
             tools/pki.c

# the API server's decoder of kubectl's protobuf bodies (issue 17): its C
# from api/k8s.proto is made by protoc-c into the build tree, never committed
PB_SRC    := api/pb.c
PB_OBJ    := $(PB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/api/k8s.pb-c.o
PB_LIBS   := $(shell pkg-config --libs libprotobuf-c 2>/dev/null)
# the API server (api/), with that decoder
API_SRC   := api/main.c api/http.c api/authn.c api/status.c api/db.c api/discovery.c \
	     api/body.c api/secrets.c api/namespaces.c api/table.c api/watch.c \
	     api/reviews.c api/authz.c api/roles.c api/events.c \
	     api/audit.c api/follow.c

STORE_OBJ := $(STORE_SRC:%.c=$(BUILD)/%.o)
CONF_OBJ  := $(CONF_SRC:%.c=$(BUILD)/%.o)
FS_OBJ    := $(FS_SRC:%.c=$(BUILD)/%.o)
KUBE_OBJ  := $(KUBE_SRC:%.c=$(BUILD)/%.o)
# what fs/config.c needs of kube/: a view may be a Pod manifest's volumes
POD_OBJ   := $(BUILD)/kube/pod.o $(BUILD)/kube/manifest.o
POD_LIBS  := $(shell pkg-config --libs yaml-0.1 jansson 2>/dev/null)
CTL_OBJ   := $(CTL_SRC:%.c=$(BUILD)/%.o)
API_OBJ   := $(API_SRC:%.c=$(BUILD)/%.o)

UNIT_TESTS := test_validate test_store test_config test_seal test_pb test_rbac test_objects test_patch
UNIT_BINS  := $(UNIT_TESTS:%=$(BUILD)/tests/%)

all: $(BIN)/secretfs $(BIN)/secretctl $(BIN)/secretfs-oci-hook $(BIN)/secretfs-apiserver

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# protoc-c writes both files at once (a grouped pattern rule), for any tree
%/api/k8s.pb-c.c %/api/k8s.pb-c.h: api/k8s.proto
	@mkdir -p $*/api
	protoc-c --proto_path=api --c_out=$*/api $<

$(BUILD)/api/k8s.pb-c.o: $(BUILD)/api/k8s.pb-c.c
	$(CC) $(ALL_CFLAGS) -I$(BUILD)/api -MMD -MP -c -o $@ $<

$(BUILD)/api/pb.o $(BUILD)/tests/unit/test_pb.o: $(BUILD)/%.o: %.c $(BUILD)/api/k8s.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(BUILD)/api -MMD -MP -c -o $@ $<

# The objects that compile PATH_DEFS in are rebuilt when they change
# ('make SYSCONFDIR=/opt/etc install' after a plain 'make'): the stamp is
# rewritten only then, and make looks at its time after the recipe.
$(BUILD)/paths.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(PATH_DEFS)' | cmp -s - $@ || echo '$(PATH_DEFS)' >$@
$(BUILD)/conf/conf.o $(BUILD)/fs/config.o $(BUILD)/fs/main.o $(BUILD)/tools/ctl/flags.o \
	$(BUILD)/tests/unit/test_config.o: $(BUILD)/paths.stamp
FORCE:

$(BUILD)/libstore.a: $(STORE_OBJ)
	@rm -f $@ # a fresh archive: no member of a source moved or removed since
	ar rcs $@ $^

$(BIN)/secretfs: $(FS_OBJ) $(POD_OBJ) $(CONF_OBJ) $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(FS_LIBS) $(STORE_LIBS)

$(BIN)/secretctl: $(CTL_OBJ) $(KUBE_OBJ) $(CONF_OBJ) $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CTL_LIBS) $(STORE_LIBS)

$(BIN)/secretfs-apiserver: $(API_OBJ) $(PB_OBJ) $(KUBE_OBJ) $(CONF_OBJ) $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(API_LIBS) $(PB_LIBS) $(CTL_LIBS) $(STORE_LIBS)

$(BIN)/secretfs-oci-hook: $(BUILD)/tools/oci-hook.o $(BUILD)/fs/caller.o $(BUILD)/fs/config.o $(POD_OBJ) $(CONF_OBJ) $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(shell pkg-config --libs inih 2>/dev/null) $(POD_LIBS) $(STORE_LIBS) -lpthread

# helpers the end-to-end tests and benchmarks run
$(BIN)/test/stamp: $(BUILD)/tests/tools/stamp.o $(CONF_OBJ) $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(shell pkg-config --libs inih 2>/dev/null) $(STORE_LIBS)

$(BIN)/test/populate: $(BUILD)/tests/tools/populate.o $(CONF_OBJ) $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(shell pkg-config --libs inih 2>/dev/null) $(STORE_LIBS)

# the RBAC objects through the writer, for the cluster tests (the API
# server's path, without it)
$(BIN)/test/rbacobj: $(BUILD)/tests/tools/rbacobj.o $(CONF_OBJ) $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(shell pkg-config --libs inih 2>/dev/null) $(STORE_LIBS)

$(BIN)/test/latency: $(BUILD)/tests/bench/latency.o $(CONF_OBJ) $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(shell pkg-config --libs inih 2>/dev/null) $(STORE_LIBS)

$(BIN)/test/readloop: $(BUILD)/tests/bench/readloop.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lpthread

# the patch engine alone, held against kubectl patch --local
$(BIN)/test/kpatch: $(BUILD)/tests/tools/kpatch.o $(BUILD)/kube/patch.o $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(STORE_LIBS)

# readloop again, static, to run inside the tests' busybox containers
$(BIN)/test/readloop-static: tests/bench/readloop.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -static -pthread -o $@ $<

# the load test's readers, never sanitized: a thousand of them load the
# daemon under test, not themselves
$(BIN)/test/loadread: tests/tools/loadread.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -O2 $(WARN) -pthread -o $@ $<

# what api_pb_decode() costs (a figure for the README's Benchmarks)
$(BIN)/test/pb-bench: $(BUILD)/tests/tools/pb-bench.o $(PB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PB_LIBS) $(shell pkg-config --libs libsodium jansson 2>/dev/null)

# the API server's load (make bench), never sanitized: it loads the server
$(BIN)/test/apiload: tests/bench/apiload.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -O2 $(WARN) -o $@ $< $(shell pkg-config --libs libcurl)

TEST_TOOLS := $(BIN)/test/stamp $(BIN)/test/readloop $(BIN)/test/readloop-static \
	      $(BIN)/test/populate $(BIN)/test/latency $(BIN)/test/loadread $(BIN)/test/rbacobj $(BIN)/test/kpatch \
	      $(BIN)/test/apiload

$(BUILD)/tests/test_validate: $(BUILD)/tests/unit/test_validate.o $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(TEST_LIBS) $(STORE_LIBS)

$(BUILD)/tests/test_seal: $(BUILD)/tests/unit/test_seal.o $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(TEST_LIBS) $(STORE_LIBS)

$(BUILD)/tests/test_store: $(BUILD)/tests/unit/test_store.o $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(TEST_LIBS) $(STORE_LIBS)

$(BUILD)/tests/test_patch: $(BUILD)/tests/unit/test_patch.o $(BUILD)/kube/patch.o $(BUILD)/kube/apply.o $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(TEST_LIBS) $(STORE_LIBS)

$(BUILD)/tests/test_objects: $(BUILD)/tests/unit/test_objects.o $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(TEST_LIBS) $(STORE_LIBS)

$(BUILD)/tests/test_rbac: $(BUILD)/tests/unit/test_rbac.o $(BUILD)/kube/rbac.o $(BUILD)/kube/rbac_valid.o $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(TEST_LIBS) $(STORE_LIBS)

# free() wrapped: the test looks for values in what the decoder frees
$(BUILD)/tests/test_pb: $(BUILD)/tests/unit/test_pb.o $(PB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -Wl,--wrap=free -o $@ $^ $(TEST_LIBS) $(PB_LIBS) $(shell pkg-config --libs libsodium jansson 2>/dev/null)

$(BUILD)/tests/test_config: $(BUILD)/tests/unit/test_config.o $(BUILD)/fs/config.o $(POD_OBJ) $(CONF_OBJ) $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(TEST_LIBS) $(shell pkg-config --libs inih 2>/dev/null) $(POD_LIBS) $(STORE_LIBS)

# --- set-up, demo and tests --------------------------------------------

# what building and running need (deps-run), and the test tools too (deps)
deps:
	@tools/install-deps.sh

deps-run:
	@tools/install-deps.sh --run

run: deps-run
	@$(MAKE) --no-print-directory all
	@tools/demo.sh

# pb-check-proto: api/k8s.proto against the schema compiled into kubectl;
# it reads no build, so the sanitizer passes leave it out (PB_CHECK=0)
PB_CHECK ?= 1
unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || fail=1; done; \
	if [ "$(PB_CHECK)" = 1 ]; then echo "== tests/tools/pb-check-proto.py"; \
	tests/tools/pb-check-proto.py || fail=1; fi; exit $$fail

# the etcd cluster tests mostly wait (elections, followers), the API
# server's on kubectl and python starting: each runs in a lane of its own
# beside the rest (tests/e2e/run.sh, E2E_APART), with other suites that
# mostly wait (runc, kubectl, python) in two lanes more, so that the four
# take about the same time (measured: 2 to 3.5 min each, sanitizers or not;
# the CPUs are still not all busy)
E2E_APART ?= test_cluster:|test_env_events_limits: test_apiserver:|test_secretctl: \
	test_views:|test_manifests:|test_kubectl_parity:|test_pki:|test_install:|test_apply:

e2e: all $(TEST_TOOLS)
	@BIN=$(abspath $(BIN)) E2E_APART='$(E2E_APART)' tests/e2e/run.sh

# the suites that exercise the daemon's threads (run with SAN=thread)
e2e-threads: all $(TEST_TOOLS)
	@BIN=$(abspath $(BIN)) E2E_APART='$(E2E_APART)' tests/e2e/run.sh test_updates: test_views: test_mount: test_cluster: test_reload:

# every test twice: the release build, then an ASan+UBSan build; the suites
# that drive the daemon's threads (watcher, cluster follower, FUSE loops,
# signals) once more under ThreadSanitizer; then a short fuzzing pass
# (each build on every core, JOBS; the tests one goal after another)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
check: deps
	@$(MAKE) --no-print-directory -j$(JOBS) build-tests
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory e2e
	@echo "== the same tests under AddressSanitizer and UndefinedBehaviorSanitizer"
	@$(MAKE) --no-print-directory -j$(JOBS) SAN=1 build-tests
	@$(MAKE) --no-print-directory SAN=1 PB_CHECK=0 unit
	@$(MAKE) --no-print-directory SAN=1 e2e
	@echo "== the daemon's suites under ThreadSanitizer"
	@$(MAKE) --no-print-directory -j$(JOBS) SAN=thread all build-tools
	@$(MAKE) --no-print-directory SAN=thread e2e-threads
	@$(MAKE) --no-print-directory -j$(JOBS) fuzz-build
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=4

# what the tests run, for the build's SAN
build-tests: all $(UNIT_BINS) $(TEST_TOOLS)
build-tools: $(TEST_TOOLS)

# benchmarks: figures and same-run ratios, written to tests/bench/results.json
bench: deps
	@$(MAKE) --no-print-directory all $(TEST_TOOLS)
	@BIN=$(abspath $(BIN)) tests/bench/run.sh

check-asan: deps
	@$(MAKE) --no-print-directory SAN=1 all unit e2e

# --- fuzzing (libFuzzer with clang, ASan + UBSan) ------------------------
#   make fuzz                 every target for FUZZ_SECONDS (default 60) each
#   make fuzz FUZZ_SECONDS=5  a short pass (make check runs one)
# Seeds and saved crashes live in tests/fuzz/corpus/TARGET; copy a crash
# file there and it is replayed on every run.

FUZZ_SECONDS ?= 60
FUZZ_BUILD   := build/fuzz
FUZZ_CFLAGS  := -std=gnu11 -D_GNU_SOURCE -DSECRETFS_VERSION=\"$(VERSION)\" -g -O1 \
                -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
                -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_LIBS    := $(shell pkg-config --libs libsodium sqlite3 jansson yaml-0.1 inih libprotobuf-c 2>/dev/null)
FUZZ_TARGETS := manifest validate envfile config seal mirror pb jsonpath rbac patch
FUZZ_STORE   := $(STORE_SRC:%.c=$(FUZZ_BUILD)/%.o)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/fuzz_manifest: $(FUZZ_BUILD)/tests/fuzz/fuzz_manifest.o $(FUZZ_BUILD)/kube/manifest.o $(FUZZ_STORE)
$(FUZZ_BUILD)/fuzz_validate: $(FUZZ_BUILD)/tests/fuzz/fuzz_validate.o $(FUZZ_BUILD)/kube/select.o $(FUZZ_STORE)
$(FUZZ_BUILD)/fuzz_envfile: $(FUZZ_BUILD)/tests/fuzz/fuzz_envfile.o $(FUZZ_BUILD)/tools/input.o $(FUZZ_STORE)
$(FUZZ_BUILD)/fuzz_config: $(FUZZ_BUILD)/tests/fuzz/fuzz_config.o $(FUZZ_BUILD)/fs/config.o $(FUZZ_BUILD)/conf/conf.o \
	$(FUZZ_BUILD)/conf/match.o $(FUZZ_BUILD)/kube/pod.o $(FUZZ_BUILD)/kube/manifest.o $(FUZZ_STORE)
$(FUZZ_BUILD)/fuzz_jsonpath: $(FUZZ_BUILD)/tests/fuzz/fuzz_jsonpath.o $(FUZZ_BUILD)/kube/jsonpath.o \
	$(FUZZ_BUILD)/kube/select.o $(FUZZ_STORE)
$(FUZZ_BUILD)/fuzz_seal: $(FUZZ_BUILD)/tests/fuzz/fuzz_seal.o $(FUZZ_STORE)
$(FUZZ_BUILD)/fuzz_mirror: $(FUZZ_BUILD)/tests/fuzz/fuzz_mirror.o $(FUZZ_STORE)
$(FUZZ_BUILD)/fuzz_patch: $(FUZZ_BUILD)/tests/fuzz/fuzz_patch.o $(FUZZ_BUILD)/kube/patch.o $(FUZZ_BUILD)/kube/apply.o $(FUZZ_STORE)
$(FUZZ_BUILD)/fuzz_rbac: $(FUZZ_BUILD)/tests/fuzz/fuzz_rbac.o $(FUZZ_BUILD)/kube/rbac.o $(FUZZ_BUILD)/kube/rbac_valid.o $(FUZZ_STORE)
$(FUZZ_BUILD)/fuzz_pb: $(FUZZ_BUILD)/tests/fuzz/fuzz_pb.o $(FUZZ_BUILD)/api/pb.o $(FUZZ_BUILD)/api/k8s.pb-c.o

$(FUZZ_BUILD)/api/k8s.pb-c.o: $(FUZZ_BUILD)/api/k8s.pb-c.c
	clang $(FUZZ_CFLAGS) -I$(FUZZ_BUILD)/api -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/api/pb.o $(FUZZ_BUILD)/tests/fuzz/fuzz_pb.o: $(FUZZ_BUILD)/%.o: %.c $(FUZZ_BUILD)/api/k8s.pb-c.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -I$(FUZZ_BUILD)/api -MMD -MP -c -o $@ $<

$(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%):
	clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(FUZZ_LIBS)

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

fuzz: deps fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/work-$$t $(FUZZ_BUILD)/crashes; \
		echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
		$(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
			-artifact_prefix=$(FUZZ_BUILD)/crashes/$$t- -print_final_stats=0 \
			$(FUZZ_BUILD)/work-$$t tests/fuzz/corpus/$$t 2>$(FUZZ_BUILD)/fuzz_$$t.log || \
			{ tail -40 $(FUZZ_BUILD)/fuzz_$$t.log; echo "fuzz_$$t: crash saved in $(FUZZ_BUILD)/crashes/"; exit 1; }; \
		grep -E "^#[0-9]+.*DONE" $(FUZZ_BUILD)/fuzz_$$t.log | tail -1; \
	done

# --- install ------------------------------------------------------------

# Programs, man pages, bash completion, systemd units, the OCI hook's JSON
# files and the sample configuration, each text file with the paths of this
# install (INSTALL_PATHS: PREFIX for /usr/local, SYSCONFDIR for /etc,
# LOCALSTATEDIR for /var). The configuration itself is put in SYSCONFDIR
# only when none is there, and 'make uninstall' leaves it (and the store)
# alone, as removing a package does.
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
COMPDIR    ?= $(PREFIX)/share/bash-completion/completions
DOCDIR     ?= $(PREFIX)/share/doc/secretfs
INSTALL_PATHS := sed -e 's|/usr/local/|$(PREFIX)/|g' -e 's|/usr/local\b|$(PREFIX)|g' \
	-e 's|/etc/secretfs|$(SYSCONFDIR)/secretfs|g' -e 's|/var/lib/secretfs|$(LOCALSTATEDIR)/lib/secretfs|g' \
	-e 's|/var/log/secretfs|$(LOCALSTATEDIR)/log/secretfs|g'
# install_text SOURCE DEST MODE
install_text = $(INSTALL_PATHS) $(1) >$(2).tmp && chmod $(3) $(2).tmp && mv $(2).tmp $(2)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(COMPDIR) $(DESTDIR)$(SYSCONFDIR)/secretfs \
		$(DESTDIR)$(SYSCONFDIR)/containers
	install -m 0755 $(BIN)/secretctl $(DESTDIR)$(PREFIX)/bin/secretctl
	install -m 0755 $(BIN)/secretfs $(DESTDIR)$(PREFIX)/sbin/secretfs
	install -m 0755 $(BIN)/secretfs-oci-hook $(DESTDIR)$(PREFIX)/sbin/secretfs-oci-hook
	install -m 0755 $(BIN)/secretfs-apiserver $(DESTDIR)$(PREFIX)/sbin/secretfs-apiserver
	$(call install_text,etc/man/secretctl.1,$(DESTDIR)$(MANDIR)/man1/secretctl.1,0644)
	$(call install_text,etc/man/secretfs.ini.5,$(DESTDIR)$(MANDIR)/man5/secretfs.ini.5,0644)
	$(call install_text,etc/man/secretfs.8,$(DESTDIR)$(MANDIR)/man8/secretfs.8,0644)
	$(call install_text,etc/man/secretfs-apiserver.8,$(DESTDIR)$(MANDIR)/man8/secretfs-apiserver.8,0644)
	$(call install_text,etc/secretctl.bash-completion,$(DESTDIR)$(COMPDIR)/secretctl,0644)
	$(call install_text,etc/secretfs.service,$(DESTDIR)$(UNITDIR)/secretfs.service,0644)
	$(call install_text,etc/secretfs@.service,$(DESTDIR)$(UNITDIR)/secretfs@.service,0644)
	$(call install_text,etc/secretfs-apiserver.service,$(DESTDIR)$(UNITDIR)/secretfs-apiserver.service,0644)
	$(call install_text,etc/secretfs.ini,$(DESTDIR)$(DOCDIR)/secretfs.ini.sample,0644)
	$(call install_text,etc/secretfs-oci-hook.json,$(DESTDIR)$(DOCDIR)/secretfs-oci-hook.json,0644)
	$(call install_text,etc/runc-hooks.json,$(DESTDIR)$(DOCDIR)/runc-hooks.json,0644)
	# Podman's shell secret driver through secretctl (not made Podman's
	# default: see the file)
	$(call install_text,etc/containers/secretfs.conf,$(DESTDIR)$(SYSCONFDIR)/containers/secretfs.conf,0644)
	$(call install_text,README.md,$(DESTDIR)$(DOCDIR)/README.md,0644)
	test -e $(DESTDIR)$(SYSCONFDIR)/secretfs/secretfs.ini || { \
		$(call install_text,etc/secretfs.ini,$(DESTDIR)$(SYSCONFDIR)/secretfs/secretfs.ini,0640); }

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/secretctl $(DESTDIR)$(PREFIX)/sbin/secretfs \
		$(DESTDIR)$(PREFIX)/sbin/secretfs-oci-hook $(DESTDIR)$(PREFIX)/sbin/secretfs-apiserver \
		$(DESTDIR)$(MANDIR)/man8/secretfs-apiserver.8 $(DESTDIR)$(UNITDIR)/secretfs-apiserver.service \
		$(DESTDIR)$(MANDIR)/man1/secretctl.1 $(DESTDIR)$(MANDIR)/man5/secretfs.ini.5 \
		$(DESTDIR)$(MANDIR)/man8/secretfs.8 $(DESTDIR)$(COMPDIR)/secretctl \
		$(DESTDIR)$(UNITDIR)/secretfs.service $(DESTDIR)$(UNITDIR)/secretfs@.service \
		$(DESTDIR)$(SYSCONFDIR)/containers/secretfs.conf
	rm -rf $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build bin

.PHONY: all deps deps-run run unit e2e e2e-threads check check-asan bench fuzz fuzz-build build-tests build-tools install uninstall clean FORCE

-include $(shell find build -name '*.d' 2>/dev/null)
