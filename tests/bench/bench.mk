# Benchmarks (issue 5): dlock beside flock(2), OFD locks and Redis.
# Included by the top-level Makefile; paths are relative to the repo top.
#   make bench        the full run: peers natively, then one guest boot with
#                     every case for every backend, then the cluster cases
#                     (tests/bench/cluster-bench: 3 dlock nodes unkeyed and
#                     keyed, 3 etcd nodes, failover); writes docs/benchmarks.md
#                     and docs/benchmarks.json
#   BENCH_CLUSTER_ONLY=1 make bench   the cluster cases alone, printed
# `make check` runs the smoke version inside the in-guest suite
# (tests/selftests/run-all calls tests/bench/smoke).
BENCH_BUILD := $(BUILD)/bench
BENCH_BIN := $(BENCH_BUILD)/dlock-bench
HIREDIS_LIBS := $(shell pkg-config --libs hiredis 2>/dev/null)
BENCH_REDIS := $(if $(HIREDIS_LIBS),redis,noredis)
BENCH_CFLAGS := $(if $(HIREDIS_LIBS),-DHAVE_HIREDIS $(shell pkg-config --cflags hiredis 2>/dev/null))

# A stamp per flavour: a binary built before hiredis was installed is rebuilt.
$(BENCH_BUILD)/flavour-$(BENCH_REDIS):
	@mkdir -p $(BENCH_BUILD)
	@rm -f $(BENCH_BUILD)/flavour-*
	@touch $@

BENCH_SRCS := $(wildcard tests/bench/*.c)

$(BENCH_BIN): $(BENCH_SRCS) tests/bench/bench.h $(BUILD)/libdlock.a userspace/lib/dlock.h \
		uapi/linux/dlock.h $(BENCH_BUILD)/flavour-$(BENCH_REDIS)
	$(CC) $(HOST_CFLAGS) $(WARN_CFLAGS) -Iuapi -Iuserspace/lib $(NL_CFLAGS) \
		$(BENCH_CFLAGS) -Wno-format-truncation -pthread -o $@ $(BENCH_SRCS) $(BUILD)/libdlock.a $(NL_LIBS) \
		$(HIREDIS_LIBS) -lm

# The smoke runs in the in-guest suite: build it with the selftests.
check-vm: $(BENCH_BIN)

bench:
	@command -v redis-server >/dev/null && pkg-config --exists hiredis && command -v etcd >/dev/null || \
		tests/install-deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN) $(CLUSTER_WORKLOAD) $(CLUSTER_CHECKER)
	@tests/bench/run-bench

.PHONY: bench
