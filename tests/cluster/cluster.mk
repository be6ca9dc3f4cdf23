# Cluster tests in the spirit of Jepsen's lock workloads (tests/cluster/README.md).
#   make check-cluster-host   the checker against synthetic histories and its own mutants
#   make check-cluster        one guest boot: nodes as network namespaces, faults,
#                             the workload on every node, the checker over every history
CLUSTER_BUILD := $(BUILD)/tests/cluster
CLUSTER_CHECKER := $(CLUSTER_BUILD)/checker
CLUSTER_WORKLOAD := $(CLUSTER_BUILD)/workload
CLUSTER_CHECKER_SRCS := tests/cluster/checker.c tests/cluster/history.c

$(CLUSTER_CHECKER): $(CLUSTER_CHECKER_SRCS) tests/cluster/checker.h
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(WARN_CFLAGS) -o $@ $(CLUSTER_CHECKER_SRCS)

$(CLUSTER_WORKLOAD): tests/cluster/workload.c $(BUILD)/libdlock.a userspace/lib/dlock.h \
		uapi/linux/dlock.h
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -pthread -o $@ $< $(BUILD)/libdlock.a $(NL_LIBS)

check-cluster-host: $(CLUSTER_CHECKER)
	@tests/cluster/test_checker.sh $(CLUSTER_CHECKER) tests/cluster "$(CC)"

check-cluster: all $(CLUSTER_CHECKER) $(CLUSTER_WORKLOAD)
	@$(VM_RUN) --ko $(KO) --timeout 3600 --log tests/out/cluster-vm -- \
		env DLOCK_BUILD=$(CURDIR)/$(BUILD) tests/cluster/run

.PHONY: check-cluster check-cluster-host

# The checker's host tests are cheap: make check runs them (the guest part,
# check-cluster, boots a guest of its own and takes half an hour).
CHECK_SUITES += cluster-host
