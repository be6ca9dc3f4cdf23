// SPDX-License-Identifier: GPL-2.0
/*
 * dlockctl setconf, showconf, cluster: this namespace as a node of a
 * cluster, configured in the style of wg(8) (the file: cluster_conf.c).
 * setconf reads and checks the whole file before it opens the module, so
 * that a file refused sends nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cluster_conf.h"
#include "dlockctl.h"
#include "output.h"

const char *cluster_role_name(enum dlock_role role)
{
	switch (role) {
	case DLOCK_ROLE_NONE:
		return "none";
	case DLOCK_ROLE_RECOVERING:
		return "recovering";
	case DLOCK_ROLE_FOLLOWER:
		return "follower";
	case DLOCK_ROLE_CANDIDATE:
		return "candidate";
	case DLOCK_ROLE_LEADER:
		return "leader";
	}
	return "unknown";
}

/* Like request_failed(), and says plainly what EOPNOTSUPP means here. */
static int cluster_failed(struct dlock *d, int err)
{
	if (err == -EOPNOTSUPP) {
		fprintf(stderr, "%s: %s: this dlock module has no cluster support\n",
			prog, cmdname);
		return EXIT_FAILED;
	}
	return request_failed(d, cmdname, err);
}

/* Opens a handle and sets @c (NULL: leave); returns the exit code. */
static int set_cluster(const struct dlock_cluster *c)
{
	struct dlock *d;
	int err;

	err = open_or_explain(&d);
	if (err)
		return err;
	err = dlock_set_cluster(d, c);
	if (err)
		err = cluster_failed(d, err);
	dlock_close(d);
	return err;
}

static int get_cluster(struct dlock_cluster **c)
{
	struct dlock *d;
	int err;

	err = open_or_explain(&d);
	if (err)
		return err;
	err = dlock_get_cluster(d, c);
	if (err)
		err = cluster_failed(d, err);
	dlock_close(d);
	return err;
}

int cmd_setconf(int argc, char **argv)
{
	struct cluster_conf conf;
	const char *path;
	char msg[512];
	FILE *f;
	int err;

	if (argc < 2)
		return usage_error("missing FILE (- for standard input)");
	if (argc > 2)
		return usage_error("unexpected argument '%s'", argv[2]);
	path = argv[1];
	if (path[0] == '-' && path[1])
		return usage_error("unknown option '%s' (a file named so: ./%s)",
				   path, path);
	f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return EXIT_FAILED;
	}
	err = cluster_conf_parse(f, f == stdin ? "(stdin)" : path, &conf, msg,
				 sizeof(msg));
	if (f != stdin)
		fclose(f);
	if (err) {
		fprintf(stderr, "%s: %s\n", prog, msg);
		/* Nothing was sent: a bad file is a bad argument. */
		return err == -1 ? EXIT_USAGE : EXIT_FAILED;
	}
	return set_cluster(conf.c.id ? &conf.c : NULL);
}

int cmd_showconf(int argc, char **argv)
{
	struct dlock_cluster *c;
	int err;

	if (argc > 1)
		return usage_error("unexpected argument '%s'", argv[1]);
	if (json)
		return usage_error("prints the configuration file; -j does not apply");
	err = get_cluster(&c);
	if (err)
		return err;
	cluster_conf_print(stdout, c);
	dlock_cluster_free(c);
	return 0;
}

static void print_json(const struct dlock_cluster *c)
{
	char ep[CLUSTER_ENDPOINT_LEN];
	size_t i;

	printf("{\"id\":%u,\"role\":\"%s\",", c->id, cluster_role_name(c->role));
	if (c->leader)
		printf("\"leader\":%u,", c->leader);
	else
		printf("\"leader\":null,");
	printf("\"term\":%" PRIu64 ",\"commit\":%" PRIu64 ",\"peers\":[",
	       c->term, c->commit);
	for (i = 0; i < c->n_peers; i++) {
		const struct dlock_cluster_peer *p = &c->peers[i];

		printf("%s{\"id\":%u,\"endpoint\":\"%s\",\"last_contact_ms\":",
		       i ? "," : "", p->id,
		       cluster_format_endpoint(&p->endpoint, ep));
		if (p->last_contact_ms < 0)
			printf("null");
		else
			printf("%" PRId64, p->last_contact_ms);
		if (p->lag < 0)
			printf(",\"lag\":null");
		else
			printf(",\"lag\":%" PRId64, p->lag);
		printf(",\"tx\":%" PRIu64 ",\"rx\":%" PRIu64 ",\"dropped\":%"
		       PRIu64 "}", p->tx, p->rx, p->dropped);
	}
	printf("]}\n");
}

static void print_text(const struct dlock_cluster *c)
{
	char ep[CLUSTER_ENDPOINT_LEN];
	size_t i;

	printf("role: %s\n", cluster_role_name(c->role));
	if (!c->id)
		return;
	printf("id: %u\n", c->id);
	if (c->leader)
		printf("leader: %u\n", c->leader);
	else
		printf("leader: none known\n");
	printf("term: %" PRIu64 "\ncommit: %" PRIu64 "\n", c->term, c->commit);
	if (c->listen.family == AF_UNSPEC)
		printf("listen: port %u, every address\n", c->listen.port);
	else
		printf("listen: %s\n", cluster_format_endpoint(&c->listen, ep));
	for (i = 0; i < c->n_peers; i++) {
		const struct dlock_cluster_peer *p = &c->peers[i];

		printf("peer %u: %s\n", p->id,
		       cluster_format_endpoint(&p->endpoint, ep));
		if (p->last_contact_ms < 0)
			printf("  last contact: never\n");
		else
			printf("  last contact: %" PRId64 "ms ago\n",
			       p->last_contact_ms);
		if (p->lag >= 0)
			printf("  lag: %" PRId64 " entries\n", p->lag);
		printf("  datagrams: %" PRIu64 " sent, %" PRIu64
		       " received, %" PRIu64 " dropped\n",
		       p->tx, p->rx, p->dropped);
	}
}

int cmd_cluster(int argc, char **argv)
{
	struct dlock_cluster *c;
	int err;

	if (argc > 1 && strcmp(argv[1], "leave"))
		return usage_error("unknown argument '%s' (show with no argument, leave with 'leave')",
				   argv[1]);
	if (argc > 2)
		return usage_error("unexpected argument '%s'", argv[2]);
	if (argc > 1)
		return set_cluster(NULL);
	err = get_cluster(&c);
	if (err)
		return err;
	if (json)
		print_json(c);
	else
		print_text(c);
	dlock_cluster_free(c);
	return 0;
}
