// SPDX-License-Identifier: GPL-2.0
/*
 * dlock-bench clients: one connection of a backend each (a libdlock handle,
 * open file descriptions for flock and OFD locks, a hiredis connection),
 * and the blocking acquire and the release every case times.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "bench.h"

/* ---- clients ---------------------------------------------------------- */

/* Names of the benchmark's locks, made once: no formatting in timed paths. */
static char lock_names[MAX_LOCKS][96];

void lock_names_init(void)
{
	for (int i = 0; i < MAX_LOCKS; i++)
		snprintf(lock_names[i], sizeof(lock_names[i]), "%s-l%d", prefix, i);
}

const char *lock_name(int idx)
{
	return lock_names[idx];
}

#ifdef HAVE_HIREDIS
/* The standard compare-and-delete: release only what we hold. */
static const char unlock_lua[] =
	"if redis.call('get', KEYS[1]) == ARGV[1] then "
	"return redis.call('del', KEYS[1]) else return 0 end";

redisContext *redis_connect(char *err, size_t errlen)
{
	struct timeval tv = { 5, 0 };
	redisContext *rc = redisConnectWithTimeout("127.0.0.1", opt.redis_port, tv);

	if (!rc || rc->err) {
		snprintf(err, errlen, "redis connect: %s",
			 rc ? rc->errstr : "no memory");
		if (rc)
			redisFree(rc);
		return NULL;
	}
	return rc;
}
#endif

int client_open(struct client *c, enum backend b, int id)
{
	memset(c, 0, sizeof(*c));
	c->b = b;
	c->id = id;
	c->sock = -1;
	for (int i = 0; i < MAX_LOCKS; i++)
		c->fd[i] = -1;
	switch (b) {
	case B_DLOCK: {
		int err = dlock_open(&c->d);

		if (err) {
			snprintf(c->err, sizeof(c->err), "dlock_open: %s",
				 dlock_strerror(NULL, err));
			return -1;
		}
		return 0;
	}
	case B_FLOCK:
	case B_OFD:
		return 0;	/* files are opened on first use */
	case B_REDIS:
#ifdef HAVE_HIREDIS
		c->rc = redis_connect(c->err, sizeof(c->err));
		return c->rc ? 0 : -1;
#else
		snprintf(c->err, sizeof(c->err), "built without hiredis");
		return -1;
#endif
	case B_ETCD:
		return etcd_open(c);
	default:
		return -1;
	}
}

void client_close(struct client *c)
{
	dlock_close(c->d);
	c->d = NULL;
	etcd_close(c);
	for (int i = 0; i < MAX_LOCKS; i++)
		if (c->fd[i] >= 0)
			close(c->fd[i]);
#ifdef HAVE_HIREDIS
	if (c->rc)
		redisFree(c->rc);
	c->rc = NULL;
#endif
}

static int lock_fd(struct client *c, int idx)
{
	char path[256];

	if (c->fd[idx] >= 0)
		return c->fd[idx];
	snprintf(path, sizeof(path), "%s/lock%d", lockdir, idx);
	c->fd[idx] = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->fd[idx] < 0)
		snprintf(c->err, sizeof(c->err), "open %s: %m", path);
	return c->fd[idx];
}

/*
 * Blocking acquire of lock @idx with lease TTL @ttl_ms (dlock: 0 means a
 * socket-bound lease without TTL; flock/OFD have no TTL).  0 or -1.
 */
int client_lock(struct client *c, int idx, uint32_t ttl_ms)
{
	switch (c->b) {
	case B_DLOCK: {
		struct dlock_acquire_opts o = { .ttl_ms = ttl_ms };
		struct dlock_lease l;
		int err;

		if (!ttl_ms)
			o.flags = DLOCK_F_NO_TTL;
		err = dlock_acquire(c->d, lock_name(idx), &o, &l);
		if (err) {
			snprintf(c->err, sizeof(c->err), "dlock_acquire: %s",
				 dlock_strerror(c->d, err));
			return -1;
		}
		c->token[idx] = l.token;
		return 0;
	}
	case B_FLOCK: {
		int fd = lock_fd(c, idx);

		if (fd < 0)
			return -1;
		while (flock(fd, LOCK_EX))
			if (errno != EINTR) {
				snprintf(c->err, sizeof(c->err), "flock: %m");
				return -1;
			}
		return 0;
	}
	case B_OFD: {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		int fd = lock_fd(c, idx);

		if (fd < 0)
			return -1;
		while (fcntl(fd, F_OFD_SETLKW, &fl))
			if (errno != EINTR) {
				snprintf(c->err, sizeof(c->err), "F_OFD_SETLKW: %m");
				return -1;
			}
		return 0;
	}
	case B_ETCD:
		return etcd_lock(c, idx);
	case B_REDIS:
#ifdef HAVE_HIREDIS
	{
		const char *name = lock_name(idx);

		snprintf(c->val[idx], sizeof(c->val[idx]), "%d.%d.%llu",
			 getpid(), c->id, (unsigned long long)++c->seq);
		for (;;) {
			redisReply *r = redisCommand(c->rc, "SET %s %s NX PX %u",
						     name, c->val[idx],
						     ttl_ms ? ttl_ms : opt.ttl_ms);
			bool got;

			if (!r) {
				snprintf(c->err, sizeof(c->err), "redis SET: %s",
					 c->rc->errstr);
				return -1;
			}
			got = r->type == REDIS_REPLY_STATUS;
			if (r->type == REDIS_REPLY_ERROR) {
				snprintf(c->err, sizeof(c->err), "redis SET: %s", r->str);
				freeReplyObject(r);
				return -1;
			}
			freeReplyObject(r);
			if (got)
				return 0;
			/* Held: retry later, as the recipe says. */
			sleep_us(opt.redis_poll_us / 2 + rand() % (opt.redis_poll_us + 1));
		}
	}
#endif
	default:
		return -1;
	}
}

int client_unlock(struct client *c, int idx)
{
	switch (c->b) {
	case B_DLOCK: {
		int err = dlock_release(c->d, lock_name(idx), NULL);

		if (err < 0) {
			snprintf(c->err, sizeof(c->err), "dlock_release: %s",
				 dlock_strerror(c->d, err));
			return -1;
		}
		return 0;
	}
	case B_FLOCK:
		if (flock(c->fd[idx], LOCK_UN)) {
			snprintf(c->err, sizeof(c->err), "flock LOCK_UN: %m");
			return -1;
		}
		return 0;
	case B_OFD: {
		struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

		if (fcntl(c->fd[idx], F_OFD_SETLK, &fl)) {
			snprintf(c->err, sizeof(c->err), "F_OFD_SETLK unlock: %m");
			return -1;
		}
		return 0;
	}
	case B_ETCD:
		return etcd_unlock(c, idx);
	case B_REDIS:
#ifdef HAVE_HIREDIS
	{
		redisReply *r = redisCommand(c->rc, "EVAL %s 1 %s %s", unlock_lua,
					     lock_name(idx), c->val[idx]);
		int ret = 0;

		if (!r) {
			snprintf(c->err, sizeof(c->err), "redis EVAL: %s", c->rc->errstr);
			return -1;
		}
		if (r->type != REDIS_REPLY_INTEGER || r->integer != 1) {
			snprintf(c->err, sizeof(c->err), "redis unlock: not held (%s)",
				 r->type == REDIS_REPLY_ERROR ? r->str : "0");
			ret = -1;
		}
		freeReplyObject(r);
		return ret;
	}
#endif
	default:
		return -1;
	}
}
