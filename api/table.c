/*
 * table.c - server-side printing: when a client's Accept asks for
 * as=Table;v=v1;g=meta.k8s.io (kubectl get does), a meta.k8s.io/v1 Table
 * with the apiserver's columns (secrets: NAME TYPE DATA AGE; namespaces:
 * NAME STATUS AGE; roles NAME CREATED AT; bindings NAME ROLE AGE, and
 * USERS GROUPS SERVICEACCOUNTS with -o wide) and, in each row, the object's metadata as a
 * PartialObjectMetadata, from which kubectl prints -A's NAMESPACE and
 * --show-labels.  A Table never carries a value.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"

#define DESC_NAME "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
#define DESC_AGE "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
#define DESC_TYPE "Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types"
#define DESC_DATA "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4"
#define DESC_STATUS "The status of the namespace"
#define DESC_ROLE "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable."
#define DESC_USERS "Users in the binding"
#define DESC_GROUPS "Groups in the binding"
#define DESC_SAS "ServiceAccounts in the binding"

static json_t *column(const char *name, const char *format, const char *desc)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", name, "type", "string",
			 "format", format, "description", desc, "priority", 0);
}

/* The Age cell: "<unknown>" without a creationTimestamp (a deleted
 * secret's watch event), as the apiserver's translateTimestampSince. */
static void age_of(char *buf, size_t len, const json_t *obj, int64_t now);

static int64_t created_of(const json_t *obj)
{
	const char *ts = json_string_value(json_object_get(json_object_get(obj, "metadata"),
							    "creationTimestamp"));
	struct tm tm = { 0 };

	if (!ts || !strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

static void age_of(char *buf, size_t len, const json_t *obj, int64_t now)
{
	int64_t t = created_of(obj);

	if (!t)
		snprintf(buf, len, "<unknown>");
	else
		human_age(buf, len, t, now);
}

/* A row: cells (stolen) and obj's metadata as PartialObjectMetadata. */
static json_t *row(json_t *cells, const json_t *obj)
{
	json_t *meta = json_deep_copy(json_object_get(obj, "metadata"));

	return json_pack("{s:o, s:{s:s, s:s, s:o}}", "cells", cells, "object", "kind",
			 "PartialObjectMetadata", "apiVersion", "meta.k8s.io/v1", "metadata",
			 meta ? meta : json_object());
}

static json_t *table(json_t *columns, json_t *rows, const char *rv)
{
	return json_pack("{s:s, s:s, s:{s:s}, s:o, s:o}", "kind", "Table", "apiVersion",
			 "meta.k8s.io/v1", "metadata", "resourceVersion", rv ? rv : "",
			 "columnDefinitions", columns, "rows", rows);
}

json_t *api_table_secret_row(const json_t *obj, int64_t now)
{
	const json_t *meta = json_object_get(obj, "metadata");
	char age[32];
	const char *type = json_string_value(json_object_get(obj, "type"));

	age_of(age, sizeof(age), obj, now);
	return row(json_pack("[s, s, I, s]", json_string_value(json_object_get(meta, "name")),
			     type ? type : "",
			     (json_int_t)json_object_size(json_object_get(obj, "data")), age), obj);
}

json_t *api_table_secrets(const json_t *objs, const char *rv, int64_t now)
{
	json_t *rows = json_array(), *obj;
	size_t i;

	json_array_foreach(objs, i, obj)
		json_array_append_new(rows, api_table_secret_row(obj, now));
	return table(json_pack("[o, o, o, o]", column("Name", "name", DESC_NAME),
			       column("Type", "", DESC_TYPE), column("Data", "", DESC_DATA),
			       column("Age", "", DESC_AGE)), rows, rv);
}

json_t *api_table_namespaces(const json_t *objs, const char *rv, int64_t now)
{
	json_t *rows = json_array(), *obj;
	size_t i;

	json_array_foreach(objs, i, obj) {
		const json_t *meta = json_object_get(obj, "metadata");
		const char *phase = json_string_value(json_object_get(json_object_get(obj, "status"),
								      "phase"));
		char age[32];

		age_of(age, sizeof(age), obj, now);
		json_array_append_new(rows, row(json_pack("[s, s, s]",
			json_string_value(json_object_get(meta, "name")), phase ? phase : "Active",
			age), obj));
	}
	return table(json_pack("[o, o, o]", column("Name", "name", DESC_NAME),
			       column("Status", "", DESC_STATUS), column("Age", "", DESC_AGE)),
		     rows, rv);
}

/* the subjects of kind in binding obj, joined by ", " (ServiceAccounts
 * as NS/NAME), as kubectl's printer */
static void subjects_of(char *buf, size_t len, const json_t *obj, const char *kind)
{
	const json_t *sub;
	size_t i, used = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(obj, "subjects"), i, sub) {
		const char *k = json_string_value(json_object_get(sub, "kind"));
		const char *name = json_string_value(json_object_get(sub, "name"));
		const char *ns = json_string_value(json_object_get(sub, "namespace"));
		int n;

		if (!k || !name || strcmp(k, kind))
			continue;
		if (!strcmp(kind, "ServiceAccount"))
			n = snprintf(buf + used, len - used, "%s%s/%s", used ? ", " : "",
				     ns ? ns : "", name);
		else
			n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
}

json_t *api_table_rbac(const json_t *objs, const char *rv, int64_t now, bool bindings)
{
	json_t *rows = json_array(), *obj, *cols;
	size_t i;

	json_array_foreach(objs, i, obj) {
		const json_t *meta = json_object_get(obj, "metadata");
		const char *name = json_string_value(json_object_get(meta, "name"));

		if (bindings) {
			const json_t *ref = json_object_get(obj, "roleRef");
			char role[600], age[32], users[1024], groups[1024], sas[1024];

			snprintf(role, sizeof(role), "%s/%s",
				 json_string_value(json_object_get(ref, "kind")) ?: "",
				 json_string_value(json_object_get(ref, "name")) ?: "");
			age_of(age, sizeof(age), obj, now);
			subjects_of(users, sizeof(users), obj, "User");
			subjects_of(groups, sizeof(groups), obj, "Group");
			subjects_of(sas, sizeof(sas), obj, "ServiceAccount");
			json_array_append_new(rows, row(json_pack("[s, s, s, s, s, s]", name ?: "",
				role, age, users, groups, sas), obj));
		} else {
			const char *ts = json_string_value(json_object_get(meta, "creationTimestamp"));

			json_array_append_new(rows, row(json_pack("[s, s]", name ?: "", ts ?: ""), obj));
		}
	}
	if (bindings) {
		cols = json_pack("[o, o, o, o, o, o]", column("Name", "name", DESC_NAME),
				 column("Role", "", DESC_ROLE), column("Age", "", DESC_AGE),
				 column("Users", "", DESC_USERS), column("Groups", "", DESC_GROUPS),
				 column("ServiceAccounts", "", DESC_SAS));
		for (i = 3; i < 6; i++)
			json_object_set_new(json_array_get(cols, i), "priority", json_integer(1));
	} else {
		cols = json_pack("[o, o]", column("Name", "name", DESC_NAME),
				 column("Created At", "", DESC_AGE));
		json_object_set_new(json_array_get(cols, 1), "type", json_string("date"));
	}
	return table(cols, rows, rv);
}
