// SPDX-License-Identifier: GPL-2.0
/*
 * Case 8's floor (issue 14): what an acquire on a follower cannot beat.
 * The client's request is one generic-netlink round trip to its node; the
 * node forwards it to the leader, the leader replicates it to a majority
 * and the node learns the answer: two UDP round trips between namespaces.
 * So the goal is an acquire p50 at most (netlink RT + 2 x UDP RT) x 1.1,
 * both round trips measured here, in the same guest and round as the
 * acquire, with the same sizes of message:
 *
 *   netlink  CTRL_CMD_GETFAMILY("dlock") on a raw socket (case 7's bare)
 *   UDP      a 160-byte datagram to `dlock-bench --udp-echo PORT` running
 *            in the leader's namespace, and its echo back (a forwarded
 *            ACQUIRE and an APPEND of one entry are 100-200 bytes)
 *
 * The UDP round trip is user space to user space, two process wake-ups a
 * way; dlock's nodes talk from kernel work items, so the floor is if
 * anything generous to dlock's costs, never to its figures.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench.h"

#define UDP_PAYLOAD 160

/* Runs until killed: every datagram goes back to where it came from. */
int udp_echo(const char *port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	char buf[2048];
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	sa.sin6_port = htons(atoi(port));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "dlock-bench: udp echo on port %s: %m\n", port);
		return 1;
	}
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0,
				     (struct sockaddr *)&from, &fl);

		if (n >= 0)
			sendto(fd, buf, n, 0, (struct sockaddr *)&from, fl);
		else if (errno != EINTR)
			return 1;
	}
}

/* A connected UDP socket to ADDR:PORT (IPv4), or -1 with @err set. */
static int udp_connect(const char *peer, char *err, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 1 };
	char host[64];
	const char *colon = strrchr(peer, ':');
	int fd;

	if (!colon || colon - peer >= (int)sizeof(host)) {
		snprintf(err, len, "--udp-peer %s: not ADDR:PORT", peer);
		return -1;
	}
	memcpy(host, peer, colon - peer);
	host[colon - peer] = 0;
	sa.sin_port = htons(atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, len, "--udp-peer %s: not an IPv4 address", peer);
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		snprintf(err, len, "udp socket to %s: %s", peer, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * One UDP round trip; the echo of an earlier datagram that timed out is
 * skipped by its sequence number.  0, or -1 with @err set.
 */
static int udp_rt(int fd, uint32_t seq, char *err, size_t len)
{
	char out[UDP_PAYLOAD] = { 0 }, in[UDP_PAYLOAD];
	uint32_t got;

	memcpy(out, &seq, sizeof(seq));
	if (send(fd, out, sizeof(out), 0) != sizeof(out)) {
		snprintf(err, len, "udp send: %s", strerror(errno));
		return -1;
	}
	do {
		ssize_t n = recv(fd, in, sizeof(in), 0);

		if (n < (ssize_t)sizeof(got)) {
			snprintf(err, len, "udp echo: %s",
				 n < 0 ? strerror(errno) : "short datagram");
			return -1;
		}
		memcpy(&got, in, sizeof(got));
	} while (got != seq);
	return 0;
}

/*
 * @n round trips of each kind, interleaved one by one (netlink, UDP,
 * netlink, ...) so that load falls on both alike; their p50 and p99 go
 * into @r.  The first few of each warm the paths up and are not counted.
 */
void rtt_floor(struct result *r, const char *peer, long n)
{
	uint64_t *nl = calloc(n, sizeof(uint64_t)), *udp = calloc(n, sizeof(uint64_t));
	char err[160] = "";
	struct nl_bare *b = NULL;
	int fd = udp_connect(peer, err, sizeof(err));

	if (fd < 0 || !nl || !udp)
		goto fail;
	b = nl_bare_open(err, sizeof(err));
	if (!b)
		goto fail;
	for (long i = -5; i < n; i++) {
		uint64_t t0 = now_ns(), t1, t2;

		if (nl_bare_rt(b, err, sizeof(err)))
			goto fail;
		t1 = now_ns();
		if (udp_rt(fd, (uint32_t)(i + 5), err, sizeof(err)))
			goto fail;
		t2 = now_ns();
		if (i >= 0) {
			nl[i] = t1 - t0;
			udp[i] = t2 - t1;
		}
	}
	qsort(nl, n, sizeof(uint64_t), cmp_u64);
	qsort(udp, n, sizeof(uint64_t), cmp_u64);
	kv(r, "nl_rt_p50_us", pct_us(nl, n, 50));
	kv(r, "nl_rt_p99_us", pct_us(nl, n, 99));
	kv(r, "udp_rt_p50_us", pct_us(udp, n, 50));
	kv(r, "udp_rt_p99_us", pct_us(udp, n, 99));
	kv(r, "rt_samples", n);
	goto out;
fail:
	fail(r, "floor: %s", err[0] ? err : "out of memory");
out:
	nl_bare_close(b);
	if (fd >= 0)
		close(fd);
	free(nl);
	free(udp);
}
