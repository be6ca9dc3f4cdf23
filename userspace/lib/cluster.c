// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libdlock: a namespace's cluster configuration and state
 * (DLOCK_CMD_SET_CLUSTER, DLOCK_CMD_GET_CLUSTER).
 *
 * The library checks what it can before sending, with a message as the
 * kernel's extended ack would give one, so that a caller gets the same kind
 * of explanation from dlock_strerror() whoever refused; the kernel checks
 * everything again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

/* Refuses the request before sending it, with @fmt as its message. */
static int __attribute__((format(printf, 2, 3)))
dlock_refuse(struct dlock *d, const char *fmt, ...)
{
	va_list ap;

	d->err = EINVAL;
	va_start(ap, fmt);
	vsnprintf(d->errmsg, sizeof(d->errmsg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static size_t dlock_addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static int dlock_check_cluster(struct dlock *d, const struct dlock_cluster *c)
{
	size_t i, j;

	if (c->id < 1 || c->id > DLOCK_CLUSTER_ID_MAX)
		return dlock_refuse(d, "node id %u out of range (1..%u)", c->id,
				    DLOCK_CLUSTER_ID_MAX);
	if (!c->listen.port)
		return dlock_refuse(d, "listen port 0");
	if (c->listen.family != AF_UNSPEC && !dlock_addr_len(c->listen.family))
		return dlock_refuse(d, "listen address: family %d is neither AF_INET nor AF_INET6",
				    c->listen.family);
	if (c->n_peers >= DLOCK_CLUSTER_NODES_MAX)
		return dlock_refuse(d, "%zu peers: a cluster has at most %u nodes",
				    c->n_peers, DLOCK_CLUSTER_NODES_MAX);
	if (c->n_peers && !c->peers)
		return dlock_refuse(d, "%zu peers but no peers array", c->n_peers);
	for (i = 0; i < c->n_peers; i++) {
		const struct dlock_cluster_peer *p = &c->peers[i];

		if (p->id < 1 || p->id > DLOCK_CLUSTER_ID_MAX)
			return dlock_refuse(d, "peer %zu: node id %u out of range (1..%u)",
					    i, p->id, DLOCK_CLUSTER_ID_MAX);
		if (p->id == c->id)
			return dlock_refuse(d, "peer %zu: node id %u is this node's",
					    i, p->id);
		for (j = 0; j < i; j++)
			if (c->peers[j].id == p->id)
				return dlock_refuse(d, "peers %zu and %zu: both node id %u",
						    j, i, p->id);
		if (!dlock_addr_len(p->endpoint.family))
			return dlock_refuse(d, "peer %u: endpoint family %d is neither AF_INET nor AF_INET6",
					    p->id, p->endpoint.family);
		if (!p->endpoint.port)
			return dlock_refuse(d, "peer %u: endpoint port 0", p->id);
	}
	return 0;
}

static int dlock_put_cluster(struct nl_msg *msg, const struct dlock_cluster *c,
			     uint32_t cluster_id, const uint8_t *key,
			     const uint8_t *key2)
{
	struct nlattr *nest;
	size_t i;

	if (nla_put_u32(msg, DLOCK_A_CLUSTER_ID, c->id) ||
	    nla_put_u16(msg, DLOCK_A_CLUSTER_PORT, c->listen.port))
		return -ENOMEM;
	if (c->listen.family != AF_UNSPEC &&
	    nla_put(msg, DLOCK_A_CLUSTER_ADDR, dlock_addr_len(c->listen.family),
		    c->listen.addr))
		return -ENOMEM;
	for (i = 0; i < c->n_peers; i++) {
		const struct dlock_cluster_peer *p = &c->peers[i];

		nest = nla_nest_start(msg, DLOCK_A_CLUSTER_PEER);
		if (!nest ||
		    nla_put_u32(msg, DLOCK_P_ID, p->id) ||
		    nla_put(msg, DLOCK_P_ADDR, dlock_addr_len(p->endpoint.family),
			    p->endpoint.addr) ||
		    nla_put_u16(msg, DLOCK_P_PORT, p->endpoint.port))
			return -ENOMEM;
		nla_nest_end(msg, nest);
	}
	if (key && nla_put(msg, DLOCK_A_CLUSTER_KEY, DLOCK_CLUSTER_KEY_LEN, key))
		return -ENOMEM;
	if (key2 && nla_put(msg, DLOCK_A_CLUSTER_KEY2, DLOCK_CLUSTER_KEY_LEN, key2))
		return -ENOMEM;
	/* absent when 0: a module without cluster ids still takes the rest */
	if (cluster_id && nla_put_u32(msg, DLOCK_A_CLUSTER_CLUSTER_ID, cluster_id))
		return -ENOMEM;
	return 0;
}

/* ---- the reply -------------------------------------------------------- */

/* Is @a there with exactly @len bytes?  The replies are parsed without a
 * policy: a wrong size must not make nla_get_*() read past it. */
static bool dlock_has(const struct nlattr *a, int len)
{
	return a && nla_len(a) == len;
}

static int dlock_get_addr(const struct nlattr *a, struct dlock_cluster_addr *out)
{
	out->family = nla_len(a) == 4 ? AF_INET : nla_len(a) == 16 ? AF_INET6 : 0;
	if (!out->family)
		return -EBADMSG;
	memcpy(out->addr, nla_data(a), nla_len(a));
	return 0;
}

static int dlock_parse_peer(struct nlattr *nest, struct dlock_cluster_peer *p)
{
	struct nlattr *tb[DLOCK_P_MAX + 1];
	int err;

	if (nla_parse_nested(tb, DLOCK_P_MAX, nest, NULL) < 0)
		return -EBADMSG;
	if (!dlock_has(tb[DLOCK_P_ID], 4) || !tb[DLOCK_P_ADDR] ||
	    !dlock_has(tb[DLOCK_P_PORT], 2))
		return -EBADMSG;
	memset(p, 0, sizeof(*p));
	p->id = nla_get_u32(tb[DLOCK_P_ID]);
	err = dlock_get_addr(tb[DLOCK_P_ADDR], &p->endpoint);
	if (err)
		return err;
	p->endpoint.port = nla_get_u16(tb[DLOCK_P_PORT]);
	p->last_contact_ms = -1;
	if (dlock_has(tb[DLOCK_P_LAST_CONTACT_MS], 8))
		p->last_contact_ms = (int64_t)nla_get_u64(tb[DLOCK_P_LAST_CONTACT_MS]);
	p->lag = -1;
	if (dlock_has(tb[DLOCK_P_LAG], 8))
		p->lag = (int64_t)nla_get_u64(tb[DLOCK_P_LAG]);
	if (dlock_has(tb[DLOCK_P_TX], 8))
		p->tx = nla_get_u64(tb[DLOCK_P_TX]);
	if (dlock_has(tb[DLOCK_P_RX], 8))
		p->rx = nla_get_u64(tb[DLOCK_P_RX]);
	if (dlock_has(tb[DLOCK_P_DROPPED], 8))
		p->dropped = nla_get_u64(tb[DLOCK_P_DROPPED]);
	return 0;
}

/* Fills the struct dlock_cluster **arg from a GET_CLUSTER reply. */
static int dlock_parse_cluster(struct nlattr **tb, struct nlmsghdr *nlh,
			       void *arg)
{
	struct genlmsghdr *gh = nlmsg_data(nlh);
	struct dlock_cluster **out = arg, *c;
	struct nlattr *a;
	size_t n = 0;
	int rem, err;

	if (*out || !dlock_has(tb[DLOCK_A_CLUSTER_ROLE], 1))
		return -EBADMSG;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->role = nla_get_u8(tb[DLOCK_A_CLUSTER_ROLE]);
	*out = c;
	if (c->role == DLOCK_ROLE_NONE)
		return 0;
	if (!dlock_has(tb[DLOCK_A_CLUSTER_ID], 4) ||
	    !dlock_has(tb[DLOCK_A_CLUSTER_PORT], 2))
		return -EBADMSG;
	c->id = nla_get_u32(tb[DLOCK_A_CLUSTER_ID]);
	c->listen.port = nla_get_u16(tb[DLOCK_A_CLUSTER_PORT]);
	c->listen.family = AF_UNSPEC;
	if (tb[DLOCK_A_CLUSTER_ADDR]) {
		err = dlock_get_addr(tb[DLOCK_A_CLUSTER_ADDR], &c->listen);
		if (err)
			return err;
	}
	if (dlock_has(tb[DLOCK_A_CLUSTER_LEADER], 4))
		c->leader = nla_get_u32(tb[DLOCK_A_CLUSTER_LEADER]);
	if (dlock_has(tb[DLOCK_A_CLUSTER_TERM], 8))
		c->term = nla_get_u64(tb[DLOCK_A_CLUSTER_TERM]);
	if (dlock_has(tb[DLOCK_A_CLUSTER_COMMIT], 8))
		c->commit = nla_get_u64(tb[DLOCK_A_CLUSTER_COMMIT]);
	if (dlock_has(tb[DLOCK_A_CLUSTER_STRAY], 8))
		c->stray = nla_get_u64(tb[DLOCK_A_CLUSTER_STRAY]);
	/* tb keeps only the last peer: walk the message for all of them. */
	nla_for_each_attr(a, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0), rem)
		n += nla_type(a) == DLOCK_A_CLUSTER_PEER;
	if (!n)
		return 0;
	c->peers = calloc(n, sizeof(*c->peers));
	if (!c->peers)
		return -ENOMEM;
	nla_for_each_attr(a, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0), rem) {
		if (nla_type(a) != DLOCK_A_CLUSTER_PEER)
			continue;
		err = dlock_parse_peer(a, &c->peers[c->n_peers]);
		if (err)
			return err;
		c->n_peers++;
	}
	return 0;
}

static int dlock_cluster_cmd(struct dlock *d, uint8_t cmd,
			     const struct dlock_cluster *set,
			     uint32_t cluster_id, const uint8_t *key,
			     const uint8_t *key2, struct dlock_cluster **out)
{
	struct nl_msg *msg;
	int err;

	*out = NULL;
	msg = dlock_msg(d, cmd, 0);
	if (!msg)
		return -ENOMEM;
	if (set && set->id) {
		err = dlock_put_cluster(msg, set, cluster_id, key, key2);
		if (err) {
			nlmsg_free(msg);
			return err;
		}
	}
	err = dlock_transact(d, msg, dlock_parse_cluster, out);
	if (err == 0)
		err = -EBADMSG;		/* no reply came */
	if (err < 0) {
		dlock_cluster_free(*out);
		*out = NULL;
		return err;
	}
	return 0;
}

int dlock_set_cluster_sealed(struct dlock *d, const struct dlock_cluster *cluster,
			     uint32_t cluster_id, const uint8_t *key,
			     const uint8_t *key2)
{
	struct dlock_cluster *now;
	int err = 0;

	dlock_lock(d);
	d->err = 0;
	d->errmsg[0] = '\0';
	if (cluster && cluster->id)
		err = dlock_check_cluster(d, cluster);
	if (!err && key2 && !key)
		err = dlock_refuse(d, "a second key needs a first one (the key this node sends with)");
	if (!err && key && !(cluster && cluster->id))
		err = dlock_refuse(d, "a key without a node id (leaving takes nothing else)");
	if (!err && cluster_id && !key)
		err = dlock_refuse(d, "a cluster id needs a cluster key: only sealed datagrams carry it");
	if (!err)
		err = dlock_cluster_cmd(d, DLOCK_CMD_SET_CLUSTER, cluster,
					cluster_id, key, key2, &now);
	dlock_unlock(d);
	if (!err)
		dlock_cluster_free(now);
	return err;
}

int dlock_set_cluster_keyed(struct dlock *d, const struct dlock_cluster *cluster,
			    const uint8_t *key, const uint8_t *key2)
{
	return dlock_set_cluster_sealed(d, cluster, 0, key, key2);
}

int dlock_set_cluster(struct dlock *d, const struct dlock_cluster *cluster)
{
	return dlock_set_cluster_keyed(d, cluster, NULL, NULL);
}

int dlock_get_cluster(struct dlock *d, struct dlock_cluster **out)
{
	int err;

	dlock_lock(d);
	err = dlock_cluster_cmd(d, DLOCK_CMD_GET_CLUSTER, NULL, 0, NULL, NULL,
				out);
	dlock_unlock(d);
	return err;
}

void dlock_cluster_free(struct dlock_cluster *cluster)
{
	if (!cluster)
		return;
	free(cluster->peers);
	free(cluster);
}

/* ---- keys and seal drops (LIBDLOCK_1.2) ------------------------------- */

static int dlock_parse_peer_auth(struct nlattr *nest,
				 struct dlock_cluster_peer_auth *p)
{
	struct nlattr *tb[DLOCK_P_MAX + 1], *a;
	int rem;

	if (nla_parse_nested(tb, DLOCK_P_MAX, nest, NULL) < 0 ||
	    !dlock_has(tb[DLOCK_P_ID], 4))
		return -EBADMSG;
	memset(p, 0, sizeof(*p));
	p->id = nla_get_u32(tb[DLOCK_P_ID]);
	if (!tb[DLOCK_P_SEAL_DROPS])
		return 0;
	nla_for_each_nested(a, tb[DLOCK_P_SEAL_DROPS], rem) {
		int t = nla_type(a);

		if (t >= 1 && t < 16 && dlock_has(a, 8))
			p->drops[t] = nla_get_u64(a);
	}
	return 0;
}

/* Fills the struct dlock_cluster_auth **arg from a GET_CLUSTER reply. */
static int dlock_parse_auth(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	struct genlmsghdr *gh = nlmsg_data(nlh);
	struct dlock_cluster_auth **out = arg, *c;
	struct nlattr *a;
	size_t n = 0;
	int rem, k, err;

	if (*out)
		return -EBADMSG;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	*out = c;
	if (dlock_has(tb[DLOCK_A_CLUSTER_CLUSTER_ID], 4))
		c->cluster_id = nla_get_u32(tb[DLOCK_A_CLUSTER_CLUSTER_ID]);
	for (k = 0; k < 2; k++) {
		a = tb[k ? DLOCK_A_CLUSTER_KEY2_FP : DLOCK_A_CLUSTER_KEY_FP];
		if (!dlock_has(a, DLOCK_CLUSTER_KEY_FP_LEN))
			break;
		memcpy(c->key_fp[k], nla_data(a), DLOCK_CLUSTER_KEY_FP_LEN);
		c->n_keys++;
	}
	if (!c->n_keys)
		return 0;
	nla_for_each_attr(a, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0), rem)
		n += nla_type(a) == DLOCK_A_CLUSTER_PEER;
	if (!n)
		return 0;
	c->peers = calloc(n, sizeof(*c->peers));
	if (!c->peers)
		return -ENOMEM;
	nla_for_each_attr(a, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0), rem) {
		if (nla_type(a) != DLOCK_A_CLUSTER_PEER)
			continue;
		err = dlock_parse_peer_auth(a, &c->peers[c->n_peers]);
		if (err)
			return err;
		c->n_peers++;
	}
	return 0;
}

int dlock_get_cluster_auth(struct dlock *d, struct dlock_cluster_auth **out)
{
	struct nl_msg *msg;
	int err;

	*out = NULL;
	dlock_lock(d);
	msg = dlock_msg(d, DLOCK_CMD_GET_CLUSTER, 0);
	err = msg ? dlock_transact(d, msg, dlock_parse_auth, out) : -ENOMEM;
	dlock_unlock(d);
	if (err == 0)
		err = -EBADMSG;		/* no reply came */
	if (err < 0) {
		dlock_cluster_auth_free(*out);
		*out = NULL;
		return err;
	}
	return 0;
}

void dlock_cluster_auth_free(struct dlock_cluster_auth *auth)
{
	if (!auth)
		return;
	free(auth->peers);
	free(auth);
}
