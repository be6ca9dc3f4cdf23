// SPDX-License-Identifier: GPL-2.0
/*
 * dlock-bench's etcd client (case 8, tests/bench/cluster-bench): etcd v3's
 * lock API through its JSON gateway, over one HTTP/1.1 keep-alive
 * connection per client.  A client grants itself one lease when it connects
 * (POST /v3/lease/grant), then each acquire is POST /v3/lock/lock with the
 * lock's name and that lease (the server answers once the lock is held:
 * a blocking acquire), each release POST /v3/lock/unlock with the key the
 * lock call returned.  No library: a request is one write(), a response is
 * read up to its Content-Length (or its last chunk).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define ETCD_LEASE_TTL 600	/* s: longer than any run, no keep-alive needed */

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64(const char *in, char *out)
{
	size_t n = strlen(in), i;
	const unsigned char *s = (const unsigned char *)in;

	for (i = 0; i + 2 < n; i += 3) {
		*out++ = b64[s[i] >> 2];
		*out++ = b64[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		*out++ = b64[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
		*out++ = b64[s[i + 2] & 63];
	}
	if (n - i == 1) {
		*out++ = b64[s[i] >> 2];
		*out++ = b64[(s[i] & 3) << 4];
		*out++ = '=';
		*out++ = '=';
	} else if (n - i == 2) {
		*out++ = b64[s[i] >> 2];
		*out++ = b64[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		*out++ = b64[(s[i + 1] & 15) << 2];
		*out++ = '=';
	}
	*out = 0;
}

/* Reads more of the response into c->http; -1 on EOF or error. */
static int http_fill(struct client *c)
{
	ssize_t n;

	if (c->http_len >= sizeof(c->http) - 1) {
		snprintf(c->err, sizeof(c->err), "etcd: response too long");
		return -1;
	}
	do
		n = read(c->sock, c->http + c->http_len, sizeof(c->http) - 1 - c->http_len);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		snprintf(c->err, sizeof(c->err), "etcd: read: %s",
			 n ? strerror(errno) : "connection closed");
		return -1;
	}
	c->http_len += n;
	c->http[c->http_len] = 0;
	return 0;
}

/*
 * POST @path with @body; on success the response body is left
 * NUL-terminated in c->body.  0, or -1 with c->err set.
 */
static int http_post(struct client *c, const char *path, const char *body)
{
	char req[1024];
	int len = snprintf(req, sizeof(req),
			   "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
			   "Content-Length: %zu\r\n\r\n%s", path, opt.etcd_addr,
			   strlen(body), body);
	char *hdr_end, *p;
	size_t hdr, clen = 0;
	bool chunked;
	int status;

	if (len >= (int)sizeof(req) || write(c->sock, req, len) != len) {
		snprintf(c->err, sizeof(c->err), "etcd: write %s: %m", path);
		return -1;
	}
	c->http_len = 0;
	c->http[0] = 0;
	while (!(hdr_end = strstr(c->http, "\r\n\r\n")))
		if (http_fill(c))
			return -1;
	hdr = hdr_end + 4 - c->http;
	if (sscanf(c->http, "HTTP/1.%*d %d", &status) != 1) {
		snprintf(c->err, sizeof(c->err), "etcd: bad status line");
		return -1;
	}
	chunked = strcasestr(c->http, "\r\nTransfer-Encoding: chunked") &&
		  strcasestr(c->http, "\r\nTransfer-Encoding: chunked") < hdr_end;
	p = strcasestr(c->http, "\r\nContent-Length:");
	if (p && p < hdr_end)
		clen = strtoul(p + 17, NULL, 10);
	else if (!chunked) {
		snprintf(c->err, sizeof(c->err), "etcd: no Content-Length");
		return -1;
	}
	if (!chunked) {
		while (c->http_len < hdr + clen)
			if (http_fill(c))
				return -1;
		c->body = c->http + hdr;
		c->body[clen] = 0;
	} else {
		/*
		 * Chunks moved down in place: size CRLF data CRLF ... 0 CRLF
		 * [trailers] CRLF.  Only one request is ever in flight, so
		 * nothing follows the response.
		 */
		size_t in = hdr, out = hdr;

		for (;;) {
			char *eol;
			size_t sz;

			while (!(eol = strstr(c->http + in, "\r\n")))
				if (http_fill(c))
					return -1;
			sz = strtoul(c->http + in, NULL, 16);
			in = eol + 2 - c->http;
			if (!sz) {
				/* Trailers (gRPC's error answers have some), then CRLF. */
				while (strncmp(c->http + in, "\r\n", 2) &&
				       !strstr(c->http + in, "\r\n\r\n"))
					if (http_fill(c))
						return -1;
				break;
			}
			while (c->http_len < in + sz + 2)
				if (http_fill(c))
					return -1;
			memmove(c->http + out, c->http + in, sz);
			out += sz;
			in += sz + 2;
		}
		c->body = c->http + hdr;
		c->http[out] = 0;
	}
	if (status != 200 || strstr(c->body, "\"error\"")) {
		snprintf(c->err, sizeof(c->err), "etcd %s: HTTP %d: %.80s", path,
			 status, c->body);
		return -1;
	}
	return 0;
}

/* Copies the string value of "@key" in the JSON @body; -1 if absent. */
static int json_str(const char *body, const char *key, char *out, size_t len)
{
	char pat[32];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(body, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	e = strchr(p, '"');
	if (!e || (size_t)(e - p) >= len)
		return -1;
	memcpy(out, p, e - p);
	out[e - p] = 0;
	return 0;
}

int etcd_open(struct client *c)
{
	char host[64], *colon, body[64];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int one = 1;

	snprintf(host, sizeof(host), "%s", opt.etcd_addr ? opt.etcd_addr : "");
	colon = strrchr(host, ':');
	if (!colon) {
		snprintf(c->err, sizeof(c->err), "etcd: --etcd ADDR:PORT missing");
		return -1;
	}
	*colon = 0;
	sa.sin_port = htons(atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(c->err, sizeof(c->err), "etcd: bad address %s", host);
		return -1;
	}
	c->sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->sock < 0 || connect(c->sock, (struct sockaddr *)&sa, sizeof(sa))) {
		snprintf(c->err, sizeof(c->err), "etcd: connect %s: %m", opt.etcd_addr);
		return -1;
	}
	setsockopt(c->sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	snprintf(body, sizeof(body), "{\"TTL\":%d}", ETCD_LEASE_TTL);
	if (http_post(c, "/v3/lease/grant", body))
		return -1;
	if (json_str(c->body, "ID", c->lease, sizeof(c->lease))) {
		snprintf(c->err, sizeof(c->err), "etcd: lease grant without ID: %.80s", c->body);
		return -1;
	}
	return 0;
}

void etcd_close(struct client *c)
{
	char body[96];

	if (c->b != B_ETCD || c->sock < 0)
		return;
	if (c->lease[0]) {
		snprintf(body, sizeof(body), "{\"ID\":\"%s\"}", c->lease);
		http_post(c, "/v3/lease/revoke", body);	/* best effort */
	}
	close(c->sock);
	c->sock = -1;
}

int etcd_lock(struct client *c, int idx)
{
	char name[160], body[512];

	base64(lock_name(idx), name);
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"lease\":\"%s\"}", name, c->lease);
	if (http_post(c, "/v3/lock/lock", body))
		return -1;
	if (json_str(c->body, "key", c->key[idx], sizeof(c->key[idx]))) {
		snprintf(c->err, sizeof(c->err), "etcd: lock without key: %.80s", c->body);
		return -1;
	}
	/* The key's creation revision would be etcd's fencing token: not read. */
	return 0;
}

int etcd_unlock(struct client *c, int idx)
{
	char body[320];

	snprintf(body, sizeof(body), "{\"key\":\"%s\"}", c->key[idx]);
	return http_post(c, "/v3/lock/unlock", body);
}
