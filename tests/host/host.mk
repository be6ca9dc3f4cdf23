# Host tests of libdlock and dlockctl: everything that needs no dlock module.
# The host kernel here has no dlock family, which is exactly the "module not
# loaded" case these tests exercise.
HOST_TEST_LIB := $(BUILD)/tests/host/test_lib

$(HOST_TEST_LIB): tests/host/test_lib.c $(BUILD)/libdlock.a tests/tap.h
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -Itests -o $@ $< $(BUILD)/libdlock.a $(NL_LIBS)

check-host: $(HOST_TEST_LIB) $(DLOCKCTL)
	@$(HOST_TEST_LIB)
	@DLOCKCTL=$(DLOCKCTL) tests/host/test-dlockctl.sh
	@DLOCKCTL=$(DLOCKCTL) tests/host/test-docs.sh

.PHONY: check-host
