/*
 * test_patch.c - kube/patch.c and kube/apply.c: RFC 7386's appendix A and
 * RFC 6902's appendix A verbatim, a Secret's strategic merge patch
 * directives, and the three-way apply against the Kubernetes docs' merge
 * table (fields in the manifest / live / last applied -> action).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include <cmocka.h>

#include "kube/kube.h"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

	if (!v)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return v;
}

static void expect_json(const json_t *got, const char *want)
{
	json_t *w = J(want);

	if (!json_equal((json_t *)got, w)) {
		char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

		fail_msg("got %s, want %s", g, want);
	}
	json_decref(w);
}

/* RFC 7386, Appendix A: original, patch, result */
static void rfc7386_appendix_a(void **state)
{
	static const char *const rows[][3] = {
		{ "{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"a\":null}", "{}" },
		{ "{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}" },
		{ "{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}" },
		{ "{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}" },
		{ "{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}" },
		{ "[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]" },
		{ "{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]" },
		{ "{\"a\":\"foo\"}", "null", "null" },
		{ "{\"a\":\"foo\"}", "\"bar\"", "\"bar\"" },
		{ "{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}" },
		{ "[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}" },
		{ "{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		json_t *p = J(rows[i][1]), *r = kube_merge_patch(J(rows[i][0]), p);

		expect_json(r, rows[i][2]);
		json_decref(r);
		json_decref(p);
	}
}

/*
 * one patch of TYPE on DOC: want NULL means it must fail with -EINVAL, say
 * why, and leave doc as it was
 */
static void patch_case(enum kube_patch_type type, const char *doc, const char *patch, const char *want)
{
	char err[256] = "";
	json_t *d = J(doc), *p = NULL;
	int ret = kube_patch_parse(&p, patch, strlen(patch), type, err, sizeof(err));

	if (!ret)
		ret = kube_patch(&d, p, type, err, sizeof(err));
	if (want) {
		if (ret)
			fail_msg("%s on %s: %s", patch, doc, err);
		expect_json(d, want);
	} else {
		assert_int_equal(ret, -EINVAL);
		assert_true(err[0]);
		expect_json(d, doc);
	}
	json_decref(d);
	json_decref(p);
}

static void jp(const char *doc, const char *patch, const char *want)
{
	patch_case(KUBE_PATCH_JSON, doc, patch, want);
}

/* RFC 6902, Appendix A, A.1 to A.16 */
static void rfc6902_appendix_a(void **state)
{
	(void)state;
	jp("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
	   "{\"baz\":\"qux\",\"foo\":\"bar\"}");
	jp("{\"foo\":[\"bar\",\"baz\"]}", "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
	   "{\"foo\":[\"bar\",\"qux\",\"baz\"]}");
	jp("{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"remove\",\"path\":\"/baz\"}]",
	   "{\"foo\":\"bar\"}");
	jp("{\"foo\":[\"bar\",\"qux\",\"baz\"]}", "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]",
	   "{\"foo\":[\"bar\",\"baz\"]}");
	jp("{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
	   "{\"baz\":\"boo\",\"foo\":\"bar\"}");
	jp("{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
	   "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
	   "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}");
	jp("{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
	   "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
	   "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}");
	jp("{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
	   "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]",
	   "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}");
	jp("{\"baz\":\"qux\"}", "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]", NULL);
	jp("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]",
	   "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}");
	jp("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"xyz\":123}]",
	   "{\"foo\":\"bar\",\"baz\":\"qux\"}");
	jp("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]", NULL);
	jp("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"op\":\"remove\"}]", NULL);
	jp("{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]",
	   "{\"/\":9,\"~1\":10}");
	jp("{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]", NULL);
	jp("{\"foo\":[\"bar\"]}", "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]",
	   "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}");
	/* and what the RFC's text says beyond its examples */
	jp("{\"a\":{\"b\":1}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/c\"}]", NULL);
	jp("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/2\",\"value\":3}]", NULL);
	jp("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/01\",\"value\":3}]", NULL);
	jp("{\"a\":1}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"}]", "{\"a\":1,\"b\":1}");
	jp("{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":1.0}]", "{\"a\":1}");
	jp("{\"a\":1}", "[{\"op\":\"frob\",\"path\":\"/a\"}]", NULL);
	jp("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]", NULL);
	jp("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]", NULL);
	/* all or nothing: the second fails, the first is not kept */
	jp("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/a\"},{\"op\":\"remove\",\"path\":\"/a\"}]", NULL);
}

static void smp(const char *doc, const char *patch, const char *want)
{
	patch_case(KUBE_PATCH_STRATEGIC, doc, patch, want);
}

static void strategic_directives(void **state)
{
	(void)state;
	/* a merge patch for maps: null deletes */
	smp("{\"data\":{\"a\":\"YQ==\",\"b\":\"Yg==\"}}", "{\"data\":{\"a\":null,\"c\":\"Yw==\"}}",
	    "{\"data\":{\"b\":\"Yg==\",\"c\":\"Yw==\"}}");
	/* $patch: replace and delete in a map */
	smp("{\"data\":{\"a\":\"YQ==\",\"b\":\"Yg==\"}}", "{\"data\":{\"$patch\":\"replace\",\"c\":\"Yw==\"}}",
	    "{\"data\":{\"c\":\"Yw==\"}}");
	smp("{\"data\":{\"a\":\"YQ==\"},\"type\":\"Opaque\"}", "{\"data\":{\"$patch\":\"delete\"}}",
	    "{\"data\":{},\"type\":\"Opaque\"}");
	smp("{\"data\":{}}", "{\"data\":{\"$patch\":\"merge\"}}", NULL);
	/* $retainKeys keeps only what it names */
	smp("{\"data\":{\"a\":\"YQ==\",\"b\":\"Yg==\"}}", "{\"data\":{\"$retainKeys\":[\"b\",\"c\"],\"c\":\"Yw==\"}}",
	    "{\"data\":{\"b\":\"Yg==\",\"c\":\"Yw==\"}}");
	smp("{\"data\":{}}", "{\"data\":{\"$retainKeys\":[\"b\"],\"c\":\"Yw==\"}}", NULL);
	/* finalizers merge as a set; patch items first, as kube-apiserver */
	smp("{\"metadata\":{\"finalizers\":[\"f1\"]}}", "{\"metadata\":{\"finalizers\":[\"f2\"]}}",
	    "{\"metadata\":{\"finalizers\":[\"f2\",\"f1\"]}}");
	smp("{\"metadata\":{\"finalizers\":[\"f1\",\"f2\",\"f3\"]}}",
	    "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"f2\"]}}",
	    "{\"metadata\":{\"finalizers\":[\"f1\",\"f3\"]}}");
	smp("{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
	    "{\"metadata\":{\"$setElementOrder/finalizers\":[\"b\",\"a\"]}}",
	    "{\"metadata\":{\"finalizers\":[\"b\",\"a\"]}}");
	/* ownerReferences merge on uid; $patch: delete drops one */
	smp("{\"metadata\":{\"ownerReferences\":[{\"uid\":\"1\",\"name\":\"a\"},{\"uid\":\"2\",\"name\":\"b\"}]}}",
	    "{\"metadata\":{\"ownerReferences\":[{\"uid\":\"1\",\"name\":\"z\"},{\"$patch\":\"delete\",\"uid\":\"2\"}]}}",
	    "{\"metadata\":{\"ownerReferences\":[{\"uid\":\"1\",\"name\":\"z\"}]}}");
	smp("{\"metadata\":{\"ownerReferences\":[{\"uid\":\"1\"}]}}",
	    "{\"metadata\":{\"ownerReferences\":[{\"name\":\"x\"}]}}", NULL);
	/* any other list is replaced */
	smp("{\"x\":[1,2]}", "{\"x\":[3]}", "{\"x\":[3]}");
	/* unknown directives are refused */
	smp("{\"data\":{}}", "{\"data\":{\"$foo\":1}}", NULL);
	smp("{\"data\":{}}", "{\"$setElementOrder/\":[]}", NULL);
}

/* The three-way apply: original (last applied), manifest, live -> result. */
static void apply3(const char *original, const char *manifest, const char *live, const char *want)
{
	char err[256] = "", *last = NULL;
	json_t *m = J(manifest), *cur = J(live), *res = NULL, *ann;
	json_t *meta = json_object_get(cur, "metadata");

	if (original) {
		json_t *o = J(original);

		last = kube_last_applied(o);
		json_decref(o);
		ann = json_object_get(meta, "annotations");
		if (!ann) {
			ann = json_object();
			json_object_set_new(meta, "annotations", ann);
		}
		json_object_set_new(ann, KUBE_LAST_APPLIED, json_string(last));
	}
	if (kube_apply(&res, m, cur, err, sizeof(err)))
		fail_msg("apply: %s", err);
	/* what is compared: all but the annotation apply writes */
	json_object_del(json_object_get(json_object_get(res, "metadata"), "annotations"),
			KUBE_LAST_APPLIED);
	expect_json(res, want);
	free(last);
	json_decref(m);
	json_decref(cur);
	json_decref(res);
}

/*
 * "Declarative Management of Kubernetes Objects Using Configuration
 * Files", How apply calculates differences and merges changes, the table
 * for primitive fields and maps: field in the object configuration file /
 * in the live object / in the last-applied configuration -> action.
 */
static void docs_merge_table(void **state)
{
	(void)state;
	/* yes / yes / - : set live to the configuration file's value */
	apply3("{\"metadata\":{\"name\":\"s\"},\"type\":\"Opaque\"}",
	       "{\"metadata\":{\"name\":\"s\"},\"data\":{\"k\":\"bmV3\"}}",
	       "{\"metadata\":{\"name\":\"s\"},\"data\":{\"k\":\"b2xk\"}}",
	       "{\"metadata\":{\"name\":\"s\",\"annotations\":{}},\"data\":{\"k\":\"bmV3\"}}");
	/* yes / no / - : set live to the configuration file's value */
	apply3(NULL, "{\"metadata\":{\"name\":\"s\",\"labels\":{\"l\":\"v\"}}}",
	       "{\"metadata\":{\"name\":\"s\"}}",
	       "{\"metadata\":{\"name\":\"s\",\"labels\":{\"l\":\"v\"},\"annotations\":{}}}");
	/* no / - / yes : clear from live */
	apply3("{\"metadata\":{\"name\":\"s\",\"labels\":{\"l\":\"v\",\"m\":\"w\"}},\"data\":{\"gone\":\"eA==\",\"k\":\"eA==\"}}",
	       "{\"metadata\":{\"name\":\"s\",\"labels\":{\"m\":\"w\"}},\"data\":{\"k\":\"eA==\"}}",
	       "{\"metadata\":{\"name\":\"s\",\"labels\":{\"l\":\"v\",\"m\":\"w\",\"hand\":\"1\"}},\"data\":{\"gone\":\"eA==\",\"k\":\"eA==\"}}",
	       "{\"metadata\":{\"name\":\"s\",\"labels\":{\"m\":\"w\",\"hand\":\"1\"},\"annotations\":{}},\"data\":{\"k\":\"eA==\"}}");
	/* a whole map the last apply set and the manifest lacks goes, as with
	 * kubectl (labels: null in the patch), hand-made entries with it */
	apply3("{\"metadata\":{\"name\":\"s\",\"labels\":{\"l\":\"v\"}}}",
	       "{\"metadata\":{\"name\":\"s\"}}",
	       "{\"metadata\":{\"name\":\"s\",\"labels\":{\"l\":\"v\",\"hand\":\"1\"}}}",
	       "{\"metadata\":{\"name\":\"s\",\"annotations\":{}}}");
	/* no / - / no : do nothing, keep the live value (added by hand) */
	apply3("{\"metadata\":{\"name\":\"s\"},\"data\":{\"k\":\"eA==\"}}",
	       "{\"metadata\":{\"name\":\"s\"},\"data\":{\"k\":\"eA==\"}}",
	       "{\"metadata\":{\"name\":\"s\",\"labels\":{\"hand\":\"1\"},\"annotations\":{\"note\":\"n\"}},\"data\":{\"k\":\"eA==\",\"byhand\":\"eQ==\"}}",
	       "{\"metadata\":{\"name\":\"s\",\"labels\":{\"hand\":\"1\"},\"annotations\":{\"note\":\"n\"}},\"data\":{\"k\":\"eA==\",\"byhand\":\"eQ==\"}}");
	/* a redacted last apply serves as well as one in clear: only its keys count */
	apply3("{\"metadata\":{\"name\":\"s\"},\"data\":{\"a\":\"c2VjcmV0\",\"b\":\"c2VjcmV0\"}}",
	       "{\"metadata\":{\"name\":\"s\"},\"data\":{\"a\":\"c2VjcmV0\"}}",
	       "{\"metadata\":{\"name\":\"s\"},\"data\":{\"a\":\"c2VjcmV0\",\"b\":\"c2VjcmV0\"}}",
	       "{\"metadata\":{\"name\":\"s\",\"annotations\":{}},\"data\":{\"a\":\"c2VjcmV0\"}}");
}

static void last_applied_holds_no_value(void **state)
{
	json_t *m = J("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\","
		      "\"annotations\":{\"" KUBE_LAST_APPLIED "\":\"old\",\"a\":\"b\"}},"
		      "\"data\":{\"k\":\"Y2FuYXJ5\"},\"stringData\":{\"p\":\"canary\"}}");
	char *last = kube_last_applied(m), *again = NULL;

	(void)state;
	assert_non_null(last);
	assert_string_equal(last,
		"{\"apiVersion\":\"v1\",\"data\":{\"k\":\"***\"},\"kind\":\"Secret\",\"metadata\":"
		"{\"annotations\":{\"a\":\"b\"},\"name\":\"s\"},\"stringData\":{\"p\":\"***\"}}\n");
	/* redacting again changes nothing; a value in any shape goes */
	assert_int_equal(store_last_applied_redact(last, &again), 0);
	assert_string_equal(again, last);
	free(again);
	assert_int_equal(store_last_applied_redact("{\"data\":\"Y2FuYXJ5\"}", &again), 0);
	assert_string_equal(again, "{\"data\":{}}");
	free(again);
	assert_int_equal(store_last_applied_redact("canary", &again), -EINVAL);
	free(last);
	json_decref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc7386_appendix_a),
		cmocka_unit_test(rfc6902_appendix_a),
		cmocka_unit_test(strategic_directives),
		cmocka_unit_test(docs_merge_table),
		cmocka_unit_test(last_applied_holds_no_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
