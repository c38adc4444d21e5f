/*
 * privdir.h - a folder that holds allow_other view mounts, kept private.
 *
 * A view's mount is open to every account that can reach it (allow_other),
 * its files owned by the view's uid: a host account with that uid that
 * could walk to the mount would read what the view grants.  So the folder
 * that holds such mounts (secretfs --views DIR, the OCI hook's state
 * folder) is 0700 and ours; root still bind-mounts what is in it into
 * containers.
 */
#ifndef SECRETFS_PRIVDIR_H
#define SECRETFS_PRIVDIR_H

#include <stddef.h>

/*
 * Create path mode 0700 (its parents 0755 as needed), or make an existing
 * one 0700.  Refuses a symbolic link, a non-folder and a folder owned by
 * another user (its owner could open it again).  Returns 0; 1 when an open
 * folder was tightened, with a warning in err; or a negative errno with
 * the reason in err.  err holds len bytes.
 */
int privdir_make(const char *path, char *err, size_t len);

#endif
