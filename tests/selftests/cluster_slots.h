/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cluster's client slots (docs/protocol.md R8a, docs/cluster.md,
 * Limits), for cluster_test.c: the core's idempotence table has 4096 slots
 * for clients holding or waiting for something, cluster-wide, and a node
 * lets one local uid's clients take at most a sixteenth of them, so one
 * user cannot lock every other client of the cluster out (EUSERS).
 */
#ifndef DLOCK_CLUSTER_SLOTS_H
#define DLOCK_CLUSTER_SLOTS_H

#define USER_CLIENTS	256	/* DLOCK_CL_USER_CLIENTS: 4096 / 16 */

struct slots_view {
	int taken;		/* clients whose lock was granted */
	int refused_at;		/* the first client refused, or -1 */
	int error;		/* its error */
	char extack[256];
	int again;		/* its error once another one released */
};

static const char *slot_name(int k)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "%s.%d", lname("clslot"), k);
	return buf;
}

/*
 * In a child on node @n as uid 1000: USER_CLIENTS + 1 sockets each try a
 * lock of their own; then the first releases and the last tries again.
 * Holds them until @hold is readable; exiting closes every socket.
 */
static pid_t slots_child(struct node *n, struct slots_view *v, int ready,
			 int hold)
{
	pid_t pid = fork();
	struct client *cl;
	struct result res;
	int k;
	char b;

	if (pid)
		return pid;
	cl = calloc(USER_CLIENTS + 1, sizeof(*cl));
	enter(n);
	if (!cl || setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000))
		_exit(3);
	v->refused_at = -1;
	for (k = 0; k <= USER_CLIENTS; k++) {
		if (client_open(&cl[k]) || cl_try(&cl[k], slot_name(k), &res))
			_exit(4);
		if (!res.error) {
			v->taken++;
		} else if (v->refused_at < 0) {
			v->refused_at = k;
			v->error = res.error;
			memcpy(v->extack, res.extack, sizeof(v->extack));
		}
	}
	if (cl_release(&cl[0], slot_name(0), &res) ||
	    cl_try(&cl[USER_CLIENTS], slot_name(USER_CLIENTS), &res))
		_exit(5);
	v->again = res.error;
	if (write(ready, "r", 1) != 1 || read(hold, &b, 1) < 0)
		_exit(6);
	_exit(0);
}

/* Another uid's client on node @n: the error of its try of @name. */
static int slots_other_user(struct node *n, const char *name)
{
	pid_t pid = fork();
	struct client c;
	struct result res;
	int status;

	if (!pid) {
		enter(n);
		if (setresgid(1001, 1001, 1001) ||
		    setresuid(1001, 1001, 1001) || client_open(&c) ||
		    cl_try(&c, name, &res))
			_exit(100);
		_exit(res.error);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void test_user_clients(int A, int B)
{
	struct slots_view *v = mmap(NULL, sizeof(*v), PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int rd[2], hold[2], status, err;
	struct result res;
	pid_t pid;
	bool ok;
	char b;

	if (v == MAP_FAILED || pipe(rd) || pipe(hold))
		die("test_user_clients");
	memset(v, 0, sizeof(*v));
	pid = slots_child(&nodes[A], v, rd[1], hold[0]);
	ok = read(rd[0], &b, 1) == 1;
	tap_ok(ok && v->taken == USER_CLIENTS &&
	       v->refused_at == USER_CLIENTS && v->error == EDQUOT &&
	       strstr(v->extack, "this user's clients"),
	       "uid 1000's sockets on node %u: %d take a lock each, the next is refused (refused at %d, error %d \"%s\")",
	       nodes[A].id, v->taken, v->refused_at, v->error, v->extack);
	tap_ok(ok && v->again == 0,
	       "once one of them released, the refused socket takes its lock (error %d)",
	       v->again);
	err = slots_other_user(&nodes[A], lname("clslot-1001"));
	tap_ok(err == 0,
	       "meanwhile uid 1001's socket on the same node takes a lock (error %d)",
	       err);
	if (write(hold[1], "h", 1) != 1 || waitpid(pid, &status, 0) != pid)
		die("test_user_clients: child");
	err = lock_retry(&nodes[B].cl, slot_name(1), 20000, &res);
	tap_ok(WIFEXITED(status) && !WEXITSTATUS(status) && !err,
	       "uid 1000's sockets closed: their locks are free on node %u (status %d, error %d)",
	       nodes[B].id, status, res.error);
	cl_release(&nodes[B].cl, slot_name(1), &res);
	munmap(v, sizeof(*v));
	close(rd[0]);
	close(rd[1]);
	close(hold[0]);
	close(hold[1]);
}

#endif /* DLOCK_CLUSTER_SLOTS_H */
