# Host tests of the lock table policy core (kmod/table.c), issue 3.
# Included by the top-level Makefile; paths are relative to the repo top.
#   make check-table        plain build, ASan/UBSan build, then the threaded
#                           test under ThreadSanitizer; TAP on stdout
#   TABLE_QUICK=1           skip the 1,000,000-lease test in the ASan run
CC ?= gcc
TABLE_BUILD := build/table
TABLE_CFLAGS := -O2 -g -Wall -Wextra -Werror -std=gnu11 -Ikmod -Itests
# What the kernel build would refuse or frown upon, checked on the host too.
TABLE_KCFLAGS := -Wvla -Wmissing-prototypes \
	-Wstrict-prototypes -Wdeclaration-after-statement -fno-builtin-malloc
TABLE_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
TABLE_SRC := kmod/table.c kmod/table_bucket.c kmod/table_entry.c \
	kmod/table_heap.c kmod/table_deadlk.c kmod/table_acquire.c \
	kmod/table_cmd.c kmod/table_dump.c kmod/table_check.c kmod/table_cluster.c \
	kmod/table_holder.c kmod/table_index.c kmod/table_uid.c
TABLE_DEPS := $(TABLE_SRC) kmod/table.h kmod/table_int.h kmod/table_uid.h kmod/compat.h \
	tests/tap.h
TABLE_OBJ := $(TABLE_SRC:kmod/%.c=$(TABLE_BUILD)/%.o)
TABLE_SAN_OBJ := $(TABLE_SRC:kmod/%.c=$(TABLE_BUILD)/%_san.o)
TABLE_TSAN_OBJ := $(TABLE_SRC:kmod/%.c=$(TABLE_BUILD)/%_tsan.o)

$(TABLE_BUILD)/%.o: kmod/%.c $(TABLE_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(TABLE_CFLAGS) $(TABLE_KCFLAGS) -Wframe-larger-than=512 -c -o $@ $<

# Sanitizer redzones inflate frames: the frame check is on the plain build.
$(TABLE_BUILD)/%_san.o: kmod/%.c $(TABLE_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(TABLE_CFLAGS) $(TABLE_KCFLAGS) $(TABLE_SAN) -c -o $@ $<

$(TABLE_BUILD)/%_tsan.o: kmod/%.c $(TABLE_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(TABLE_CFLAGS) $(TABLE_KCFLAGS) -fsanitize=thread -c -o $@ $<

# The table's tests, by topic, on one fake of the glue (table_fixture.c):
# build/table/test_table_queue deadlock runs that one case alone.
TABLE_TOPICS := basics queue inspect model threads
TABLE_FIX := tests/host/table_fixture.c tests/host/table_fixture.h
TABLE_BINS := $(TABLE_TOPICS:%=$(TABLE_BUILD)/test_table_%)
TABLE_SAN_BINS := $(TABLE_TOPICS:%=$(TABLE_BUILD)/test_table_%_san)

$(TABLE_BUILD)/test_table_%: tests/host/test_table_%.c $(TABLE_OBJ) $(TABLE_FIX)
	$(CC) $(TABLE_CFLAGS) -o $@ $< tests/host/table_fixture.c $(TABLE_OBJ) -pthread

$(TABLE_BUILD)/test_table_%_san: tests/host/test_table_%.c $(TABLE_SAN_OBJ) $(TABLE_FIX)
	$(CC) $(TABLE_CFLAGS) $(TABLE_SAN) -o $@ $< tests/host/table_fixture.c \
		$(TABLE_SAN_OBJ) -pthread

$(TABLE_BUILD)/test_table_threads_tsan: tests/host/test_table_threads.c $(TABLE_TSAN_OBJ) $(TABLE_FIX)
	$(CC) $(TABLE_CFLAGS) -fsanitize=thread -o $@ $< tests/host/table_fixture.c \
		$(TABLE_TSAN_OBJ) -pthread

# Bounded work (issue 8): attacker-shaped tables, steps per command.
$(TABLE_BUILD)/test_bound_san: $(TABLE_SAN_OBJ) tests/host/test_bound.c
	$(CC) $(TABLE_CFLAGS) $(TABLE_SAN) -o $@ tests/host/test_bound.c $(TABLE_SAN_OBJ)

# Both binaries print TAP; the sanitized run is prefixed "san:" in names so
# that both sets of lines count, and any sanitizer report fails the run.
# ThreadSanitizer runs only the threaded test ("tsan:" names); a data race
# report exits non-zero.
# The per-uid rules (issue 8): their own test file, linked the same ways.
$(TABLE_BUILD)/test_uid: tests/host/test_uid.c $(TABLE_OBJ) $(TABLE_FIX)
	$(CC) $(TABLE_CFLAGS) -o $@ $< tests/host/table_fixture.c $(TABLE_OBJ) -pthread

$(TABLE_BUILD)/test_uid_san: tests/host/test_uid.c $(TABLE_SAN_OBJ) $(TABLE_FIX)
	$(CC) $(TABLE_CFLAGS) $(TABLE_SAN) -o $@ $< tests/host/table_fixture.c \
		$(TABLE_SAN_OBJ) -pthread

$(TABLE_BUILD)/test_uid_tsan: tests/host/test_uid.c $(TABLE_TSAN_OBJ) $(TABLE_FIX)
	$(CC) $(TABLE_CFLAGS) -fsanitize=thread -o $@ $< tests/host/table_fixture.c \
		$(TABLE_TSAN_OBJ) -pthread

# The lease caps under concurrent acquires on different shards (issue 11).
$(TABLE_BUILD)/test_caps: $(TABLE_OBJ) tests/host/test_caps.c
	$(CC) $(TABLE_CFLAGS) -o $@ tests/host/test_caps.c $(TABLE_OBJ) -pthread

$(TABLE_BUILD)/test_caps_tsan: $(TABLE_TSAN_OBJ) tests/host/test_caps.c
	$(CC) $(TABLE_CFLAGS) -fsanitize=thread -o $@ tests/host/test_caps.c $(TABLE_TSAN_OBJ) -pthread

# A planted lock-rule violation must be caught (issue 11): the table built
# with DLOCK_PLANT_LOCK_BUG queues a waiter without the global lock, and its
# DL_ASSERT must fire; the same test against the real table trips none.
$(TABLE_BUILD)/table_acquire_plant.o: kmod/table_acquire.c $(TABLE_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(TABLE_CFLAGS) $(TABLE_KCFLAGS) -DDLOCK_PLANT_LOCK_BUG -c -o $@ $<

$(TABLE_BUILD)/test_plant_bug: tests/host/test_plant.c $(TABLE_BUILD)/table_acquire_plant.o $(TABLE_OBJ) $(TABLE_FIX)
	$(CC) $(TABLE_CFLAGS) -DDLOCK_PLANT_LOCK_BUG -o $@ $< tests/host/table_fixture.c \
		$(TABLE_BUILD)/table_acquire_plant.o \
		$(filter-out $(TABLE_BUILD)/table_acquire.o,$(TABLE_OBJ))

$(TABLE_BUILD)/test_plant: tests/host/test_plant.c $(TABLE_OBJ) $(TABLE_FIX)
	$(CC) $(TABLE_CFLAGS) -o $@ $< tests/host/table_fixture.c $(TABLE_OBJ)

# The reason of each refusal (issue 11).  It includes table_int.h, to
# reach a holder's count.
TABLE_ERR_SRC := tests/host/test_errors.c $(TABLE_SRC)
$(TABLE_BUILD)/test_errors: $(TABLE_ERR_SRC) $(TABLE_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(TABLE_CFLAGS) $(TABLE_KCFLAGS) -o $@ $(TABLE_ERR_SRC)

$(TABLE_BUILD)/test_errors_san: $(TABLE_ERR_SRC) $(TABLE_DEPS)
	$(CC) $(TABLE_CFLAGS) $(TABLE_KCFLAGS) $(TABLE_SAN) -o $@ $(TABLE_ERR_SRC)

# The lock table as the replicated state machine (issue 13): the adapter
# (kmod/table_sm*.c) on the table, several nodes applying the same entries.
TSM_SRC := kmod/table_sm.c kmod/table_sm_codec.c kmod/table_sm_snap.c \
	kmod/table_sm_tomb.c
TSM_HDR := kmod/table_sm.h kmod/table_sm_int.h kmod/repl.h \
	tests/host/test_table_sm.h
TSM_OBJ := $(TSM_SRC:kmod/%.c=$(TABLE_BUILD)/%.o)
TSM_SAN_OBJ := $(TSM_SRC:kmod/%.c=$(TABLE_BUILD)/%_san.o)
TSM_TESTS := test_table_sm test_table_sm_snap
$(TSM_OBJ) $(TSM_SAN_OBJ): $(TSM_HDR)

$(TSM_TESTS:%=$(TABLE_BUILD)/%_san): $(TABLE_BUILD)/%_san: tests/host/%.c $(TSM_SAN_OBJ) $(TABLE_SAN_OBJ) $(TSM_HDR)
	$(CC) $(TABLE_CFLAGS) -Wno-unused-parameter $(TABLE_SAN) -o $@ $< $(TSM_SAN_OBJ) $(TABLE_SAN_OBJ)

$(TSM_TESTS:%=$(TABLE_BUILD)/%): $(TABLE_BUILD)/%: tests/host/%.c $(TSM_OBJ) $(TABLE_OBJ) $(TSM_HDR)
	$(CC) $(TABLE_CFLAGS) -Wno-unused-parameter -o $@ $< $(TSM_OBJ) $(TABLE_OBJ)

check-table-sm: $(TSM_TESTS:%=$(TABLE_BUILD)/%) $(TSM_TESTS:%=$(TABLE_BUILD)/%_san)
	@set -e; for t in $(TSM_TESTS); do $(TABLE_BUILD)/$$t; done
	@set -e; for t in $(TSM_TESTS); do \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(TABLE_BUILD)/$${t}_san --san $(if $(TABLE_QUICK),--quick); done

# The adapter's fuzzer (body decoder, apply, snapshot load on small
# tables): `make fuzz-table-sm FUZZ_SECONDS=600`; check-table runs a smoke.
CLANG ?= clang
FUZZ_SECONDS ?= 600
$(TABLE_BUILD)/fuzz_table_sm: tests/fuzz/fuzz_table_sm.c $(TSM_SRC) $(TABLE_SRC) $(TSM_HDR) $(TABLE_DEPS)
	@mkdir -p $(TABLE_BUILD)
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -Wno-unused-parameter \
		-Ikmod -o $@ tests/fuzz/fuzz_table_sm.c $(TSM_SRC) $(TABLE_SRC)

fuzz-table-sm: $(TABLE_BUILD)/fuzz_table_sm
	@mkdir -p $(TABLE_BUILD)/fuzz-sm-corpus
	$(TABLE_BUILD)/fuzz_table_sm -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		$(TABLE_BUILD)/fuzz-sm-corpus

check-table-fuzz: $(TABLE_BUILD)/fuzz_table_sm
	@$(TABLE_BUILD)/fuzz_table_sm -runs=3000 -seed=1 -max_len=2048 >/dev/null 2>&1 \
		&& echo "ok - fuzz_table_sm: 3000 inputs without a crash" \
		|| { echo "not ok - fuzz_table_sm crashed (run it for the input)"; exit 1; }

check-table: check-table-sm check-table-fuzz $(TABLE_BUILD)/test_plant $(TABLE_BUILD)/test_plant_bug \
		$(TABLE_BUILD)/test_caps $(TABLE_BUILD)/test_caps_tsan \
		$(TABLE_BINS) $(TABLE_SAN_BINS) \
		$(TABLE_BUILD)/test_table_threads_tsan $(TABLE_BUILD)/test_bound_san \
		$(TABLE_BUILD)/test_uid $(TABLE_BUILD)/test_uid_san \
		$(TABLE_BUILD)/test_uid_tsan $(TABLE_BUILD)/test_errors \
		$(TABLE_BUILD)/test_errors_san
	@set -e; for t in $(TABLE_BINS); do $$t; done
	@set -e; for t in $(TABLE_SAN_BINS); do \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$$t --san $(if $(TABLE_QUICK),--quick); done
	@TSAN_OPTIONS=halt_on_error=1:exitcode=66 \
		$(TABLE_BUILD)/test_table_threads_tsan --tsan threads
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(TABLE_BUILD)/test_bound_san
	@$(TABLE_BUILD)/test_uid
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(TABLE_BUILD)/test_uid_san --san
	@TSAN_OPTIONS=halt_on_error=1:exitcode=66 \
		$(TABLE_BUILD)/test_uid_tsan --tsan threads
	@$(TABLE_BUILD)/test_plant
	@$(TABLE_BUILD)/test_plant_bug
	@$(TABLE_BUILD)/test_caps
	@TSAN_OPTIONS=halt_on_error=1:exitcode=66 \
		$(TABLE_BUILD)/test_caps_tsan --tsan
	@$(TABLE_BUILD)/test_errors
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(TABLE_BUILD)/test_errors_san --san

.PHONY: check-table check-table-sm check-table-fuzz fuzz-table-sm
CHECK_SUITES += table
