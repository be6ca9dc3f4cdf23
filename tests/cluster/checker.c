// SPDX-License-Identifier: GPL-2.0
/*
 * checker: verifies lock histories written by tests/cluster/workload (and
 * the fault log of tests/cluster/topo.sh), in the spirit of Jepsen's lock
 * workloads.  See tests/cluster/README.md for the history format.
 *
 * usage: checker [-v] HISTORY...
 * -v prints every violation (default: the first 20 of each kind).
 * Exit: 0 no violation, 1 violations (each explained with its lines),
 * 2 usage or a malformed history.
 *
 * Every time is CLOCK_MONOTONIC of one guest, shared by all its network
 * namespaces, so "completed before invoked" is exact real-time order.
 *
 * The checks are conservative: a violation is only reported when no
 * correct lock service could have produced the history.  A lease is
 * *certainly* held from its acquire's completion until the first of: the
 * invocation of its release or of its handle's close, the holder learning
 * it was lost, its node being killed, the invocation of its acquire plus
 * the TTL granted (the grant came after that invocation, so it cannot
 * expire earlier), or the end of the process.  Only overlaps of such
 * intervals count.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker.h"

static const char *const vkind_name[V_NKINDS] = {
	[V_EXCL_OVERLAP] = "exclusive-overlap",
	[V_SHARED_EXCL] = "shared-exclusive-overlap",
	[V_SEM_PERMITS] = "semaphore-over-permits",
	[V_KIND_MIX] = "mixed-kind-overlap",
	[V_TOKEN_ORDER] = "token-order",
	[V_TOKEN_REUSED] = "token-reused",
	[V_LOST_GRANT] = "lost-grant",
	[V_PHANTOM_RELEASE] = "phantom-release",
	[V_UNANSWERED] = "unanswered",
	[V_NO_END] = "process-vanished",
};

static int nviol[V_NKINDS];
static const struct history *hist;
static int verbose;
static int64_t t_base = INT64_MAX;
#define MAX_PRINTED 20

static void show(const struct ev *e)
{
	if (e)
		printf("    %s:%d: %s\n", e->file, e->line, e->text);
}

static double ms(int64_t t)
{
	return (double)(t - t_base) / 1e6;
}

/* Starts a violation report; returns whether its details are printed. */
static bool violation(enum vkind k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static bool violation(enum vkind k, const char *fmt, ...)
{
	va_list ap;

	if (++nviol[k] > MAX_PRINTED && !verbose) {
		if (nviol[k] == MAX_PRINTED + 1)
			printf("VIOLATION %s: more than %d, not all shown\n",
			       vkind_name[k], MAX_PRINTED);
		return false;
	}
	printf("VIOLATION %s: ", vkind_name[k]);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return true;
}

static const char *mode_name(int m)
{
	return m == MODE_EX ? "exclusive" : m == MODE_SH ? "shared" : "semaphore";
}

static const char *const end_name[] = {
	[END_NONE] = "the end of the history",
	[END_RELEASE] = "its release was invoked",
	[END_CLOSE] = "its handle's close was invoked",
	[END_LOST] = "the holder learned it was lost",
	[END_KILLED] = "its node was killed",
	[END_TTL] = "its TTL (counted from the acquire's invocation) ran out",
	[END_EXIT] = "the process ended",
};

static void show_grant(const char *who, const struct grant *g)
{
	printf("  %s: %s holds %s lease token %" PRIu64 " (owner %s), certainly from "
	       "%.3f ms to %.3f ms, when %s:\n", who, g->acq->proc,
	       mode_name(g->acq->mode), g->ok->token, g->acq->owner,
	       ms(g->ok->t), ms(g->end), end_name[g->end_reason]);
	show(g->acq);
	show(g->ok);
	show(g->end_ev);
	if (g->lost_late)
		printf("    (it was told of the loss only later, or its release "
		       "failed without any notice: an acknowledged grant was lost)\n");
}

/* ---- per-process replay: grant intervals, releases, answers ---------- */

static bool is_socket_owner(const char *owner)
{
	return strncmp(owner, "det:", 4) != 0;
}

/*
 * The first kill of @node that was over at or after @after: one that can
 * have ended a process whose line is stamped @after.
 */
static const struct kill *first_kill(const struct history *h, int node,
				     int64_t after)
{
	const struct kill *best = NULL;
	size_t i;

	for (i = 0; i < h->nkills; i++) {
		const struct kill *k = &h->kills[i];

		if (k->node == node && k->done >= after && (!best || k->done < best->done))
			best = k;
	}
	return best;
}

static bool lost_anywhere(const struct proc *p, const struct grant *g)
{
	size_t i;

	for (i = 0; i < p->nev; i++) {
		const struct ev *e = p->ev[i];

		if (e->kind == K_LOST && !strcmp(e->name, g->acq->name) &&
		    e->token == g->ok->token)
			return true;
	}
	return false;
}

static void end_at(struct grant *g, int64_t t, enum end_reason r,
		   const struct ev *e)
{
	if (t < g->end) {
		g->end = t;
		g->end_reason = r;
		g->end_ev = e;
	}
}

/* The release's completion, checked against the grant it ends (or none). */
static void check_release(const struct history *h, const struct proc *p,
			  const struct ev *inv, const struct ev *done,
			  struct grant *g)
{
	if (!done)
		return;
	if (done->kind == K_OK) {
		const char *why = NULL;

		if (!g) {
			why = "no lease of this owner on this name was held "
			      "(never granted, or already released)";
		} else if ((g->lost_at && g->lost_at->t < inv->t) ||
			   (g->ok->ttl && !g->acq->keepalive &&
			    inv->t > g->acq->t + g->ok->ttl * 1000000LL)) {
			/*
			 * Its TTL may have run out, or its holder was told the
			 * lease is lost (a cluster node tells that before the
			 * leader may end it): it may still be in the table.
			 * Wrong only if someone else got it meanwhile.
			 */
			g->late_release = inv;
		}
		if (why && violation(V_PHANTOM_RELEASE,
				     "%s: release of \"%s\" (owner %s) reported success, but %s",
				     p->name, inv->name, inv->owner, why)) {
			if (g) {
				show(g->acq);
				show(g->ok);
				show(g->lost_at);
			}
			show(inv);
			show(done);
		}
		return;
	}
	/*
	 * A release refused with ENOENT/EPERM: the lease was gone.  Fine once
	 * it may have expired or the holder was told; otherwise the service
	 * dropped an acknowledged grant without a word.
	 */
	if (g && (!strcmp(done->err, "ENOENT") || !strcmp(done->err, "EPERM")) &&
	    !lost_anywhere(p, g) &&
	    !(g->ok->ttl && !g->acq->keepalive &&
	      inv->t >= g->acq->t + g->ok->ttl * 1000000LL) &&
	    !first_kill(h, p->node, g->ok->t)) {
		g->lost_late = true;
		if (violation(V_LOST_GRANT,
			      "%s: lease \"%s\" token %" PRIu64 " vanished: its release "
			      "failed with %s before its TTL could have run out, and "
			      "the holder was never told it was lost",
			      p->name, inv->name, g->ok->token, done->err)) {
			show(g->acq);
			show(g->ok);
			show(inv);
			show(done);
		}
	}
}

static struct grant *held_find(struct grant **held, size_t n, const char *name,
			       const char *owner)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (held[i] && !strcmp(held[i]->acq->name, name) &&
		    !strcmp(held[i]->acq->owner, owner))
			return held[i];
	return NULL;
}

static void replay(struct history *h, struct proc *p)
{
	struct grant **held = xcalloc(p->nev + 1, sizeof(*held));
	const struct ev *last = p->nev ? p->ev[p->nev - 1] : NULL;
	size_t i, j, nheld = 0;

	for (i = 0; i < p->nev; i++) {
		const struct ev *e = p->ev[i];
		const struct ev *done;
		struct grant *g;

		switch (e->kind) {
		case K_INV:
			done = e->peer;
			if (!done) {
				const struct kill *k = first_kill(h, p->node, e->t);

				if (!k && violation(V_UNANSWERED,
					"%s: %s of \"%s\" was never answered, and its "
					"node was not killed after it was invoked",
					p->name, op_name(e->op), e->name))
					show(e);
			}
			if (e->op == OP_ACQUIRE && done && done->kind == K_OK &&
			    done->count <= 1 &&
			    !held_find(held, nheld, e->name, e->owner)) {
				g = grant_new(h, e, done);
				held[nheld++] = g;
			} else if (e->op == OP_RELEASE) {
				g = held_find(held, nheld, e->name, e->owner);
				if (g)
					end_at(g, e->t, END_RELEASE, e);
				check_release(h, p, e, done, g);
				if (done && done->kind == K_OK && done->left > 0)
					break;	/* reentrant level: still held */
				for (j = 0; j < nheld; j++)
					if (held[j] == g)
						held[j] = NULL;
			} else if (e->op == OP_CLOSE) {
				for (j = 0; j < nheld; j++)
					if (held[j] && is_socket_owner(held[j]->acq->owner)) {
						end_at(held[j], e->t, END_CLOSE, e);
						held[j] = NULL;
					}
			}
			break;
		case K_LOST:
			for (j = 0; j < nheld; j++) {
				g = held[j];
				if (g && !strcmp(g->acq->name, e->name) &&
				    g->ok->token == e->token && !g->lost_at) {
					g->lost_at = e;
					end_at(g, e->t, END_LOST, e);
				}
			}
			break;
		case K_END:
			for (j = 0; j < nheld; j++)
				if (held[j])
					end_at(held[j], e->t, END_EXIT, e);
			break;
		default:
			break;
		}
	}
	if (!p->end) {
		const struct kill *k = last ? first_kill(h, p->node, last->t) : NULL;

		if (!k && violation(V_NO_END,
				    "%s: the process's history stops without its end "
				    "line and its node was not killed (did it crash?)",
				    p->name))
			show(last);
	}
	free(held);
}

/* Bounds that do not depend on the order of the process's own lines. */
static void bound_grants(struct history *h)
{
	size_t i;

	for (i = 0; i < h->ngrants; i++) {
		struct grant *g = h->grants[i];
		const struct kill *k = first_kill(h, g->acq->node, g->ok->t);

		/* From the kill's start on, the holder may be gone. */
		if (k)
			end_at(g, k->start->t, END_KILLED, k->start);
		if (g->ok->ttl && !g->acq->keepalive)
			end_at(g, g->acq->t + g->ok->ttl * 1000000LL, END_TTL, NULL);
		if (g->end < g->ok->t)
			g->end = g->ok->t;	/* lost before it was even acknowledged */
	}
}

/*
 * A release that succeeded after the lease's TTL (from its acquire's
 * invocation) may have run out is fine by itself: a cluster ends a lease
 * through its log, so the release may be ordered first.  But a release
 * that succeeds proves the lease lived from its grant until the release
 * was invoked at least.  A conflicting grant that was invoked after A was
 * acknowledged and acknowledged before A's release was invoked happened
 * inside that span: the service held the two leases at once.
 */
static bool conflicts(const struct grant *a, const struct grant *b)
{
	int ma = a->acq->mode, mb = b->acq->mode;

	return ma == MODE_EX || mb == MODE_EX || (ma == MODE_SEM) != (mb == MODE_SEM);
}

static void check_late_releases(struct history *h)
{
	size_t i, j;

	for (i = 0; i < h->ngrants; i++) {
		const struct grant *a = h->grants[i], *o = NULL;

		if (!a->late_release)
			continue;
		for (j = 0; j < h->ngrants && !o; j++) {
			const struct grant *b = h->grants[j];

			if (b != a && !strcmp(b->acq->name, a->acq->name) &&
			    strcmp(b->acq->owner, a->acq->owner) && conflicts(a, b) &&
			    b->acq->t >= a->ok->t && b->ok->t < a->late_release->t)
				o = b;
		}
		if (o && violation(V_PHANTOM_RELEASE, "%s: release of \"%s\" (owner %s) "
				   "reported success after its TTL may have run out or "
				   "its holder was told it was lost, and another holder "
				   "was granted between its grant and that release: the "
				   "service held both at once",
				   a->acq->proc, a->acq->name, a->acq->owner)) {
			show_grant("expired holder", a);
			show(a->late_release);
			show(a->late_release->peer);
			show_grant("granted meanwhile", o);
		}
	}
}

/* ---- mutual exclusion per name --------------------------------------- */

static int by_start(const void *a, const void *b)
{
	const struct grant *x = *(struct grant *const *)a, *y = *(struct grant *const *)b;
	int c = strcmp(x->acq->name, y->acq->name);

	if (c)
		return c;
	return (x->ok->t > y->ok->t) - (x->ok->t < y->ok->t);
}

/* The faults applied while the two holders could hold, for context. */
static void show_faults(int64_t from, int64_t to)
{
	size_t i;

	for (i = 0; i < hist->nev; i++) {
		const struct ev *e = hist->ev[i];

		if (e->kind == K_NEMESIS && e->t >= from && e->t <= to)
			printf("  fault meanwhile: %s:%d: %s\n", e->file, e->line, e->text);
	}
}

static void report_overlap(enum vkind k, const struct grant *a,
			   const struct grant *b)
{
	int64_t from = b->ok->t, to = a->end < b->end ? a->end : b->end;

	if (!violation(k, "lock \"%s\": %s and %s holders at once for %.3f ms "
		       "(%.3f to %.3f ms)", a->acq->name, mode_name(a->acq->mode),
		       mode_name(b->acq->mode), (double)(to - from) / 1e6,
		       ms(from), ms(to)))
		return;
	show_grant("holder A", a);
	show_grant("holder B (granted while A held)", b);
	show_faults(a->acq->t, b->end < INT64_MAX ? b->end : b->ok->t);
}

static void check_exclusion(struct history *h)
{
	struct grant **g = h->grants, **act;
	size_t n = h->ngrants, i, j, nact = 0;

	qsort(g, n, sizeof(*g), by_start);
	act = xcalloc(n + 1, sizeof(*act));
	for (i = 0; i < n; i++) {
		const struct grant *b = g[i];
		size_t sem = 0;

		if (i && strcmp(g[i - 1]->acq->name, b->acq->name))
			nact = 0;
		/*
		 * Not certainly held at all: e.g. the grant reached its holder
		 * after its TTL, counted from the invocation, had run out.
		 */
		if (b->end <= b->ok->t)
			continue;
		/* Drop the holders whose certain interval ended by now. */
		for (j = 0; j < nact;) {
			if (act[j]->end <= b->ok->t)
				act[j] = act[--nact];
			else
				j++;
		}
		for (j = 0; j < nact; j++) {
			const struct grant *a = act[j];
			int ma = a->acq->mode, mb = b->acq->mode;

			if ((ma == MODE_SEM) != (mb == MODE_SEM))
				report_overlap(V_KIND_MIX, a, b);
			else if (ma == MODE_EX && mb == MODE_EX)
				report_overlap(V_EXCL_OVERLAP, a, b);
			else if (ma == MODE_EX || mb == MODE_EX)
				report_overlap(V_SHARED_EXCL, a, b);
			else if (ma == MODE_SEM)
				sem++;
		}
		if (b->acq->mode == MODE_SEM && sem + 1 > b->acq->permits &&
		    violation(V_SEM_PERMITS, "lock \"%s\": %zu holders of a semaphore "
			      "with %u permits at %.3f ms", b->acq->name, sem + 1,
			      b->acq->permits, ms(b->ok->t))) {
			for (j = 0; j < nact; j++)
				if (act[j]->acq->mode == MODE_SEM)
					show_grant("holder", act[j]);
			show_grant("holder granted last", b);
		}
		act[nact++] = g[i];
	}
	free(act);
}

/* ---- fencing tokens --------------------------------------------------- */

static int by_token(const void *a, const void *b)
{
	const struct grant *x = *(struct grant *const *)a, *y = *(struct grant *const *)b;
	int c = strcmp(x->acq->name, y->acq->name);

	if (c)
		return c;
	return (x->ok->token > y->ok->token) - (x->ok->token < y->ok->token);
}

static int by_inv(const void *a, const void *b)
{
	const struct grant *x = *(struct grant *const *)a, *y = *(struct grant *const *)b;
	int c = strcmp(x->acq->name, y->acq->name);

	if (c)
		return c;
	return (x->acq->t > y->acq->t) - (x->acq->t < y->acq->t);
}

static int by_ack(const void *a, const void *b)
{
	const struct grant *x = *(struct grant *const *)a, *y = *(struct grant *const *)b;
	int c = strcmp(x->acq->name, y->acq->name);

	if (c)
		return c;
	return (x->ok->t > y->ok->t) - (x->ok->t < y->ok->t);
}

static void check_tokens(struct history *h)
{
	size_t n = h->ngrants, i, lo, hi, k;
	struct grant **inv = xcalloc(n + 1, sizeof(*inv));
	struct grant **ack = xcalloc(n + 1, sizeof(*ack));

	/* Every grant of a name has a token of its own. */
	qsort(h->grants, n, sizeof(*h->grants), by_token);
	for (i = 1; i < n; i++) {
		const struct grant *a = h->grants[i - 1], *b = h->grants[i];

		if (!strcmp(a->acq->name, b->acq->name) && a->ok->token == b->ok->token &&
		    violation(V_TOKEN_REUSED, "lock \"%s\": two grants with token %" PRIu64,
			      a->acq->name, a->ok->token)) {
			show_grant("grant A", a);
			show_grant("grant B", b);
		}
	}
	/*
	 * Grant order is only certain between A completed and B invoked
	 * after: then token(A) < token(B).  For each B (by invocation) the
	 * largest token of the grants acknowledged before it is enough.
	 */
	memcpy(inv, h->grants, n * sizeof(*inv));
	memcpy(ack, h->grants, n * sizeof(*ack));
	qsort(inv, n, sizeof(*inv), by_inv);
	qsort(ack, n, sizeof(*ack), by_ack);
	for (lo = 0; lo < n; lo = hi) {
		const struct grant *max = NULL;

		for (hi = lo; hi < n && !strcmp(inv[hi]->acq->name, inv[lo]->acq->name); hi++)
			;
		k = lo;
		for (i = lo; i < hi; i++) {
			const struct grant *b = inv[i];

			while (k < hi && ack[k]->ok->t < b->acq->t) {
				if (!max || ack[k]->ok->token > max->ok->token)
					max = ack[k];
				k++;
			}
			if (max && max->ok->token > b->ok->token &&
			    violation(V_TOKEN_ORDER, "lock \"%s\": token went backwards: "
				      "%" PRIu64 " granted after %" PRIu64 " had been "
				      "acknowledged", b->acq->name, b->ok->token,
				      max->ok->token)) {
				show_grant("earlier grant", max);
				show_grant("later grant", b);
			}
		}
	}
	free(inv);
	free(ack);
}

int main(int argc, char **argv)
{
	struct history h = { 0 };
	size_t i, nops = 0;
	int a, total = 0;

	for (a = 1; a < argc && argv[a][0] == '-'; a++) {
		if (!strcmp(argv[a], "-v")) {
			verbose = 1;
		} else {
			fprintf(stderr, "checker: unknown option '%s'\n"
				"usage: checker [-v] HISTORY...\n", argv[a]);
			return 2;
		}
	}
	if (a >= argc) {
		fprintf(stderr, "usage: checker [-v] HISTORY...\n");
		return 2;
	}
	for (; a < argc; a++)
		if (history_load(&h, argv[a]))
			return 2;
	if (history_pair(&h))
		return 2;
	t_base = h.t_min;
	hist = &h;
	for (i = 0; i < h.nprocs; i++) {
		replay(&h, h.procs[i]);
		nops += h.procs[i]->nops;
	}
	bound_grants(&h);
	check_late_releases(&h);
	check_exclusion(&h);
	check_tokens(&h);

	printf("checker: %zu files, %zu processes, %zu operations, %zu grants, "
	       "%zu node kills\n", h.nfiles, h.nprocs, nops, h.ngrants, h.nkills);
	for (i = 0; i < V_NKINDS; i++)
		total += nviol[i];
	if (!total) {
		printf("checker: no violations\n");
		return 0;
	}
	printf("checker: %d violations:", total);
	for (i = 0; i < V_NKINDS; i++)
		if (nviol[i])
			printf(" %s %d", vkind_name[i], nviol[i]);
	putchar('\n');
	return 1;
}
