# Sealed peer datagrams (issue 15): kmod/seal.c's host tests over OpenSSL,
# and the fuzzer of the open-and-decode path.  Included by the top-level
# Makefile; paths are relative to the repo top.
#   make check-seal                 unit tests, plain and ASan/UBSan, and a
#                                   short fuzzer smoke; TAP on stdout
#   make fuzz-open FUZZ_SECONDS=600 the fuzzer, for real
CC ?= gcc
CLANG ?= clang
FUZZ_SECONDS ?= 600
SEAL_BUILD := build/seal
SEAL_CFLAGS := -O2 -g -Wall -Wextra -Werror -std=gnu11 -Ikmod -Itests -Itests/host
# what the kernel build would refuse, checked on the host too (seal.c only)
SEAL_KCFLAGS := -Wvla -Wmissing-prototypes -Wstrict-prototypes \
	-Wdeclaration-after-statement -Wframe-larger-than=512
SEAL_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
SEAL_LIBS := -lcrypto
SEAL_HDRS := kmod/seal.h kmod/compat.h tests/host/seal_host.h tests/tap.h \
	tests/host/test_seal_keys.h
SEAL_TEST_SRC := tests/host/test_seal.c tests/host/seal_host.c kmod/wire.c

$(SEAL_BUILD)/seal.o: kmod/seal.c $(SEAL_HDRS)
	@mkdir -p $(SEAL_BUILD)
	$(CC) $(SEAL_CFLAGS) $(SEAL_KCFLAGS) -c -o $@ $<

# SEAL_PLANT=n: kmod/seal.c with planted bug n (test_seal.c lists them)
$(SEAL_BUILD)/test_seal: $(SEAL_TEST_SRC) $(SEAL_BUILD)/seal.o $(SEAL_HDRS) kmod/wire.h
	$(CC) $(SEAL_CFLAGS) -o $@ $(SEAL_TEST_SRC) $(SEAL_BUILD)/seal.o $(SEAL_LIBS)

$(SEAL_BUILD)/test_seal_san: $(SEAL_TEST_SRC) kmod/seal.c $(SEAL_HDRS) kmod/wire.h
	@mkdir -p $(SEAL_BUILD)
	$(CC) $(SEAL_CFLAGS) $(SEAL_SAN) -o $@ $(SEAL_TEST_SRC) kmod/seal.c $(SEAL_LIBS)

$(SEAL_BUILD)/test_seal_plant%: $(SEAL_TEST_SRC) kmod/seal.c $(SEAL_HDRS) kmod/wire.h
	@mkdir -p $(SEAL_BUILD)
	$(CC) $(SEAL_CFLAGS) -DSEAL_PLANT=$* -o $@ $(SEAL_TEST_SRC) kmod/seal.c $(SEAL_LIBS)

$(SEAL_BUILD)/fuzz_open: tests/fuzz/fuzz_open.c kmod/seal.c kmod/wire.c \
		tests/host/seal_host.c $(SEAL_HDRS) kmod/wire.h
	@mkdir -p $(SEAL_BUILD)
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -Ikmod -Itests/host \
		-o $@ tests/fuzz/fuzz_open.c kmod/seal.c kmod/wire.c \
		tests/host/seal_host.c $(SEAL_LIBS)

fuzz-open: $(SEAL_BUILD)/fuzz_open
	@mkdir -p $(SEAL_BUILD)/fuzz-open-corpus
	$(SEAL_BUILD)/fuzz_open -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
		$(SEAL_BUILD)/fuzz-open-corpus

# The planted bugs of kmod/seal.c (SEAL_PLANT=n, test_seal.c): each binary
# must fail.
SEAL_PLANTS := $(shell seq 1 17)

check-seal: $(SEAL_BUILD)/test_seal $(SEAL_BUILD)/test_seal_san $(SEAL_BUILD)/fuzz_open \
		$(SEAL_PLANTS:%=$(SEAL_BUILD)/test_seal_plant%)
	@$(SEAL_BUILD)/test_seal
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(SEAL_BUILD)/test_seal_san --san
	@tests/host/seal-plants.sh $(SEAL_BUILD) $(SEAL_PLANTS)
	@$(SEAL_BUILD)/fuzz_open -runs=20000 -seed=1 -max_len=4096 >/dev/null 2>&1 \
		&& echo "ok 1 - fuzz_open: 20000 inputs without a crash" \
		|| { echo "not ok 1 - fuzz_open crashed (run it for the input)"; exit 1; }

.PHONY: check-seal fuzz-open
CHECK_SUITES += seal
