// SPDX-License-Identifier: GPL-2.0
/*
 * Escaped text and UTF-8 JSON for byte strings that other users choose.
 * A lock name reaches root's terminal through `dlockctl list`; without
 * escaping, "\033[2K\r" in it would erase the line and draw a fake one.
 */
#include <inttypes.h>
#include <string.h>

#include "output.h"

void out_text(FILE *f, const void *s, size_t len, bool word)
{
	const unsigned char *p = s;
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] == '\\')
			fputs("\\\\", f);
		else if (p[i] > ' ' && p[i] < 0x7f)
			putc(p[i], f);
		else if (p[i] == ' ' && !word)
			putc(' ', f);
		else
			fprintf(f, "\\x%02x", p[i]);
	}
}

static bool cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/* Length of the valid UTF-8 sequence at @p (1 to 4), 0 if there is none. */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;	/* a continuation byte, C0/C1 overlongs, F5-FF */
	/* The second byte's range rules out overlongs, surrogates, >10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (left < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (!cont(p[i]))
			return 0;
	return n;
}

bool out_utf8_valid(const void *s, size_t len)
{
	const unsigned char *p = s;
	size_t i, n;

	for (i = 0; i < len; i += n) {
		n = utf8_seq(p + i, len - i);
		if (!n)
			return false;
	}
	return true;
}

void out_json_str(FILE *f, const void *s, size_t len)
{
	const unsigned char *p = s;
	size_t i, n;

	putc('"', f);
	for (i = 0; i < len; i += n) {
		n = utf8_seq(p + i, len - i);
		if (!n) {
			fputs("\\ufffd", f);
			n = 1;
		} else if (p[i] == '"' || p[i] == '\\') {
			fprintf(f, "\\%c", p[i]);
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			fprintf(f, "\\u%04x", p[i]);
		} else if (p[i] == 0xc2 && p[i + 1] < 0xa0) {
			/* C1 controls: 8-bit terminals act on them too. */
			fprintf(f, "\\u%04x", p[i + 1]);
		} else {
			fwrite(p + i, 1, n, f);
		}
	}
	putc('"', f);
}

static void out_key(FILE *f, bool comma, const char *key, const char *suffix)
{
	fprintf(f, "%s\"%s%s\":", comma ? "," : "", key, suffix);
}

void out_json_member(FILE *f, bool comma, const char *key, const void *s,
		     size_t len)
{
	const unsigned char *p = s;
	size_t i;

	out_key(f, comma, key, "");
	out_json_str(f, s, len);
	if (out_utf8_valid(s, len))
		return;
	out_key(f, true, key, "_hex");
	putc('"', f);
	for (i = 0; i < len; i++)
		fprintf(f, "%02x", p[i]);
	putc('"', f);
}

void out_json_u64(FILE *f, bool comma, const char *key, uint64_t v)
{
	out_key(f, comma, key, "");
	fprintf(f, "\"%" PRIu64 "\"", v);
}

/* ---- locks and events ------------------------------------------------- */

/* Names, owners and command names are words: fields split on spaces. */
static void text(const void *s, size_t len)
{
	out_text(stdout, s, len, OUT_WORD);
}

static void json_member(bool comma, const char *key, const void *s, size_t len)
{
	out_json_member(stdout, comma, key, s, len);
}

static const char *mode_name(enum dlock_mode m)
{
	switch (m) {
	case DLOCK_MODE_EXCLUSIVE:
		return "exclusive";
	case DLOCK_MODE_SHARED:
		return "shared";
	case DLOCK_MODE_SEMAPHORE:
		return "semaphore";
	}
	return "unknown";
}

static void print_entry_json(const struct dlock_entry *e, bool holder)
{
	printf("{\"mode\":\"%s\"", mode_name(e->mode));
	if (holder) {
		out_json_u64(stdout, true, "token", e->token);
		printf(",\"count\":%u", e->count);
	} else if (!e->hidden) {
		out_json_u64(stdout, true, "cookie", e->cookie);
	}
	if (e->hidden) {
		/* Another user's: the kernel shows only who, not what or how. */
		printf(",\"uid\":%u,\"hidden\":true", e->uid);
		if (e->remaining_ms >= 0)
			printf(",\"remaining_ms\":%" PRId64, e->remaining_ms);
		putchar('}');
		return;
	}
	if (e->owner_len) {
		json_member(true, "owner", e->owner, e->owner_len);
	} else {
		out_json_u64(stdout, true, "session", e->session);
		out_json_u64(stdout, true, "tag", e->tag);
	}
	/* A cluster node's entries have none: pid and comm are not replicated. */
	if (e->pid) {
		printf(",\"pid\":%u,\"uid\":%u", e->pid, e->uid);
		json_member(true, "comm", e->comm, strlen(e->comm));
	} else {
		printf(",\"pid\":null,\"uid\":%u,\"comm\":null", e->uid);
	}
	if (e->remaining_ms >= 0)
		printf(",\"remaining_ms\":%" PRId64, e->remaining_ms);
	if (holder && e->value)
		json_member(true, "value", e->value, e->value_len);
	putchar('}');
}

static void print_entry_text(const struct dlock_entry *e, bool holder,
			     size_t pos)
{
	if (holder)
		printf("  holder %s token %" PRIu64 " count %u",
		       mode_name(e->mode), e->token, e->count);
	else
		printf("  waiter #%zu %s", pos + 1, mode_name(e->mode));
	if (e->hidden) {
		printf(" uid %u", e->uid);
	} else {
		if (e->owner_len) {
			printf(" owner ");
			text(e->owner, e->owner_len);
		} else {
			printf(" session %" PRIu64 " tag %" PRIu64, e->session,
			       e->tag);
		}
		if (e->pid) {
			printf(" pid %u (", e->pid);
			text(e->comm, strlen(e->comm));
			printf(") uid %u", e->uid);
		} else {
			printf(" pid - (not replicated) uid %u", e->uid);
		}
	}
	if (e->remaining_ms >= 0)
		printf(" %s %" PRId64 "ms", holder ? "ttl" : "timeout",
		       e->remaining_ms);
	putchar('\n');
	if (holder && e->value) {
		printf("    value ");
		out_text(stdout, e->value, e->value_len, OUT_LINE);
		putchar('\n');
	}
}

void out_lock(const struct dlock_lock_info *li, bool json)
{
	size_t i;

	if (json) {
		putchar('{');
		json_member(false, "name", li->name, li->name_len);
		printf(",\"mode\":\"%s\"", mode_name(li->mode));
		if (li->mode == DLOCK_MODE_SEMAPHORE)
			printf(",\"permits\":%u", li->permits);
		printf(",\"holders\":[");
		for (i = 0; i < li->n_holders; i++) {
			if (i)
				putchar(',');
			print_entry_json(&li->holders[i], true);
		}
		printf("],\"waiters\":[");
		for (i = 0; i < li->n_waiters; i++) {
			if (i)
				putchar(',');
			print_entry_json(&li->waiters[i], false);
		}
		printf("]%s}", li->truncated ? ",\"truncated\":true" : "");
		return;
	}
	text(li->name, li->name_len);
	printf(": %s", mode_name(li->mode));
	if (li->mode == DLOCK_MODE_SEMAPHORE)
		printf(" permits %u", li->permits);
	printf(", %zu holder%s, %zu waiter%s\n", li->n_holders,
	       li->n_holders == 1 ? "" : "s", li->n_waiters,
	       li->n_waiters == 1 ? "" : "s");
	for (i = 0; i < li->n_holders; i++)
		print_entry_text(&li->holders[i], true, i);
	for (i = 0; i < li->n_waiters; i++)
		print_entry_text(&li->waiters[i], false, i);
	if (li->truncated) {
		printf("  (more entries than a listing holds: 'dlockctl get ");
		text(li->name, li->name_len);
		printf("' shows all)\n");
	}
}

static const char *event_name(enum dlock_event_type t)
{
	switch (t) {
	case DLOCK_EV_GRANTED:
		return "granted";
	case DLOCK_EV_RELEASED:
		return "released";
	case DLOCK_EV_EXPIRED:
		return "expired";
	case DLOCK_EV_OWNER_DIED:
		return "owner-died";
	case DLOCK_EV_BROKEN:
		return "broken";
	case DLOCK_EV_VALUE:
		return "value";
	}
	return "unknown";
}

void out_event(const struct dlock_event *ev, bool json)
{
	if (json) {
		printf("{\"event\":\"%s\"", event_name(ev->type));
		json_member(true, "name", ev->name, ev->name_len);
		printf(",\"mode\":\"%s\"", mode_name(ev->mode));
		out_json_u64(stdout, true, "token", ev->token);
		printf(",\"uid\":%u", ev->uid);
		if (ev->hidden) {
			printf(",\"hidden\":true");
		} else if (ev->owner) {
			json_member(true, "owner", ev->owner, ev->owner_len);
		} else {
			out_json_u64(stdout, true, "session", ev->session);
			out_json_u64(stdout, true, "tag", ev->tag);
		}
		printf("}\n");
	} else {
		printf("%s ", event_name(ev->type));
		text(ev->name, ev->name_len);
		printf(" %s token %" PRIu64, mode_name(ev->mode), ev->token);
		if (ev->hidden) {
			printf(" uid %u\n", ev->uid);
		} else if (ev->owner) {
			printf(" owner ");
			text(ev->owner, ev->owner_len);
			putchar('\n');
		} else {
			printf(" session %" PRIu64 " tag %" PRIu64 "\n",
			       ev->session, ev->tag);
		}
	}
}

void out_overflow(bool json)
{
	if (json)
		printf("{\"event\":\"overflow\"}\n");
	else
		printf("overflow - events were lost\n");
}
