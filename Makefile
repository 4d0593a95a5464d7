# ticketd: one Makefile for every actor, the shared library, tests and benchmarks.
#   make            all binaries into build/bin
#   make test       unit + integration tests (starts its own PostgreSQL and processes)
#   make SAN=1 ...  the same with ASan + UBSan, into build-san/
#   make bench | fuzz | clean

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
LDFLAGS += $(SANFLAGS)
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

.PHONY: all test deps unit integration bench fuzz clean san-test
all: $(BINS) $(TOOL_BINS) $(UNIT_BINS)

$(BUILD)/bin/%: $(BUILD)/tools/%.o $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(COMMON_LIB): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

define ACTOR_RULES
$(BUILD)/lib$(1).a: $(call obj,$(filter-out $(1)/main.c,$(wildcard $(1)/*.c)))
	@mkdir -p $$(dir $$@)
	$$(AR) rcs $$@ $$^
$(BUILD)/bin/$(BIN_$(1)): $(call obj,$(1)/main.c) $(BUILD)/lib$(1).a $(COMMON_LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach a,$(PRESENT),$(eval $(call ACTOR_RULES,$(a))))

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
	@$(MAKE) --no-print-directory all
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

clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
