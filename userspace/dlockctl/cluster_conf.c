// SPDX-License-Identifier: GPL-2.0
/*
 * The cluster configuration file (dlockctl setconf, showconf).  A file is
 * taken whole or not at all: the first problem ends the parse, with the
 * file and line in the message, before anything is sent to the kernel.
 * Keys and section names are case-insensitive and whitespace around them
 * does not matter, as in wg(8); '#' and ';' start a comment anywhere.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster_conf.h"

enum section { SECT_NONE, SECT_CLUSTER, SECT_PEER };

enum key {
	KEY_ID, KEY_LISTEN_PORT, KEY_LISTEN_ADDRESS, KEY_ENDPOINT,
	KEY_KEY, KEY_KEY_FILE, KEY_KEY2, KEY_KEY2_FILE, KEY_CLUSTER_ID, NKEYS
};

static const struct {
	const char *name;
	enum section sect;	/* SECT_NONE: both */
	bool required;
} keys[NKEYS] = {
	[KEY_ID] = { "Id", SECT_NONE, true },
	[KEY_LISTEN_PORT] = { "ListenPort", SECT_CLUSTER, true },
	[KEY_LISTEN_ADDRESS] = { "ListenAddress", SECT_CLUSTER, false },
	[KEY_ENDPOINT] = { "Endpoint", SECT_PEER, true },
	[KEY_KEY] = { "Key", SECT_CLUSTER, false },
	[KEY_KEY_FILE] = { "KeyFile", SECT_CLUSTER, false },
	[KEY_KEY2] = { "Key2", SECT_CLUSTER, false },
	[KEY_KEY2_FILE] = { "Key2File", SECT_CLUSTER, false },
	[KEY_CLUSTER_ID] = { "ClusterId", SECT_CLUSTER, false },
};

struct parser {
	const char *fname;
	const char *dir;		/* of relative key files; NULL: cwd */
	unsigned int line;
	char *err;
	size_t errlen;
	struct cluster_conf *conf;
	enum section sect;
	unsigned int sect_line;		/* the current section's header */
	unsigned int seen[NKEYS];	/* line of each key in it, 0: none */
	unsigned int cluster_line;	/* [Cluster]'s header, 0: none yet */
	unsigned int listen_addr_line;
	unsigned int peer_line[DLOCK_CLUSTER_NODES_MAX - 1];
	unsigned int cluster_seen[NKEYS];	/* seen[] of [Cluster] */
};

static const char *sect_name(enum section s)
{
	return s == SECT_CLUSTER ? "[Cluster]" : "[Peer]";
}

static int __attribute__((format(printf, 2, 3)))
fail(struct parser *p, const char *fmt, ...)
{
	size_t len;
	va_list ap;

	len = snprintf(p->err, p->errlen, "%s:%u: ", p->fname, p->line);
	if (len >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + len, p->errlen - len, fmt, ap);
	va_end(ap);
	return -1;
}

/* A decimal number from @lo to @hi, digits only. */
static bool parse_num(const char *s, unsigned long lo, unsigned long hi,
		      unsigned long *out)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 10)
		return false;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return v >= lo && v <= hi;
}

/* An address without port: IPv4, or IPv6 with or without brackets. */
static bool parse_addr(const char *s, struct dlock_cluster_addr *a)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t len = strlen(s);

	if (len >= sizeof(buf))
		return false;
	if (s[0] == '[' && len > 2 && s[len - 1] == ']') {
		memcpy(buf, s + 1, len - 2);
		buf[len - 2] = '\0';
		a->family = AF_INET6;
		return inet_pton(AF_INET6, buf, a->addr) == 1;
	}
	a->family = AF_INET;
	if (inet_pton(AF_INET, s, a->addr) == 1)
		return true;
	a->family = AF_INET6;
	return inet_pton(AF_INET6, s, a->addr) == 1;
}

const char *cluster_parse_endpoint(const char *s, struct dlock_cluster_addr *a)
{
	static char why[128];
	char host[INET6_ADDRSTRLEN + 1];
	const char *port, *colon;
	unsigned long v;
	size_t len;

	memset(a, 0, sizeof(*a));
	if (s[0] == '[') {
		colon = strchr(s, ']');
		if (!colon)
			return "'[' without ']'";
		len = colon - s - 1;
		if (colon[1] == '\0')
			return "port missing";
		if (colon[1] != ':')
			return "expected ':PORT' after ']'";
		port = colon + 2;
		a->family = AF_INET6;
	} else {
		colon = strchr(s, ':');
		if (!colon)
			return "port missing";
		if (strchr(colon + 1, ':'))
			return "an IPv6 address goes in brackets: [ADDR]:PORT";
		len = colon - s;
		port = colon + 1;
		a->family = AF_INET;
	}
	if (len >= sizeof(host) || !len) {
		snprintf(why, sizeof(why), "'%.*s' is not an %s address",
			 (int)(len > 48 ? 48 : len), s + (s[0] == '['),
			 a->family == AF_INET ? "IPv4" : "IPv6");
		return why;
	}
	memcpy(host, s + (s[0] == '['), len);
	host[len] = '\0';
	if (inet_pton(a->family, host, a->addr) != 1) {
		snprintf(why, sizeof(why), a->family == AF_INET ?
			 "'%s' is not an IPv4 address (names are not resolved)" :
			 "'%s' is not an IPv6 address", host);
		return why;
	}
	if (!*port)
		return "port missing";
	if (!parse_num(port, 1, 65535, &v)) {
		snprintf(why, sizeof(why), "'%.16s' is not a port (1..65535)",
			 port);
		return why;
	}
	a->port = v;
	return NULL;
}

const char *cluster_format_addr(const struct dlock_cluster_addr *a, char *buf)
{
	if (!inet_ntop(a->family, a->addr, buf, INET6_ADDRSTRLEN))
		strcpy(buf, "?");
	return buf;
}

const char *cluster_format_endpoint(const struct dlock_cluster_addr *a,
				    char *buf)
{
	char host[INET6_ADDRSTRLEN];

	cluster_format_addr(a, host);
	snprintf(buf, CLUSTER_ENDPOINT_LEN,
		 a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, a->port);
	return buf;
}

/* Every key a section needs is there; run when the section ends. */
static int close_section(struct parser *p)
{
	unsigned int line = p->line;
	int k;

	if (p->sect == SECT_NONE)
		return 0;
	for (k = 0; k < NKEYS; k++) {
		if (!keys[k].required || p->seen[k] ||
		    (keys[k].sect != SECT_NONE && keys[k].sect != p->sect))
			continue;
		p->line = p->sect_line;
		fail(p, "%s has no %s", sect_name(p->sect), keys[k].name);
		p->line = line;
		return -1;
	}
	return 0;
}

static int open_section(struct parser *p, const char *name)
{
	struct dlock_cluster *c = &p->conf->c;

	if (close_section(p))
		return -1;
	if (p->sect == SECT_CLUSTER)
		memcpy(p->cluster_seen, p->seen, sizeof(p->seen));
	memset(p->seen, 0, sizeof(p->seen));
	p->sect_line = p->line;
	if (!strcasecmp(name, "Cluster")) {
		if (p->cluster_line)
			return fail(p, "a second [Cluster] (the first is on line %u)",
				    p->cluster_line);
		p->sect = SECT_CLUSTER;
		p->cluster_line = p->line;
		return 0;
	}
	if (strcasecmp(name, "Peer"))
		return fail(p, "unknown section '[%s]' (there are [Cluster] and [Peer])",
			    name);
	if (!p->cluster_line)
		return fail(p, "[Peer] before [Cluster]");
	if (c->n_peers == DLOCK_CLUSTER_NODES_MAX - 1)
		return fail(p, "more than %u nodes: [Cluster] and %u [Peer] sections at most",
			    DLOCK_CLUSTER_NODES_MAX, DLOCK_CLUSTER_NODES_MAX - 1);
	p->sect = SECT_PEER;
	p->peer_line[c->n_peers] = p->line;
	memset(&p->conf->peers[c->n_peers], 0, sizeof(p->conf->peers[0]));
	c->n_peers++;
	return 0;
}

static int set_id(struct parser *p, const char *v)
{
	struct dlock_cluster *c = &p->conf->c;
	struct dlock_cluster_peer *peer;
	unsigned long id;
	size_t i;

	if (!parse_num(v, 1, DLOCK_CLUSTER_ID_MAX, &id))
		return fail(p, "Id: '%.16s' is not a node id (1..%u)", v,
			    DLOCK_CLUSTER_ID_MAX);
	if (p->sect == SECT_CLUSTER) {
		c->id = id;
		return 0;
	}
	if (id == c->id)
		return fail(p, "Id: %lu is this node's own id ([Cluster], line %u)",
			    id, p->cluster_line);
	for (i = 0; i + 1 < c->n_peers; i++)
		if (c->peers[i].id == id)
			return fail(p, "Id: %lu is already that of the [Peer] on line %u",
				    id, p->peer_line[i]);
	peer = &c->peers[c->n_peers - 1];
	peer->id = id;
	return 0;
}

static int set_endpoint(struct parser *p, const char *v)
{
	struct dlock_cluster *c = &p->conf->c;
	struct dlock_cluster_addr *a = &c->peers[c->n_peers - 1].endpoint;
	char buf[CLUSTER_ENDPOINT_LEN];
	const char *why;
	size_t i;

	why = cluster_parse_endpoint(v, a);
	if (why)
		return fail(p, "Endpoint: %s", why);
	if (c->listen.family != AF_UNSPEC && c->listen.family != a->family)
		return fail(p, "Endpoint: an %s address, but this node listens on %s only (ListenAddress, line %u)",
			    a->family == AF_INET ? "IPv4" : "IPv6",
			    c->listen.family == AF_INET ? "IPv4" : "IPv6",
			    p->listen_addr_line);
	for (i = 0; i + 1 < c->n_peers; i++)
		if (c->peers[i].endpoint.family == a->family &&
		    c->peers[i].endpoint.port == a->port &&
		    !memcmp(c->peers[i].endpoint.addr, a->addr, sizeof(a->addr)))
			return fail(p, "Endpoint: %s is already that of the [Peer] on line %u",
				    cluster_format_endpoint(a, buf),
				    p->peer_line[i]);
	return 0;
}

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void cluster_base64(const uint8_t *in, size_t n, char *out)
{
	size_t i;
	uint32_t v;

	for (i = 0; i < n; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		*out++ = b64[v >> 18 & 63];
		*out++ = b64[v >> 12 & 63];
		*out++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
		*out++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*out = '\0';
}

bool cluster_parse_key(const char *s, uint8_t *key)
{
	uint8_t out[33];
	size_t i, o = 0;
	uint32_t v = 0;
	const char *c;

	/* 32 bytes: 43 characters and one '=' */
	if (strlen(s) != 44 || s[43] != '=')
		return false;
	for (i = 0; i < 43; i++) {
		c = s[i] ? strchr(b64, s[i]) : NULL;
		if (!c)
			return false;
		v = v << 6 | (uint32_t)(c - b64);
		if (i % 4 == 3) {
			out[o++] = v >> 16;
			out[o++] = v >> 8;
			out[o++] = v;
			v = 0;
		}
	}
	/* the last group: 3 characters, 18 bits, 2 bytes; 2 low bits 0 */
	if (v & 3)
		return false;
	out[o++] = v >> 10;
	out[o++] = v >> 2;
	memcpy(key, out, DLOCK_CLUSTER_KEY_LEN);
	explicit_bzero(out, sizeof(out));
	return true;
}

void cluster_conf_wipe(struct cluster_conf *conf)
{
	explicit_bzero(conf->key, sizeof(conf->key));
}

/* A key file: no more than owner and group may read it, base64 inside. */
static int read_key_file(struct parser *p, const char *name, const char *path,
			 uint8_t *key)
{
	char buf[128], full[PATH_MAX], *s;
	struct stat st;
	ssize_t n;
	int fd, err = 0;

	/* relative to the configuration file, as wg-quick takes its files */
	if (path[0] != '/' && p->dir) {
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", p->dir,
				     path) >= sizeof(full))
			return fail(p, "%s: %.200s: path too long", name, path);
		path = full;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fail(p, "%s: %.200s: %s", name, path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(p, "%s: %.200s is not a regular file", name, path);
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		close(fd);
		return fail(p, "%s: %.200s is readable or writable by every user (mode %04o): whoever reads it can speak for this cluster; chmod o-rw it (e.g. chmod 600)",
			    name, path, (unsigned int)(st.st_mode & 07777));
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return fail(p, "%s: %.200s: %s", name, path, strerror(errno));
	buf[n] = '\0';
	s = buf;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	s[strcspn(s, " \t\r\n")] = '\0';
	if (!cluster_parse_key(s, key))
		err = fail(p, "%s: %.200s does not hold a key (base64 of %u bytes, as 'dlockctl cluster genkey' prints)",
			   name, path, DLOCK_CLUSTER_KEY_LEN);
	explicit_bzero(buf, sizeof(buf));
	return err;
}

static int set_cluster_key(struct parser *p, int k, const char *v)
{
	int slot = k == KEY_KEY || k == KEY_KEY_FILE ? 0 : 1;
	int other = k == KEY_KEY ? KEY_KEY_FILE : k == KEY_KEY_FILE ? KEY_KEY :
		    k == KEY_KEY2 ? KEY_KEY2_FILE : KEY_KEY2;

	if (p->seen[other])
		return fail(p, "%s and %s both given (line %u): one of them",
			    keys[k].name, keys[other].name, p->seen[other]);
	if (k == KEY_KEY_FILE || k == KEY_KEY2_FILE)
		return read_key_file(p, keys[k].name, v, p->conf->key[slot]);
	if (!cluster_parse_key(v, p->conf->key[slot]))
		return fail(p, "%s: not a key (base64 of %u bytes, as 'dlockctl cluster genkey' prints)",
			    keys[k].name, DLOCK_CLUSTER_KEY_LEN);
	return 0;
}

static int set_key(struct parser *p, const char *key, const char *v)
{
	struct dlock_cluster *c = &p->conf->c;
	unsigned long port;
	int k;

	for (k = 0; k < NKEYS; k++)
		if (!strcasecmp(key, keys[k].name))
			break;
	if (p->sect == SECT_NONE)
		return fail(p, "'%s' outside a section ([Cluster] comes first)",
			    key);
	if (k == NKEYS)
		return fail(p, "unknown key '%s' in %s", key, sect_name(p->sect));
	if (keys[k].sect != SECT_NONE && keys[k].sect != p->sect)
		return fail(p, "%s belongs in %s, not in %s", keys[k].name,
			    sect_name(keys[k].sect), sect_name(p->sect));
	if (p->seen[k])
		return fail(p, "%s given twice in this %s (first on line %u)",
			    keys[k].name, sect_name(p->sect), p->seen[k]);
	p->seen[k] = p->line;
	if (!*v)
		return fail(p, "%s: no value", keys[k].name);
	switch (k) {
	case KEY_ID:
		return set_id(p, v);
	case KEY_LISTEN_PORT:
		if (!parse_num(v, 1, 65535, &port))
			return fail(p, "ListenPort: '%.16s' is not a port (1..65535)", v);
		c->listen.port = port;
		return 0;
	case KEY_LISTEN_ADDRESS:
		if (!parse_addr(v, &c->listen))
			return fail(p, "ListenAddress: '%.48s' is not an IPv4 or IPv6 address (names are not resolved)",
				    v);
		p->listen_addr_line = p->line;
		return 0;
	case KEY_CLUSTER_ID:
		if (!parse_num(v, 0, UINT32_MAX, &port))
			return fail(p, "ClusterId: '%.16s' is not a cluster id (0..%u)",
				    v, UINT32_MAX);
		p->conf->cluster_id = port;
		return 0;
	case KEY_KEY:
	case KEY_KEY_FILE:
	case KEY_KEY2:
	case KEY_KEY2_FILE:
		return set_cluster_key(p, k, v);
	default:
		return set_endpoint(p, v);
	}
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

static int parse_line(struct parser *p, char *s, size_t len)
{
	char *eq, *end;
	size_t i;

	if (len && s[len - 1] == '\n')
		s[--len] = '\0';
	if (len && s[len - 1] == '\r')
		s[--len] = '\0';
	/* Nothing that could drive a terminal gets into a message. */
	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] < ' ' && s[i] != '\t') || s[i] == 0x7f)
			return fail(p, "a control character (byte 0x%02x)",
				    (unsigned char)s[i]);
	s[strcspn(s, "#;")] = '\0';
	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] >= 0x80)
			return fail(p, "a byte that is not ASCII outside a comment");
	s = trim(s);
	if (!*s)
		return 0;
	if (*s == '[') {
		end = strchr(s, ']');
		if (!end)
			return fail(p, "'[' without ']'");
		if (*trim(end + 1))
			return fail(p, "text after the section's ']'");
		*end = '\0';
		return open_section(p, trim(s + 1));
	}
	eq = strchr(s, '=');
	if (!eq)
		return fail(p, "expected 'Key = Value' or a [Section], got '%.48s'", s);
	*eq = '\0';
	if (!*trim(s))
		return fail(p, "'=' without a key");
	return set_key(p, trim(s), trim(eq + 1));
}

int cluster_conf_parse(FILE *f, const char *fname, const char *dir,
		       struct cluster_conf *conf, char *err, size_t errlen)
{
	struct parser p = {
		.fname = fname, .dir = dir, .err = err, .errlen = errlen,
		.conf = conf,
	};
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	int ret = 0;

	memset(conf, 0, sizeof(*conf));
	conf->c.peers = conf->peers;
	conf->c.listen.family = AF_UNSPEC;
	while (!ret && (len = getline(&buf, &cap, f)) >= 0) {
		p.line++;
		ret = parse_line(&p, buf, len);
	}
	free(buf);
	if (!ret && ferror(f)) {
		snprintf(err, errlen, "%s: %s", fname, strerror(errno));
		ret = -2;
	}
	if (!ret && p.sect == SECT_CLUSTER)
		memcpy(p.cluster_seen, p.seen, sizeof(p.seen));
	if (!ret)
		ret = close_section(&p);
	if (!ret) {
		conf->n_keys = p.cluster_seen[KEY_KEY] || p.cluster_seen[KEY_KEY_FILE];
		if (p.cluster_seen[KEY_KEY2] || p.cluster_seen[KEY_KEY2_FILE]) {
			if (!conf->n_keys) {
				p.line = p.cluster_seen[KEY_KEY2] ?
					 p.cluster_seen[KEY_KEY2] :
					 p.cluster_seen[KEY_KEY2_FILE];
				ret = fail(&p, "Key2 without Key (the key this node sends with)");
			}
			conf->n_keys = 2;
		}
	}
	if (!ret && conf->cluster_id && !conf->n_keys) {
		p.line = p.cluster_seen[KEY_CLUSTER_ID];
		ret = fail(&p, "ClusterId without Key: only sealed datagrams carry a cluster id");
	}
	if (ret)
		cluster_conf_wipe(conf);
	if (!ret && !conf->c.id)
		conf->c.n_peers = 0;	/* no [Cluster]: leave */
	if (!conf->c.n_peers)
		conf->c.peers = NULL;
	return ret;
}

void cluster_conf_print(FILE *f, const struct dlock_cluster *c,
			const struct dlock_cluster_auth *auth)
{
	char buf[CLUSTER_ENDPOINT_LEN];
	size_t i;
	int k;

	if (!c->id) {
		fprintf(f, "# Not in a cluster: this file, without [Cluster], leaves one.\n");
		return;
	}
	fprintf(f, "[Cluster]\nId = %u\nListenPort = %u\n", c->id,
		c->listen.port);
	if (c->listen.family != AF_UNSPEC)
		fprintf(f, "ListenAddress = %s\n",
			cluster_format_addr(&c->listen, buf));
	if (auth && auth->cluster_id)
		fprintf(f, "ClusterId = %u\n", auth->cluster_id);
	if (auth && !auth->n_keys)
		fprintf(f, "# No Key: the cluster is not authenticated.\n");
	for (k = 0; auth && k < auth->n_keys; k++) {
		fprintf(f, "# %s = (set, never shown; fingerprint ",
			k ? "Key2" : "Key");
		for (i = 0; i < DLOCK_CLUSTER_KEY_FP_LEN; i++)
			fprintf(f, "%02x", auth->key_fp[k][i]);
		fprintf(f, ")\n");
	}
	for (i = 0; i < c->n_peers; i++)
		fprintf(f, "\n[Peer]\nId = %u\nEndpoint = %s\n", c->peers[i].id,
			cluster_format_endpoint(&c->peers[i].endpoint, buf));
}
