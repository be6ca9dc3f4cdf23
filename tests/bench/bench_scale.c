// SPDX-License-Identifier: GPL-2.0
/*
 * Case 6 of dlock-bench: a million leases, their insert, dump and release
 * times and the kernel memory they take.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* ---- case 6: scale ---------------------------------------------------- */

/* Slab memory in use (whole slabs, and the objects in them) and vmalloc. */
struct kmem {
	double slab_pages, slab_objs, vmalloc, memfree;
	bool ok;
};

static struct kmem read_kmem(void)
{
	struct kmem m = { 0 };
	char line[512];
	FILE *f = fopen("/proc/slabinfo", "r");
	long page = sysconf(_SC_PAGESIZE);

	if (f) {
		m.ok = true;
		while (fgets(line, sizeof(line), f)) {
			char name[64];
			unsigned long act, num, osz, per, pps, aslabs, nslabs;

			if (sscanf(line, "%63s %lu %lu %lu %lu %lu : tunables %*u %*u %*u : slabdata %lu %lu",
				   name, &act, &num, &osz, &per, &pps, &aslabs, &nslabs) != 8)
				continue;
			m.slab_pages += (double)nslabs * pps * page;
			m.slab_objs += (double)act * osz;
		}
		fclose(f);
	}
	f = fopen("/proc/meminfo", "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			unsigned long kb;

			if (sscanf(line, "VmallocUsed: %lu kB", &kb) == 1)
				m.vmalloc = kb * 1024.0;
			if (sscanf(line, "MemFree: %lu kB", &kb) == 1)
				m.memfree = kb * 1024.0;
		}
		fclose(f);
	}
	return m;
}

struct list_count {
	long n;
};

static int count_cb(const struct dlock_lock_info *info, void *arg)
{
	(void)info;
	((struct list_count *)arg)->n++;
	return 0;
}

static void scale_name(char *buf, size_t len, long i)
{
	snprintf(buf, len, "%s-s%07ld", prefix, i);
}

void case_scale_dlock(int round)
{
	struct result r = { .cas = 6, .b = B_DLOCK, .round = round, .ok = true };
	const long per_handle = 250000;
	long nh = (opt.scale + per_handle - 1) / per_handle, done = 0;
	struct dlock **h = calloc(nh, sizeof(*h));
	struct dlock_status s0, s1, s2;
	struct list_count lcnt = { 0 };
	struct kmem m0, m1, m2;
	char name[96], pfx[80];
	uint64_t t0, t1, t2, t3;
	int err;

	for (long i = 0; i < nh; i++)
		if ((err = dlock_open(&h[i]))) {
			fail(&r, "dlock_open: %s", dlock_strerror(NULL, err));
			goto out;
		}
	dlock_get_status(h[0], &s0);
	m0 = read_kmem();
	t0 = now_ns();
	for (long i = 0; i < opt.scale; i++) {
		struct dlock_acquire_opts o = { .flags = DLOCK_F_NO_TTL };
		struct dlock_lease l;
		struct dlock *d = h[i / per_handle];

		scale_name(name, sizeof(name), i);
		err = dlock_acquire(d, name, &o, &l);
		if (err) {
			fail(&r, "acquire %ld: %s", i, dlock_strerror(d, err));
			break;
		}
		done++;
	}
	t1 = now_ns();
	m1 = read_kmem();
	dlock_get_status(h[0], &s1);
	snprintf(pfx, sizeof(pfx), "%s-s", prefix);
	err = dlock_list(h[0], pfx, count_cb, &lcnt);
	t2 = now_ns();
	if (err < 0)
		fail(&r, "dump: %s", dlock_strerror(h[0], err));
	else if (lcnt.n != done)
		fail(&r, "dump returned %ld locks of %ld", lcnt.n, done);
	for (long i = 0; i < nh; i++) {
		dlock_close(h[i]);
		h[i] = NULL;
	}
	t3 = now_ns();
	m2 = read_kmem();
	{
		struct dlock *d;

		if (!dlock_open(&d)) {
			dlock_get_status(d, &s2);
			dlock_close(d);
			kv(&r, "leases_after_close", (double)s2.leases);
		}
	}
	{
		double leases = (double)s1.leases - (double)s0.leases;

		kv(&r, "leases", leases);
		kv(&r, "insert_s", (t1 - t0) / 1e9);
		kv(&r, "insert_per_s", done / ((t1 - t0) / 1e9));
		kv(&r, "dump_s", (t2 - t1) / 1e9);
		kv(&r, "dumped", lcnt.n);
		kv(&r, "close_s", (t3 - t2) / 1e9);
		if (m0.ok && leases > 0) {
			kv(&r, "slab_bytes_per_lease", (m1.slab_pages - m0.slab_pages) / leases);
			kv(&r, "slab_obj_bytes_per_lease", (m1.slab_objs - m0.slab_objs) / leases);
			kv(&r, "vmalloc_bytes_per_lease", (m1.vmalloc - m0.vmalloc) / leases);
			kv(&r, "bytes_per_lease", (m1.slab_pages - m0.slab_pages +
						   m1.vmalloc - m0.vmalloc) / leases);
			/*
			 * Everything the machine lost, kmalloc_large()
			 * arrays (not in slabinfo) included: an upper bound.
			 */
			kv(&r, "memfree_bytes_per_lease", (m0.memfree - m1.memfree) / leases);
			kv(&r, "returned_bytes_per_lease", (m1.slab_objs - m2.slab_objs +
						   m1.vmalloc - m2.vmalloc) / leases);
		}
		if (leases != done)
			fail(&r, "status counts %.0f new leases, %ld taken", leases, done);
	}
out:
	for (long i = 0; i < nh; i++)
		dlock_close(h[i]);
	free(h);
	emit(&r);
}

#ifdef HAVE_HIREDIS
static double redis_used_memory(redisContext *rc)
{
	redisReply *r = redisCommand(rc, "INFO memory");
	double v = NAN;
	const char *p;

	if (r && r->type == REDIS_REPLY_STRING &&
	    (p = strstr(r->str, "used_memory:")))
		v = strtod(p + strlen("used_memory:"), NULL);
	if (r)
		freeReplyObject(r);
	return v;
}

void case_scale_redis(int round)
{
	struct result r = { .cas = 6, .b = B_REDIS, .round = round, .ok = true };
	char err[128], name[96], val[48], pfx[96];
	redisContext *rc = redis_connect(err, sizeof(err));
	redisReply *rep;
	double mem0, mem1;
	uint64_t t0, t1, t2, t3;
	long done = 0, dumped = 0;
	unsigned long long cursor = 0;

	if (!rc) {
		fail(&r, "%s", err);
		emit(&r);
		return;
	}
	mem0 = redis_used_memory(rc);
	t0 = now_ns();
	/*
	 * Pipelined, 1000 SETs a batch: how Redis is bulk-loaded.  (libdlock
	 * has no pipelining; its leases are taken one round trip each.)
	 */
	for (long i = 0; i < opt.scale && r.ok; i += 1000) {
		long n = opt.scale - i < 1000 ? opt.scale - i : 1000;

		for (long j = i; j < i + n; j++) {
			scale_name(name, sizeof(name), j);
			snprintf(val, sizeof(val), "%d.0.%ld", getpid(), j);
			redisAppendCommand(rc, "SET %s %s NX PX %u", name, val, 3600000u);
		}
		for (long j = 0; j < n; j++) {
			rep = NULL;
			if (redisGetReply(rc, (void **)&rep) != REDIS_OK ||
			    rep->type != REDIS_REPLY_STATUS) {
				fail(&r, "SET %ld: %s", i + j, rep ? (rep->str ? rep->str : "nil") : rc->errstr);
				if (rep)
					freeReplyObject(rep);
				if (!rep)
					break;
				continue;
			}
			freeReplyObject(rep);
			done++;
		}
	}
	t1 = now_ns();
	mem1 = redis_used_memory(rc);
	snprintf(pfx, sizeof(pfx), "%s-s*", prefix);
	do {
		char cur[32];

		snprintf(cur, sizeof(cur), "%llu", cursor);
		rep = redisCommand(rc, "SCAN %s MATCH %s COUNT 1000", cur, pfx);
		if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
			fail(&r, "SCAN failed");
			if (rep)
				freeReplyObject(rep);
			break;
		}
		cursor = strtoull(rep->element[0]->str, NULL, 10);
		dumped += rep->element[1]->elements;
		freeReplyObject(rep);
	} while (cursor);
	t2 = now_ns();
	rep = redisCommand(rc, "FLUSHALL");
	if (rep)
		freeReplyObject(rep);
	t3 = now_ns();
	kv(&r, "leases", done);
	kv(&r, "insert_s", (t1 - t0) / 1e9);
	kv(&r, "insert_per_s", done / ((t1 - t0) / 1e9));
	kv(&r, "dump_s", (t2 - t1) / 1e9);
	kv(&r, "dumped", dumped);
	kv(&r, "close_s", (t3 - t2) / 1e9);
	kv(&r, "bytes_per_lease", done ? (mem1 - mem0) / done : NAN);
	if (r.ok && dumped != done)
		fail(&r, "SCAN returned %ld keys of %ld", dumped, done);
	redisFree(rc);
	emit(&r);
}
#endif
