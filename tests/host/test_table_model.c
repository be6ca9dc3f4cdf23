// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the lock table (kmod/table.c): a randomized model check
 * against a naive model of the same rules.
 * On the shared fake glue (table_fixture.h); each case runs alone by name.
 */
#include "table_fixture.h"

/* ---- randomized model check ------------------------------------------ */

#define M_NAMES 6
#define M_SESS 5
#define M_TAGS 4
#define M_DET 3
#define M_OWNERS (M_SESS * M_TAGS + M_DET)
#define M_STEPS 60000

static const char *m_name[M_NAMES] = { "alpha", "beta", "gamma", "sem2", "sem3", "delta" };
static const char *m_det[M_DET] = { "d0", "d1", "d2" };

struct m_hold {
	bool held;
	u64 token;
	u32 count;
};

struct m_wait {
	bool on;
	int si;			/* the socket that sent it */
	u64 cookie;
	u64 seq;
};

static struct {
	struct dl_table *t;
	struct dl_session *sess[M_SESS];
	u64 sess_id[M_SESS];
	struct m_hold hold[M_NAMES][M_OWNERS];
	struct m_wait wait[M_NAMES][M_OWNERS];	/* pending queued acquire */
	u64 last_token[M_NAMES];
	u64 seq;
	long violations;
	long grants, expiries, deadlocks, cycles, timeouts, deaths, queued;
} M;

static int m_name_idx(const char *n)
{
	int i;

	for (i = 0; i < M_NAMES; i++)
		if (!strcmp(n, m_name[i]))
			return i;
	return -1;
}

/* Owner index from an event record or a wait cookie. */
static int m_owner_of_cookie(u64 cookie)
{
	return (int)(cookie >> 32);
}

static int m_owner_of_view(const struct dl_owner_view *v)
{
	int i;

	if (v->detached) {
		for (i = 0; i < M_DET; i++)
			if (v->len == strlen(m_det[i]) && !memcmp(v->str, m_det[i], v->len))
				return M_SESS * M_TAGS + i;
		return -1;
	}
	for (i = 0; i < M_SESS; i++)
		if (M.sess[i] && M.sess_id[i] == v->session_id)
			return i * M_TAGS + (int)v->tag;
	return -1;
}

static void m_violation(const char *what, int n, int o)
{
	if (M.violations++ < 10)
		fprintf(stderr, "# model violation: %s (name %d owner %d)\n", what, n, o);
}

static void m_on_rec(const struct rec *r)
{
	int n = m_name_idx(r->name), o, i;

	if (n < 0)
		return;
	if (r->what == 'W') {
		o = m_owner_of_cookie(r->cookie);
		if (!M.wait[n][o].on || M.wait[n][o].cookie != r->cookie) {
			m_violation("completion of an unknown wait", n, o);
			return;
		}
		if (r->type == 0) {
			/* FIFO: nobody queued earlier on this name still waits. */
			for (i = 0; i < M_OWNERS; i++)
				if (M.wait[n][i].on && M.wait[n][i].seq < M.wait[n][o].seq)
					m_violation("grant out of FIFO order", n, o);
		} else {
			M.timeouts++;
		}
		M.wait[n][o].on = false;
		return;
	}
}

/* Events need the owner: decode them in the event callback directly. */
static void m_event(struct dl_cmd *cx, const struct dl_event *ev)
{
	char nm[DL_NAME_MAX + 1];
	int n, o;

	t_event(cx, ev);
	memcpy(nm, ev->name, ev->name_len);
	nm[ev->name_len] = 0;
	n = m_name_idx(nm);
	o = m_owner_of_view(&ev->owner);
	if (n < 0 || o < 0) {
		m_violation("event for unknown name/owner", n, o);
		return;
	}
	if (ev->type == DL_EV_GRANTED) {
		if (M.hold[n][o].held)
			m_violation("granted twice", n, o);
		if (ev->token <= M.last_token[n])
			m_violation("token not increasing", n, o);
		M.last_token[n] = ev->token;
		M.hold[n][o] = (struct m_hold){ true, ev->token, 1 };
		M.grants++;
	} else {
		if (!M.hold[n][o].held || M.hold[n][o].token != ev->token)
			m_violation("end of a lease not held", n, o);
		M.hold[n][o].held = false;
		M.expiries += ev->type == DL_EV_EXPIRED;
		M.deaths += ev->type == DL_EV_OWNER_DIED;
	}
}

static const struct dl_table_ops m_ops = {
	.alloc = t_alloc,
	.free = t_free,
	.next_token = t_next_token,
	.set_timer = t_set_timer,
	.wait_done = t_wait_done,
	.lost = t_lost,
	.event = m_event,
};

static void m_invariants(void)
{
	int n, o, excl, shr, cnt;
	struct dl_entry_info ei;

	for (n = 0; n < M_NAMES; n++) {
		const struct dl_lock *l = dl_lookup(M.t, m_name[n], strlen(m_name[n]));
		const struct dl_entry *e = NULL;
		struct dl_lock_info li;
		int seen = 0, model = 0;

		for (o = 0; o < M_OWNERS; o++)
			model += M.hold[n][o].held;
		if (!l) {
			if (model)
				m_violation("model holds a lock the table lacks", n, -1);
			continue;
		}
		dl_lock_info(l, &li);
		excl = shr = cnt = 0;
		while ((e = dl_holder_next(l, e))) {
			dl_entry_info(M.t, e, now, &ei);
			o = m_owner_of_view(&ei.owner);
			excl += ei.mode == DL_MODE_EXCLUSIVE;
			shr += ei.mode == DL_MODE_SHARED;
			cnt++;
			seen++;
			if (o < 0 || !M.hold[n][o].held || M.hold[n][o].token != ei.token ||
			    M.hold[n][o].count != ei.count)
				m_violation("holder differs from model (token/count)", n, o);
		}
		if (seen != model)
			m_violation("holder set differs from model", n, -1);
		if (excl > 1 || (excl && shr))
			m_violation("exclusive holder not alone", n, -1);
		if (li.semaphore && cnt > (int)li.permits)
			m_violation("semaphore over its permits", n, -1);
	}
}

static int m_mode(int n, u32 *permits)
{
	*permits = 0;
	if (n == 3 || n == 4) {
		*permits = n - 1;
		return DL_MODE_SEMAPHORE;
	}
	return rnd() % 3 ? DL_MODE_EXCLUSIVE : DL_MODE_SHARED;
}

/* Same edge rule as the table's walk, written the obvious way. */
static bool m_conflict(const struct dl_lock_info *li, int a, int b)
{
	if (li->semaphore)
		return li->permits == 1;
	return a == DL_MODE_EXCLUSIVE || b == DL_MODE_EXCLUSIVE;
}

/*
 * Reference deadlock check: builds the whole wait-for graph among owners
 * from inspection and asks whether owner @r asking @n in @mode reaches
 * itself.  With few owners nothing is truncated, so the table must agree.
 */
static bool m_would_deadlock(int n, int r, int mode)
{
	u32 adj[M_OWNERS], seen = 0, todo = 0;
	struct dl_entry_info ei, ej;
	int k, o;

	memset(adj, 0, sizeof(adj));
	for (k = 0; k < M_NAMES; k++) {
		const struct dl_lock *l = dl_lookup(M.t, m_name[k], strlen(m_name[k]));
		const struct dl_entry *w = NULL, *x;
		struct dl_lock_info li;

		if (!l)
			continue;
		dl_lock_info(l, &li);
		while ((w = dl_waiter_next(l, w))) {
			int ow;

			dl_entry_info(M.t, w, now, &ei);
			ow = m_owner_of_view(&ei.owner);
			for (x = NULL; (x = dl_holder_next(l, x));) {
				dl_entry_info(M.t, x, now, &ej);
				if (m_conflict(&li, ej.mode, ei.mode))
					adj[ow] |= 1U << m_owner_of_view(&ej.owner);
			}
			for (x = NULL; (x = dl_waiter_next(l, x)) && x != w;) {
				dl_entry_info(M.t, x, now, &ej);
				if (m_conflict(&li, ej.mode, ei.mode))
					adj[ow] |= 1U << m_owner_of_view(&ej.owner);
			}
		}
		if (k == n) {
			for (x = NULL; (x = dl_holder_next(l, x));) {
				dl_entry_info(M.t, x, now, &ej);
				if (m_conflict(&li, ej.mode, mode))
					todo |= 1U << m_owner_of_view(&ej.owner);
			}
			for (x = NULL; (x = dl_waiter_next(l, x));) {
				dl_entry_info(M.t, x, now, &ej);
				if (m_conflict(&li, ej.mode, mode))
					todo |= 1U << m_owner_of_view(&ej.owner);
			}
		}
	}
	while (todo) {
		o = __builtin_ctz(todo);
		todo &= todo - 1;
		if (o == r)
			return true;
		if (seen & (1U << o))
			continue;
		seen |= 1U << o;
		todo |= adj[o] & ~seen;
	}
	return false;
}

static void m_step(void)
{
	int n = rnd() % M_NAMES, o = rnd() % M_OWNERS, si = o / M_TAGS;
	bool det = o >= M_SESS * M_TAGS;
	const char *dname = det ? m_det[o - M_SESS * M_TAGS] : NULL;
	struct dl_owner_ref ref;
	struct dl_acquire_res r;
	int op = rnd() % 100, rc;
	u32 permits, cnt;
	int mode;

	if (det)
		si = rnd() % M_SESS;	/* any socket may act for a detached owner */
	if (!M.sess[si])
		return;
	ref = det ? (struct dl_owner_ref){ .str = dname, .len = strlen(dname) } :
		    (struct dl_owner_ref){ .sess = M.sess[si], .tag = o % M_TAGS };
	if (op < 45) {
		u32 flags = (rnd() % 3 ? 0 : DL_ACQ_TRY) | (det ? DL_ACQ_DETACHED :
			     (rnd() % 4 ? 0 : DL_ACQ_NO_TTL));
		u64 cookie = ((u64)o << 32) | ++M.seq;
		bool was = M.hold[n][o].held, expect_dl;

		if (M.wait[n][o].on)
			flags |= DL_ACQ_TRY;
		mode = m_mode(n, &permits);
		expect_dl = m_would_deadlock(n, o, mode);
		/* Keep the mode an owner already holds, or expect -EDEADLK. */
		rc = acq_full(M.t, M.sess[si], o % M_TAGS, m_name[n], mode, permits,
			      flags, 50 + rnd() % 400, rnd() % 2 ? 0 : 100 + rnd() % 500,
			      cookie, dname, &r);
		if (rc == 0 && was) {
			M.hold[n][o].count++;
			if (r.token != M.hold[n][o].token || r.count != M.hold[n][o].count)
				m_violation("reentrant acquire token/count", n, o);
		} else if (rc == DL_QUEUED) {
			M.wait[n][o] = (struct m_wait){ true, si, cookie, M.seq };
			M.queued++;
			if (expect_dl)
				m_violation("queued although it closes a cycle", n, o);
		} else if (rc == -EDEADLK) {
			M.deadlocks++;
			if (!was && !expect_dl)
				m_violation("-EDEADLK without a cycle", n, o);
			M.cycles += !was;
		} else if (rc && rc != -EAGAIN && rc != -EALREADY) {
			m_violation("unexpected acquire error", n, o);
		}
		if (rc == 0 && !M.hold[n][o].held)
			m_violation("acquire ok but model has no grant", n, o);
	} else if (op < 80) {
		bool was = M.hold[n][o].held;

		rc = GLUE(M.t, dl_release(M.t, &cx, m_name[n], strlen(m_name[n]), &ref, &cnt));
		if (was != (rc == 0))
			m_violation("release result differs from model", n, o);
		if (rc == 0 && cnt) {
			M.hold[n][o].count--;
			if (cnt != M.hold[n][o].count)
				m_violation("release count", n, o);
		}
		if (rc == 0 && !cnt && M.hold[n][o].held)
			m_violation("release to zero left the lease", n, o);
	} else if (op < 88) {
		rc = renew(M.t, &ref, m_name[n], 50 + rnd() % 400);
		if ((rc == 0) != M.hold[n][o].held)
			m_violation("renew result differs from model", n, o);
	} else if (op < 93) {
		if (M.wait[n][o].on) {
			struct dl_cmd cx = { .now = now, .global = true };

			/* Gone before those behind it are granted. */
			M.wait[n][o].on = false;
			rc = dl_cancel(M.t, &cx, m_name[n], strlen(m_name[n]),
				       M.sess[M.wait[n][o].si], M.wait[n][o].cookie);
			if (rc)
				m_violation("cancel of a pending wait failed", n, o);
		}
	} else if (op < 95) {
		struct dl_cmd cx = { .now = now, .global = true };

		dl_break(M.t, &cx, m_name[n], strlen(m_name[n]), 0);
	} else if (op < 97) {
		/* Socket closes; a new one takes its slot. */
		int k, j;

		/* Its waits vanish silently, before anything is granted. */
		for (k = 0; k < M_NAMES; k++)
			for (j = 0; j < M_OWNERS; j++)
				if (M.wait[k][j].on && M.wait[k][j].si == si)
					M.wait[k][j].on = false;
		end_session(M.t, M.sess[si]);
		M.sess_id[si] += 100;
		M.sess[si] = dl_session_create(M.t, M.sess_id[si]);
	} else {
		now += rnd() % (200 * MS);
	}
	now += rnd() % (5 * MS);
	run_timers(M.t);
}

/* The table's queue of each name is exactly the model's, in FIFO order. */
static void m_check_waits(void)
{
	int n, j;

	for (n = 0; n < M_NAMES; n++) {
		const struct dl_lock *l = dl_lookup(M.t, m_name[n], strlen(m_name[n]));
		const struct dl_entry *e = NULL;
		struct dl_entry_info ei;
		u64 last_seq = 0;
		int seen = 0, model = 0;

		for (j = 0; j < M_OWNERS; j++)
			model += M.wait[n][j].on;
		while (l && (e = dl_waiter_next(l, e))) {
			dl_entry_info(M.t, e, now, &ei);
			j = m_owner_of_cookie(ei.cookie);
			if (j >= M_OWNERS || !M.wait[n][j].on ||
			    M.wait[n][j].cookie != ei.cookie ||
			    M.wait[n][j].seq <= last_seq)
				m_violation("queue differs from model / not FIFO", n, j);
			else
				last_seq = M.wait[n][j].seq;
			seen++;
		}
		if (seen != model)
			m_violation("queue length differs from model", n, -1);
	}
}

static void test_model(void)
{
	struct dl_table_config cfg = { .nr_shards = 4, .meta_size = META_SIZE };
	long bad_timer = 0, bad_check = 0;
	int i, step;
	u32 sh;

	memset(&M, 0, sizeof(M));
	armed_reset();
	M.t = dl_table_create(&cfg, &m_ops, NULL);
	for (i = 0; i < M_SESS; i++) {
		M.sess_id[i] = i + 1;
		M.sess[i] = dl_session_create(M.t, M.sess_id[i]);
	}
	on_rec = m_on_rec;
	for (step = 0; step < M_STEPS; step++) {
		log_reset();
		m_step();
		m_check_waits();
		m_invariants();
		for (sh = 0; sh < dl_nr_shards(M.t); sh++)
			bad_timer += armed[sh] != dl_shard_next_deadline(M.t, sh);
		if (dl_table_check(M.t) && bad_check++ < 3)
			fprintf(stderr, "# check failed at line %d, step %d\n",
				-dl_table_check(M.t), step);
	}
	on_rec = NULL;
	printf("# model: %ld grants, %ld queued, %ld expiries, %ld deadlocks (%ld cycles), %ld timeouts, %ld owner deaths\n",
	       M.grants, M.queued, M.expiries, M.deadlocks, M.cycles, M.timeouts, M.deaths);
	T_OK(M.violations == 0, "model: %d random steps, invariants hold after each (%ld violations)",
	       M_STEPS, M.violations);
	T_OK(bad_check == 0, "model: internal consistency after every step");
	T_OK(bad_timer == 0, "model: shard timers always armed at the earliest deadline");
	T_OK(M.grants > 1000 && M.queued > 100 && M.expiries > 10 && M.cycles > 50 &&
	       M.timeouts > 0 && M.deaths > 0, "model: every path exercised");
	for (i = 0; i < M_SESS; i++)
		end_session(M.t, M.sess[i]);
	dl_table_destroy(M.t);
	T_OK(live_total() == 0 && bad_frees == 0, "model: no memory left after destroy");
}

static const struct fx_case cases[] = {
	{ "model", test_model },
};

FX_MAIN(cases)
