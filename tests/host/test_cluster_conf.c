// SPDX-License-Identifier: GPL-2.0
/*
 * The cluster configuration file of dlockctl setconf/showconf
 * (userspace/dlockctl/cluster_conf.c): valid files give the configuration
 * they say, every kind of invalid file is refused with its file, line and
 * reason (the exact message dlockctl prints after "dlockctl: "), and what
 * showconf prints reads back as the same configuration.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster_conf.h"
#include "tap.h"

static int parse_len(const char *text, size_t len, struct cluster_conf *conf,
		     char *err, size_t errlen)
{
	FILE *f = fmemopen((void *)text, len, "r");
	int ret;

	if (!f) {
		snprintf(err, errlen, "fmemopen failed");
		return -3;
	}
	ret = cluster_conf_parse(f, "cluster.conf", NULL, conf, err, errlen);
	fclose(f);
	return ret;
}

static int parse(const char *text, struct cluster_conf *conf, char *err,
		 size_t errlen)
{
	return parse_len(text, strlen(text), conf, err, errlen);
}

/* @text (@len bytes) is refused with exactly "cluster.conf:" @want. */
static void bad_len(const char *what, const char *text, size_t len,
		    const char *want)
{
	char err[512] = "", full[512];
	struct cluster_conf conf;
	int ret = parse_len(text, len, &conf, err, sizeof(err));

	snprintf(full, sizeof(full), "cluster.conf:%s", want);
	tap_ok(ret == -1 && !strcmp(err, full), "%s: refused with '%s' (got %d '%s')",
	       what, full, ret, err);
}

static void bad(const char *what, const char *text, const char *want)
{
	bad_len(what, text, strlen(text), want);
}

static bool addr_is(const struct dlock_cluster_addr *a, int family,
		    const char *addr, unsigned int port)
{
	unsigned char want[16] = { 0 };

	if (a->family != family || a->port != port)
		return false;
	if (family == AF_UNSPEC)
		return true;
	if (inet_pton(family, addr, want) != 1)
		return false;
	return !memcmp(a->addr, want, family == AF_INET ? 4 : 16);
}

/* A file's text on one line of TAP. */
static const char *flat(char *s)
{
	char *p;

	for (p = s; p && *p; p++)
		if (*p == '\n')
			*p = '|';
	return s ? s : "(null)";
}

static bool same(const struct dlock_cluster *a, const struct dlock_cluster *b)
{
	size_t i;

	if (a->id != b->id || a->n_peers != b->n_peers ||
	    memcmp(&a->listen, &b->listen, sizeof(a->listen)))
		return false;
	for (i = 0; i < a->n_peers; i++)
		if (a->peers[i].id != b->peers[i].id ||
		    memcmp(&a->peers[i].endpoint, &b->peers[i].endpoint,
			   sizeof(a->peers[i].endpoint)))
			return false;
	return true;
}

static void valid(void)
{
	struct cluster_conf conf;
	const struct dlock_cluster *c = &conf.c;
	char err[512] = "";
	int ret;

	ret = parse("[Cluster]\nId = 1\nListenPort = 7400\n\n"
		    "[Peer]\nId = 2\nEndpoint = 10.0.0.2:7400\n\n"
		    "[Peer]\nId = 3\nEndpoint = 10.0.0.3:7401\n", &conf, err,
		    sizeof(err));
	tap_ok(!ret && c->id == 1 && addr_is(&c->listen, AF_UNSPEC, NULL, 7400) &&
	       c->n_peers == 2 && c->peers == conf.peers &&
	       c->peers[0].id == 2 &&
	       addr_is(&c->peers[0].endpoint, AF_INET, "10.0.0.2", 7400) &&
	       c->peers[1].id == 3 &&
	       addr_is(&c->peers[1].endpoint, AF_INET, "10.0.0.3", 7401),
	       "three IPv4 nodes: ids, port, endpoints (%d %s)", ret, err);

	ret = parse("# comment\r\n; another\r\n\t [ cLuStEr ]  # this node\r\n"
		    "  iD=4;x\r\n\tlistenport\t=\t7400\t\r\n\r\n[peer]\r\n"
		    "ENDPOINT = 192.168.1.9:1 # first\r\nid = 9\r\n", &conf,
		    err, sizeof(err));
	tap_ok(!ret && c->id == 4 && c->listen.port == 7400 && c->n_peers == 1 &&
	       c->peers[0].id == 9 &&
	       addr_is(&c->peers[0].endpoint, AF_INET, "192.168.1.9", 1),
	       "case-insensitive keys and sections, comments (# ;), tabs, CRLF, keys in any order (%d %s)",
	       ret, err);

	ret = parse("[Cluster]\nId = 1\nListenPort = 7400\nListenAddress = fd00::1\n"
		    "[Peer]\nId = 2\nEndpoint = [fd00::2]:7400\n"
		    "[Peer]\nId = 3\nEndpoint = [::ffff:10.0.0.3]:65535\n",
		    &conf, err, sizeof(err));
	tap_ok(!ret && addr_is(&c->listen, AF_INET6, "fd00::1", 7400) &&
	       c->n_peers == 2 &&
	       addr_is(&c->peers[0].endpoint, AF_INET6, "fd00::2", 7400) &&
	       addr_is(&c->peers[1].endpoint, AF_INET6, "::ffff:10.0.0.3", 65535),
	       "IPv6: ListenAddress, endpoints in brackets, v4-mapped (%d %s)",
	       ret, err);

	ret = parse("[Cluster]\nId = 255\nListenPort = 65535\nListenAddress = [fd00::1]\n",
		    &conf, err, sizeof(err));
	tap_ok(!ret && c->id == 255 && c->n_peers == 0 && !c->peers &&
	       addr_is(&c->listen, AF_INET6, "fd00::1", 65535),
	       "a node alone, id 255, port 65535, ListenAddress in brackets (%d %s)",
	       ret, err);

	ret = parse("[Cluster]\nId = 1\nListenPort = 7400\nListenAddress = 10.1.1.1\n"
		    "[Peer]\nId = 2\nEndpoint = 10.1.1.2:7400\n"
		    "[Peer]\nId = 3\nEndpoint = 10.1.1.3:7400\n"
		    "[Peer]\nId = 4\nEndpoint = 10.1.1.4:7400\n"
		    "[Peer]\nId = 5\nEndpoint = 10.1.1.5:7400\n"
		    "[Peer]\nId = 6\nEndpoint = 10.1.1.6:7400\n"
		    "[Peer]\nId = 7\nEndpoint = 10.1.1.7:7400\n",
		    &conf, err, sizeof(err));
	tap_ok(!ret && c->n_peers == DLOCK_CLUSTER_NODES_MAX - 1 &&
	       c->peers[5].id == 7 &&
	       addr_is(&c->listen, AF_INET, "10.1.1.1", 7400),
	       "%u nodes, the most, with an IPv4 ListenAddress (%d %s)",
	       DLOCK_CLUSTER_NODES_MAX, ret, err);

	ret = parse("# Not in a cluster\n\n  ; nothing else\n", &conf, err, sizeof(err));
	tap_ok(!ret && c->id == 0 && c->n_peers == 0 && !c->peers,
	       "a file without [Cluster] (comments only) means leave (%d %s)",
	       ret, err);
	ret = parse("", &conf, err, sizeof(err));
	tap_ok(!ret && c->id == 0 && c->n_peers == 0, "an empty file means leave (%d %s)",
	       ret, err);
	ret = parse("# Zürich, Genève: UTF-8 in a comment\n[Cluster]\nId = 1\nListenPort = 7400\n",
		    &conf, err, sizeof(err));
	tap_ok(!ret && c->id == 1, "UTF-8 in a comment is fine (%d %s)", ret, err);
}

static void invalid(void)
{
	static const char head[] = "[Cluster]\nId = 1\nListenPort = 7400\n";
	char text[2048];

#define PEER(body) (snprintf(text, sizeof(text), "%s[Peer]\n%s", head, body), text)
	/* The brief's example: line 7 names the key and the problem. */
	bad("an endpoint without port",
	    "[Cluster]\nId = 1\nListenPort = 7400\n\n[Peer]\nId = 2\nEndpoint = 10.0.0.2\n",
	    "7: Endpoint: port missing");
	bad("an IPv6 endpoint without port",
	    PEER("Id = 2\nEndpoint = [fd00::2]\n"), "6: Endpoint: port missing");
	bad("an endpoint with ':' and no port",
	    PEER("Id = 2\nEndpoint = 10.0.0.2:\n"), "6: Endpoint: port missing");
	bad("an IPv6 endpoint without brackets",
	    PEER("Id = 2\nEndpoint = fd00::2:7400\n"),
	    "6: Endpoint: an IPv6 address goes in brackets: [ADDR]:PORT");
	bad("an endpoint with a host name",
	    PEER("Endpoint = node2.example:7400\nId = 2\n"),
	    "5: Endpoint: 'node2.example' is not an IPv4 address (names are not resolved)");
	bad("an IPv4 address in brackets",
	    PEER("Id = 2\nEndpoint = [10.0.0.2]:7400\n"),
	    "6: Endpoint: '10.0.0.2' is not an IPv6 address");
	bad("'[' without ']' in an endpoint",
	    PEER("Id = 2\nEndpoint = [fd00::2:7400\n"), "6: Endpoint: '[' without ']'");
	bad("no ':' after ']'",
	    PEER("Id = 2\nEndpoint = [fd00::2]7400\n"),
	    "6: Endpoint: expected ':PORT' after ']'");
	bad("port 0", PEER("Id = 2\nEndpoint = 10.0.0.2:0\n"),
	    "6: Endpoint: '0' is not a port (1..65535)");
	bad("port 65536", PEER("Id = 2\nEndpoint = 10.0.0.2:65536\n"),
	    "6: Endpoint: '65536' is not a port (1..65535)");
	bad("a port that is no number", PEER("Id = 2\nEndpoint = 10.0.0.2:http\n"),
	    "6: Endpoint: 'http' is not a port (1..65535)");
	bad("an IPv6 peer of a node listening on IPv4 only",
	    "[Cluster]\nId = 1\nListenPort = 7400\nListenAddress = 10.0.0.1\n"
	    "[Peer]\nId = 2\nEndpoint = [fd00::2]:7400\n",
	    "7: Endpoint: an IPv6 address, but this node listens on IPv4 only (ListenAddress, line 4)");
	bad("two peers with one endpoint",
	    PEER("Id = 2\nEndpoint = 10.0.0.2:7400\n[Peer]\nId = 3\nEndpoint = 10.0.0.2:7400\n"),
	    "9: Endpoint: 10.0.0.2:7400 is already that of the [Peer] on line 4");

	bad("two peers with one id",
	    PEER("Id = 2\nEndpoint = 10.0.0.2:7400\n\n[Peer]\nId = 2\nEndpoint = 10.0.0.3:7400\n"),
	    "9: Id: 2 is already that of the [Peer] on line 4");
	bad("this node's own id as a peer", PEER("Id = 1\nEndpoint = 10.0.0.2:7400\n"),
	    "5: Id: 1 is this node's own id ([Cluster], line 1)");
	bad("node id 0", "[Cluster]\nId = 0\nListenPort = 7400\n",
	    "2: Id: '0' is not a node id (1..255)");
	bad("node id 256", PEER("Id = 256\n"), "5: Id: '256' is not a node id (1..255)");
	bad("a negative node id", "[Cluster]\nId = -1\n",
	    "2: Id: '-1' is not a node id (1..255)");
	bad("a node id that is no number", "[Cluster]\nId = one\n",
	    "2: Id: 'one' is not a node id (1..255)");
	bad("a huge node id", "[Cluster]\nId = 99999999999999999999\n",
	    "2: Id: '9999999999999999' is not a node id (1..255)");
	bad("ListenPort 0", "[Cluster]\nId = 1\nListenPort = 0\n",
	    "3: ListenPort: '0' is not a port (1..65535)");
	bad("ListenPort 70000", "[Cluster]\nListenPort = 70000\nId = 1\n",
	    "2: ListenPort: '70000' is not a port (1..65535)");
	bad("a ListenAddress that is no address",
	    "[Cluster]\nId = 1\nListenPort = 7400\nListenAddress = 10.0.0.256\n",
	    "4: ListenAddress: '10.0.0.256' is not an IPv4 or IPv6 address (names are not resolved)");

	snprintf(text, sizeof(text), "%s", head);
	for (int i = 2; i <= 8; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "[Peer]\nId = %d\nEndpoint = 10.0.0.%d:7400\n", i, i);
	bad("8 nodes", text,
	    "22: more than 7 nodes: [Cluster] and 6 [Peer] sections at most");

	bad("an unknown key in [Cluster]", "[Cluster]\nId = 1\nPrivateKey = x\n",
	    "3: unknown key 'PrivateKey' in [Cluster]");
	bad("an unknown key in [Peer]", PEER("Id = 2\nAllowedIPs = 10.0.0.0/8\n"),
	    "6: unknown key 'AllowedIPs' in [Peer]");
	bad("Endpoint in [Cluster]", "[Cluster]\nId = 1\nEndpoint = 10.0.0.1:7400\n",
	    "3: Endpoint belongs in [Peer], not in [Cluster]");
	bad("ListenPort in [Peer]", PEER("Id = 2\nListenPort = 7400\n"),
	    "6: ListenPort belongs in [Cluster], not in [Peer]");
	bad("an unknown section", "[Interface]\nId = 1\n",
	    "1: unknown section '[Interface]' (there are [Cluster] and [Peer])");
	bad("[Peer] before [Cluster]",
	    "# peers first\n[Peer]\nId = 2\nEndpoint = 10.0.0.2:7400\n[Cluster]\nId = 1\nListenPort = 7400\n",
	    "2: [Peer] before [Cluster]");
	bad("a second [Cluster]", "[Cluster]\nId = 1\nListenPort = 7400\n\n[Cluster]\n",
	    "5: a second [Cluster] (the first is on line 1)");
	bad("a key before any section", "\nId = 1\n[Cluster]\n",
	    "2: 'Id' outside a section ([Cluster] comes first)");
	bad("[Cluster] without Id", "[Cluster]\nListenPort = 7400\n[Peer]\n",
	    "1: [Cluster] has no Id");
	bad("[Cluster] without ListenPort, at the end of the file",
	    "# x\n[Cluster]\nId = 1\n", "2: [Cluster] has no ListenPort");
	bad("[Peer] without Endpoint, before another [Peer]",
	    PEER("Id = 2\n\n[Peer]\nId = 3\nEndpoint = 10.0.0.3:7400\n"),
	    "4: [Peer] has no Endpoint");
	bad("[Peer] without Id, at the end of the file",
	    PEER("Endpoint = 10.0.0.3:7400\n"), "4: [Peer] has no Id");
	bad("a key given twice", "[Cluster]\nId = 1\nListenPort = 7400\nid = 2\n",
	    "4: Id given twice in this [Cluster] (first on line 2)");
	bad("a key without value", "[Cluster]\nId =   # none\n", "2: Id: no value");
	bad("a line that is neither", "[Cluster]\nId 1\n",
	    "2: expected 'Key = Value' or a [Section], got 'Id 1'");
	bad("'=' without a key", "[Cluster]\n = 1\n", "2: '=' without a key");
	bad("a section without ']'", "[Cluster\n", "1: '[' without ']'");
	bad("text after ']'", "[Cluster] Id = 1\n", "1: text after the section's ']'");
	bad("a control character", "[Cluster]\nId = 1\x1b[2K\n",
	    "2: a control character (byte 0x1b)");
	{
		static const char nul[] = "[Cluster]\nId = 1\nListenPort = 74\0""00\n";

		bad_len("a NUL byte", nul, sizeof(nul) - 1,
			"3: a control character (byte 0x00)");
	}
	bad("a non-ASCII byte outside a comment", "[Cluster]\nId = \xc2\xb9\n",
	    "2: a byte that is not ASCII outside a comment");
#undef PEER
}

/* showconf's output parses back to the same configuration, and prints the same. */
static void round_trip(const char *what, const char *text)
{
	struct cluster_conf a, b;
	char err[512] = "", *out1 = NULL, *out2 = NULL;
	size_t len1 = 0, len2 = 0;
	FILE *f;
	int ret;

	ret = parse(text, &a, err, sizeof(err));
	f = open_memstream(&out1, &len1);
	cluster_conf_print(f, &a.c, NULL);
	fclose(f);
	if (!ret)
		ret = parse(out1, &b, err, sizeof(err));
	f = open_memstream(&out2, &len2);
	if (!ret)
		cluster_conf_print(f, &b.c, NULL);
	fclose(f);
	ret = !ret && same(&a.c, &b.c) && !strcmp(out1, out2);
	tap_ok(ret,
	       "round trip, %s: printed, parsed back the same (%s; printed: %s)",
	       what, err, flat(out1));
	free(out1);
	free(out2);
}

static void printing(void)
{
	struct cluster_conf a;
	char err[512], *out = NULL;
	size_t len = 0;
	FILE *f;
	bool ok;

	parse("[cluster]\nid=3\nlistenport=7400\nlistenaddress=[FD00::0:3]\n"
	      "[peer]\nid=1\nendpoint=[FD00::1]:7401\n[peer]\nid=2\nendpoint=10.0.0.2:7402\n",
	      &a, err, sizeof(err));
	f = open_memstream(&out, &len);
	cluster_conf_print(f, &a.c, NULL);
	fclose(f);
	ok = !strcmp(out, "[Cluster]\nId = 3\nListenPort = 7400\nListenAddress = fd00::3\n"
		     "\n[Peer]\nId = 1\nEndpoint = [fd00::1]:7401\n"
		     "\n[Peer]\nId = 2\nEndpoint = 10.0.0.2:7402\n");
	tap_ok(ok,
	       "showconf prints canonical names, IPv6 in brackets and compressed (got %s)",
	       flat(out));
	free(out);
}

/* Key, KeyFile, Key2, Key2File (issue 15). */
static void keys_test(void)
{
	static const uint8_t want[DLOCK_CLUSTER_KEY_LEN] = {
		0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
		0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13,
		0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
		0xfe, 0xff };
	struct dlock_cluster_auth auth = { .n_keys = 1,
		.key_fp = { { 0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3 } } };
	char b64[45], text[512], err[512], path[] = "/tmp/dlock-keyXXXXXX";
	struct cluster_conf a;
	char *out = NULL;
	size_t len = 0;
	FILE *f;
	int fd, ret;

	cluster_base64(want, sizeof(want), b64);
	tap_ok(!strcmp(b64, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd/v8="),
	       "base64 of a key (got %s)", b64);
	snprintf(text, sizeof(text), "[Cluster]\nId = 1\nListenPort = 7400\nKey = %s\n"
		 "Key2 = %s\n", b64, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	ret = parse(text, &a, err, sizeof(err));
	tap_ok(!ret && a.n_keys == 2 && !memcmp(a.key[0], want, sizeof(want)) &&
	       a.key[1][0] == 0 && a.key[1][31] == 0,
	       "Key and Key2 parsed (ret %d '%s')", ret, err);
	cluster_conf_wipe(&a);
	tap_ok(!a.key[0][1] && !a.key[0][31], "cluster_conf_wipe() zeroes them");
	b64[42] = '9';	/* low bits of the last group set: not 32 bytes */
	snprintf(text, sizeof(text), "[Cluster]\nId = 1\nListenPort = 7400\nKey = %s\n", b64);
	bad("a key whose last character has bits beyond 32 bytes", text,
	    "4: Key: not a key (base64 of 32 bytes, as 'dlockctl cluster genkey' prints)");
	bad("Key2 without Key", "[Cluster]\nId = 1\nListenPort = 7400\nKey2 = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	    "4: Key2 without Key (the key this node sends with)");
	bad("Key in [Peer]", "[Cluster]\nId = 1\nListenPort = 7400\n[Peer]\nId = 2\n"
	    "Key = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	    "6: Key belongs in [Cluster], not in [Peer]");

	fd = mkstemp(path);
	cluster_base64(want, sizeof(want), b64);
	dprintf(fd, "  %s\n", b64);
	close(fd);
	snprintf(text, sizeof(text), "[Cluster]\nId = 1\nListenPort = 7400\nKeyFile = %s\n", path);
	chmod(path, 0640);
	ret = parse(text, &a, err, sizeof(err));
	tap_ok(!ret && a.n_keys == 1 && !memcmp(a.key[0], want, sizeof(want)),
	       "KeyFile of mode 0640 read (ret %d '%s')", ret, err);
	chmod(path, 0604);
	ret = parse(text, &a, err, sizeof(err));
	tap_ok(ret == -1 && strstr(err, "readable or writable by every user (mode 0604)") &&
	       !a.n_keys && !a.key[0][1],
	       "KeyFile readable by everyone refused, nothing kept ('%s')", err);
	/* a relative KeyFile: relative to the directory given (the file's) */
	chmod(path, 0600);
	snprintf(text, sizeof(text), "[Cluster]\nId = 1\nListenPort = 7400\nKeyFile = %s\n",
		 strrchr(path, '/') + 1);
	f = fmemopen(text, strlen(text), "r");
	ret = cluster_conf_parse(f, "cluster.conf", "/tmp", &a, err, sizeof(err));
	fclose(f);
	tap_ok(!ret && a.n_keys == 1 && !memcmp(a.key[0], want, sizeof(want)),
	       "a relative KeyFile is read from the configuration file's directory (ret %d '%s')",
	       ret, err);
	f = fmemopen(text, strlen(text), "r");
	ret = cluster_conf_parse(f, "cluster.conf", "/nonexistent-dir", &a, err,
				 sizeof(err));
	fclose(f);
	tap_ok(ret == -1 && strstr(err, "/nonexistent-dir/dlock-key") &&
	       strstr(err, "No such file"),
	       "... and not from anywhere else; the message names the path tried ('%s')",
	       err);
	unlink(path);

	/* ClusterId */
	snprintf(text, sizeof(text), "[Cluster]\nId = 1\nListenPort = 7400\nKey = %s\n"
		 "ClusterId = 4294967295\n", b64);
	ret = parse(text, &a, err, sizeof(err));
	tap_ok(!ret && a.cluster_id == 4294967295u && a.n_keys == 1,
	       "ClusterId parsed, up to 2^32 - 1 (ret %d '%s')", ret, err);
	ret = parse("[Cluster]\nId = 1\nListenPort = 7400\n", &a, err, sizeof(err));
	tap_ok(!ret && a.cluster_id == 0, "no ClusterId: 0 (none)");
	ret = parse("[Cluster]\nId = 1\nListenPort = 7400\nclusterid = 0\n", &a, err,
		    sizeof(err));
	tap_ok(!ret && a.cluster_id == 0, "ClusterId = 0 without a key: none, taken");
	snprintf(text, sizeof(text), "[Cluster]\nId = 1\nListenPort = 7400\nKey = %s\n"
		 "ClusterId = 4294967296\n", b64);
	bad("ClusterId above 2^32 - 1", text,
	    "5: ClusterId: '4294967296' is not a cluster id (0..4294967295)");
	bad("ClusterId not a number",
	    "[Cluster]\nId = 1\nListenPort = 7400\nClusterId = -1\n",
	    "4: ClusterId: '-1' is not a cluster id (0..4294967295)");
	bad("ClusterId without a key",
	    "[Cluster]\nId = 1\nListenPort = 7400\nClusterId = 7\n",
	    "4: ClusterId without Key: only sealed datagrams carry a cluster id");
	bad("ClusterId in [Peer]",
	    "[Cluster]\nId = 1\nListenPort = 7400\n[Peer]\nId = 2\nClusterId = 7\n",
	    "6: ClusterId belongs in [Cluster], not in [Peer]");

	f = open_memstream(&out, &len);
	parse("[Cluster]\nId = 1\nListenPort = 7400\n", &a, err, sizeof(err));
	cluster_conf_print(f, &a.c, &auth);
	fclose(f);
	ret = strstr(out, "# Key = (set, never shown; fingerprint deadbeef00010203)\n") != NULL &&
	      !strstr(out, "ClusterId");
	tap_ok(ret, "showconf names the key by fingerprint, in a comment, no ClusterId for none (got %s)",
	       flat(out));
	free(out);
	auth.cluster_id = 77;
	f = open_memstream(&out, &len);
	cluster_conf_print(f, &a.c, &auth);
	fclose(f);
	ret = strstr(out, "ListenPort = 7400\nClusterId = 77\n") != NULL;
	tap_ok(ret, "showconf prints ClusterId (got %s)", flat(out));
	free(out);
}

int main(void)
{
	keys_test();
	valid();
	invalid();
	printing();
	round_trip("IPv4, every address",
		   "[Cluster]\nId = 1\nListenPort = 7400\n[Peer]\nId = 2\nEndpoint = 10.0.0.2:7400\n"
		   "[Peer]\nId = 3\nEndpoint = 10.0.0.3:7400\n");
	round_trip("IPv6 ListenAddress and peers",
		   "[Cluster]\nId = 7\nListenPort = 1\nListenAddress = fd00::7\n"
		   "[Peer]\nId = 255\nEndpoint = [fd00::ff]:65535\n");
	round_trip("IPv4 ListenAddress, six peers",
		   "[Cluster]\nId = 1\nListenPort = 7400\nListenAddress = 10.1.1.1\n"
		   "[Peer]\nId = 2\nEndpoint = 10.1.1.2:7400\n[Peer]\nId = 3\nEndpoint = 10.1.1.3:7400\n"
		   "[Peer]\nId = 4\nEndpoint = 10.1.1.4:7400\n[Peer]\nId = 5\nEndpoint = 10.1.1.5:7400\n"
		   "[Peer]\nId = 6\nEndpoint = 10.1.1.6:7400\n[Peer]\nId = 7\nEndpoint = 10.1.1.7:7400\n");
	round_trip("mixed IPv4 and IPv6 peers",
		   "[Cluster]\nId = 2\nListenPort = 7400\n[Peer]\nId = 1\nEndpoint = [::1]:7401\n"
		   "[Peer]\nId = 3\nEndpoint = 127.0.0.1:7403\n");
	round_trip("not in a cluster", "# nothing\n");
	return tap_done();
}
