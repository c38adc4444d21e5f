/*
 * pod.c - a Pod manifest's secret volumes, as the kubelet would mount them:
 * the `secret` and `projected` volumes of spec.volumes, and each
 * container's volumeMounts.  The daemon serves the volumes (fs/volume.c),
 * the OCI hook mounts them where a container's volumeMounts say.
 *
 * The rules are the API server's and the kubelet's (pkg/volume/secret,
 * pkg/volume/projected, pkg/volume/util/atomic_writer.go), written anew:
 * a volume name is a DNS-1123 label, given once; a secret name a DNS-1123
 * subdomain; an item's key a secret key and its path relative, without a
 * ".." element, not starting with "..", not empty, at most 4096 bytes with
 * elements of at most 255, cleaned as filepath.Clean does ("a//b/./c" is
 * "a/b/c"); two files of one volume never share a path (nor is one a
 * folder of the other); modes (defaultMode, default 0644, and an item's
 * mode) from 0 to 0777.  A YAML 0400 is octal, as Kubernetes reads it.
 *
 * Volumes of other kinds (emptyDir, configMap, hostPath...) and the
 * non-secret sources of a projected volume are not ours: the runtime
 * mounts them.  They are listed in pod->ignored so that the daemon can
 * say so, and a volumeMount naming one is left to the runtime; one naming
 * no volume at all is refused, as the API server refuses it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"

#define PATH_MAX_LEN 4096 /* atomic_writer.go's maxPathLength */
#define NAME_MAX_LEN 255  /* ... and maxFileNameLength */
#define DEFAULT_MODE 0644 /* SecretVolumeSourceDefaultMode, projected's too */

static int bad(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int kube_volume_path(const char *path, char *clean, size_t len, char *why, size_t whylen)
{
	const char *p = path;
	size_t used = 0;

	if (!*path)
		return bad(why, whylen, "must not be empty");
	if (path[0] == '/')
		return bad(why, whylen, "must be a relative path");
	if (strlen(path) > PATH_MAX_LEN)
		return bad(why, whylen, "must be at most %d characters", PATH_MAX_LEN);
	if (strncmp(path, "..", 2) == 0 && path[2] && path[2] != '/')
		return bad(why, whylen, "must not start with '..'");
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && strncmp(p, "..", 2) == 0)
			return bad(why, whylen, "must not contain '..'");
		if (n > NAME_MAX_LEN)
			return bad(why, whylen, "file names must be at most %d characters", NAME_MAX_LEN);
		if (n && !(n == 1 && *p == '.')) {
			if (used + n + 2 > len)
				return bad(why, whylen, "too long");
			if (used)
				clean[used++] = '/';
			memcpy(clean + used, p, n);
			used += n;
		}
		p += n;
		p += *p == '/';
	}
	if (!used)
		return bad(why, whylen, "must name a file");
	clean[used] = '\0';
	return 0;
}

/* A string field of obj (NULL if absent); -EINVAL if it is not a string. */
static int get_string(const json_t *obj, const char *field, const char *where, const char **out,
		      char *err, size_t len)
{
	const json_t *v = json_object_get(obj, field);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return bad(err, len, "%s.%s: must be a string", where, field);
	*out = json_string_value(v);
	return 0;
}

/* A mode field: -1 if absent, else 0 to 0777. */
static int get_mode(const json_t *obj, const char *field, const char *where, int *out, char *err,
		    size_t len)
{
	const json_t *v = json_object_get(obj, field);

	*out = -1;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0777)
		return bad(err, len, "%s.%s: must be a number from 0 to 0777 (octal in YAML, decimal in JSON: 256 for 0400)",
			   where, field);
	*out = (int)json_integer_value(v);
	return 0;
}

static int get_bool(const json_t *obj, const char *field, const char *where, bool *out, char *err,
		    size_t len)
{
	const json_t *v = json_object_get(obj, field);

	*out = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return bad(err, len, "%s.%s: must be true or false", where, field);
	*out = json_is_true(v);
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Does a file at path clash with one at other: the same path, or one a
 * folder of the other? */
static bool paths_clash(const char *path, const char *other)
{
	size_t a = strlen(path), b = strlen(other), n = a < b ? a : b;

	return strncmp(path, other, n) == 0 && (a == b || (a < b ? other[a] : path[b]) == '/');
}

/* A volume's source {name|secretName, items, optional}: appended to v. */
static int add_source(struct kube_volume *v, const json_t *src, const char *name_field,
		      const char *where, char *err, size_t len)
{
	char why[STORE_ERRMSG_MAX], clean[PATH_MAX_LEN + 1], at[256];
	struct kube_source *s, *vs;
	const char *name;
	const json_t *items, *it;
	size_t i;
	int ret;

	if (!json_is_object(src))
		return bad(err, len, "%s: must be an object", where);
	if ((ret = get_string(src, name_field, where, &name, err, len)))
		return ret;
	if (!name)
		return bad(err, len, "%s.%s: Required value", where, name_field);
	if (store_check_name(name, why))
		return bad(err, len, "%s.%s: Invalid value: \"%s\": %s", where, name_field, name, why);
	vs = realloc(v->sources, (v->nsources + 1) * sizeof(*vs));
	if (!vs)
		return -ENOMEM;
	v->sources = vs;
	s = &vs[v->nsources++];
	*s = (struct kube_source){ .secret = strdup(name) };
	if (!s->secret)
		return -ENOMEM;
	if ((ret = get_bool(src, "optional", where, &s->optional, err, len)))
		return ret;
	items = json_object_get(src, "items");
	if (items && !json_is_null(items) && !json_is_array(items))
		return bad(err, len, "%s.items: must be a list", where);
	if (!json_array_size(items))
		return 0;
	s->items = calloc(json_array_size(items), sizeof(*s->items));
	if (!s->items)
		return -ENOMEM;
	json_array_foreach(items, i, it) {
		struct kube_item *k = &s->items[s->nitems];
		const char *key, *path;

		snprintf(at, sizeof(at), "%s.items[%zu]", where, i);
		if (!json_is_object(it))
			return bad(err, len, "%s: must be an object", at);
		if ((ret = get_string(it, "key", at, &key, err, len)) ||
		    (ret = get_string(it, "path", at, &path, err, len)) ||
		    (ret = get_mode(it, "mode", at, &k->mode, err, len)))
			return ret;
		if (!key)
			return bad(err, len, "%s.key: Required value", at);
		if (store_check_key(key, why))
			return bad(err, len, "%s.key: Invalid value: \"%s\": %s", at, key, why);
		if (!path)
			return bad(err, len, "%s.path: Required value", at);
		if (kube_volume_path(path, clean, sizeof(clean), why, sizeof(why)))
			return bad(err, len, "%s.path: Invalid value: \"%s\": %s", at, path, why);
		k->key = strdup(key);
		k->path = strdup(clean);
		if (!k->key || !k->path) {
			free(k->key);
			free(k->path);
			return -ENOMEM;
		}
		s->nitems++;
	}
	return 0;
}

/* The API server's rule for a volume's listed paths: none twice (nor one
 * a folder of another), across all its sources. */
static int check_paths(const struct kube_volume *v, const char *where, char *err, size_t len)
{
	for (size_t a = 0; a < v->nsources; a++)
		for (size_t i = 0; i < v->sources[a].nitems; i++)
			for (size_t b = a; b < v->nsources; b++)
				for (size_t j = b == a ? i + 1 : 0; j < v->sources[b].nitems; j++)
					if (paths_clash(v->sources[a].items[i].path,
							v->sources[b].items[j].path))
						return bad(err, len,
							   "%s: Invalid value: \"%s\": conflicting duplicate paths (\"%s\")",
							   where, v->sources[b].items[j].path,
							   v->sources[a].items[i].path);
	return 0;
}

static int note_ignored(struct kube_pod *p, const char *name)
{
	char **v = realloc(p->ignored, (p->nignored + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	p->ignored = v;
	if (!(v[p->nignored] = strdup(name)))
		return -ENOMEM;
	p->nignored++;
	return 0;
}

static int add_volume(struct kube_pod *p, const json_t *vol, size_t index, char *err, size_t len)
{
	char where[128], why[STORE_ERRMSG_MAX];
	const json_t *secret, *projected, *src;
	struct kube_volume *v;
	const char *name;
	size_t i;
	int ret;

	snprintf(where, sizeof(where), "spec.volumes[%zu]", index);
	if (!json_is_object(vol))
		return bad(err, len, "%s: must be an object", where);
	if ((ret = get_string(vol, "name", where, &name, err, len)))
		return ret;
	if (!name)
		return bad(err, len, "%s.name: Required value", where);
	if (store_check_namespace(name, why)) /* a DNS-1123 label, as a namespace */
		return bad(err, len, "%s.name: Invalid value: \"%s\": %s", where, name, why);
	for (i = 0; i < p->nvolumes; i++)
		if (!strcmp(p->volumes[i].name, name))
			return bad(err, len, "%s.name: Duplicate value: \"%s\"", where, name);
	for (i = 0; i < p->nignored; i++)
		if (!strcmp(p->ignored[i], name))
			return bad(err, len, "%s.name: Duplicate value: \"%s\"", where, name);
	secret = json_object_get(vol, "secret");
	projected = json_object_get(vol, "projected");
	if (!json_is_object(secret) && !json_is_object(projected))
		return note_ignored(p, name);
	v = realloc(p->volumes, (p->nvolumes + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->volumes = v;
	v += p->nvolumes++;
	*v = (struct kube_volume){ .name = strdup(name) };
	if (!v->name)
		return -ENOMEM;
	if (json_is_object(secret)) {
		snprintf(where, sizeof(where), "spec.volumes[%zu].secret", index);
		if ((ret = get_mode(secret, "defaultMode", where, &v->default_mode, err, len)) ||
		    (ret = add_source(v, secret, "secretName", where, err, len)))
			return ret;
	} else {
		const json_t *sources = json_object_get(projected, "sources");

		snprintf(where, sizeof(where), "spec.volumes[%zu].projected", index);
		if ((ret = get_mode(projected, "defaultMode", where, &v->default_mode, err, len)))
			return ret;
		if (sources && !json_is_null(sources) && !json_is_array(sources))
			return bad(err, len, "%s.sources: must be a list", where);
		json_array_foreach(sources, i, src) {
			char at[160];

			snprintf(at, sizeof(at), "%s.sources[%zu].secret", where, i);
			if (!json_is_object(json_object_get(src, "secret"))) {
				/* configMap, downwardAPI, serviceAccountToken... */
				v->ignored_sources++;
				continue;
			}
			if ((ret = add_source(v, json_object_get(src, "secret"), "name", at, err, len)))
				return ret;
		}
	}
	if (v->default_mode < 0)
		v->default_mode = DEFAULT_MODE;
	return check_paths(v, where, err, len);
}

/* Does spec.volumes name vol (a secret volume or one of the runtime's)? */
static bool pod_declares(const struct kube_pod *p, const char *vol)
{
	for (size_t i = 0; i < p->nignored; i++)
		if (!strcmp(p->ignored[i], vol))
			return true;
	return kube_pod_volume(p, vol) != NULL;
}

static int add_container(struct kube_pod *p, const json_t *c, const char *list, size_t index,
			 char *err, size_t len)
{
	char where[128];
	const json_t *mounts, *m;
	struct kube_container *k, *v;
	const char *name;
	size_t i;
	int ret;

	snprintf(where, sizeof(where), "spec.%s[%zu]", list, index);
	if (!json_is_object(c))
		return bad(err, len, "%s: must be an object", where);
	if ((ret = get_string(c, "name", where, &name, err, len)))
		return ret;
	if (!name)
		return bad(err, len, "%s.name: Required value", where);
	v = realloc(p->containers, (p->ncontainers + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->containers = v;
	k = &v[p->ncontainers++];
	*k = (struct kube_container){ .name = strdup(name) };
	if (!k->name)
		return -ENOMEM;
	mounts = json_object_get(c, "volumeMounts");
	if (mounts && !json_is_null(mounts) && !json_is_array(mounts))
		return bad(err, len, "%s.volumeMounts: must be a list", where);
	if (!json_array_size(mounts))
		return 0;
	k->mounts = calloc(json_array_size(mounts), sizeof(*k->mounts));
	if (!k->mounts)
		return -ENOMEM;
	json_array_foreach(mounts, i, m) {
		struct kube_mount *km = &k->mounts[k->nmounts];
		const char *vol, *path, *sub;
		char at[160];

		snprintf(at, sizeof(at), "%s.volumeMounts[%zu]", where, i);
		if (!json_is_object(m))
			return bad(err, len, "%s: must be an object", at);
		if ((ret = get_string(m, "name", at, &vol, err, len)) ||
		    (ret = get_string(m, "mountPath", at, &path, err, len)) ||
		    (ret = get_string(m, "subPath", at, &sub, err, len)) ||
		    (ret = get_bool(m, "readOnly", at, &km->read_only, err, len)))
			return ret;
		if (!vol)
			return bad(err, len, "%s.name: Required value", at);
		/* as the API server: a typo would leave the secret unmounted */
		if (!pod_declares(p, vol))
			return bad(err, len, "%s.name: Not found: \"%s\"", at, vol);
		if (!path || path[0] != '/')
			return bad(err, len, "%s.mountPath: must be an absolute path", at);
		km->volume = strdup(vol);
		km->path = strdup(path);
		km->sub_path = dup_or_null(sub);
		if (!km->volume || !km->path || (sub && !km->sub_path)) {
			free(km->volume);
			free(km->path);
			free(km->sub_path);
			return -ENOMEM;
		}
		k->nmounts++;
	}
	return 0;
}

static int pod_from_json(const json_t *doc, struct kube_pod *p, char *err, size_t len)
{
	const json_t *meta = json_object_get(doc, "metadata"), *spec = json_object_get(doc, "spec");
	const json_t *list, *x;
	const char *name, *ns;
	char why[STORE_ERRMSG_MAX];
	size_t i;
	int ret;

	if ((ret = get_string(meta, "name", "metadata", &name, err, len)) ||
	    (ret = get_string(meta, "namespace", "metadata", &ns, err, len)))
		return ret;
	if (!name)
		return bad(err, len, "metadata.name: Required value");
	if (store_check_name(name, why))
		return bad(err, len, "metadata.name: Invalid value: \"%s\": %s", name, why);
	if (!ns)
		ns = STORE_DEFAULT_NAMESPACE;
	if (store_check_namespace(ns, why))
		return bad(err, len, "metadata.namespace: Invalid value: \"%s\": %s", ns, why);
	p->name = strdup(name);
	p->namespace = strdup(ns);
	if (!p->name || !p->namespace)
		return -ENOMEM;
	if (!json_is_object(spec))
		return bad(err, len, "spec: Required value");
	list = json_object_get(spec, "volumes");
	if (list && !json_is_null(list) && !json_is_array(list))
		return bad(err, len, "spec.volumes: must be a list");
	json_array_foreach(list, i, x)
		if ((ret = add_volume(p, x, i, err, len)))
			return ret;
	for (int k = 0; k < 2; k++) {
		const char *field = k ? "initContainers" : "containers";

		list = json_object_get(spec, field);
		if (list && !json_is_null(list) && !json_is_array(list))
			return bad(err, len, "spec.%s: must be a list", field);
		json_array_foreach(list, i, x)
			if ((ret = add_container(p, x, field, i, err, len)))
				return ret;
	}
	return 0;
}

int kube_pod_load(const char *path, struct kube_pod **out, char *err, size_t len)
{
	json_t *docs = json_array(), *doc, *pod = NULL;
	struct kube_pod *p = NULL;
	char msg[STORE_ERRMSG_MAX];
	size_t i;
	int ret;

	if (!docs)
		return -ENOMEM;
	ret = manifest_load(path, docs, msg, sizeof(msg));
	if (ret) {
		snprintf(err, len, "%s", msg);
		goto out;
	}
	/* the first Pod; a file may hold its Secrets too (apply them with
	 * secretctl apply -f, which skips the Pod) */
	json_array_foreach(docs, i, doc) {
		if (manifest_kind_is(doc, "Pod")) {
			pod = doc;
			break;
		}
	}
	if (!pod) {
		ret = bad(err, len, "%s: no kind: Pod in it", path);
		goto out;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		ret = -ENOMEM;
		goto out;
	}
	ret = pod_from_json(pod, p, msg, sizeof(msg));
	if (ret == -ENOMEM)
		snprintf(err, len, "out of memory");
	else if (ret)
		snprintf(err, len, "%s: Pod \"%s\" is invalid: %s", path, p->name ? p->name : "?", msg);
	if (!ret) {
		*out = p;
		p = NULL;
	}
out:
	kube_pod_free(p);
	json_decref(docs);
	return ret;
}

const struct kube_volume *kube_pod_volume(const struct kube_pod *p, const char *name)
{
	for (size_t i = 0; i < p->nvolumes; i++)
		if (!strcmp(p->volumes[i].name, name))
			return &p->volumes[i];
	return NULL;
}

void kube_pod_free(struct kube_pod *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nvolumes; i++) {
		struct kube_volume *v = &p->volumes[i];

		for (size_t j = 0; j < v->nsources; j++) {
			for (size_t k = 0; k < v->sources[j].nitems; k++) {
				free(v->sources[j].items[k].key);
				free(v->sources[j].items[k].path);
			}
			free(v->sources[j].items);
			free(v->sources[j].secret);
		}
		free(v->sources);
		free(v->name);
	}
	free(p->volumes);
	for (size_t i = 0; i < p->nignored; i++)
		free(p->ignored[i]);
	free(p->ignored);
	for (size_t i = 0; i < p->ncontainers; i++) {
		for (size_t j = 0; j < p->containers[i].nmounts; j++) {
			free(p->containers[i].mounts[j].volume);
			free(p->containers[i].mounts[j].path);
			free(p->containers[i].mounts[j].sub_path);
		}
		free(p->containers[i].mounts);
		free(p->containers[i].name);
	}
	free(p->containers);
	free(p->name);
	free(p->namespace);
	free(p);
}
