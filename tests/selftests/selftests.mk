# In-guest selftests: built on the host against the kernel's kselftest
# harness (taken from Debian's linux-source-6.1 at build time), run inside
# the VM by tests/selftests/run-all with the freshly built dlock.ko loaded.
KSFT_DIR := .cache/ksft
SELFTEST_BIN := $(BUILD)/selftests/dlock_test
LOCKTEST_BIN := $(BUILD)/selftests/lock_test
# the raw tests of configuration, inspection, watch and abuse (lock2.h)
LOCK2TEST_BIN := $(patsubst %,$(BUILD)/selftests/%_test,config inspect watch abuse)
LIBTEST_BIN := $(BUILD)/selftests/lib_test
LIB2TEST_BIN := $(BUILD)/selftests/lib2_test
BOUNDTEST_BIN := $(BUILD)/selftests/bounded_test
RELTEST_BIN := $(BUILD)/selftests/reliable_test
SECTEST_BIN := $(BUILD)/selftests/security_test
ERRTEST_BIN := $(BUILD)/selftests/errors_test
ELECTTEST_BIN := $(BUILD)/selftests/elect_test
CLUSTERTEST_BIN := $(BUILD)/selftests/cluster_test
CLUSTERSEAL_BIN := $(BUILD)/selftests/cluster_seal_test

$(KSFT_DIR)/kselftest_harness.h:
	tests/selftests/get-ksft-headers $(KSFT_DIR)

$(SELFTEST_BIN): tests/selftests/dlock_test.c tests/selftests/nlraw.h \
		uapi/linux/dlock.h VERSION $(KSFT_DIR)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -Wall -Werror -std=gnu11 -Iuapi -I$(KSFT_DIR) \
		-DDLOCK_EXPECTED_VERSION='"$(VERSION)"' -o $@ $<

$(LOCKTEST_BIN): tests/selftests/lock_test.c tests/selftests/nlraw.h \
		tests/selftests/lockreq.h uapi/linux/dlock.h $(KSFT_DIR)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -Wall -Werror -std=gnu11 -Iuapi -I$(KSFT_DIR) -o $@ $<

$(LOCK2TEST_BIN): $(BUILD)/selftests/%: tests/selftests/%.c tests/selftests/lock2.h \
		tests/selftests/nlraw.h tests/selftests/lockreq.h uapi/linux/dlock.h \
		$(KSFT_DIR)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -Wall -Werror -std=gnu11 -Iuapi -I$(KSFT_DIR) \
		-pthread -o $@ $<

$(BOUNDTEST_BIN): tests/selftests/bounded_test.c tests/selftests/nlraw.h \
		tests/selftests/lockreq.h uapi/linux/dlock.h $(KSFT_DIR)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -Wall -Werror -std=gnu11 -Iuapi -I$(KSFT_DIR) -o $@ $<

$(LIBTEST_BIN): tests/selftests/lib_test.c tests/selftests/libfix.h \
		$(BUILD)/libdlock.a \
		userspace/lib/dlock.h $(KSFT_DIR)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -Wall -Werror -std=gnu11 -Iuapi -Iuserspace/lib \
		-I$(KSFT_DIR) -pthread -o $@ $< $(BUILD)/libdlock.a $(NL_LIBS)

$(LIB2TEST_BIN): tests/selftests/lib2_test.c tests/selftests/libfix.h \
		$(BUILD)/libdlock.a \
		userspace/lib/dlock.h $(KSFT_DIR)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -Wall -Werror -std=gnu11 -Iuapi -Iuserspace/lib \
		-I$(KSFT_DIR) -pthread -o $@ $< $(BUILD)/libdlock.a $(NL_LIBS)

$(RELTEST_BIN): tests/selftests/reliable_test.c tests/selftests/nlraw.h \
		tests/selftests/lockreq.h $(BUILD)/libdlock.a userspace/lib/dlock.h \
		uapi/linux/dlock.h $(KSFT_DIR)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -Wall -Werror -std=gnu11 -Iuapi -Iuserspace/lib \
		-I$(KSFT_DIR) -pthread -o $@ $< $(BUILD)/libdlock.a $(NL_LIBS)

$(SECTEST_BIN): tests/selftests/security_test.c tests/selftests/security_limits.h \
		tests/selftests/nlraw.h \
		tests/selftests/lockreq.h uapi/linux/dlock.h $(KSFT_DIR)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -Wall -Werror -std=gnu11 -Iuapi -I$(KSFT_DIR) -o $@ $<

$(ERRTEST_BIN): tests/selftests/errors_test.c tests/selftests/nlraw.h \
		tests/selftests/lockreq.h uapi/linux/dlock.h $(KSFT_DIR)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -Wall -Werror -std=gnu11 -Iuapi -I$(KSFT_DIR) -o $@ $<

# libdlock's leader election (userspace/lib/elect.c).
$(ELECTTEST_BIN): tests/selftests/elect_test.c $(BUILD)/libdlock.a \
		userspace/lib/dlock.h $(KSFT_DIR)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -Wall -Werror -std=gnu11 -Iuapi -Iuserspace/lib \
		-I$(KSFT_DIR) -o $@ $< $(BUILD)/libdlock.a $(NL_LIBS)

selftests: $(SELFTEST_BIN) $(LOCKTEST_BIN) $(LOCK2TEST_BIN) $(LIBTEST_BIN) \
	$(BOUNDTEST_BIN) $(RELTEST_BIN) $(SECTEST_BIN) $(ERRTEST_BIN)
selftests: $(LIB2TEST_BIN)
selftests: $(ELECTTEST_BIN)
selftests: $(CLUSTERTEST_BIN) $(CLUSTERSEAL_BIN)

# Cluster mode across three namespaces (cluster_test.sh makes them).
$(CLUSTERTEST_BIN) $(CLUSTERSEAL_BIN): $(BUILD)/selftests/%: tests/selftests/%.c \
		tests/selftests/cluster_lib.h tests/selftests/cluster_list.h \
		tests/selftests/cluster_obs.h tests/selftests/cluster_faults.h \
		tests/selftests/cluster_doubt.h tests/selftests/cluster_flood.h \
		tests/selftests/cluster_slots.h \
		tests/selftests/nlraw.h \
		tests/selftests/lockreq.h tests/tap.h uapi/linux/dlock.h
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -Wall -Werror -std=gnu11 -Iuapi -o $@ $<

check-vm: all selftests
	@$(VM_RUN) --ko $(KO) --timeout 1800 -- env DLOCK_BUILD=$(CURDIR)/$(BUILD) \
		tests/selftests/run-all

.PHONY: selftests check-vm
