/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cluster configuration file of `dlockctl setconf` and `showconf`, in
 * the style of wg(8)'s: a [Cluster] section (this node) and one [Peer]
 * section per other node.  dlockctl(8) describes the format.  It lives in
 * dlockctl, not libdlock: the file is a command-line interface, and the
 * library's callers hand it a struct dlock_cluster (as wg's embeddable
 * library takes a struct, not a file).
 */
#ifndef DLOCKCTL_CLUSTER_CONF_H
#define DLOCKCTL_CLUSTER_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "dlock.h"

/* A parsed file: no allocation, peers point into it. */
struct cluster_conf {
	struct dlock_cluster c;		/* id 0: no [Cluster], leave */
	struct dlock_cluster_peer peers[DLOCK_CLUSTER_NODES_MAX - 1];
	/* Key/KeyFile, Key2/Key2File; wipe with cluster_conf_wipe() */
	int n_keys;
	uint8_t key[2][DLOCK_CLUSTER_KEY_LEN];
	uint32_t cluster_id;		/* ClusterId, 0: none */
};

/* Wipes the keys of @conf (explicit_bzero). */
void cluster_conf_wipe(struct cluster_conf *conf);

/*
 * Reads the whole of @f, named @fname in messages, into @conf (which it
 * sets up; c.peers points into it).  A relative KeyFile/Key2File is taken
 * relative to @dir, the file's directory (NULL: the working directory, as
 * for standard input).  Return: 0; -1 with "FNAME:LINE: what is wrong" in
 * @err (@errlen bytes), the file refused as a whole; or -2 with "FNAME:
 * why" when it could not be read.
 */
int cluster_conf_parse(FILE *f, const char *fname, const char *dir,
		       struct cluster_conf *conf, char *err, size_t errlen);

/*
 * Writes @c as a file that cluster_conf_parse() reads back the same, but
 * for the keys, which it never has: with @auth (NULL: not known) a comment
 * says whether the node has a key and gives its fingerprint, and its
 * cluster id is written (ClusterId, when not 0).
 */
void cluster_conf_print(FILE *f, const struct dlock_cluster *c,
			const struct dlock_cluster_auth *auth);

/* Base64 of @n bytes (out: 4 * ((n + 2) / 3) + 1 bytes). */
void cluster_base64(const uint8_t *in, size_t n, char *out);
/* A key's base64 (44 characters) into @key; false when it is not one. */
bool cluster_parse_key(const char *s, uint8_t *key);

/*
 * ADDR:PORT, an IPv6 address in brackets ([fd00::2]:7400), into @a.
 * Return: NULL, or what is wrong with it.
 */
const char *cluster_parse_endpoint(const char *s, struct dlock_cluster_addr *a);

/* @a as ADDR:PORT ([ADDR]:PORT for IPv6); @buf of CLUSTER_ENDPOINT_LEN. */
#define CLUSTER_ENDPOINT_LEN	(46 + 2 + 6 + 1)
const char *cluster_format_endpoint(const struct dlock_cluster_addr *a,
				    char *buf);
/* The address alone, without brackets or port. */
const char *cluster_format_addr(const struct dlock_cluster_addr *a, char *buf);

#endif /* DLOCKCTL_CLUSTER_CONF_H */
