/*
 * reader.c - the store handles request handlers read through.
 *
 * A store handle is not thread-safe, and one handle behind one lock made
 * every FUSE worker queue behind whichever was reading SQLite or
 * decrypting.  So handlers read through a small pool of read-only handles
 * (FS_READERS), each behind a lock of its own: a worker takes the first
 * free one, or waits for one when all are busy.  A handle is opened when first
 * needed, from fs->st (store_open_reader: the master key is not read or
 * derived again), and closed by the watcher when the store is replaced
 * (reader_suspend), to be opened again from the new fs->st.
 *
 * Lock order: a reader's lock before fs->lock, never the other way round.
 * A handler holding fs->lock lets it go before taking a reader (see
 * rd_begin() in ops.c); a handler holding a reader may take fs->lock.  Only
 * the watcher holds several readers at once, all of them, in index order.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>

#include "fs.h"

/* The reader this thread waits for when all are busy: spread over the
 * pool as threads come. */
static __thread int usual = -1;
static atomic_uint next_usual;

int reader_init(struct fs *fs)
{
	for (int i = 0; i < FS_READERS; i++) {
		fs->readers[i].st = NULL;
		if (pthread_mutex_init(&fs->readers[i].lock, NULL)) {
			while (i-- > 0)
				pthread_mutex_destroy(&fs->readers[i].lock);
			return -ENOMEM;
		}
	}
	return 0;
}

void reader_release_all(struct fs *fs)
{
	for (int i = 0; i < FS_READERS; i++) {
		store_close(fs->readers[i].st);
		fs->readers[i].st = NULL;
		pthread_mutex_destroy(&fs->readers[i].lock);
	}
}

int reader_get(struct fs *fs, struct fs_reader **out, char *err)
{
	struct fs_reader *r = NULL;
	int ret = 0;

	/* the first free one: handles open in index order, so that is an
	 * open one unless all open ones are busy, and as many open as
	 * requests have read at once, no more */
	for (int i = 0; i < FS_READERS && !r; i++)
		if (pthread_mutex_trylock(&fs->readers[i].lock) == 0)
			r = &fs->readers[i];
	if (!r) {
		if (usual < 0)
			usual = (int)(atomic_fetch_add(&next_usual, 1) % FS_READERS);
		r = &fs->readers[usual];
		pthread_mutex_lock(&r->lock);
	}
	if (!r->st) {
		/* fs->st is the watcher's to replace, under fs->lock */
		pthread_mutex_lock(&fs->lock);
		assert(fs->st);
		ret = store_open_reader(&r->st, fs->st, err);
		r->epoch = fs->st_epoch;
		pthread_mutex_unlock(&fs->lock);
	}
	if (ret) {
		pthread_mutex_unlock(&r->lock);
		return ret;
	}
	*out = r;
	return 0;
}

void reader_put(struct fs_reader *r)
{
	assert(r->st && fs_lock_held(&r->lock));
	pthread_mutex_unlock(&r->lock);
}

void reader_suspend(struct fs *fs)
{
	for (int i = 0; i < FS_READERS; i++)
		pthread_mutex_lock(&fs->readers[i].lock);
	for (int i = 0; i < FS_READERS; i++) {
		store_close(fs->readers[i].st);
		fs->readers[i].st = NULL;
	}
}

void reader_resume(struct fs *fs)
{
	for (int i = FS_READERS; i-- > 0;)
		pthread_mutex_unlock(&fs->readers[i].lock);
}
