// SPDX-License-Identifier: GPL-2.0
/* The simulator's event trace, printed with a violation (sim_int.h). */
#define DL_ASSERT_OWN_HANDLER
#include <stdarg.h>
#include "sim_int.h"

void trace(u8 kind, int node, u64 a, u64 b, u64 c)
{
	struct trace *t = &S.tr[S.tr_n++ % TRACE_N];

	t->t = S.now;
	t->kind = kind;
	t->node = (u8)node;
	t->a = a;
	t->b = b;
	t->c = c;
}

static const char *const msg_name[] = { "?", "VOTE_REQ", "VOTE_RESP", "APPEND",
	"APPEND_RESP", "SNAP", "FORWARD", "RECOVER_REQ", "RECOVER_RESP" };
static const char *const op_name[] = { "NOOP", "EPOCH", "ACQUIRE", "RELEASE",
	"RENEW", "EXPIRE", "SESSION_END", "CANCEL", "BREAK", "SET_VALUE",
	"CLIENT_END", "BARRIER" };
const char *const role_name[] = { "recovering", "follower", "candidate",
	"leader" };

void trace_dump(void)
{
	u64 keep = min((u64)TRACE_N, trace_lines);
	u64 i = S.tr_n > keep ? S.tr_n - keep : 0;

	printf("# trace of seed %llu (last %llu events)\n",
	       (unsigned long long)S.seed, (unsigned long long)(S.tr_n - i));
	for (; i < S.tr_n; i++) {
		struct trace *t = &S.tr[i % TRACE_N];

		printf("#  %10.6f n%u ", t->t / 1e9, t->node);
		switch (t->kind) {
		case TR_SEND:
			printf("send %s -> n%llu term %llu\n",
			       msg_name[t->a < 9 ? t->a : 0],
			       (unsigned long long)t->b, (unsigned long long)t->c);
			break;
		case TR_RECV:
			printf("recv %s from n%llu term %llu\n",
			       msg_name[t->a < 9 ? t->a : 0],
			       (unsigned long long)t->b, (unsigned long long)t->c);
			break;
		case TR_DROP:
			printf("drop %s -> n%llu\n", msg_name[t->a < 9 ? t->a : 0],
			       (unsigned long long)t->b);
			break;
		case TR_REQ:
			printf("client %llu request %s lock %llu\n",
			       (unsigned long long)t->a, op_name[(t->b >> 32) % REPL_OP__MAX],
			       (unsigned long long)(t->b & 0xffffffff));
			break;
		case TR_REPLY:
			printf("client %llu reply status %lld token %llx\n",
			       (unsigned long long)t->a, (long long)(s64)t->b,
			       (unsigned long long)t->c);
			break;
		case TR_CRASH:
			printf("CRASH%s\n", t->a ? " (whole cluster)" : "");
			break;
		case TR_BOOT:
			printf("boot #%llu\n", (unsigned long long)t->a);
			break;
		case TR_PART:
			printf("partition %s n%llu -x-> n%llu\n",
			       t->c ? "one-way" : "", (unsigned long long)t->a,
			       (unsigned long long)t->b);
			break;
		case TR_HEAL:
			printf("heal\n");
			break;
		case TR_ROLE:
			printf("role %s term %llu commit %llu\n",
			       role_name[t->a & 3], (unsigned long long)t->b,
			       (unsigned long long)t->c);
			break;
		case TR_CCRASH:
			printf("client %llu crashed\n", (unsigned long long)t->a);
			break;
		case TR_APPLY:
			printf("applied %s lock %llu client %llu at %llu: %d\n",
			       op_name[(t->b >> 32) % REPL_OP__MAX],
			       (unsigned long long)(t->b & 0xffffffff),
			       (unsigned long long)(t->c >> 32),
			       (unsigned long long)t->a, (int)(s32)t->c);
			break;
		case TR_WDONE:
			printf("client %llu wait answer status %lld token %llx\n",
			       (unsigned long long)t->a, (long long)(s64)t->b,
			       (unsigned long long)t->c);
			break;
		default:
			printf("VIOLATION\n");
			break;
		}
	}
}

void violate(const char *fmt, ...)
{
	va_list ap;

	if (S.violation)
		return;
	va_start(ap, fmt);
	vsnprintf(S.vbuf, sizeof(S.vbuf), fmt, ap);
	va_end(ap);
	S.violation = S.vbuf;
	trace(TR_VIOL, 0, 0, 0, 0);
}

/* The core's own DL_ASSERT()s: a failed one is a violation of this seed. */
void dl_assert_failed(const char *expr, const char *file, int line)
{
	violate("DL_ASSERT(%s) failed at %s:%d", expr, file, line);
}
