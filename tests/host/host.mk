# Host tests of libdlock and dlockctl: everything that needs no dlock module.
# The host kernel here has no dlock family, which is exactly the "module not
# loaded" case these tests exercise.
HOST_TEST_LIB := $(BUILD)/tests/host/test_lib
HOST_TEST_OUTPUT := $(BUILD)/tests/host/test_output
HOST_TEST_METRICS := $(BUILD)/tests/host/test_metrics
# The Python binding (python/): its host tests need libdlock.so and the C
# compiler's view of dlock.h's structures, which its ctypes mirror must match.
PY_LAYOUT := $(BUILD)/tests/host/py_layout

$(HOST_TEST_LIB): tests/host/test_lib.c $(BUILD)/libdlock.a tests/tap.h
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -Itests -o $@ $< $(BUILD)/libdlock.a $(NL_LIBS)

$(HOST_TEST_OUTPUT): tests/host/test_output.c $(BUILD)/userspace/dlockctl/output.o \
		userspace/dlockctl/output.h tests/tap.h
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -Itests -Iuserspace/dlockctl -o $@ $< \
		$(BUILD)/userspace/dlockctl/output.o

# dlockctl's duration parser, on its own (tests/host/test_duration.c).
HOST_TEST_DURATION := $(BUILD)/tests/host/test_duration

$(HOST_TEST_DURATION): tests/host/test_duration.c userspace/dlockctl/duration.c \
		userspace/dlockctl/duration.h tests/tap.h
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -Itests -Iuserspace/dlockctl -o $@ $< \
		userspace/dlockctl/duration.c

$(HOST_TEST_METRICS): tests/host/test_metrics.c $(BUILD)/userspace/dlockctl/metrics.o \
		userspace/dlockctl/metrics.h tests/tap.h
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -Itests -Iuserspace/dlockctl -o $@ $< \
		$(BUILD)/userspace/dlockctl/metrics.o

# The cluster configuration file of setconf/showconf, on its own.
HOST_TEST_CLUSTER_CONF := $(BUILD)/tests/host/test_cluster_conf

$(HOST_TEST_CLUSTER_CONF): tests/host/test_cluster_conf.c userspace/dlockctl/cluster_conf.c \
		userspace/dlockctl/cluster_conf.h userspace/lib/dlock.h tests/tap.h
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -Itests -Iuserspace/dlockctl -o $@ $< \
		userspace/dlockctl/cluster_conf.c

check-host: $(HOST_TEST_LIB) $(HOST_TEST_OUTPUT) $(HOST_TEST_DURATION) $(HOST_TEST_METRICS) \
		$(HOST_TEST_CLUSTER_CONF) $(DLOCKCTL) module \
		$(PY_LAYOUT) $(BUILD)/$(LIB_SONAME)
	@$(HOST_TEST_LIB)
	@$(HOST_TEST_OUTPUT)
	@DLOCK_LIBRARY=$(BUILD)/$(LIB_SONAME) PY_LAYOUT=$(PY_LAYOUT) \
		$(PYTHON) tests/host/test_python.py
	@$(HOST_TEST_DURATION)
	@$(HOST_TEST_METRICS)
	@$(HOST_TEST_CLUSTER_CONF)
	@DLOCKCTL=$(DLOCKCTL) tests/host/test-dlockctl.sh
	@DLOCKCTL=$(DLOCKCTL) tests/host/test-docs.sh
	@tests/host/test-man3.sh
	@tests/host/test-install.sh
	@tests/host/test-modparams.sh
	@tests/host/test-versions.sh
	@tests/host/test-exports.sh

$(PY_LAYOUT): tests/host/py_layout.c userspace/lib/dlock.h uapi/linux/dlock.h
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -o $@ $<

# The binding's host tests alone.
check-python-host: $(PY_LAYOUT) $(BUILD)/$(LIB_SONAME)
	@DLOCK_LIBRARY=$(BUILD)/$(LIB_SONAME) PY_LAYOUT=$(PY_LAYOUT) \
		$(PYTHON) tests/host/test_python.py

.PHONY: check-host check-python-host
