// SPDX-License-Identifier: GPL-2.0
/*
 * Reading histories for the checker.  A malformed line is an error that
 * names its file and line: a checker that skipped what it cannot read
 * could pass a history it never saw.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker.h"

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p) {
		perror("checker");
		exit(2);
	}
	return p;
}

static void *xrealloc(void *p, size_t n, size_t size)
{
	p = reallocarray(p, n ? n : 1, size);
	if (!p) {
		perror("checker");
		exit(2);
	}
	return p;
}

const char *op_name(enum op op)
{
	switch (op) {
	case OP_ACQUIRE: return "acquire";
	case OP_RELEASE: return "release";
	case OP_CLOSE: return "close";
	default: return "?";
	}
}

static int bad(const char *file, int line, const char *what, const char *val)
{
	fprintf(stderr, "checker: %s:%d: %s%s%s%s\n", file, line, what,
		val ? " '" : "", val ? val : "", val ? "'" : "");
	return -1;
}

static int num(const char *s, int64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || end == s || *end ? -1 : 0;
}

static int unum(const char *s, uint64_t *out)
{
	char *end;

	if (*s == '-')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || end == s || *end ? -1 : 0;
}

/* Parses "key=value" fields into @e; returns -1 after naming a bad one. */
static int fields(struct ev *e, char *rest)
{
	char *save = NULL, *f;

	for (f = strtok_r(rest, " \t", &save); f; f = strtok_r(NULL, " \t", &save)) {
		char *v = strchr(f, '=');
		int64_t n = 0;
		uint64_t u = 0;

		if (!v)
			return bad(e->file, e->line, "field without '=':", f);
		*v++ = '\0';
#define NUM(dst) do { if (num(v, &n)) return bad(e->file, e->line, "not a number:", v); dst = n; } while (0)
#define UNUM(dst) do { if (unum(v, &u)) return bad(e->file, e->line, "not a number:", v); dst = u; } while (0)
		if (!strcmp(f, "p"))
			e->proc = strdup(v);
		else if (!strcmp(f, "node"))
			NUM(e->node);
		else if (!strcmp(f, "id"))
			NUM(e->id);
		else if (!strcmp(f, "name"))
			e->name = strdup(v);
		else if (!strcmp(f, "owner"))
			e->owner = strdup(v);
		else if (!strcmp(f, "err"))
			e->err = strdup(v);
		else if (!strcmp(f, "action"))
			e->action = strdup(v);
		else if (!strcmp(f, "token"))
			UNUM(e->token);
		else if (!strcmp(f, "ttl"))
			UNUM(e->ttl);
		else if (!strcmp(f, "count"))
			UNUM(e->count);
		else if (!strcmp(f, "permits"))
			UNUM(e->permits);
		else if (!strcmp(f, "left"))
			NUM(e->left);
		else if (!strcmp(f, "op")) {
			if (!strcmp(v, "acquire"))
				e->op = OP_ACQUIRE;
			else if (!strcmp(v, "release"))
				e->op = OP_RELEASE;
			else if (!strcmp(v, "close"))
				e->op = OP_CLOSE;
			else
				return bad(e->file, e->line, "unknown op", v);
		} else if (!strcmp(f, "mode")) {
			if (!strcmp(v, "ex"))
				e->mode = MODE_EX;
			else if (!strcmp(v, "sh"))
				e->mode = MODE_SH;
			else if (!strcmp(v, "sem"))
				e->mode = MODE_SEM;
			else
				return bad(e->file, e->line, "unknown mode", v);
		} else if (!strcmp(f, "flags")) {
			e->keepalive = strstr(v, "keepalive") != NULL;
		}
		/* Other fields (t0, wait, ...) are for people reading it. */
#undef NUM
#undef UNUM
	}
	return 0;
}

static int kind_of(const char *s, enum kind *k)
{
	static const char *const names[] = {
		[K_INV] = "inv", [K_OK] = "ok", [K_FAIL] = "fail",
		[K_LOST] = "lost", [K_START] = "start", [K_END] = "end",
		[K_NEMESIS] = "nemesis",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*k = i;
			return 0;
		}
	return -1;
}

/* What each kind of line must carry. */
static int complete(const struct ev *e)
{
	const char *miss = NULL;

	if (e->kind != K_NEMESIS && !e->proc)
		miss = "p";
	else if (e->kind == K_NEMESIS && !e->action)
		miss = "action";
	else if (e->kind == K_NEMESIS && (!strcmp(e->action, "kill") ||
					  !strcmp(e->action, "killed")) && !e->node)
		miss = "node";
	else if ((e->kind == K_INV || e->kind == K_START) && !e->node)
		miss = "node";
	else if ((e->kind == K_INV || e->kind == K_OK || e->kind == K_FAIL) && e->id < 0)
		miss = "id";
	else if (e->kind == K_INV && e->op == OP_NONE)
		miss = "op";
	else if (e->kind == K_INV && e->op != OP_CLOSE && (!e->name || !e->owner))
		miss = e->name ? "owner" : "name";
	else if (e->kind == K_FAIL && !e->err)
		miss = "err";
	else if (e->kind == K_LOST && (!e->name || !e->token))
		miss = e->name ? "token" : "name";
	if (miss)
		return bad(e->file, e->line, "missing field", miss);
	return 0;
}

static int push(struct history *h, struct ev *e)
{
	if (h->nev == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 1024;
		h->ev = xrealloc(h->ev, h->cap, sizeof(*h->ev));
	}
	h->ev[h->nev++] = e;
	if (e->t < h->t_min || h->nev == 1)
		h->t_min = e->t;
	if (e->kind == K_NEMESIS && !strcmp(e->action, "kill")) {
		h->kills = xrealloc(h->kills, h->nkills + 1, sizeof(*h->kills));
		h->kills[h->nkills++] = (struct kill){ e, e->t, e->node };
	} else if (e->kind == K_NEMESIS && !strcmp(e->action, "killed")) {
		size_t i;

		for (i = h->nkills; i-- > 0;)
			if (h->kills[i].node == e->node && h->kills[i].start->t <= e->t) {
				h->kills[i].done = e->t;
				break;
			}
	}
	return 0;
}

int history_load(struct history *h, const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL, *file = strdup(path);
	size_t cap = 0;
	ssize_t len;
	int line = 0;

	if (!f) {
		fprintf(stderr, "checker: %s: %s\n", path, strerror(errno));
		return -1;
	}
	h->nfiles++;
	while ((len = getline(&buf, &cap, f)) >= 0) {
		struct ev *e;
		char *save = NULL, *ts, *ks, *rest;
		int64_t t;

		line++;
		while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			buf[--len] = '\0';
		if (!len || buf[0] == '#')
			continue;
		e = xcalloc(1, sizeof(*e));
		e->file = file;
		e->line = line;
		e->text = strdup(buf);
		e->id = -1;
		ts = strtok_r(buf, " \t", &save);
		ks = strtok_r(NULL, " \t", &save);
		rest = strtok_r(NULL, "", &save);
		if (!ts || num(ts, &t) || t < 0) {
			bad(file, line, "line does not start with a time in ns:", ts);
			goto err;
		}
		e->t = t;
		if (!ks || kind_of(ks, &e->kind)) {
			bad(file, line, "unknown kind of line", ks ? ks : "");
			goto err;
		}
		if ((rest && fields(e, rest)) || complete(e))
			goto err;
		push(h, e);
	}
	free(buf);
	fclose(f);
	return 0;
err:
	free(buf);
	fclose(f);
	return -1;
}

static struct proc *proc_of(struct history *h, const char *name)
{
	size_t i;
	struct proc *p;

	for (i = 0; i < h->nprocs; i++)
		if (!strcmp(h->procs[i]->name, name))
			return h->procs[i];
	p = xcalloc(1, sizeof(*p));
	p->name = name;
	h->procs = xrealloc(h->procs, h->nprocs + 1, sizeof(*h->procs));
	h->procs[h->nprocs++] = p;
	return p;
}

/* Time order; lines of one time keep their order in the file. */
static int by_time(const void *a, const void *b)
{
	const struct ev *x = *(struct ev *const *)a, *y = *(struct ev *const *)b;

	if (x->t != y->t)
		return (x->t > y->t) - (x->t < y->t);
	if (x->file != y->file)
		return strcmp(x->file, y->file);
	return (x->line > y->line) - (x->line < y->line);
}

/*
 * Groups lines by process, in time order, and pairs each completion with
 * its invocation (same p and id).  A completion without an invocation, a
 * second completion, or one earlier than its invocation is malformed.
 */
int history_pair(struct history *h)
{
	size_t i, j;

	qsort(h->ev, h->nev, sizeof(*h->ev), by_time);
	for (i = 0; i < h->nev; i++) {
		struct ev *e = h->ev[i];
		struct proc *p;

		if (e->kind == K_NEMESIS)
			continue;
		p = proc_of(h, e->proc);
		if (e->node && !p->node)
			p->node = e->node;
		else if (e->node && p->node != e->node)
			return bad(e->file, e->line, "process moved to another node:", e->proc);
		e->node = p->node;
		if (p->end)
			return bad(e->file, e->line, "line after the process's end:", e->proc);
		if (p->nev == p->cap) {
			p->cap = p->cap ? 2 * p->cap : 64;
			p->ev = xrealloc(p->ev, p->cap, sizeof(*p->ev));
		}
		p->ev[p->nev++] = e;
		if (e->kind == K_END)
			p->end = e;
		if (e->kind == K_INV)
			p->nops++;
		if (e->kind != K_OK && e->kind != K_FAIL)
			continue;
		for (j = p->nev - 1; j-- > 0;) {
			struct ev *inv = p->ev[j];

			if (inv->kind == K_INV && inv->id == e->id)
				break;
		}
		if (j == (size_t)-1 || p->ev[j]->peer) {
			return bad(e->file, e->line, j == (size_t)-1 ?
				   "completion without an earlier invocation:" :
				   "second completion of one invocation:", e->proc);
		}
		e->peer = p->ev[j];
		p->ev[j]->peer = e;
		e->op = e->peer->op;
		if (!e->name)
			e->name = e->peer->name;
		if (!e->owner)
			e->owner = e->peer->owner;
		e->mode = e->peer->mode;
		e->permits = e->peer->permits;
		if (e->kind == K_OK && e->op == OP_ACQUIRE && !e->token)
			return bad(e->file, e->line, "granted acquire without token:", e->proc);
	}
	return 0;
}

struct grant *grant_new(struct history *h, const struct ev *acq,
			const struct ev *ok)
{
	struct grant *g = xcalloc(1, sizeof(*g));

	g->acq = acq;
	g->ok = ok;
	g->end = INT64_MAX;
	g->end_reason = END_NONE;
	if (h->ngrants == h->capgrants) {
		h->capgrants = h->capgrants ? 2 * h->capgrants : 256;
		h->grants = xrealloc(h->grants, h->capgrants, sizeof(*h->grants));
	}
	h->grants[h->ngrants++] = g;
	return g;
}
