# Replication core: simulator, host unit tests, fuzzer (issue 4).
# Included by the top-level Makefile; paths are relative to the repo top.

CC ?= gcc
CLANG ?= clang
HOST_CFLAGS ?= -O2 -g
SIM_CFLAGS := $(HOST_CFLAGS) -Wall -Wextra -Werror -std=gnu11
SEEDS ?= 1000
FUZZ_SECONDS ?= 600
SIM_BUILD := build/sim
# the replication core, split by concern (kmod/repl_int.h)
REPL_CORE := kmod/repl.c kmod/repl_elect.c kmod/repl_append.c kmod/repl_snap.c \
	kmod/repl_life.c kmod/repl_dedup.c
REPL_SRC := $(REPL_CORE) kmod/wire.c
REPL_HDR := kmod/repl.h kmod/repl_int.h kmod/wire.h kmod/compat.h
SIM_SRC := tests/sim/sim.c tests/sim/sim_report.c tests/sim/sim_trace.c \
	tests/sim/client.c tests/sim/check_lease.c tests/sim/lockmodel.c \
	tests/sim/check_log.c tests/sim/check_oracle.c tests/sim/params.c
SIM_HDR := tests/sim/sim_int.h tests/sim/lockmodel.h tests/sim/check.h tests/sim/params.h
# sim -T: the real lock table replicates, the model is its oracle (issue 13)
SIM_SRC += tests/sim/tablesim.c tests/sim/client_table.c tests/sim/client_end.c \
	tests/sim/check_table.c \
	tests/sim/check_tspec.c $(wildcard kmod/table*.c)
SIM_HDR += tests/sim/tablesim.h tests/sim/tspec.h $(wildcard kmod/table*.h)

# the core plus check_peek.c (white-box log access through repl_int.h, check.h)
SIM_CORE := tests/sim/check_peek.c $(REPL_SRC)

$(SIM_BUILD)/sim: $(SIM_SRC) $(SIM_HDR) $(SIM_CORE) $(REPL_SRC) $(REPL_HDR)
	@mkdir -p $(SIM_BUILD)
	$(CC) $(SIM_CFLAGS) -Ikmod -o $@ $(SIM_SRC) $(SIM_CORE)

# sim -T with one planted bug of the table or its adapter (TABLE_SM_MUTATION=n
# in kmod/table*.c)
$(SIM_BUILD)/sim-tmut%: $(SIM_SRC) $(SIM_HDR) $(SIM_CORE) $(REPL_SRC) $(REPL_HDR)
	@mkdir -p $(SIM_BUILD)
	$(CC) $(SIM_CFLAGS) -Ikmod -DTABLE_SM_MUTATION=$* -o $@ $(SIM_SRC) $(SIM_CORE)

# one binary per planted bug (kmod/repl.h REPL_MUT_*): only the core's four
# files differ, the simulator, checker, table and codec are compiled once
SIM_OBJ := $(SIM_BUILD)/obj
SIM_COMMON_OBJ := $(patsubst %.c,$(SIM_OBJ)/%.o,$(SIM_SRC) tests/sim/check_peek.c kmod/wire.c)
.SECONDARY: $(SIM_COMMON_OBJ)

$(SIM_OBJ)/%.o: %.c $(SIM_HDR) $(REPL_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(SIM_CFLAGS) -Ikmod -c -o $@ $<

$(SIM_BUILD)/sim-mut%: $(SIM_COMMON_OBJ) $(REPL_CORE) $(REPL_HDR)
	@mkdir -p $(SIM_BUILD)
	$(CC) $(SIM_CFLAGS) -Ikmod -DREPL_MUTATION=$* -o $@ $(SIM_COMMON_OBJ) $(REPL_CORE)

$(SIM_BUILD)/test_wire: tests/host/test_wire.c kmod/wire.c $(REPL_HDR)
	@mkdir -p $(SIM_BUILD)
	$(CC) $(SIM_CFLAGS) -Ikmod -Itests -o $@ tests/host/test_wire.c kmod/wire.c

# the lock-step harness the host tests of the core run on
REPL_HARNESS := tests/host/repl_harness.h tests/host/test_repl.h

$(SIM_BUILD)/test_repl: tests/host/test_repl.c tests/sim/lockmodel.c $(REPL_HARNESS) $(SIM_HDR) $(REPL_SRC) $(REPL_HDR)
	@mkdir -p $(SIM_BUILD)
	$(CC) $(SIM_CFLAGS) -Ikmod -Itests -Itests/sim -o $@ tests/host/test_repl.c tests/sim/lockmodel.c $(REPL_SRC)

# the idempotence table
$(SIM_BUILD)/test_repl_dedup: tests/host/test_repl_dedup.c tests/sim/lockmodel.c $(REPL_HARNESS) $(SIM_HDR) $(REPL_SRC) $(REPL_HDR)
	@mkdir -p $(SIM_BUILD)
	$(CC) $(SIM_CFLAGS) -Ikmod -Itests -Itests/sim -o $@ tests/host/test_repl_dedup.c tests/sim/lockmodel.c $(REPL_SRC)

# a node's lives: NODE_START, forwards of earlier lives, recovery
$(SIM_BUILD)/test_repl_life: tests/host/test_repl_life.c tests/sim/lockmodel.c $(REPL_HARNESS) $(SIM_HDR) $(REPL_SRC) $(REPL_HDR)
	@mkdir -p $(SIM_BUILD)
	$(CC) $(SIM_CFLAGS) -Ikmod -Itests -Itests/sim -o $@ tests/host/test_repl_life.c tests/sim/lockmodel.c $(REPL_SRC)

# targeted schedules (issue 13): the plants the random simulator misses
SCHED_SRC := tests/host/test_repl_sched.c tests/sim/lockmodel.c \
	tests/sim/check_log.c tests/sim/check_peek.c
# (without NODE_START: see kmod/repl_life.c)
$(SIM_BUILD)/test_repl_sched: $(SCHED_SRC) $(REPL_HARNESS) $(SIM_HDR) $(REPL_SRC) $(REPL_HDR)
	@mkdir -p $(SIM_BUILD)
	$(CC) $(SIM_CFLAGS) -DREPL_NO_NODE_START -Ikmod -Itests -Itests/sim -o $@ $(SCHED_SRC) $(REPL_SRC)

$(SIM_BUILD)/test_snap: tests/host/test_snap.c $(REPL_SRC) $(REPL_HDR)
	@mkdir -p $(SIM_BUILD)
	$(CC) $(SIM_CFLAGS) -Ikmod -Itests -o $@ tests/host/test_snap.c $(REPL_SRC)

$(SIM_BUILD)/fuzz_wire: tests/fuzz/fuzz_wire.c kmod/wire.c $(REPL_HDR)
	@mkdir -p $(SIM_BUILD)
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -Ikmod -o $@ tests/fuzz/fuzz_wire.c kmod/wire.c

.PHONY: sim sim-model sim-long fuzz check-sim repl-host-build
# the real table replicates (sim -T); sim-model: the compact lock model
# does instead, a faster run for changes of the core alone
sim: $(SIM_BUILD)/sim
	$(SIM_BUILD)/sim -T -n $(SEEDS)

sim-model: $(SIM_BUILD)/sim
	$(SIM_BUILD)/sim -n $(SEEDS)

# a long run of the real table in chunks on every core, resumable
# (tests/sim/longrun.sh): make sim-long SEEDS=1000000 FIRST=1 DIR=runs/x
FIRST ?= 1
DIR ?= build/sim/long-$(FIRST)
sim-long: $(SIM_BUILD)/sim
	tests/sim/longrun.sh -T -d $(DIR) -s $(FIRST) -n $(SEEDS)

$(SIM_BUILD)/fuzz_seeds: tests/fuzz/fuzz_seeds.c kmod/wire.c $(REPL_HDR)
	@mkdir -p $(SIM_BUILD)
	$(CC) $(SIM_CFLAGS) -Ikmod -o $@ tests/fuzz/fuzz_seeds.c kmod/wire.c

fuzz: $(SIM_BUILD)/fuzz_wire $(SIM_BUILD)/fuzz_seeds
	@mkdir -p $(SIM_BUILD)/fuzz-corpus
	$(SIM_BUILD)/fuzz_seeds $(SIM_BUILD)/fuzz-corpus
	$(SIM_BUILD)/fuzz_wire -max_total_time=$(FUZZ_SECONDS) -max_len=65100 $(SIM_BUILD)/fuzz-corpus

# table mutations (TABLE_SM_MUTATION in kmod/table*.c): 1-3 the adapter's,
# 4-10 the table's (grant order, permits, break, wait stamp, reentrancy,
# value, wait timeout proposed with a wrong stamp), 11-13 waits ended with
# no answer on the client's node (snapshot, stale QUEUED, SESSION_END), 14
# a wait that a SESSION_END grants outliving it, 15-16 a holder's node
# counting its lease past the leader's countdown (snapshot, step-down)
SIM_TMUTS := $(shell seq 1 18)
SIM_TMUT_BINS := $(SIM_TMUTS:%=$(SIM_BUILD)/sim-tmut%)

# mutation numbers: kmod/repl.h REPL_MUT_*.  Every plant is required.
# Each of SIM_MUTS_REQ must be caught by the simulator within MUT_SEEDS
# seeds.  SIM_SCHED_MUTS do harm only in schedules the random simulator
# almost never makes (docs/protocol.md section 7): each must make
# test_repl_sched (a scripted schedule built for it) fail; their simulator
# builds are not part of check-sim, `make build/sim/sim-mut10` and
# MUTS=10 tests/sim/check.sh build/sim run one by hand.  36 (a higher term
# resets the election timer: a livelock that needs a rare schedule) must
# make test_repl fail, as must 37, 38 and 44 (no leader stickiness: the
# simulator's clients see only slower elections); 39 (dedup keyed by client
# id alone), 45 and 46 (the dedup table's eviction and floor), 47 (a
# node's new life meets its old life's slots: the simulator's ids never
# repeat), 48 (a CLIENT_END refused for want of a slot) and 49 (a request
# refused -EUSERS runs later) must make test_repl_dedup fail; 45, 46 and 49
# are caught by the simulator as well; 50 (a RECOVER_REQ addressed to a
# peer's life that ended) and 53 (a refused NODE_START due again at once:
# a timer that fires without end) must make test_repl_life fail, and 51 (a leader
# fills its whole log uncommitted) test_repl.  41 (NODE_START without the msg_life
# wait) is planted but does no harm in this protocol (docs/protocol.md,
# section 7): test_repl checks the two rules that make it harmless.
SIM_MUTS := $(shell seq 1 35) 40 45 46 49
SIM_SCHED_MUTS := 10 18 19 35
SIM_MUTS_REQ := $(filter-out $(SIM_SCHED_MUTS),$(SIM_MUTS))
SIM_MUT_BINS := $(SIM_MUTS_REQ:%=$(SIM_BUILD)/sim-mut%)
# 42 and 43 (the time a follower's lease countdowns start from) do harm only
# to the holder view of the real table: each must be caught by sim -T.
SIM_RTMUTS := 42 43
SIM_RTMUT_BINS := $(SIM_RTMUTS:%=$(SIM_BUILD)/sim-mut%)
# 52 (a new leader's countdowns rule before its EPOCH commits) does harm in
# about one -T seed in 70,000: it must fail the long run's seeds that found
# it (check.sh)
SIM_SEEDMUT_BINS := $(SIM_BUILD)/sim-mut52
# plant:host test that must catch it
SIM_HOST_MUTS := 36:test_repl 37:test_repl 38:test_repl 39:test_repl_dedup 44:test_repl 51:test_repl 45:test_repl_dedup 46:test_repl_dedup 47:test_repl_dedup \
	48:test_repl_dedup 49:test_repl_dedup 50:test_repl_life 53:test_repl_life \
	$(SIM_SCHED_MUTS:%=%:test_repl_sched)
SIM_HOST_MUT_BINS := $(foreach p,$(SIM_HOST_MUTS),\
	$(SIM_BUILD)/$(word 2,$(subst :, ,$(p)))-mut$(word 1,$(subst :, ,$(p))))

$(SIM_BUILD)/test_repl-mut%: tests/host/test_repl.c tests/sim/lockmodel.c $(REPL_HARNESS) $(SIM_HDR) $(REPL_SRC) $(REPL_HDR)
	@mkdir -p $(SIM_BUILD)
	$(CC) $(SIM_CFLAGS) -Ikmod -Itests -Itests/sim -DREPL_MUTATION=$* -o $@ tests/host/test_repl.c tests/sim/lockmodel.c $(REPL_SRC)

$(SIM_BUILD)/test_repl_dedup-mut%: tests/host/test_repl_dedup.c tests/sim/lockmodel.c $(REPL_HARNESS) $(SIM_HDR) $(REPL_SRC) $(REPL_HDR)
	@mkdir -p $(SIM_BUILD)
	$(CC) $(SIM_CFLAGS) -Ikmod -Itests -Itests/sim -DREPL_MUTATION=$* -o $@ tests/host/test_repl_dedup.c tests/sim/lockmodel.c $(REPL_SRC)

$(SIM_BUILD)/test_repl_life-mut%: tests/host/test_repl_life.c tests/sim/lockmodel.c $(REPL_HARNESS) $(SIM_HDR) $(REPL_SRC) $(REPL_HDR)
	@mkdir -p $(SIM_BUILD)
	$(CC) $(SIM_CFLAGS) -Ikmod -Itests -Itests/sim -DREPL_MUTATION=$* -o $@ tests/host/test_repl_life.c tests/sim/lockmodel.c $(REPL_SRC)

$(SIM_BUILD)/test_repl_sched-mut%: $(SCHED_SRC) $(REPL_HARNESS) $(SIM_HDR) $(REPL_SRC) $(REPL_HDR)
	@mkdir -p $(SIM_BUILD)
	$(CC) $(SIM_CFLAGS) -DREPL_NO_NODE_START -Ikmod -Itests -Itests/sim -DREPL_MUTATION=$* -o $@ $(SCHED_SRC) $(REPL_SRC)

check-sim: repl-host-build $(SIM_BUILD)/sim $(SIM_BUILD)/test_wire $(SIM_BUILD)/test_repl \
		$(SIM_BUILD)/test_repl_dedup $(SIM_BUILD)/test_repl_life \
		$(SIM_BUILD)/test_repl_sched $(SIM_BUILD)/test_snap $(SIM_MUT_BINS) \
		$(SIM_HOST_MUT_BINS) $(SIM_TMUT_BINS) $(SIM_RTMUT_BINS) \
		$(SIM_SEEDMUT_BINS)
	@MUTS="$(SIM_MUTS_REQ)" RTMUTS="$(SIM_RTMUTS)" HOST_MUTS="$(SIM_HOST_MUTS)" \
		tests/sim/check.sh $(SIM_BUILD)

# make sure the core builds warning-free on the host on its own too, with
# no stack frame above 1 KiB (struct repl_msg and repl_cmd live elsewhere)
repl-host-build: $(REPL_SRC) $(REPL_HDR)
	@mkdir -p $(SIM_BUILD)
	set -e; for f in $(REPL_SRC); do \
		$(CC) $(SIM_CFLAGS) -Wframe-larger-than=1024 -Ikmod -c $$f \
			-o $(SIM_BUILD)/$$(basename $$f .c).o; done

CHECK_SUITES += sim
