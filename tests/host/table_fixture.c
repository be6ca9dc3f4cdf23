// SPDX-License-Identifier: GPL-2.0
/* The shared fake of the kernel glue for the lock table tests: see the .h. */
#include "table_fixture.h"

const char *prefix = "";
int nerr;
bool check_each = true;
bool fx_quick;

/* ---- allocator ------------------------------------------------------- */

struct hdr {
	size_t size;
	int kind;
	int magic;
};

long live_bytes[DL_OBJ_NR], live_objs[DL_OBJ_NR];
long live_slab;
long fail_countdown = -1;
unsigned int fail_kinds;
long bad_frees;

static size_t kmalloc_class(size_t n)
{
	static const size_t cls[] = { 8, 16, 32, 64, 96, 128, 192, 256, 512,
				      1024, 2048, 4096, 8192 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cls); i++)
		if (n <= cls[i])
			return cls[i];
	return (n + 4095) & ~(size_t)4095;	/* kvmalloc: whole pages */
}

void *t_alloc(void *priv, enum dl_obj kind, size_t size)
{
	struct hdr *h;

	(void)priv;
	if (fail_countdown >= 0 && fail_countdown-- == 0)
		return NULL;
	if (fail_kinds & FAIL_KIND(kind))
		return NULL;
	h = malloc(sizeof(*h) + size);
	if (!h)
		abort();
	h->size = size;
	h->kind = kind;
	h->magic = 0x5eed;
	live_bytes[kind] += size;
	live_objs[kind]++;
	live_slab += kmalloc_class(size);
	/* Poison: the table must initialise what it uses. */
	memset(h + 1, 0xa5, size);
	return h + 1;
}

void t_free(void *priv, enum dl_obj kind, void *p, size_t size)
{
	struct hdr *h = (struct hdr *)p - 1;

	(void)priv;
	if (h->magic != 0x5eed || h->size != size || h->kind != (int)kind)
		bad_frees++;
	h->magic = 0;
	live_bytes[kind] -= size;
	live_objs[kind]--;
	live_slab -= kmalloc_class(size);
	free(h);
}

long live_total(void)
{
	long n = 0;
	int i;

	for (i = 0; i < DL_OBJ_NR; i++)
		n += live_bytes[i];
	return n;
}

/* ---- notifications --------------------------------------------------- */


struct rec logv[LOG_MAX];
int nlog;
u64 token_counter = 1000;
u64 armed[DL_MAX_SHARDS];
long timer_calls;

/* Hook for the model checker. */
void (*on_rec)(const struct rec *r);

static void log_rec(const struct rec *r)
{
	if (on_rec)
		on_rec(r);
	if (nlog < LOG_MAX)
		logv[nlog++] = *r;
}

static void fill_name(struct rec *r, const char *name, u8 len)
{
	memcpy(r->name, name, len);
	r->name[len] = 0;
}

u64 t_next_token(struct dl_cmd *cx)
{
	(void)cx;
	return ++token_counter;
}

void t_set_timer(struct dl_cmd *cx, u32 shard, u64 deadline)
{
	(void)cx;
	armed[shard] = deadline;
	timer_calls++;
}

void t_wait_done(struct dl_cmd *cx, const struct dl_wait_done *wd)
{
	struct rec r = { .what = 'W', .type = wd->err, .token = wd->token,
			 .cookie = wd->cookie, .sess = dl_session_id(wd->sess) };

	/* What lockdep_assert_held() checks in the module's callback. */
	if (!cx->global) {
		nerr++;
		fprintf(stderr, "# wait_done without the global lock\n");
	}
	fill_name(&r, wd->name, wd->name_len);
	log_rec(&r);
}

void t_lost(struct dl_cmd *cx, const struct dl_lost *ls)
{
	struct rec r = { .what = 'L', .type = ls->reason, .token = ls->token,
			 .sess = dl_session_id(ls->sess), .tag = ls->tag };

	(void)cx;
	fill_name(&r, ls->name, ls->name_len);
	log_rec(&r);
}

void t_event(struct dl_cmd *cx, const struct dl_event *ev)
{
	struct rec r = { .what = 'E', .type = ev->type, .token = ev->token,
			 .sess = ev->owner.session_id, .tag = ev->owner.tag,
			 .mode = ev->mode, .uid = ev->owner.uid };

	(void)cx;
	fill_name(&r, ev->name, ev->name_len);
	log_rec(&r);
}

const struct dl_table_ops ops = {
	.alloc = t_alloc,
	.free = t_free,
	.next_token = t_next_token,
	.set_timer = t_set_timer,
	.wait_done = t_wait_done,
	.lost = t_lost,
	.event = t_event,
};

void log_reset(void)
{
	nlog = 0;
}

int log_count(int what, int type)
{
	int i, n = 0;

	for (i = 0; i < nlog; i++)
		if (logv[i].what == what && logv[i].type == type)
			n++;
	return n;
}

const struct rec *log_find(int what, int type, const char *name)
{
	int i;

	for (i = 0; i < nlog; i++)
		if (logv[i].what == what && logv[i].type == type &&
		    !strcmp(logv[i].name, name))
			return &logv[i];
	return NULL;
}

/* ---- glue mimic ------------------------------------------------------ */

u64 now = 1 * SEC;
long global_retries;

/* A new table has no timer armed: forget the last table's. */
void armed_reset(void)
{
	memset(armed, 0, sizeof(armed));
}

struct dl_table *mk_table(u32 shards, u32 max_ttl_ms)
{
	struct dl_table_config cfg = {
		.nr_shards = shards,
		.meta_size = META_SIZE,
		.max_ttl_ms = max_ttl_ms,
		.hash_seed = 0x1234,
	};

	armed_reset();
	return dl_table_create(&cfg, &ops, NULL);
}

struct dl_table *mk_table_cfg(struct dl_table_config *cfg)
{
	armed_reset();
	if (!cfg->meta_size)
		cfg->meta_size = META_SIZE;
	return dl_table_create(cfg, &ops, NULL);
}


int acq_full(struct dl_table *t, struct dl_session *s, u64 tag,
		    const char *name, int mode, u32 permits, u32 flags,
		    u32 ttl, u32 wait, u64 cookie, const char *owner,
		    struct dl_acquire_res *res)
{
	struct dl_acquire_res dummy;
	u8 meta[META_SIZE];
	struct dl_acquire_req rq = {
		.name = name, .name_len = strlen(name), .mode = mode,
		.permits = permits, .flags = flags, .ttl_ms = ttl,
		.wait_ms = wait, .sess = s, .tag = tag, .owner = owner,
		.owner_len = owner ? strlen(owner) : 0, .cookie = cookie,
		.meta = meta,
	};

	memset(meta, 0, sizeof(meta));
	snprintf((char *)meta, sizeof(meta), "pid%llu", (unsigned long long)tag);
	return GLUE(t, dl_acquire(t, &cx, &rq, res ? res : &dummy));
}

/* Socket-bound exclusive/shared acquire, TTL 10 s, try. */
int try_lock(struct dl_table *t, struct dl_session *s, u64 tag,
		    const char *name, int mode, struct dl_acquire_res *res)
{
	return acq_full(t, s, tag, name, mode, 0, DL_ACQ_TRY, 10000, 0, 0,
			NULL, res);
}

int wait_lock(struct dl_table *t, struct dl_session *s, u64 tag,
		     const char *name, int mode, u64 cookie)
{
	return acq_full(t, s, tag, name, mode, 0, 0, 10000, 0, cookie, NULL,
			NULL);
}

int unlock(struct dl_table *t, struct dl_session *s, u64 tag,
		  const char *name)
{
	struct dl_owner_ref o = { .sess = s, .tag = tag };
	u32 cnt;

	return GLUE(t, dl_release(t, &cx, name, strlen(name), &o, &cnt));
}

int unlock_detached(struct dl_table *t, const char *owner,
			   const char *name)
{
	struct dl_owner_ref o = { .str = owner, .len = strlen(owner) };

	return GLUE(t, dl_release(t, &cx, name, strlen(name), &o, NULL));
}

int renew(struct dl_table *t, struct dl_owner_ref *o, const char *name,
		 u32 ttl)
{
	return GLUE(t, dl_renew(t, &cx, name, strlen(name), o, ttl));
}

void run_timers(struct dl_table *t)
{
	u32 i;

	/*
	 * Unlike the other commands, dl_run_timers() may have applied some
	 * expiries before it answers DL_NEED_GLOBAL; it is simply called again.
	 */
	for (i = 0; i < dl_nr_shards(t); i++) {
		struct dl_cmd cx = { .now = now };
		int rc;

		if (!armed[i] || armed[i] > now)
			continue;
		do {
			rc = dl_run_timers(t, &cx, i, 4);
			if (rc == DL_NEED_GLOBAL)
				cx.global = true;
		} while (rc == DL_MORE || rc == DL_NEED_GLOBAL);
		if (rc)
			nerr++;
		glue_checked(t, __LINE__);
	}
}

void end_session(struct dl_table *t, struct dl_session *s)
{
	struct dl_cmd cx = { .now = now, .global = true };
	u32 i;

	for (i = 0; i < dl_nr_shards(t); i++)
		if (dl_session_end(t, &cx, s, i))
			nerr++;
	if (dl_session_destroy(t, s))
		nerr++;
	glue_checked(t, __LINE__);
}

u32 holders(struct dl_table *t, const char *name)
{
	const struct dl_lock *l = dl_lookup(t, name, strlen(name));
	struct dl_lock_info li;

	if (!l)
		return 0;
	dl_lock_info(l, &li);
	return li.nr_holders;
}

u32 waiters(struct dl_table *t, const char *name)
{
	const struct dl_lock *l = dl_lookup(t, name, strlen(name));
	struct dl_lock_info li;

	if (!l)
		return 0;
	dl_lock_info(l, &li);
	return li.nr_waiters;
}

/* Info of the holder with the given owner, or NULL. */
bool holder_info(struct dl_table *t, const char *name, u64 sid,
			u64 tag, struct dl_entry_info *out)
{
	const struct dl_lock *l = dl_lookup(t, name, strlen(name));
	const struct dl_entry *e = NULL;

	if (!l)
		return false;
	while ((e = dl_holder_next(l, e))) {
		dl_entry_info(t, e, now, out);
		if (!out->owner.detached && out->owner.session_id == sid &&
		    out->owner.tag == tag)
			return true;
	}
	return false;
}

void finish(struct dl_table *t, struct dl_session **ss, int n)
{
	int i;

	for (i = 0; i < n; i++)
		end_session(t, ss[i]);
	dl_table_destroy(t);
}

int check_ok(struct dl_table *t)
{
	int rc = dl_table_check(t);

	if (rc)
		fprintf(stderr, "# dl_table_check failed at table.c:%d\n", -rc);
	return rc == 0;
}

/* ---- tests ----------------------------------------------------------- */

u64 rnd_state = 88172645463325252ULL;

u64 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/*
 * After each command: the table's own consistency check (counts and lists
 * agree), unless a scale case turned it off for speed.
 */
void glue_checked(struct dl_table *t, int line)
{
	int rc;

	if (!check_each)
		return;
	rc = dl_table_check(t);
	if (rc) {
		nerr++;
		fprintf(stderr, "# dl_table_check failed at table.c:%d after the command at line %d\n",
			-rc, line);
	}
}

void fx_reset(void)
{
	log_reset();
	armed_reset();
	on_rec = NULL;
	fail_countdown = -1;
	fail_kinds = 0;
	now = 1 * SEC;
	token_counter = 1000;
	rnd_state = 88172645463325252ULL;
	check_each = true;
}

static const struct fx_case *fx_find(const struct fx_case *cases, int n,
				     const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(cases[i].name, name))
			return &cases[i];
	return NULL;
}

static void fx_run(const struct fx_case *c)
{
	fx_reset();
	c->run();
}

int fx_run_cases(int argc, char **argv, const struct fx_case *cases, int n)
{
	int i, named = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			fx_quick = true;
		else if (!strcmp(argv[i], "--san"))
			prefix = "asan: ";
		else if (!strcmp(argv[i], "--tsan"))
			prefix = "tsan: ";
		else if (!fx_find(cases, n, argv[i])) {
			fprintf(stderr, "%s: no case %s; cases:", argv[0], argv[i]);
			for (i = 0; i < n; i++)
				fprintf(stderr, " %s", cases[i].name);
			fprintf(stderr, "\n");
			return 2;
		} else
			named++;
	}
	for (i = 1; i < argc; i++)
		if (argv[i][0] != '-')
			fx_run(fx_find(cases, n, argv[i]));
	for (i = 0; !named && i < n; i++)
		fx_run(&cases[i]);
	return 0;
}

bool fx_harness_ok(void)
{
	int i;

	for (i = 0; i < DL_OBJ_NR; i++)
		if (live_objs[i])
			printf("# leaked: kind %d: %ld objects, %ld B\n", i,
			       live_objs[i], live_bytes[i]);
	if (nerr || bad_frees)
		printf("# glue contract violations %d, mismatched frees %ld\n",
		       nerr, bad_frees);
	return nerr == 0 && live_total() == 0 && bad_frees == 0;
}
