# testbed: plain make, pkg-config for every library.
#   make             build bin/testbed
#   make deps        install the build and test dependencies (apt-get; root)
#   make images      build the rootfs images (root)
#   make test        unit tests, the replay tool's self-test, the bats suites (root)
#   make test-asan   unit tests under AddressSanitizer and UBSan
#   make install     PREFIX=/usr/local DESTDIR=
.SUFFIXES:

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
DOCDIR  ?= $(PREFIX)/share/doc/testbed
CC      ?= cc
PKG_CONFIG ?= pkg-config
VERSION := $(shell cat VERSION)

PKGS    := libnl-3.0 libnl-route-3.0 libcjson libarchive libcrypto libnftables
CFLAGS  ?= -O2 -g
WARN    := -std=c17 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wno-format-nonliteral
ALL_CFLAGS = $(WARN) $(CFLAGS) -D_FORTIFY_SOURCE=2 -DTESTBED_VERSION='"$(VERSION)"' \
           -Iorchestrator $(shell $(PKG_CONFIG) --cflags $(PKGS))
LIBS    = $(shell $(PKG_CONFIG) --libs $(PKGS)) -lm
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

SRCS      := $(sort $(wildcard orchestrator/*.c))
LIB_SRCS  := $(filter-out orchestrator/main.c,$(SRCS))
TEST_SRCS := $(sort $(wildcard tests/unit/*.c))
HDRS      := $(wildcard orchestrator/*.h tests/unit/*.h)

OBJS          := $(SRCS:%.c=build/%.o)
LIB_OBJS      := $(LIB_SRCS:%.c=build/%.o)
TEST_OBJS     := $(TEST_SRCS:%.c=build/%.o)
ASAN_LIB_OBJS := $(LIB_SRCS:%.c=build/asan/%.o)
ASAN_TEST_OBJS:= $(TEST_SRCS:%.c=build/asan/%.o)

all: bin/testbed

bin/testbed: $(OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

build/%.o: %.c $(HDRS) Makefile VERSION
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/asan/%.o: %.c $(HDRS) Makefile VERSION
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

build/unit-tests: $(LIB_OBJS) $(TEST_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

build/asan/unit-tests: $(ASAN_LIB_OBJS) $(ASAN_TEST_OBJS)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

include images/images.mk

deps:
	./ci/deps.sh

test: test-unit test-tools test-bats

test-unit: build/unit-tests bin/testbed
	cd tests/unit && ../../build/unit-tests

test-asan: build/asan/unit-tests
	cd tests/unit && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ../../build/asan/unit-tests

# The replay suite's own tool: tests/netstate.py against hand-built labs.
test-tools:
	./tests/netstate-selftest.sh

# Images are built before the suites enter their scratch namespace,
# which has no network.
test-bats: bin/testbed images
	./tests/run-bats.sh

install: bin/testbed
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DOCDIR)
	install -m 0755 bin/testbed $(DESTDIR)$(BINDIR)/testbed
	install -m 0644 README.md docs/topology.md docs/topology.schema.json $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/testbed
	rm -rf $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build bin

.PHONY: all deps test test-unit test-tools test-asan test-bats install uninstall clean
