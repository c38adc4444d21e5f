/*
 * watch.c - watch=true.  Not served yet: the next step follows the store's
 * change log (as secretctl watch and the driver do) and streams JSON lines
 * to each watcher from a bounded queue.  Until then a watch is answered
 * 405, which kubectl reports, and discovery lists no watch verb.
 */
#include "api/api.h"

int api_hub_start(struct api_server *srv, char *err, size_t errlen)
{
	(void)srv, (void)err, (void)errlen;
	return 0;
}

void api_hub_stop(struct api_server *srv)
{
	(void)srv;
}

enum MHD_Result api_watch(struct api_req *r, const char *resource, const char *ns,
			  const char *name)
{
	(void)resource, (void)ns, (void)name;
	return api_status(r, 405, "MethodNotAllowed", NULL,
			  "watch is not served by this server yet");
}
