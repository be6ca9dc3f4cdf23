# Host tests of libdlock and dlockctl: everything that needs no dlock module.
# The host kernel here has no dlock family, which is exactly the "module not
# loaded" case these tests exercise.
HOST_TEST_LIB := $(BUILD)/tests/host/test_lib
HOST_TEST_OUTPUT := $(BUILD)/tests/host/test_output

$(HOST_TEST_LIB): tests/host/test_lib.c $(BUILD)/libdlock.a tests/tap.h
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -Itests -o $@ $< $(BUILD)/libdlock.a $(NL_LIBS)

$(HOST_TEST_OUTPUT): tests/host/test_output.c $(BUILD)/userspace/dlockctl/output.o \
		userspace/dlockctl/output.h tests/tap.h
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -Itests -Iuserspace/dlockctl -o $@ $< \
		$(BUILD)/userspace/dlockctl/output.o

check-host: $(HOST_TEST_LIB) $(HOST_TEST_OUTPUT) $(DLOCKCTL)
	@$(HOST_TEST_LIB)
	@$(HOST_TEST_OUTPUT)
	@DLOCKCTL=$(DLOCKCTL) tests/host/test-dlockctl.sh
	@DLOCKCTL=$(DLOCKCTL) tests/host/test-docs.sh
	@tests/host/test-man3.sh

.PHONY: check-host
