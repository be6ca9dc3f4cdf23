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
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
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

/*
 * Opens a handle and sets @c (NULL: leave) with the keys of @conf (NULL:
 * none); returns the exit code.
 */
static int set_cluster(const struct dlock_cluster *c,
		       const struct cluster_conf *conf)
{
	int n = conf ? conf->n_keys : 0;
	struct dlock *d;
	int err;

	err = open_or_explain(&d);
	if (err)
		return err;
	err = dlock_set_cluster_sealed(d, c, conf ? conf->cluster_id : 0,
				       n ? conf->key[0] : NULL,
				       n > 1 ? conf->key[1] : NULL);
	if (err)
		err = cluster_failed(d, err);
	dlock_close(d);
	return err;
}

/* The state, and with @auth its keys' fingerprints and seal drops. */
static int get_cluster(struct dlock_cluster **c, struct dlock_cluster_auth **auth)
{
	struct dlock *d;
	int err;

	err = open_or_explain(&d);
	if (err)
		return err;
	err = dlock_get_cluster(d, c);
	if (!err && auth) {
		err = dlock_get_cluster_auth(d, auth);
		if (err)
			dlock_cluster_free(*c);
	}
	if (err)
		err = cluster_failed(d, err);
	dlock_close(d);
	return err;
}

int cmd_setconf(int argc, char **argv)
{
	struct cluster_conf conf;
	const char *path, *slash;
	char msg[512], dir[PATH_MAX];
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
	/* a relative KeyFile is relative to the file's directory */
	slash = strrchr(path, '/');
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
			 (int)(slash - path), path);
	err = cluster_conf_parse(f, f == stdin ? "(stdin)" : path,
				 f == stdin ? NULL : slash ? dir : ".", &conf,
				 msg, sizeof(msg));
	if (f != stdin)
		fclose(f);
	if (err) {
		fprintf(stderr, "%s: %s\n", prog, msg);
		/* Nothing was sent: a bad file is a bad argument. */
		return err == -1 ? EXIT_USAGE : EXIT_FAILED;
	}
	err = set_cluster(conf.c.id ? &conf.c : NULL, &conf);
	cluster_conf_wipe(&conf);
	return err;
}

int cmd_showconf(int argc, char **argv)
{
	struct dlock_cluster_auth *auth;
	struct dlock_cluster *c;
	int err;

	if (argc > 1)
		return usage_error("unexpected argument '%s'", argv[1]);
	if (json)
		return usage_error("prints the configuration file; -j does not apply");
	err = get_cluster(&c, &auth);
	if (err)
		return err;
	cluster_conf_print(stdout, c, auth);
	dlock_cluster_free(c);
	dlock_cluster_auth_free(auth);
	return 0;
}

static const char *const seal_drop_names[] = {
	[DLOCK_SEAL_DROP_LEN] = "bad length",
	[DLOCK_SEAL_DROP_VERSION] = "not sealed",
	[DLOCK_SEAL_DROP_CLUSTER] = "wrong cluster",
	[DLOCK_SEAL_DROP_RECEIVER] = "wrong receiver",
	[DLOCK_SEAL_DROP_SENDER] = "unknown sender",
	[DLOCK_SEAL_DROP_KEY] = "unknown key",
	[DLOCK_SEAL_DROP_EPOCH] = "old epoch",
	[DLOCK_SEAL_DROP_TOO_OLD] = "too old",
	[DLOCK_SEAL_DROP_REPLAY] = "replay",
	[DLOCK_SEAL_DROP_RATE] = "rate limited",
	[DLOCK_SEAL_DROP_AUTH] = "auth failed",
};

static const struct dlock_cluster_peer_auth *
peer_auth(const struct dlock_cluster_auth *a, uint32_t id)
{
	size_t i;

	for (i = 0; a && i < a->n_peers; i++)
		if (a->peers[i].id == id)
			return &a->peers[i];
	return NULL;
}

static void print_fp(const uint8_t *fp)
{
	int i;

	for (i = 0; i < DLOCK_CLUSTER_KEY_FP_LEN; i++)
		printf("%02x", fp[i]);
}

static void print_json(const struct dlock_cluster *c,
		       const struct dlock_cluster_auth *a)
{
	const struct dlock_cluster_peer_auth *pa;
	char ep[CLUSTER_ENDPOINT_LEN];
	size_t i;
	int k, r, n;

	printf("{\"id\":%u,\"role\":\"%s\",", c->id, cluster_role_name(c->role));
	if (c->leader)
		printf("\"leader\":%u,", c->leader);
	else
		printf("\"leader\":null,");
	printf("\"term\":%" PRIu64 ",\"commit\":%" PRIu64 ",\"stray\":%" PRIu64 ",",
	       c->term, c->commit, c->stray);
	printf("\"authenticated\":%s,\"cluster_id\":%u,\"key_fingerprints\":[",
	       a->n_keys ? "true" : "false", a->cluster_id);
	for (k = 0; k < a->n_keys; k++) {
		printf("%s\"", k ? "," : "");
		print_fp(a->key_fp[k]);
		printf("\"");
	}
	printf("],\"peers\":[");
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
		       PRIu64, p->tx, p->rx, p->dropped);
		pa = peer_auth(a, p->id);
		if (pa) {
			printf(",\"seal_drops\":{");
			for (r = 1, n = 0; r <= DLOCK_SEAL_DROP_MAX; r++)
				if (pa->drops[r])
					printf("%s\"%s\":%" PRIu64, n++ ? "," : "",
					       seal_drop_names[r], pa->drops[r]);
			printf("}");
		}
		printf("}");
	}
	printf("]}\n");
}

static void print_text(const struct dlock_cluster *c,
		       const struct dlock_cluster_auth *a)
{
	const struct dlock_cluster_peer_auth *pa;
	char ep[CLUSTER_ENDPOINT_LEN];
	size_t i;
	int k, r;

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
	if (!a->n_keys)
		printf("authentication: NONE: no cluster key, whoever reaches port %u can speak for a node\n",
		       c->listen.port);
	for (k = 0; k < a->n_keys; k++) {
		printf("%s: fingerprint ", k ? "key 2 (accepted)" : "key");
		print_fp(a->key_fp[k]);
		printf("\n");
	}
	if (a->cluster_id)
		printf("cluster id: %u\n", a->cluster_id);
	else if (a->n_keys)
		printf("cluster id: none (0)\n");
	printf("datagrams from no peer's address: %" PRIu64 " dropped\n",
	       c->stray);
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
		pa = peer_auth(a, p->id);
		for (r = 1; pa && r <= DLOCK_SEAL_DROP_MAX; r++)
			if (pa->drops[r])
				printf("  dropped, %s: %" PRIu64 "\n",
				       seal_drop_names[r], pa->drops[r]);
	}
}

/* 32 random bytes in base64, a key for Key = or a KeyFile. */
static int cluster_genkey(void)
{
	uint8_t key[DLOCK_CLUSTER_KEY_LEN];
	char out[4 * ((DLOCK_CLUSTER_KEY_LEN + 2) / 3) + 1];

	if (getrandom(key, sizeof(key), 0) != sizeof(key)) {
		fprintf(stderr, "%s: %s: getrandom: %s\n", prog, cmdname,
			strerror(errno));
		return EXIT_FAILED;
	}
	cluster_base64(key, sizeof(key), out);
	explicit_bzero(key, sizeof(key));
	printf("%s\n", out);
	explicit_bzero(out, sizeof(out));
	return 0;
}

int cmd_cluster(int argc, char **argv)
{
	struct dlock_cluster_auth *a;
	struct dlock_cluster *c;
	int err;

	if (argc > 1 && strcmp(argv[1], "leave") && strcmp(argv[1], "genkey"))
		return usage_error("unknown argument '%s' (show with no argument, leave with 'leave', a new key with 'genkey')",
				   argv[1]);
	if (argc > 2)
		return usage_error("unexpected argument '%s'", argv[2]);
	if (argc > 1 && !strcmp(argv[1], "genkey"))
		return cluster_genkey();
	if (argc > 1)
		return set_cluster(NULL, NULL);
	err = get_cluster(&c, &a);
	if (err)
		return err;
	if (json)
		print_json(c, a);
	else
		print_text(c, a);
	dlock_cluster_free(c);
	dlock_cluster_auth_free(a);
	return 0;
}
