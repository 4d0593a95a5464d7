# ticketd: one Makefile for every actor, the shared library, tests and benchmarks.
#   make            all binaries into build/bin
#   make test       unit + integration tests (starts its own PostgreSQL and processes)
#   make SAN=1 ...  the same with ASan + UBSan, into build-san/
#   make bench | fuzz | clean
#   make compose-test   compose.yaml on a real Docker engine (root; see docs/OPERATIONS.md)
#   make scale-test     simulated hosts in network namespaces (root; docs/RELIABILITY.md)

CC      ?= cc
SAN     ?= 0
PKGS    := libczmq libzmq jansson libpq libmicrohttpd libjwt libwebsockets openssl

ifeq ($(SAN),1)
BUILD   ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT     := -O1
else
BUILD   ?= build
SANFLAGS :=
OPT     := -O2
endif

CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -MMD -MP \
           $(SANFLAGS) $(shell pkg-config --cflags $(PKGS)) -I.
# --as-needed: each binary loads only the libraries it calls (the broker no libpq, no
# libwebsockets), which is most of an idle process's resident memory.
LDFLAGS += $(SANFLAGS) -Wl,--as-needed
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lcrypt -lpthread -lm

# One folder per actor; everything in it but main.c is also a library for unit tests.
ACTORS  := broker workers http-edge progress-hub
BIN_broker       := broker
BIN_workers      := worker
BIN_http-edge    := http-edge
BIN_progress-hub := progress-hub

COMMON_SRC := $(wildcard common/*.c proto/*.c)
COMMON_LIB := $(BUILD)/libcommon.a

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

# Actors present in this tree (a folder with a main.c).
PRESENT := $(foreach a,$(ACTORS),$(if $(wildcard $(a)/main.c),$(a)))
BINS    := $(foreach a,$(PRESENT),$(BUILD)/bin/$(BIN_$(a)))
ALIBS   := $(foreach a,$(PRESENT),$(BUILD)/lib$(a).a)

# Small command-line tools (tools/<name>.c -> bin/<name>), linked with the common library.
TOOL_SRC  := $(wildcard tools/*.c)
TOOL_BINS := $(patsubst tools/%.c,$(BUILD)/bin/%,$(TOOL_SRC))

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

# The worker with failpoints compiled in (workers/failpoint.h), for the tests alone: the same
# sources built again with -DTICKETD_FAILPOINTS into $(BUILD)/fp/, so bin/worker has none.
FP_BIN := $(if $(filter workers,$(PRESENT)),$(BUILD)/bin/worker-failpoints)
FP_OBJ := $(patsubst %.c,$(BUILD)/fp/%.o,$(wildcard workers/*.c))

.PHONY: all test deps unit integration bench fuzz clean san-test postman chaos soak compose-test \
        scale-test
all: $(BINS) $(TOOL_BINS) $(UNIT_BINS) $(FP_BIN)

$(BUILD)/bin/%: $(BUILD)/tools/%.o $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# Archives are made anew, never updated in place: `ar rcs` keeps members whose source is
# gone, and a stale one (an old copy of a module that moved) was linked ahead of its
# replacement.
$(COMMON_LIB): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

define ACTOR_RULES
$(BUILD)/lib$(1).a: $(call obj,$(filter-out $(1)/main.c,$(wildcard $(1)/*.c)))
	@mkdir -p $$(dir $$@)
	rm -f $$@
	$$(AR) rcs $$@ $$^
$(BUILD)/bin/$(BIN_$(1)): $(call obj,$(1)/main.c) $(BUILD)/lib$(1).a $(COMMON_LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach a,$(PRESENT),$(eval $(call ACTOR_RULES,$(a))))

$(BUILD)/fp/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DTICKETD_FAILPOINTS -c $< -o $@

$(BUILD)/bin/worker-failpoints: $(FP_OBJ) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A unit test links the library of the actor its name starts with (test_broker_*.c,
# test_edge_*.c, test_worker_*.c, test_hub_*.c) and the common library; others only the latter.
PREFIX_broker       := broker
PREFIX_edge         := http-edge
PREFIX_worker       := workers
PREFIX_hub          := progress-hub
test_actor = $(PREFIX_$(word 2,$(subst _, ,$(notdir $(1)))))
test_lib   = $(if $(call test_actor,$(1)),$(BUILD)/lib$(call test_actor,$(1)).a)
define UNIT_RULE
$(BUILD)/tests/$(basename $(notdir $(1))): $(1) $(call test_lib,$(1)) $(COMMON_LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$< $(call test_lib,$(1)) $$(COMMON_LIB) $$(LDLIBS)
endef
$(foreach t,$(UNIT_SRC),$(eval $(call UNIT_RULE,$(t))))

# The test command of README.md and .ci/run: installs what is missing, builds, runs everything.
test: deps
	@$(MAKE) -s --no-print-directory all
	@tests/run.sh $(BUILD)

deps:
	@./manage.sh deps --test

unit: all
	@tests/run.sh $(BUILD) unit

integration: all
	@tests/run.sh $(BUILD) integration

san-test:
	$(MAKE) SAN=1 test

bench: all
	@tests/bench/run.sh $(BUILD)

# Fault injection, the long version (make test runs 3 rounds of 50k items and no 60 s outage).
chaos: all
	@CHAOS_ROUNDS=$${CHAOS_ROUNDS:-20} CHAOS_ITEMS=$${CHAOS_ITEMS:-100000} \
	    CHAOS_OUTAGE_S=$${CHAOS_OUTAGE_S:-60} BUILD_DIR=$(BUILD) \
	    /usr/bin/python3 -m pytest -q -s -p no:cacheprovider tests/integration/test_chaos.py

# Soak, not in CI: SOAK_SECONDS (default 600) of mixed API load, 1,000 WebSockets and a
# bulk-delete every 30 s on a private system; report in $(BUILD)/soak-report.txt.
soak: all
	@BUILD_DIR=$(BUILD) /usr/bin/python3 tests/soak/soak.py

# compose.yaml on a real Docker engine, offline (not in CI, not in `make test`:
# docs/OPERATIONS.md, "compose-test"). Starts an engine if none runs; root only.
compose-test:
	@tests/compose/run.sh

# Several hosts simulated with network namespaces (root only, not in CI: README.md, "Tests";
# docs/RELIABILITY.md, "Several hosts"). Report in $(BUILD)/scale-report.txt.
scale-test: all
	@tests/scale/run.sh $(BUILD)

# The Postman collection is generated from the OpenAPI spec; the suite checks they agree.
postman: docs/openapi.yaml tools/openapi2postman.py
	/usr/bin/python3 tools/openapi2postman.py docs/openapi.yaml > postman_collection.json.tmp
	mv postman_collection.json.tmp postman_collection.json

clean:
	rm -rf build build-san build-fuzz

# ---------------------------------------------------------------------------------------
# Fuzzing (libFuzzer, Debian's clang): tests/fuzz/fuzz_<name>.c, one harness per decoder of
# outside bytes, seeds in tests/fuzz/corpus/<name>/, past crashes in tests/fuzz/regressions/<name>/.
#   make fuzz          build into build-fuzz/, replay seeds + regressions, fuzz each FUZZ_SECONDS
#   make fuzz-short    the same for 10 s each (a stage of `make test`)
#   make fuzz-build    build only
# Harnesses link objects built here with clang (build-fuzz/obj), never the gcc archives.
FUZZ_CC      ?= clang
FUZZ_DIR     := build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := -O1 -g -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -MMD -MP \
                $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(shell pkg-config --cflags $(PKGS)) -I.
# What a harness tests beyond proto/ and common/ (which every harness links); a harness
# whose sources are not in the tree yet is skipped.
FUZZ_EXTRA_validate_body   := http-edge/validate.c http-edge/jobbody.c http-edge/idlist.c
FUZZ_EXTRA_validate_fields := http-edge/validate.c
FUZZ_EXTRA_query           := http-edge/validate.c
FUZZ_EXTRA_jobbody         := http-edge/jobbody.c http-edge/idlist.c
FUZZ_ALL   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(foreach n,$(FUZZ_ALL),$(if $(filter-out $(wildcard $(FUZZ_EXTRA_$(n))),$(FUZZ_EXTRA_$(n))),,$(n)))
FUZZ_BINS  := $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_NAMES))
fuzz_obj    = $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(1))

.PHONY: fuzz fuzz-short fuzz-build fuzz-regress
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-short: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_DIR) 10 $(FUZZ_NAMES)

fuzz-regress: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_DIR) 0 $(FUZZ_NAMES)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

define FUZZ_RULE
$(FUZZ_DIR)/fuzz_$(1): $(call fuzz_obj,tests/fuzz/fuzz_$(1).c $(COMMON_SRC) $(FUZZ_EXTRA_$(1)))
	$$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $$@ $$^ $$(LDLIBS)
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call FUZZ_RULE,$(n))))

-include $(shell find $(FUZZ_DIR) -name '*.d' 2>/dev/null)
# ---------------------------------------------------------------------------------------

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------------------------------
# Benchmarks (issue 8): the C load clients and bare baselines under tests/bench/, built by
# tests/bench/run.sh. `make bench` runs P1..P10 (P10 only as root); `make soak-mem` adds P8's 10-minute run.
BENCH_TOOLS := $(BUILD)/bench/mdp_noop $(BUILD)/bench/zmq_pingpong $(BUILD)/bench/ws_latency \
               $(BUILD)/bench/lws_bare
.PHONY: bench-tools soak-mem
bench-tools: $(BENCH_TOOLS)

$(BUILD)/bench/%: tests/bench/%.c $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(COMMON_LIB) $(LDLIBS)

soak-mem: all
	@BENCH_LONG=1 BENCH_ONLY="p8" tests/bench/run.sh $(BUILD)
