# secretfs - one Makefile for the library, the driver, the CLI and the tests.
#
#   make            build bin/secretfs and bin/secretctl
#   make run        install what is missing, build, mount a demo store (foreground)
#   make check      install what is missing, build, run every test (twice:
#                   release, then an ASan+UBSan build)
#   make check-asan only the ASan+UBSan run
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean

PREFIX  ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
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

PKGS    := fuse3 libsodium sqlite3 inih yaml-0.1 jansson libcrypto libcurl
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation -Wvla
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE -DSECRETFS_VERSION=\"$(VERSION)\" $(CFLAGS) $(WARN) $(SANFLAGS) -fstack-protector-strong \
           -fPIE -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS_ALL := $(SANFLAGS) -pie -Wl,-z,relro,-z,now $(LDFLAGS)

STORE_LIBS := $(shell pkg-config --libs libsodium sqlite3 jansson 2>/dev/null)
FS_LIBS    := $(shell pkg-config --libs fuse3 inih jansson 2>/dev/null) -lpthread
CTL_LIBS   := $(shell pkg-config --libs inih yaml-0.1 jansson libcrypto 2>/dev/null)
TEST_LIBS  := $(shell pkg-config --libs cmocka 2>/dev/null)

STORE_SRC := store/writer.c store/rows.c store/db.c store/cluster/cluster.c store/cluster/record.c store/cluster/apply.c store/cluster/write.c store/cluster/keyring.c store/cluster/etcd.c store/seal.c store/secbuf.c store/secret.c store/validate.c store/types.c store/events.c store/keys.c store/meta.c
# what more than one program reads: the shared .ini sections, passphrases,
# cgroup patterns, private folders (conf/)
CONF_SRC  := conf/conf.c conf/match.c conf/passphrase.c conf/privdir.c
FS_SRC    := fs/config.c fs/main.c fs/ops.c fs/node.c fs/log.c fs/view.c fs/caller.c fs/audit.c fs/watch.c fs/status.c fs/follow.c fs/value.c fs/reader.c
CTL_SRC   := $(wildcard tools/ctl/*.c) tools/output.c tools/input.c tools/manifest.c tools/kinds.c tools/select.c \
             tools/scratch.c

STORE_OBJ := $(STORE_SRC:%.c=$(BUILD)/%.o)
CONF_OBJ  := $(CONF_SRC:%.c=$(BUILD)/%.o)
FS_OBJ    := $(FS_SRC:%.c=$(BUILD)/%.o)
CTL_OBJ   := $(CTL_SRC:%.c=$(BUILD)/%.o)

UNIT_TESTS := test_validate test_store test_config test_seal
UNIT_BINS  := $(UNIT_TESTS:%=$(BUILD)/tests/%)

all: $(BIN)/secretfs $(BIN)/secretctl $(BIN)/secretfs-oci-hook

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libstore.a: $(STORE_OBJ)
	@rm -f $@ # a fresh archive: no member of a source moved or removed since
	ar rcs $@ $^

$(BIN)/secretfs: $(FS_OBJ) $(CONF_OBJ) $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(FS_LIBS) $(STORE_LIBS)

$(BIN)/secretctl: $(CTL_OBJ) $(CONF_OBJ) $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CTL_LIBS) $(STORE_LIBS)

$(BIN)/secretfs-oci-hook: $(BUILD)/tools/oci-hook.o $(BUILD)/fs/caller.o $(BUILD)/fs/config.o $(CONF_OBJ) $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(shell pkg-config --libs inih 2>/dev/null) $(STORE_LIBS) -lpthread

# helpers the end-to-end tests and benchmarks run
$(BIN)/test/stamp: $(BUILD)/tests/tools/stamp.o $(CONF_OBJ) $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(shell pkg-config --libs inih 2>/dev/null) $(STORE_LIBS)

$(BIN)/test/populate: $(BUILD)/tests/tools/populate.o $(CONF_OBJ) $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(shell pkg-config --libs inih 2>/dev/null) $(STORE_LIBS)

$(BIN)/test/latency: $(BUILD)/tests/bench/latency.o $(CONF_OBJ) $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(shell pkg-config --libs inih 2>/dev/null) $(STORE_LIBS)

$(BIN)/test/readloop: $(BUILD)/tests/bench/readloop.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lpthread

# readloop again, static, to run inside the tests' busybox containers
$(BIN)/test/readloop-static: tests/bench/readloop.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -static -pthread -o $@ $<

# the load test's readers, never sanitized: a thousand of them load the
# daemon under test, not themselves
$(BIN)/test/loadread: tests/tools/loadread.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -O2 $(WARN) -pthread -o $@ $<

TEST_TOOLS := $(BIN)/test/stamp $(BIN)/test/readloop $(BIN)/test/readloop-static \
	      $(BIN)/test/populate $(BIN)/test/latency $(BIN)/test/loadread

$(BUILD)/tests/test_validate: $(BUILD)/tests/unit/test_validate.o $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(TEST_LIBS) $(STORE_LIBS)

$(BUILD)/tests/test_seal: $(BUILD)/tests/unit/test_seal.o $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(TEST_LIBS) $(STORE_LIBS)

$(BUILD)/tests/test_store: $(BUILD)/tests/unit/test_store.o $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(TEST_LIBS) $(STORE_LIBS)

$(BUILD)/tests/test_config: $(BUILD)/tests/unit/test_config.o $(BUILD)/fs/config.o $(CONF_OBJ) $(BUILD)/libstore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(TEST_LIBS) $(shell pkg-config --libs inih 2>/dev/null) $(STORE_LIBS)

# --- set-up, demo and tests --------------------------------------------

deps:
	@tools/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@tools/demo.sh

unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || fail=1; done; exit $$fail

e2e: all $(TEST_TOOLS)
	@BIN=$(abspath $(BIN)) tests/e2e/run.sh

# the suites that exercise the daemon's threads (run with SAN=thread)
e2e-threads: all $(TEST_TOOLS)
	@BIN=$(abspath $(BIN)) tests/e2e/run.sh test_updates: test_views: test_mount: test_cluster:

# every test twice: the release build, then an ASan+UBSan build; the suites
# that drive the daemon's threads (watcher, cluster follower, FUSE loops,
# signals) once more under ThreadSanitizer; then a short fuzzing pass
check: deps
	@$(MAKE) --no-print-directory all unit
	@$(MAKE) --no-print-directory e2e
	@echo "== the same tests under AddressSanitizer and UndefinedBehaviorSanitizer"
	@$(MAKE) --no-print-directory SAN=1 all unit e2e
	@echo "== the daemon's suites under ThreadSanitizer"
	@$(MAKE) --no-print-directory SAN=thread e2e-threads
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=4

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
FUZZ_LIBS    := $(shell pkg-config --libs libsodium sqlite3 jansson yaml-0.1 inih 2>/dev/null)
FUZZ_TARGETS := manifest validate envfile config seal mirror
FUZZ_STORE   := $(STORE_SRC:%.c=$(FUZZ_BUILD)/%.o)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/fuzz_manifest: $(FUZZ_BUILD)/tests/fuzz/fuzz_manifest.o $(FUZZ_BUILD)/tools/manifest.o $(FUZZ_STORE)
$(FUZZ_BUILD)/fuzz_validate: $(FUZZ_BUILD)/tests/fuzz/fuzz_validate.o $(FUZZ_BUILD)/tools/select.o $(FUZZ_STORE)
$(FUZZ_BUILD)/fuzz_envfile: $(FUZZ_BUILD)/tests/fuzz/fuzz_envfile.o $(FUZZ_BUILD)/tools/input.o $(FUZZ_STORE)
$(FUZZ_BUILD)/fuzz_config: $(FUZZ_BUILD)/tests/fuzz/fuzz_config.o $(FUZZ_BUILD)/fs/config.o $(FUZZ_BUILD)/conf/conf.o \
	$(FUZZ_BUILD)/conf/match.o $(FUZZ_STORE)
$(FUZZ_BUILD)/fuzz_seal: $(FUZZ_BUILD)/tests/fuzz/fuzz_seal.o $(FUZZ_STORE)
$(FUZZ_BUILD)/fuzz_mirror: $(FUZZ_BUILD)/tests/fuzz/fuzz_mirror.o $(FUZZ_STORE)

$(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%):
	clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(FUZZ_LIBS)

fuzz: deps $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
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

# Programs, man pages, bash completion, systemd units (ExecStart pointed at
# PREFIX) and the sample configuration. The configuration itself is put in
# SYSCONFDIR only when none is there, and 'make uninstall' leaves it (and
# the store) alone, as removing a package does.
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
COMPDIR    ?= $(PREFIX)/share/bash-completion/completions
DOCDIR     ?= $(PREFIX)/share/doc/secretfs

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(COMPDIR) $(DESTDIR)$(SYSCONFDIR)/secretfs
	install -m 0755 $(BIN)/secretctl $(DESTDIR)$(PREFIX)/bin/secretctl
	install -m 0755 $(BIN)/secretfs $(DESTDIR)$(PREFIX)/sbin/secretfs
	install -m 0755 $(BIN)/secretfs-oci-hook $(DESTDIR)$(PREFIX)/sbin/secretfs-oci-hook
	install -m 0644 etc/man/secretctl.1 $(DESTDIR)$(MANDIR)/man1/secretctl.1
	install -m 0644 etc/man/secretfs.ini.5 $(DESTDIR)$(MANDIR)/man5/secretfs.ini.5
	install -m 0644 etc/man/secretfs.8 $(DESTDIR)$(MANDIR)/man8/secretfs.8
	install -m 0644 etc/secretctl.bash-completion $(DESTDIR)$(COMPDIR)/secretctl
	for u in secretfs.service secretfs@.service; do \
		sed 's|/usr/local/sbin/|$(PREFIX)/sbin/|; s|/etc/secretfs/|$(SYSCONFDIR)/secretfs/|' \
			etc/$$u > $(DESTDIR)$(UNITDIR)/$$u && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -m 0644 etc/secretfs.ini $(DESTDIR)$(DOCDIR)/secretfs.ini.sample
	install -m 0644 etc/secretfs-oci-hook.json etc/runc-hooks.json $(DESTDIR)$(DOCDIR)/
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	test -e $(DESTDIR)$(SYSCONFDIR)/secretfs/secretfs.ini || \
		install -m 0640 etc/secretfs.ini $(DESTDIR)$(SYSCONFDIR)/secretfs/secretfs.ini

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/secretctl $(DESTDIR)$(PREFIX)/sbin/secretfs \
		$(DESTDIR)$(PREFIX)/sbin/secretfs-oci-hook \
		$(DESTDIR)$(MANDIR)/man1/secretctl.1 $(DESTDIR)$(MANDIR)/man5/secretfs.ini.5 \
		$(DESTDIR)$(MANDIR)/man8/secretfs.8 $(DESTDIR)$(COMPDIR)/secretctl \
		$(DESTDIR)$(UNITDIR)/secretfs.service $(DESTDIR)$(UNITDIR)/secretfs@.service
	rm -rf $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build bin

.PHONY: all deps run unit e2e e2e-threads check check-asan bench fuzz install uninstall clean

-include $(shell find build -name '*.d' 2>/dev/null)
