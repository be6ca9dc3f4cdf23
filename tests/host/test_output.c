// SPDX-License-Identifier: GPL-2.0
/*
 * dlockctl's escaping of text and JSON (userspace/dlockctl/output.c): the
 * exact bytes it prints for strings other users choose.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "tap.h"

enum kind { TEXT_WORD, TEXT_LINE, JSON_STR, JSON_MEMBER };

/* Prints @len bytes of @in the way @k says; returns the output (static). */
static const char *render(enum kind k, const char *in, size_t len)
{
	static char *buf;
	size_t size;
	FILE *f;

	free(buf);
	f = open_memstream(&buf, &size);
	if (!f)
		return "";
	if (k == TEXT_WORD || k == TEXT_LINE)
		out_text(f, in, len, k == TEXT_WORD);
	else if (k == JSON_STR)
		out_json_str(f, in, len);
	else
		out_json_member(f, false, "name", in, len);
	fclose(f);
	return buf;
}

#define CHECK(k, in, want, desc) do {					\
	const char *got = render(k, in, sizeof(in) - 1);		\
	tap_ok(!strcmp(got, want), "%s: got %s, want %s", desc, got, want); \
} while (0)

#define VALID(in, want, desc)						\
	tap_ok(out_utf8_valid(in, sizeof(in) - 1) == (want), "%s is %s UTF-8", \
	       desc, (want) ? "valid" : "not")

/* Runs out_lock() or out_event() with stdout caught in a file; returns it. */
static const char *caught(const struct dlock_lock_info *li,
			  const struct dlock_event *ev, bool json)
{
	static char out[4096];
	FILE *f = tmpfile();
	int saved = dup(1);
	size_t n;

	if (!f || saved < 0)
		return "";
	fflush(stdout);
	dup2(fileno(f), 1);
	if (li)
		out_lock(li, json);
	else
		out_event(ev, json);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	return out;
}

/* A lock whose every string an attacker chose, as get and list show it. */
static void check_lock(void)
{
	static const char name[] = "ev\033[2K\rok: x\n";
	struct dlock_entry h = {
		.mode = DLOCK_MODE_EXCLUSIVE, .token = 9007199254740993ULL,
		.count = 1, .owner = "o\0\033x", .owner_len = 4, .pid = 7,
		.uid = 1000, .comm = ") uid 0\n", .remaining_ms = -1,
		.value = "a b\xff", .value_len = 4,
	};
	struct dlock_lock_info li = {
		.name_len = sizeof(name) - 1, .mode = DLOCK_MODE_EXCLUSIVE,
		.n_holders = 1, .holders = &h,
	};
	struct dlock_event ev = {
		.type = DLOCK_EV_GRANTED, .name = name, .name_len = li.name_len,
		.token = h.token, .owner = h.owner, .owner_len = h.owner_len,
	};
	const char *want;

	memcpy(li.name, name, sizeof(name));
	want = "ev\\x1b[2K\\x0dok:\\x20x\\x0a: exclusive, 1 holder, 0 waiters\n"
	       "  holder exclusive token 9007199254740993 count 1 owner o\\x00\\x1bx"
	       " pid 7 ()\\x20uid\\x200\\x0a) uid 1000\n"
	       "    value a b\\xff\n";
	tap_ok(!strcmp(caught(&li, NULL, false), want),
	       "get/list text: every chosen string escaped, owner NUL included");
	want = "{\"name\":\"ev\\u001b[2K\\u000dok: x\\u000a\",\"mode\":\"exclusive\","
	       "\"holders\":[{\"mode\":\"exclusive\",\"token\":\"9007199254740993\","
	       "\"count\":1,\"owner\":\"o\\u0000\\u001bx\",\"pid\":7,\"uid\":1000,"
	       "\"comm\":\") uid 0\\u000a\",\"value\":\"a b\\ufffd\","
	       "\"value_hex\":\"612062ff\"}],\"waiters\":[]}";
	tap_ok(!strcmp(caught(&li, NULL, true), want),
	       "get/list JSON: escaped, token a string, value_hex for bytes that are not UTF-8");
	tap_ok(!strcmp(caught(NULL, &ev, false),
		       "granted ev\\x1b[2K\\x0dok:\\x20x\\x0a exclusive token 9007199254740993 owner o\\x00\\x1bx\n"),
	       "watch text: one line, escaped");
	tap_ok(!strcmp(caught(NULL, &ev, true),
		       "{\"event\":\"granted\",\"name\":\"ev\\u001b[2K\\u000dok: x\\u000a\","
		       "\"mode\":\"exclusive\",\"token\":\"9007199254740993\","
		       "\"uid\":0,\"owner\":\"o\\u0000\\u001bx\"}\n"),
	       "watch JSON: one line, escaped, token a string");
}

/* A cluster node's holder: no pid or command (they are not replicated). */
static void check_cluster_lock(void)
{
	struct dlock_entry h = {
		.mode = DLOCK_MODE_SHARED, .token = 5, .count = 1,
		.session = (20ULL << 32) | 3, .tag = 4, .remaining_ms = -1,
	};
	struct dlock_lock_info li = {
		.name = "c", .name_len = 1, .mode = DLOCK_MODE_SHARED,
		.n_holders = 1, .holders = &h,
	};

	tap_ok(!strcmp(caught(&li, NULL, false),
			"c: shared, 1 holder, 0 waiters\n"
			"  holder shared token 5 count 1 session 85899345923 tag 4"
			" pid - (not replicated) uid 0\n"),
	       "get/list text of a cluster holder: pid - (not replicated)");
	tap_ok(!strcmp(caught(&li, NULL, true),
		       "{\"name\":\"c\",\"mode\":\"shared\",\"holders\":[{"
		       "\"mode\":\"shared\",\"token\":\"5\",\"count\":1,"
		       "\"session\":\"85899345923\",\"tag\":\"4\","
		       "\"pid\":null,\"uid\":0,\"comm\":null}],\"waiters\":[]}"),
	       "get/list JSON of a cluster holder: pid and comm null");
}

int main(void)
{
	char *buf;
	size_t size;
	FILE *f;

	CHECK(TEXT_WORD, "ev\033[2K\rfake\n", "ev\\x1b[2K\\x0dfake\\x0a",
	      "text escapes ESC, CR and LF");
	CHECK(TEXT_WORD, "a b\\x1b", "a\\x20b\\\\x1b",
	      "a word escapes space, and backslash so that \\x cannot be faked");
	CHECK(TEXT_LINE, "a b\\", "a b\\\\", "a value keeps spaces");
	CHECK(TEXT_LINE, "\x7f\xc3\xa9\x9b", "\\x7f\\xc3\\xa9\\x9b",
	      "text escapes DEL and every byte above 0x7e, UTF-8 or not");
	CHECK(TEXT_WORD, "a\0b", "a\\x00b", "text escapes NUL");
	CHECK(TEXT_WORD, "~!", "~!", "printable ASCII stays");

	VALID("\xc3\xa9 \xf0\x9f\x98\x80", 1, "e-acute and an emoji");
	VALID("\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf", 1, "U+D7FF, U+E000, U+10FFFF");
	VALID("\xff", 0, "0xff");
	VALID("\x80", 0, "a lone continuation byte");
	VALID("\xc0\xaf", 0, "an overlong '/' (C0 AF)");
	VALID("\xe0\x80\xaf", 0, "an overlong '/' (E0 80 AF)");
	VALID("\xf0\x80\x80\xaf", 0, "an overlong '/' (F0 80 80 AF)");
	VALID("\xed\xa0\x80", 0, "a UTF-16 surrogate (ED A0 80)");
	VALID("\xf4\x90\x80\x80", 0, "U+110000");
	VALID("\xe2\x82", 0, "a truncated sequence");
	VALID("\xe2\x28\xa1", 0, "a sequence broken by ASCII");

	CHECK(JSON_STR, "a\"b\\c\n\x1b\x7f", "\"a\\\"b\\\\c\\u000a\\u001b\\u007f\"",
	      "JSON escapes quote, backslash, controls and DEL");
	CHECK(JSON_STR, "\xc2\x9b[2J\xc2\xa0", "\"\\u009b[2J\xc2\xa0\"",
	      "JSON escapes C1 controls (CSI) and keeps U+00A0");
	CHECK(JSON_STR, "\xc3\xa9\xf0\x9f\x98\x80", "\"\xc3\xa9\xf0\x9f\x98\x80\"",
	      "JSON keeps valid UTF-8");
	CHECK(JSON_STR, "\xff-\xc0\xaf-\xe2\x82", "\"\\ufffd-\\ufffd\\ufffd-\\ufffd\\ufffd\"",
	      "JSON replaces each invalid byte with U+FFFD");
	CHECK(JSON_MEMBER, "db", "\"name\":\"db\"", "a UTF-8 member has no _hex twin");
	CHECK(JSON_MEMBER, "a\0b", "\"name\":\"a\\u0000b\"", "NUL is valid UTF-8, escaped");
	CHECK(JSON_MEMBER, "x\xff\"", "\"name\":\"x\\ufffd\\\"\",\"name_hex\":\"78ff22\"",
	      "a member that is not UTF-8 comes with its exact bytes in hex");

	f = open_memstream(&buf, &size);
	if (f) {
		out_json_u64(f, true, "token", UINT64_MAX);
		fclose(f);
		tap_ok(!strcmp(buf, ",\"token\":\"18446744073709551615\""),
		       "64-bit identifiers are JSON strings: %s", buf);
		free(buf);
	}
	render(TEXT_LINE, "", 0);
	check_lock();
	check_cluster_lock();
	return tap_done();
}
