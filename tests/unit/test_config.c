/*
 * test_config.c - the .ini reader: defaults, relative paths, and errors that
 * name the file and line for unknown sections, unknown keys and bad values.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "conf/conf.h"
#include "conf/pki.h"
#include "fs/config.h"
#include "kube/kube.h"

static char dir[64];

static const char *write_ini(const char *text, mode_t mode)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/t.ini", dir);
	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

/* the file holding len bytes of text, NUL bytes included */
static const char *write_ini_n(const char *text, size_t len)
{
	const char *path = write_ini("", 0644);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	return path;
}

/* config_load's result is want, or the test fails with its message */
static void load_ok_(int got, int want, const char *err, int line)
{
	if (got != want)
		fail_msg("line %d: config_load gave %d: %s", line, got, err);
}
#define assert_load(got, want, err) load_ok_((got), (want), (err), __LINE__)

static void expect_error_in(const char *path, const char *want)
{
	struct config c;
	char err[CONF_ERR_MAX];

	assert_int_equal(config_load(&c, path, err), -EINVAL);
	if (!strstr(err, want))
		fail_msg("error '%s' lacks '%s'", err, want);
	assert_null(c.conf.store_path); /* nothing half-loaded */
}

static void expect_error(const char *text, const char *want)
{
	struct config c;
	char err[CONF_ERR_MAX];

	assert_int_equal(config_load(&c, write_ini(text, 0644), err), -EINVAL);
	if (!strstr(err, want))
		fail_msg("error '%s' lacks '%s'", err, want);
	assert_null(c.conf.store_path); /* nothing half-loaded */
}

static void test_defaults_and_paths(void **state)
{
	struct config c;
	char err[CONF_ERR_MAX], want[160];

	(void)state;
	assert_int_equal(config_load(&c, write_ini("; comment\n[store]\npath = s/store.db\n"
						   "key_file = /abs/master.key\n"
						   "[mount]\nuid = 1000\ngid = root\nmode = 0440\n"
						   "[log]\nlevel = debug\n", 0644), err), 0);
	snprintf(want, sizeof(want), "%s/s/store.db", dir);
	assert_string_equal(c.conf.store_path, want);
	assert_string_equal(c.conf.key_file, "/abs/master.key");
	assert_int_equal(c.uid, 1000);
	assert_int_equal(c.gid, 0);
	assert_int_equal(c.mode, 0440);
	assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
	config_release(&c);

	assert_int_equal(config_load(&c, write_ini("", 0644), err), 0);
	assert_string_equal(c.conf.store_path, CONF_DEFAULT_STORE);
	assert_int_equal(c.mode, 0400);
	config_release(&c);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("[store]\npath = x\n[bogus]\n", "t.ini:3: unknown section [bogus]");
	expect_error("[store]\ncolour = red\n", "t.ini:2: unknown key 'colour' in section [store]");
	expect_error("[mount]\nmode = 0999\n", "t.ini:2: [mount] mode: '0999'");
	expect_error("[mount]\nmode = 01777\n", "[mount] mode");
	expect_error("[mount]\nuid = no-such-user-here\n", "t.ini:2: [mount] uid");
	expect_error("[log]\nlevel = loud\n", "t.ini:2: [log] level");
	expect_error("path = x\n", "t.ini:1: 'path' is outside any section");
	expect_error("[store]\npath\n", "t.ini:2: syntax error");
}

/*
 * conf_load without the daemon's sections (secretctl, the test tools): the
 * shared sections are read with the same rules, the daemon's are skipped
 * unread (a value secretfs would refuse there is not secretctl's concern),
 * any other section is still refused, and the file's checks still hold.
 */
static void test_shared_only(void **state)
{
	struct conf c;
	struct config d;
	char err[CONF_ERR_MAX], want[160];
	const char *path;

	(void)state;
	path = write_ini("[mount]\nmode = 0999\n[view v]\nbogus = 1\n[view]\n"
			 "[store]\npath = s.db\nkey_file = /k\n[limits]\nmax_secrets_per_namespace = 7\n"
			 "[audit]\nmax_files = 0\n[updates]\n[log]\nlevel = loud\n"
			 "[cluster]\nendpoints = http://e:2379\n",
			 0644);
	assert_load(conf_load(&c, path, NULL, err), 0, err);
	snprintf(want, sizeof(want), "%s/s.db", dir);
	assert_string_equal(c.store_path, want);
	assert_string_equal(c.key_file, "/k");
	assert_int_equal(c.max_secrets_per_namespace, 7);
	assert_string_equal(c.cluster.endpoints, "http://e:2379");
	assert_non_null(c.path);
	conf_release(&c);
	conf_release(NULL);

	path = write_ini("[mount]\n[bogus]\n", 0644);
	assert_int_equal(conf_load(&c, path, NULL, err), -EINVAL);
	assert_non_null(strstr(err, "t.ini:2: unknown section [bogus]"));
	assert_null(c.store_path); /* nothing half-loaded */
	path = write_ini("[store]\ncolour = red\n", 0644);
	assert_int_equal(conf_load(&c, path, NULL, err), -EINVAL);
	assert_non_null(strstr(err, "t.ini:2: unknown key 'colour' in section [store]"));
	path = write_ini("[cluster]\nprefix = /p/\n", 0644);
	assert_int_equal(conf_load(&c, path, NULL, err), -EINVAL);
	assert_non_null(strstr(err, "[cluster] needs endpoints"));
	path = write_ini("[store]\npath = /x\n", 0666);
	assert_int_equal(conf_load(&c, path, NULL, err), -EPERM);
	assert_non_null(strstr(err, "writable by group or others"));

	/* the daemon's loader puts the same shared values in its conf */
	path = write_ini("[store]\npath = /s.db\n[limits]\nmax_secrets_per_namespace = 3\n"
			 "[mount]\nmode = 0440\n",
			 0644);
	assert_load(config_load(&d, path, err), 0, err);
	assert_string_equal(d.conf.store_path, "/s.db");
	assert_int_equal(d.conf.max_secrets_per_namespace, 3);
	assert_int_equal(d.mode, 0440);
	config_release(&d);
}

/* Errors of the reader itself: each blames the line that has it. */
static void test_reader_errors(void **state)
{
	static const char nul[] = "[store]\npath = /a\0/b\n";
	char long_line[300];

	(void)state;
	/* not the next line's key: the header that lacks its ']' */
	expect_error("[store\n", "t.ini:1: section header '[store' lacks its closing ']'");
	expect_error("[log]\nlevel = info\n[view v ; a comment\nsecret = a/b\n",
		     "t.ini:3: section header '[view v' lacks its closing ']'");
	/* a NUL would end the value early, silently */
	expect_error_in(write_ini_n(nul, sizeof(nul) - 1), "t.ini:2: a NUL byte in the line");
	/* a line past inih's buffer would be read as two */
	snprintf(long_line, sizeof(long_line), "[store]\npath = /%0250d\n[bogus]\n", 0);
	expect_error(long_line, "t.ini:2: the line is longer than 199 characters");
}

/*
 * match = cgroup:/PATH: components match components, the shallowest match
 * of a cgroup and its ancestors decides, and two views' patterns may not
 * select one cgroup or one below the other.
 */
static void test_cgroup_matching(void **state)
{
	struct config c;
	char err[CONF_ERR_MAX];
	const struct view *v;
	static const struct {
		const char *cgroup, *view;
	} cases[] = {
		{ "/machine.slice/machine-signer.slice", "signer" },
		{ "/machine.slice/machine-signer.slice/libpod-1.scope", "signer" },
		{ "/machine.slice/machine-signer.slice/libpod-1.scope/container/x", "signer" },
		/* created below the frontend's cgroup: still the frontend's */
		{ "/machine.slice/machine-frontend.slice/libpod-2.scope/signer", "frontend" },
		{ "/machine.slice/machine-frontend.slice/machine-signer.slice", "frontend" },
		{ "/machine.slice/machine-frontend.slice/libpod-2.scope/x-signer-y", "frontend" },
		/* '*' never crosses '/' */
		{ "/secretfs-test/billing-1", "billing" },
		{ "/secretfs-test/billing-1/sub", "billing" },
		{ "/secretfs-test/x/billing-1", NULL },
		{ "/machine.slice/machine-signer.slice2", NULL },
		{ "/machine.slice", NULL },
		{ "/", NULL },
		{ "/user.slice/user-1000.slice/signer", NULL },
		/* sets, escapes and '?' */
		{ "/t/a1", "sets" },
		{ "/t/b9", "sets" },
		{ "/t/c1", NULL },
		{ "/t/a", NULL },
		{ "/t/*x", "sets" },
		{ "/t/yx", NULL },
	};

	(void)state;
	assert_load(config_load(&c, write_ini(
		"[view signer]\nmatch = cgroup:/machine.slice/machine-signer.slice\n"
		"[view frontend]\nmatch = cgroup:/machine.slice/machine-frontend.slice\n"
		"[view billing]\nmatch = cgroup:/secretfs-test/billing-*\n"
		"match = cgroup:/secretfs-test/billing-1/sub\n" /* one view may nest */
		"[view sets]\nmatch = cgroup:/t/[ab][!a-z]\nmatch = cgroup:/t/\\*x\n", 0644),
		err), 0, err);
	v = config_view(&c, "billing");
	assert_int_equal(v->nmatches, 2);
	assert_string_equal(v->matches[0].text, "/secretfs-test/billing-*");
	assert_int_equal(v->matches[0].ncomp, 2);
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		v = config_view_for_cgroup(&c, cases[i].cgroup);
		if (!cases[i].view != !v || (v && strcmp(v->name, cases[i].view)))
			fail_msg("%s: got view %s, want %s", cases[i].cgroup, v ? v->name : "none",
				 cases[i].view ? cases[i].view : "none");
	}
	config_release(&c);

	/* patterns of two views that can select one cgroup, or nest */
	expect_error("[view a]\nmatch = cgroup:/m/*signer*\n[view b]\nmatch = cgroup:/m/*frontend*\n",
		     "t.ini:4: [view b] match = cgroup:/m/*frontend* and [view a]'s cgroup:/m/*signer* (line 2) can select the same cgroup");
	expect_error("[view a]\nmatch = cgroup:/m/a.slice\n[view b]\nmatch = cgroup:/m/*.slice/b\n",
		     "can select a cgroup and one below it");
	expect_error("[view a]\nmatch = cgroup:/m/x?\n[view b]\nmatch = cgroup:/m/[!a]y\n",
		     "can select the same cgroup");
	expect_error("[view a]\nmatch = cgroup:/*\n[view b]\nmatch = cgroup:/m/b\n",
		     "can select a cgroup and one below it");
	/* and some that cannot meet */
	assert_load(config_load(&c, write_ini(
		"[view a]\nmatch = cgroup:/m/x?\n[view b]\nmatch = cgroup:/m/[xyz]\n"
		"[view c]\nmatch = cgroup:/m/[a-c]*z\n[view d]\nmatch = cgroup:/m/d*\n"
		"[view e]\nmatch = cgroup:/n/*\n", 0644), err), 0, err);
	config_release(&c);

	/* patterns that cannot mean what they say */
	expect_error("[view a]\nmatch = cgroup:/[\n", "t.ini:2: [view a] match = cgroup:/[: '[' without its closing ']'");
	expect_error("[view a]\nmatch = cgroup:/a[b/c]\n", "'[' without its closing ']'");
	expect_error("[view a]\nmatch = cgroup:/a//b\n", "an empty component");
	expect_error("[view a]\nmatch = cgroup:/a/\n", "an empty component");
	/* "/" alone: every cgroup, so no other view may have a match */
	assert_load(config_load(&c, write_ini("[view a]\nmatch = cgroup:/\n[view b]\n", 0644), err), 0, err);
	assert_string_equal(config_view_for_cgroup(&c, "/")->name, "a");
	assert_string_equal(config_view_for_cgroup(&c, "/x/y")->name, "a");
	config_release(&c);
	expect_error("[view a]\nmatch = cgroup:/\n[view b]\nmatch = cgroup:/x/y\n",
		     "can select a cgroup and one below it");
	expect_error("[view a]\nmatch = cgroup:/a/[z-a]\n", "the range 'z-a' is empty");
	expect_error("[view a]\nmatch = cgroup:/[[:alpha:]]\n", "classes such as [:alpha:]");
	expect_error("[view a]\nmatch = cgroup:/a\\\n", "a '\\' that escapes nothing");
	expect_error("[view a]\nmatch = pid:1\n", "t.ini:2: [view a] match: expected cgroup:/PATH");
}

static void test_cluster(void **state)
{
	struct config c;
	char err[CONF_ERR_MAX], want[160];

	(void)state;
	assert_int_equal(config_load(&c, write_ini("[cluster]\n"
						   "endpoints = https://e1:2379, https://e2:2379\n"
						   "prefix = /prod/secrets/\ncacert = pki/ca.pem\n"
						   "cert = /etc/c.pem\nkey = /etc/c.key\n"
						   "username = node\npassword_file = pw\ntimeout = 2.5\n",
						   0644), err), 0);
	assert_string_equal(c.conf.cluster.endpoints, "https://e1:2379, https://e2:2379");
	assert_string_equal(c.conf.cluster.prefix, "/prod/secrets/");
	snprintf(want, sizeof(want), "%s/pki/ca.pem", dir);
	assert_string_equal(c.conf.cluster.cacert, want); /* relative to the file */
	assert_string_equal(c.conf.cluster.key, "/etc/c.key");
	assert_string_equal(c.conf.cluster.username, "node");
	assert_int_equal(c.conf.cluster.timeout_ms, 2500);
	config_release(&c);
	assert_int_equal(config_load(&c, write_ini("[store]\n", 0644), err), 0);
	assert_null(c.conf.cluster.endpoints); /* no [cluster]: the store alone */
	config_release(&c);
	expect_error("[cluster]\nprefix = /p/\n", "[cluster] needs endpoints");
	expect_error("[cluster]\nendpoints = http://e\nprefix = p\n", "t.ini:3: [cluster] prefix: 'p' must begin and end with '/'");
	expect_error("[cluster]\nendpoints = http://e\ncert = /c\n", "cert and key go together");
	expect_error("[cluster]\nendpoints = http://e\nusername = u\n", "username and password_file go together");
	expect_error("[cluster]\nendpoints = http://e\ntimeout = 0\n", "t.ini:3: [cluster] timeout");
	expect_error("[cluster]\nendpoint = http://e\n", "unknown key 'endpoint' in section [cluster]");
}

/* [api]: shared, so that secretctl reads listen as the server does */
static void test_api(void **state)
{
	struct config c;
	struct pki_paths p;
	char err[CONF_ERR_MAX], want[160];

	(void)state;
	assert_int_equal(config_load(&c, write_ini("[store]\n", 0644), err), 0);
	assert_string_equal(c.conf.api.listen, CONF_DEFAULT_LISTEN);
	assert_null(c.conf.api.tls_cert);
	config_release(&c);
	assert_int_equal(config_load(&c, write_ini("[store]\nkey_file = /etc/sfs/master.key\n"
						   "[api]\nlisten = [::]:8443\ntls_cert = s.crt\n"
						   "tls_key = /k/s.key\nclient_ca = ca.pem\n"
						   "token_file = tokens.csv\naudit_path = /var/log/a.log\n",
						   0644), err), 0);
	assert_string_equal(c.conf.api.listen, "[::]:8443");
	snprintf(want, sizeof(want), "%s/s.crt", dir);
	assert_string_equal(c.conf.api.tls_cert, want); /* relative to the file */
	assert_string_equal(c.conf.api.tls_key, "/k/s.key");
	assert_string_equal(c.conf.api.audit_path, "/var/log/a.log");
	/* pki/ beside the key file, whatever [api] says */
	assert_int_equal(pki_paths(&c.conf, &p, err, sizeof(err)), 0);
	assert_string_equal(p.dir, "/etc/sfs/pki");
	assert_string_equal(p.ca_crt, "/etc/sfs/pki/ca.crt");
	assert_string_equal(p.ca_key, "/etc/sfs/pki/ca.key");
	assert_string_equal(p.server_crt, "/etc/sfs/pki/server.crt");
	assert_string_equal(p.server_key, "/etc/sfs/pki/server.key");
	config_release(&c);
	assert_int_equal(config_load(&c, write_ini("[store]\nkey_file = /master.key\n", 0644), err), 0);
	assert_int_equal(pki_paths(&c.conf, &p, err, sizeof(err)), 0);
	assert_string_equal(p.ca_key, "/pki/ca.key");
	config_release(&c);
	assert_int_equal(config_load(&c, write_ini("[api]\nlisten = 10.0.0.1:443\n", 0644), err), 0);
	config_release(&c);
	assert_int_equal(config_load(&c, write_ini("[api]\nlisten = node-1.example:6443\n", 0644), err), 0);
	config_release(&c);
	expect_error("[api]\nlisten = 6443\n", "t.ini:2: [api] listen: '6443' is not ADDRESS:PORT");
	expect_error("[api]\nlisten = :6443\n", "[api] listen: ':6443'");
	expect_error("[api]\nlisten = ::1:6443\n", "[api] listen: '::1:6443'");
	expect_error("[api]\nlisten = 127.0.0.1:0\n", "[api] listen");
	expect_error("[api]\nlisten = 127.0.0.1:65536\n", "[api] listen");
	expect_error("[api]\nlisten = [::1]6443\n", "[api] listen");
	expect_error("[api]\nlisten = h:64x\n", "[api] listen");
	expect_error("[api]\ntls_cert = /c\n", "[api] tls_cert and tls_key go together");
	expect_error("[api]\nport = 1\n", "unknown key 'port' in section [api]");
}

/* pki_check_key_file and pki_check_dir: the server's checks too */
static void test_pki_checks(void **state)
{
	char err[256], key[128], link[128];
	int fd;

	(void)state;
	snprintf(key, sizeof(key), "%s/k.key", dir);
	snprintf(link, sizeof(link), "%s/l.key", dir);
	unlink(key);
	unlink(link);
	assert_int_equal(pki_check_key_file(key, err, sizeof(err)), -ENOENT);
	fd = open(key, O_WRONLY | O_CREAT, 0400);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(pki_check_key_file(key, err, sizeof(err)), 0);
	assert_int_equal(chmod(key, 0000), 0);
	assert_int_equal(pki_check_key_file(key, err, sizeof(err)), 0);
	static const mode_t loose[] = { 0600, 0440, 0404, 0500, 04400, 0444 };
	for (size_t i = 0; i < sizeof(loose) / sizeof(*loose); i++) {
		assert_int_equal(chmod(key, loose[i]), 0);
		assert_int_equal(pki_check_key_file(key, err, sizeof(err)), -EPERM);
		assert_non_null(strstr(err, "looser than 0400"));
	}
	assert_int_equal(chmod(key, 0400), 0);
	assert_int_equal(symlink(key, link), 0);
	assert_int_equal(pki_check_key_file(link, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is a symbolic link"));
	assert_int_equal(pki_check_key_file(dir, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(pki_check_dir(dir, err, sizeof(err)), 0);
	assert_int_equal(chmod(dir, 0710), 0);
	assert_int_equal(pki_check_dir(dir, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "open to group or others"));
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(pki_check_dir(key, err, sizeof(err)), -ENOTDIR);
	unlink(link);
	unlink(key);
}

static void test_audit(void **state)
{
	struct config c;
	char err[CONF_ERR_MAX];

	(void)state;
	assert_int_equal(config_load(&c, write_ini("", 0644), err), 0);
	assert_true(c.audit_max_size == 100ULL << 20);
	assert_int_equal(c.audit_max_files, 5);
	config_release(&c);
	assert_int_equal(config_load(&c, write_ini("[audit]\nmax_size = 3G\nmax_files = 100\n"
						   "[view v]\nsecret = a/b\naudit_failure = closed\n"
						   "[view w]\nsecret = a/c\naudit_failure = open\n",
						   0644), err), 0);
	assert_true(c.audit_max_size == 3ULL << 30);
	assert_int_equal(c.audit_max_files, 100);
	assert_true(c.views[0].audit_fail_closed);
	assert_false(c.views[1].audit_fail_closed);
	config_release(&c);
	assert_int_equal(config_load(&c, write_ini("[audit]\nmax_size = 0\n[view v]\nsecret = a/b\n",
						   0644), err), 0);
	assert_true(c.audit_max_size == 0); /* never rotated */
	assert_false(c.views[0].audit_fail_closed); /* fail-open by default */
	config_release(&c);
	assert_int_equal(config_load(&c, write_ini("[audit]\nmax_size = 1T\n", 0644), err), 0);
	config_release(&c);
	expect_error("[audit]\nmax_size = 2T\n", "t.ini:2: [audit] max_size: '2T'");
	expect_error("[audit]\nmax_size = 100\n", "[audit] max_size: '100'");
	expect_error("[audit]\nmax_size = 10MB\n", "[audit] max_size");
	expect_error("[audit]\nmax_size = -1K\n", "[audit] max_size");
	expect_error("[audit]\nmax_size = 99999999999999999999K\n", "[audit] max_size");
	expect_error("[audit]\nmax_files = 0\n", "t.ini:2: [audit] max_files: '0'");
	expect_error("[audit]\nrotate = daily\n", "unknown key 'rotate' in section [audit]");
	expect_error("[view v]\nsecret = a/b\naudit_failure = maybe\n",
		     "t.ini:3: [view v] audit_failure: 'maybe' is not open or closed");
}

static void test_file_checks(void **state)
{
	struct config c;
	char err[CONF_ERR_MAX], missing[128];

	(void)state;
	assert_int_equal(config_load(&c, write_ini("[store]\n", 0666), err), -EPERM);
	assert_non_null(strstr(err, "writable by group or others"));
	snprintf(missing, sizeof(missing), "%s/missing.ini", dir);
	assert_int_equal(config_load(&c, missing, err), -ENOENT);
	assert_non_null(strstr(err, "missing.ini"));
}

/* views.d/NAME.ini beside the file: after it, in byte order, [view NAME]
 * sections only, each file under the main file's checks */
static void write_dropin(const char *name, const char *text, size_t len, mode_t mode)
{
	char path[192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/views.d/%s", dir, name);
	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void remove_dropins(void)
{
	static const char *const names[] = { "10-b.ini", "9-a.ini", "bad.ini", "notes.txt" };
	char path[192];

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		snprintf(path, sizeof(path), "%s/views.d/%s", dir, names[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/views.d", dir);
	rmdir(path);
}

static void test_dropins(void **state)
{
	struct config c, c2;
	char err[CONF_ERR_MAX], vd[128];
	const char *main_ini = "[view main]\nsecret = shop/a\n";

	(void)state;
	snprintf(vd, sizeof(vd), "%s/views.d", dir);
	assert_int_equal(mkdir(vd, 0755), 0);
	write_dropin("9-a.ini", "[view a]\nsecret = shop/a\n", 25, 0644);
	write_dropin("10-b.ini", "[view b]\nsecret = shop/b\n", 25, 0644);
	write_dropin("notes.txt", "not ini", 7, 0666); /* not *.ini: not read */
	assert_load(config_load(&c, write_ini(main_ini, 0644), err), 0, err);
	assert_int_equal(c.nviews, 3);
	assert_string_equal(c.views[0].name, "main");
	assert_string_equal(c.views[1].name, "b"); /* "10-b" < "9-a" bytewise */
	assert_string_equal(c.views[2].name, "a");
	/* the same views compare equal; another mode does not */
	assert_load(config_load(&c2, write_ini("\n\n[view main]\nsecret = shop/a\n", 0644), err), 0, err);
	assert_true(config_view_equal(config_view(&c, "main"), config_view(&c2, "main")));
	assert_true(config_view_equal(config_view(&c, "a"), config_view(&c2, "a")));
	config_release(&c2);
	assert_load(config_load(&c2, write_ini("[view main]\nsecret = shop/a\nmode = 0440\n", 0644), err), 0, err);
	assert_false(config_view_equal(config_view(&c, "main"), config_view(&c2, "main")));
	config_release(&c2);
	config_release(&c);
	/* the main file's rules, naming the drop-in */
	write_dropin("bad.ini", "[store]\npath = x\n", 17, 0644);
	expect_error_in(write_ini(main_ini, 0644), "bad.ini:1: [store] in views.d");
	write_dropin("bad.ini", "[view c]\nsecret = shop/\0c\n", 26, 0644);
	expect_error_in(write_ini(main_ini, 0644), "bad.ini:2: a NUL byte");
	write_dropin("bad.ini", "[view c]\nsecret = shop/c\n", 25, 0666);
	assert_int_equal(config_load(&c, write_ini(main_ini, 0644), err), -EPERM);
	assert_non_null(strstr(err, "bad.ini' is writable by group or others"));
	write_dropin("bad.ini", "[view a]\nsecret = shop/c\n", 25, 0644);
	assert_int_not_equal(config_load(&c, write_ini(main_ini, 0644), err), 0);
	assert_non_null(strstr(err, "bad.ini:1:")); /* view a twice */
	unlink(strcat(strcpy(err, vd), "/bad.ini"));
	assert_int_equal(chmod(vd, 0777), 0);
	assert_int_equal(config_load(&c, write_ini(main_ini, 0644), err), -EPERM);
	assert_non_null(strstr(err, "views.d' is not a folder owned by root"));
	remove_dropins();
}

static void test_views(void **state)
{
	struct config c;
	char err[CONF_ERR_MAX];
	const struct view *v;

	(void)state;
	assert_int_equal(config_load(&c, write_ini(
		"[mount]\nuid = 7\n"
		"[view signer]\nsecret = shop/hmac\nuid = 1000\nmode = 0440\n"
		"match = cgroup:/machine.slice/*signer*\naudit = on\n"
		"[view frontend]\nsecret = shop/*\noptional = shop/flags\n"
		"item = shop/tls/tls.crt as cert.pem mode 0444\nitem = shop/tls/ca.crt\n"
		"[view empty]\n", 0644), err), 0);
	assert_int_equal(c.nviews, 3);
	v = config_view(&c, "signer");
	assert_non_null(v);
	assert_int_equal(v->uid, 1000);
	assert_int_equal(v->gid, c.gid); /* unset: [mount]'s */
	assert_int_equal(v->mode, 0440);
	assert_true(v->audit);
	assert_int_equal(v->nmatches, 1);
	assert_string_equal(v->matches[0].text, "/machine.slice/*signer*");
	assert_int_equal(v->ngrants, 1);
	assert_false(v->grants[0].optional);
	v = config_view(&c, "frontend");
	assert_int_equal(v->uid, 7);
	assert_int_equal(v->mode, 0400);
	assert_int_equal(v->ngrants, 3);
	assert_null(v->grants[0].name); /* shop/ * */
	assert_true(v->grants[1].optional);
	assert_string_equal(v->grants[2].name, "tls");
	assert_int_equal(v->grants[2].nitems, 2);
	assert_string_equal(v->grants[2].items[0].file, "cert.pem");
	assert_int_equal(v->grants[2].items[0].mode, 0444);
	assert_true(v->grants[2].items[0].has_mode);
	assert_string_equal(v->grants[2].items[1].file, "ca.crt");
	assert_false(v->grants[2].items[1].has_mode);
	assert_int_equal(config_view(&c, "empty")->ngrants, 0);
	assert_null(config_view(&c, "nope"));
	config_release(&c);
}

/* The shipped sample must load, and so must its views once uncommented. */
static void test_sample_config(void **state)
{
	struct config c;
	char err[CONF_ERR_MAX], line[256], *path;
	FILE *in, *out;

	(void)state;
	assert_int_equal(config_load(&c, "etc/secretfs.ini", err), 0);
	config_release(&c);
	in = fopen("etc/secretfs.ini", "r");
	assert_non_null(in);
	path = (char *)write_ini("", 0644);
	out = fopen(path, "w");
	while (fgets(line, sizeof(line), in)) {
		/* uncomment the example views: ";[view", ";secret", ... */
		if (line[0] == ';' && line[1] != ' ' && line[1] != '\n' && line[1] != ';')
			fputs(line + 1, out);
		else
			fputs(line, out);
	}
	fclose(in);
	fclose(out);
	if (config_load(&c, path, err))
		fail_msg("%s", err);
	assert_int_equal(c.nviews, 2);
	config_release(&c);
}

/* 'pod = FILE': the pod's volumes as grants, with the kubelet's paths and
 * modes; and the kubelet's path rules themselves */
static void test_pod_view(void **state)
{
	char err[CONF_ERR_MAX], pod[256], ini[512], clean[64], why[128];
	const struct view *v;
	struct config c, c2;
	FILE *f;

	(void)state;
	snprintf(pod, sizeof(pod), "%s/pod.yaml", dir);
	f = fopen(pod, "w");
	assert_non_null(f);
	fputs("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n"
	      "  volumes:\n  - name: a\n    secret: {secretName: s, defaultMode: 0440,\n"
	      "      items: [{key: k, path: 'x//./y'}, {key: j, path: z, mode: 0777}]}\n"
	      "  - name: b\n    projected: {sources: [{secret: {name: t, optional: true}}, {configMap: {name: m}}]}\n"
	      "  - name: c\n    emptyDir: {}\n", f);
	fclose(f);
	snprintf(ini, sizeof(ini), "[view v]\npod = pod.yaml\nmatch = cgroup:/p\n");
	assert_load(config_load(&c, write_ini(ini, 0644), err), 0, err);
	v = config_view(&c, "v");
	assert_non_null(v);
	assert_non_null(v->pod);
	assert_int_equal(v->pod->nvolumes, 2);
	assert_int_equal(v->pod->nignored, 1);
	assert_string_equal(v->pod->ignored[0], "c");
	assert_int_equal(v->pod->volumes[1].ignored_sources, 1);
	assert_int_equal(v->ngrants, 2);
	assert_string_equal(v->grants[0].ns, "shop");
	assert_string_equal(v->grants[0].name, "s");
	assert_false(v->grants[0].optional);
	assert_int_equal(v->grants[0].nitems, 2);
	assert_string_equal(v->grants[0].items[0].file, "x/y");
	assert_int_equal(v->grants[0].items[0].mode, 0440);
	assert_int_equal(v->grants[0].items[1].mode, 0777);
	assert_string_equal(v->grants[1].name, "t");
	assert_true(v->grants[1].optional);
	assert_int_equal(v->grants[1].nitems, 0);
	assert_int_equal(v->pod->volumes[1].default_mode, 0644);
	/* a reload reads the manifest again: the same one is no change, an
	 * edited one at the same path is (a volume's defaultMode) */
	assert_load(config_load(&c2, write_ini(ini, 0644), err), 0, err);
	assert_true(config_view_equal(v, config_view(&c2, "v")));
	config_release(&c2);
	f = fopen(pod, "w");
	assert_non_null(f);
	fputs("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n"
	      "  volumes:\n  - name: a\n    secret: {secretName: s, defaultMode: 0440,\n"
	      "      items: [{key: k, path: 'x//./y'}, {key: j, path: z, mode: 0777}]}\n"
	      "  - name: b\n    projected: {sources: [{secret: {name: t, optional: true}}], defaultMode: 0400}\n", f);
	fclose(f);
	assert_load(config_load(&c2, write_ini(ini, 0644), err), 0, err);
	assert_false(config_view_equal(v, config_view(&c2, "v")));
	config_release(&c2);
	config_release(&c);
	/* with a secret line: refused, naming both */
	snprintf(ini, sizeof(ini), "[view v]\npod = pod.yaml\nsecret = shop/s\n");
	expect_error_in(write_ini(ini, 0644), "[view v] secret: not with pod =");
	/* a volumeMount naming no volume (a typo): refused, not skipped */
	f = fopen(pod, "w");
	assert_non_null(f);
	fputs("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
	      "  containers: [{name: app, volumeMounts: [{name: c, mountPath: /c},\n"
	      "    {name: sceret, mountPath: /etc/s}]}]\n"
	      "  volumes: [{name: secret, secret: {secretName: s}}, {name: c, emptyDir: {}}]\n", f);
	fclose(f);
	snprintf(ini, sizeof(ini), "[view v]\npod = pod.yaml\n");
	expect_error_in(write_ini(ini, 0644),
			"spec.containers[0].volumeMounts[1].name: Not found: \"sceret\"");

	assert_int_equal(kube_volume_path("./a//b/", clean, sizeof(clean), why, sizeof(why)), 0);
	assert_string_equal(clean, "a/b");
	assert_int_equal(kube_volume_path("..data", clean, sizeof(clean), why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "must not start with '..'");
	assert_int_equal(kube_volume_path("a/../b", clean, sizeof(clean), why, sizeof(why)), -EINVAL);
	assert_int_equal(kube_volume_path("a/..b", clean, sizeof(clean), why, sizeof(why)), 0);
	assert_int_equal(kube_volume_path("/a", clean, sizeof(clean), why, sizeof(why)), -EINVAL);
	assert_int_equal(kube_volume_path("", clean, sizeof(clean), why, sizeof(why)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_paths),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_reader_errors),
		cmocka_unit_test(test_shared_only),
		cmocka_unit_test(test_cgroup_matching),
		cmocka_unit_test(test_file_checks),
		cmocka_unit_test(test_cluster),
		cmocka_unit_test(test_audit),
		cmocka_unit_test(test_api),
		cmocka_unit_test(test_pki_checks),
		cmocka_unit_test(test_views),
		cmocka_unit_test(test_dropins),
		cmocka_unit_test(test_sample_config),
		cmocka_unit_test(test_pod_view),
	};
	int ret;

	if (sodium_init() < 0) /* 'pod = FILE' is read into sodium memory */
		return 1;
	snprintf(dir, sizeof(dir), "/tmp/secretfs-conf-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	ret = cmocka_run_group_tests_name("config", tests, NULL, NULL);
	snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/t.ini");
	unlink(dir);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
	return ret;
}
