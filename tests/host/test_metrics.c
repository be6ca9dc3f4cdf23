// SPDX-License-Identifier: GPL-2.0
/*
 * dlockctl's counters output (userspace/dlockctl/metrics.c) from a made-up
 * status: `metrics` must be the Prometheus text exposition format that
 * node_exporter's textfile collector accepts, with every value in place,
 * and `status` must show the same counters.  The format is checked here
 * line by line (a checker that is itself tested on bad input), and then by
 * the Python client library's parser.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "tap.h"

#define MAXFAM 64

struct family {
	char name[128];
	char type[16];
	bool help, samples, done;
};

struct expo {
	struct family fam[MAXFAM];
	int nfam;
	char err[256];
};

static bool metric_name_ok(const char *s, size_t len)
{
	size_t i;

	if (!len || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
		return false;
	for (i = 1; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
			return false;
	return true;
}

static struct family *fam_get(struct expo *x, const char *name, size_t len)
{
	int i;

	for (i = 0; i < x->nfam; i++)
		if (strlen(x->fam[i].name) == len &&
		    !memcmp(x->fam[i].name, name, len))
			return &x->fam[i];
	if (x->nfam == MAXFAM || len >= sizeof(x->fam[0].name))
		return NULL;
	memcpy(x->fam[x->nfam].name, name, len);
	return &x->fam[x->nfam++];
}

#define BAD(...) do {							\
	snprintf(x->err, sizeof(x->err), __VA_ARGS__);			\
	return false;							\
} while (0)

/* Labels {k="v",...}: names, quoting and the three escapes. */
static const char *labels(struct expo *x, const char *p)
{
	while (*p != '}') {
		const char *k = p;

		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		if (p == k || isdigit((unsigned char)*k) || *p++ != '=' ||
		    *p++ != '"')
			return NULL;
		for (; *p != '"'; p++) {
			if (!*p || *p == '\n')
				return NULL;
			if (*p == '\\' && !strchr("\\\"n", *++p))
				return NULL;
		}
		p++;
		if (*p == ',')
			p++;
		else if (*p != '}')
			return NULL;
	}
	(void)x;
	return p + 1;
}

/*
 * The text format, version 0.0.4, as dlockctl uses it: HELP then TYPE then
 * the samples of each family, families never interleaved, one sample per
 * line with a base-10 value; a counter's name ends in _total.
 */
static bool expo_check(struct expo *x, const char *text)
{
	struct family *cur = NULL, *f;
	const char *p = text, *nl, *q;

	memset(x, 0, sizeof(*x));
	if (!*text || text[strlen(text) - 1] != '\n')
		BAD("output does not end with a newline");
	for (; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!strncmp(p, "# HELP ", 7) || !strncmp(p, "# TYPE ", 7)) {
			bool help = p[2] == 'H';

			q = p + 7;
			while (q < nl && *q != ' ')
				q++;
			if (!metric_name_ok(p + 7, q - p - 7) || q == nl)
				BAD("bad comment line %.*s", (int)(nl - p), p);
			f = fam_get(x, p + 7, q - p - 7);
			if (!f || f->done || f->samples ||
			    (help ? f->help : f->type[0]))
				BAD("HELP/TYPE out of place: %.*s", (int)(nl - p), p);
			if (cur && cur != f)
				cur->done = true;
			cur = f;
			if (help) {
				f->help = true;
			} else if (q + 1 < nl &&
				   (size_t)(nl - q - 1) < sizeof(f->type)) {
				memcpy(f->type, q + 1, nl - q - 1);
				if (strcmp(f->type, "counter") &&
				    strcmp(f->type, "gauge"))
					BAD("unknown TYPE %s", f->type);
			} else {
				BAD("bad TYPE line %.*s", (int)(nl - p), p);
			}
			continue;
		}
		if (*p == '#')
			BAD("stray comment %.*s", (int)(nl - p), p);
		q = p;
		while (q < nl && *q != '{' && *q != ' ')
			q++;
		if (!metric_name_ok(p, q - p))
			BAD("bad metric name in %.*s", (int)(nl - p), p);
		f = fam_get(x, p, q - p);
		if (!f || f != cur || !f->help || !f->type[0])
			BAD("sample without its HELP and TYPE first: %.*s",
			    (int)(nl - p), p);
		if (!strcmp(f->type, "counter") &&
		    (strlen(f->name) < 6 ||
		     strcmp(f->name + strlen(f->name) - 6, "_total")))
			BAD("counter %s does not end in _total", f->name);
		f->samples = true;
		if (*q == '{') {
			q = labels(x, q + 1);
			if (!q || q > nl)
				BAD("bad labels in %.*s", (int)(nl - p), p);
		}
		if (*q++ != ' ' || q == nl)
			BAD("no value in %.*s", (int)(nl - p), p);
		for (; q < nl; q++)
			if (!isdigit((unsigned char)*q))
				BAD("value not a base-10 integer: %.*s",
				    (int)(nl - p), p);
	}
	for (f = x->fam; f < x->fam + x->nfam; f++)
		if (!f->samples)
			BAD("family %s has no sample", f->name);
	return true;
}

static char *render(void (*fn)(FILE *, const struct dlock_status *),
		    const struct dlock_status *st)
{
	char *buf = NULL;
	size_t size;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		exit(2);
	fn(f, st);
	fclose(f);
	return buf;
}

/* The value of the sample that starts with @prefix ("name " or "name{"). */
static bool sample(const char *text, const char *name, uint64_t *v)
{
	size_t len = strlen(name);
	const char *p;

	for (p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, name, len) && (p[len] == ' ' || p[len] == '{')) {
			p = strchr(p, ' ');
			*v = strtoull(p + 1, NULL, 10);
			return true;
		}
	}
	return false;
}

static const char *bad_inputs[][2] = {
	{ "dlock_x 1\n", "a sample without HELP and TYPE" },
	{ "# HELP dlock_x h\n# TYPE dlock_x counter\ndlock_x 1\n",
	  "a counter not ending in _total" },
	{ "# HELP dlock_x h\n# TYPE dlock_x gauge\ndlock_x 1",
	  "no final newline" },
	{ "# HELP dlock_x h\n# TYPE dlock_x gauge\ndlock_x one\n",
	  "a value that is not a number" },
	{ "# HELP 9x h\n# TYPE 9x gauge\n9x 1\n", "a bad metric name" },
	{ "# HELP dlock_x h\n# TYPE dlock_x gauge\ndlock_x{v=\"a\"b\"} 1\n",
	  "an unescaped quote in a label" },
	{ "# HELP dlock_x h\n# TYPE dlock_x gauge\ndlock_x 1\n"
	  "# HELP dlock_y h\n# TYPE dlock_y gauge\ndlock_y 1\n"
	  "# HELP dlock_x h\n", "a family repeated" },
	{ "# HELP dlock_x h\n# TYPE dlock_x histogram\ndlock_x 1\n",
	  "a type dlockctl does not use" },
};

/*
 * An independent reader: the parser of Debian's python3-prometheus-client
 * (Debian's own python3, where that package installs it).
 */
static void check_python(const char *text)
{
	char path[] = "/tmp/dlock-metrics-XXXXXX", out[64] = "", *cmd;
	int fd = mkstemp(path);
	FILE *f;
	bool ok;

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    asprintf(&cmd, "/usr/bin/python3 -c 'import sys\n"
		     "from prometheus_client.parser import text_string_to_metric_families as p\n"
		     "print(len([s for f in p(sys.stdin.read()) for s in f.samples]))'"
		     " < %s 2>&1", path) < 0)
		exit(2);
	close(fd);
	f = popen(cmd, "r");
	if (!f || !fgets(out, sizeof(out), f))
		out[0] = 0;
	out[strcspn(out, "\n")] = 0;
	ok = f && !pclose(f) && atoi(out) == 14;
	tap_ok(ok, "prometheus_client's parser reads all 14 samples (got: %s)",
	       out);
	unlink(path);
	free(cmd);
}

int main(void)
{
	static const char *const names[] = {
		"dlock_grants_total", "dlock_releases_total",
		"dlock_owner_deaths_total", "dlock_expiries_total",
		"dlock_breaks_total", "dlock_waits_total",
		"dlock_wait_timeouts_total", "dlock_deadlocks_total",
	};
	static const char *const gauges[] = {
		"dlock_leases", "dlock_waiters", "dlock_locks",
		"dlock_memory_bytes", "dlock_info",
	};
	struct dlock_status st = {
		.version = "0.1.0", .leases = 11, .waiters = 12,
		.requests = 13, .netns_cookie = 14, .memory = 15,
		.has_counters = 1, .locks = 16,
		.counters = { 1001, 1002, 1003, 1004, 1005, 1006, 1007,
			      18446744073709551615ULL },
	};
	const uint64_t *want = &st.counters.grants;
	struct expo x;
	char *out, *text;
	uint64_t v;
	size_t i;
	bool ok;

	out = render(metrics_prometheus, &st);
	tap_ok(expo_check(&x, out), "metrics output is valid exposition text%s%s",
	       x.err[0] ? ": " : "", x.err);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct family *f = fam_get(&x, names[i], strlen(names[i]));

		tap_ok(sample(out, names[i], &v) && v == want[i] &&
		       !strcmp(f->type, "counter"),
		       "%s is a counter with value %" PRIu64, names[i], want[i]);
	}
	for (i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++) {
		struct family *f = fam_get(&x, gauges[i], strlen(gauges[i]));

		tap_ok(sample(out, gauges[i], &v) && !strcmp(f->type, "gauge"),
		       "%s is a gauge", gauges[i]);
	}
	tap_ok(sample(out, "dlock_leases", &v) && v == 11 &&
	       sample(out, "dlock_waiters", &v) && v == 12 &&
	       sample(out, "dlock_requests_total", &v) && v == 13 &&
	       sample(out, "dlock_memory_bytes", &v) && v == 15 &&
	       sample(out, "dlock_locks", &v) && v == 16,
	       "gauges and requests carry the status's values");
	tap_ok(x.nfam == 14, "14 metric families, each with HELP and TYPE (%d)",
	       x.nfam);
	ok = true;
	for (i = 0; i < (size_t)x.nfam; i++)
		ok &= !strncmp(x.fam[i].name, "dlock_", 6);
	tap_ok(ok, "every metric is prefixed dlock_");
	tap_ok(strstr(out, "dlock_info{version=\"0.1.0\"} 1\n") != NULL,
	       "dlock_info carries the version as a label");
	check_python(out);
	free(out);

	snprintf(st.version, sizeof(st.version), "a\"b\\c\nd");
	out = render(metrics_prometheus, &st);
	tap_ok(expo_check(&x, out) &&
	       strstr(out, "dlock_info{version=\"a\\\"b\\\\c\\nd\"} 1\n"),
	       "a version with a quote, backslash and newline is escaped%s%s",
	       x.err[0] ? ": " : "", x.err);
	free(out);

	st.has_counters = 0;
	out = render(metrics_prometheus, &st);
	tap_ok(expo_check(&x, out) && !strstr(out, "_grants_total") &&
	       !strstr(out, "dlock_locks") && strstr(out, "dlock_leases 11\n"),
	       "a module without counters: valid, without them%s%s",
	       x.err[0] ? ": " : "", x.err);
	free(out);
	st.has_counters = 1;

	for (i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++)
		tap_ok(!expo_check(&x, bad_inputs[i][0]),
		       "the checker refuses %s (%s)", bad_inputs[i][1], x.err);

	text = render(metrics_status_text, &st);
	tap_ok(strstr(text, "locks: 16\ngrants: 1001\nreleases: 1002\n"
			    "owner_died: 1003\nexpired: 1004\nbreaks: 1005\n"
			    "waits: 1006\nwait_timeouts: 1007\n"
			    "deadlocks: 18446744073709551615\n") == text,
	       "status text lists locks and every counter:\n%s", text);
	free(text);
	text = render(metrics_status_json, &st);
	tap_ok(!strcmp(text, ",\"locks\":16,\"counters\":{\"grants\":1001,"
			     "\"releases\":1002,\"owner_died\":1003,"
			     "\"expired\":1004,\"breaks\":1005,\"waits\":1006,"
			     "\"wait_timeouts\":1007,"
			     "\"deadlocks\":18446744073709551615}"),
	       "status JSON has locks and a counters object: %s", text);
	free(text);
	st.has_counters = 0;
	text = render(metrics_status_text, &st);
	tap_ok(!*text, "status of a module without counters adds nothing");
	free(text);
	return tap_done();
}
