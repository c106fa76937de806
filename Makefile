# rune — top-level build. `make` builds everything; `make check` installs the
# Debian dependencies, builds and runs every test; `make demo` shows rune work.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
BUILDDIR ?= build
CC ?= cc

VERSION := 0.1.0
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2
HARDEN := -fstack-protector-strong -fPIE -fno-strict-aliasing
CPPFLAGS_ALL := -std=gnu11 -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 \
	-DRUNE_VERSION='"$(VERSION)"' -DRUNE_COMMIT='"$(COMMIT)"' $(CPPFLAGS)
LDFLAGS_ALL := -pie -Wl,-z,relro,-z,now -Wl,--as-needed $(LDFLAGS)

ifeq ($(FUZZ),1)
  # libFuzzer targets and the libraries they link: clang, ASan+UBSan.
  BUILDDIR := build-fuzz
  CC := clang
  CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
  CPPFLAGS_ALL := $(filter-out -D_FORTIFY_SOURCE=2,$(CPPFLAGS_ALL)) -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  LDFLAGS_ALL += -fsanitize=address,undefined
  SANITIZE_LDFLAGS := -fsanitize=address,undefined
  # clang reads -Wformat=2 as also refusing the error object's vprintf wrappers
  WARN += -Wno-format-nonliteral
else ifeq ($(TSAN),1)
  # ThreadSanitizer (make check-tsan): the threaded parts' tests.
  BUILDDIR := build-tsan
  CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
  CPPFLAGS_ALL := $(filter-out -D_FORTIFY_SOURCE=2,$(CPPFLAGS_ALL))
  LDFLAGS_ALL += -fsanitize=thread
  SANITIZE_LDFLAGS := -fsanitize=thread
else ifeq ($(SANITIZE),1)
  BUILDDIR := build-asan
  CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  CPPFLAGS_ALL := $(filter-out -D_FORTIFY_SOURCE=2,$(CPPFLAGS_ALL))
  LDFLAGS_ALL += -fsanitize=address,undefined
  SANITIZE_LDFLAGS := -fsanitize=address,undefined
endif

COMMON_SRC := $(wildcard common/*.c)
LIBRUNE_SRC := $(wildcard rune/lib/*.c) pal/loader.c
RUNE_SRC := $(wildcard rune/*.c)
RUNE_LIBS := -lyajl -lcap -lseccomp
# rune itself links them statically: every container start pays the dynamic
# loader for each shared library, twice (rune re-execs from its sealed copy).
# (Not a static executable: rune dlopens enclave runtimes.)
RUNE_BIN_LIBS := -l:libyajl_s.a -l:libcap.a -l:libseccomp.a

COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILDDIR)/%.o)
LIBRUNE_OBJ := $(LIBRUNE_SRC:%.c=$(BUILDDIR)/%.o) $(BUILDDIR)/rune/lib/dmz_blob.o
RUNE_OBJ := $(RUNE_SRC:%.c=$(BUILDDIR)/%.o)

# Component boundaries: each compiles with only the headers it may use
# (docs/architecture.md). common/ is everyone's; librune sees pal/ for its
# loader; the rune CLI sees librune; libruneimage and rune-image see image/lib;
# the enclave runtimes see pal/ and common/'s headers (they link none of it,
# and never librune).
COMMON_INC := -Icommon
LIBRUNE_INC := -Icommon -Irune/lib -Ipal
PAL_LOADER_INC := -Icommon -Ipal
RUNE_CLI_INC := -Icommon -Irune/lib
IMAGE_INC := -Icommon -Iimage/lib
PAL_INC := -Icommon -Ipal -Ipal/lib
$(COMMON_OBJ): INC := $(COMMON_INC)
$(filter $(BUILDDIR)/rune/lib/%,$(LIBRUNE_OBJ)): INC := $(LIBRUNE_INC)
$(BUILDDIR)/pal/loader.o: INC := $(PAL_LOADER_INC)
$(RUNE_OBJ): INC := $(RUNE_CLI_INC)

UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILDDIR)/tests/unit/%)
TEST_HELPERS := $(BUILDDIR)/tests/console-receiver $(BUILDDIR)/tests/pal-report $(BUILDDIR)/tests/seccomp-agent \
	$(BUILDDIR)/tests/refuse-syscall \
	$(BUILDDIR)/tests/syscall-probe $(BUILDDIR)/tests/fake-tsm \
	$(BUILDDIR)/tests/pal-thirdparty.so $(BUILDDIR)/tests/pal-broken-nokill.so $(BUILDDIR)/tests/pal-broken-v4.so

BINARIES := $(BUILDDIR)/bin/rune $(BUILDDIR)/bin/rune-image $(BUILDDIR)/bin/rune-attest $(BUILDDIR)/bin/rune-kbs \
	$(BUILDDIR)/bin/containerd-shim-rune-v2

# libruneimage and rune-image: the image stack, kept out of rune itself.
IMAGE_LIB_SRC := $(wildcard image/lib/*.c)
IMAGE_CLI_SRC := $(wildcard image/*.c)
IMAGE_LIB_OBJ := $(IMAGE_LIB_SRC:%.c=$(BUILDDIR)/%.o)
IMAGE_CLI_OBJ := $(IMAGE_CLI_SRC:%.c=$(BUILDDIR)/%.o)
$(IMAGE_LIB_OBJ) $(IMAGE_CLI_OBJ): INC := $(IMAGE_INC)
IMAGE_LIBS := -lcurl -larchive -lcrypto -lgpgme -ljose -ljansson -lyaml -lz -lzstd -lyajl -lpthread
# gzip layers inflate through Intel ISA-L's igzip (libisal, 2-3x zlib's
# speed); ISAL=0 builds with zlib alone (RUNE_IMAGE_INFLATE=zlib picks it at
# run time).
ISAL ?= 1
ifeq ($(ISAL),1)
  CPPFLAGS_ALL += -DRUNE_HAVE_ISAL
  IMAGE_LIBS += -lisal
endif

# libruneattest, rune-attest and the development KBS rune-kbs: the attestation
# agent, kept out of rune and of the image stack (neither sees the other).
ATTEST_LIB_SRC := $(wildcard attestation/lib/*.c)
ATTEST_CLI_SRC := $(wildcard attestation/*.c)
KBS_SRC := $(wildcard attestation/kbs/*.c)
ATTEST_LIB_OBJ := $(ATTEST_LIB_SRC:%.c=$(BUILDDIR)/%.o)
ATTEST_CLI_OBJ := $(ATTEST_CLI_SRC:%.c=$(BUILDDIR)/%.o)
KBS_OBJ := $(KBS_SRC:%.c=$(BUILDDIR)/%.o)
ATTEST_INC := -Icommon -Iattestation/lib
$(ATTEST_LIB_OBJ) $(ATTEST_CLI_OBJ) $(KBS_OBJ): INC := $(ATTEST_INC)
ATTEST_LIBS := -lcurl -ljose -ljansson -lcrypto -lyajl -lpthread
KBS_LIBS := -lmicrohttpd $(ATTEST_LIBS)

# containerd-shim-rune-v2: sees common/ and its own protocol code, which
# protoc-c generates at build time from shim/proto (slim copies of containerd's
# definitions) and the well-known types libprotobuf-dev ships.
SHIM_SRC := $(wildcard shim/*.c)
SHIM_OBJ := $(SHIM_SRC:%.c=$(BUILDDIR)/%.o)
SHIM_PROTO := ttrpc google/rpc/status containerd/types/mount containerd/v1/types/task shim events forward \
	options runtimeoptions cgroups_v1 cgroups_v2
SHIM_WKT := google/protobuf/any google/protobuf/timestamp
SHIM_GEN := $(BUILDDIR)/shim/gen
SHIM_GEN_C := $(patsubst %,$(SHIM_GEN)/%.pb-c.c,$(SHIM_PROTO) $(SHIM_WKT))
SHIM_GEN_OBJ := $(SHIM_GEN_C:%.c=%.o)
SHIM_INC := -Icommon -Ishim -I$(SHIM_GEN)
# Linked statically (static PIE), without libcrypto: every pod pays for the
# shim's resident pages, and shared libraries' mapped text and relocations
# cost several times the code the shim uses of them (docs/benchmarks.md).
# Sanitizer builds link dynamically (ASan needs it).
SHIM_LIBS := -l:libprotobuf-c.a -l:libyajl_s.a -lpthread
SHIM_LDFLAGS := $(filter-out -pie,$(LDFLAGS_ALL)) -static-pie
ifneq ($(SANITIZE)$(FUZZ)$(TSAN),)
  SHIM_LDFLAGS := $(LDFLAGS_ALL)
endif
$(SHIM_OBJ): INC := $(SHIM_INC)
$(SHIM_OBJ): | $(SHIM_GEN)/.stamp
$(SHIM_GEN)/.stamp: $(SHIM_PROTO:%=shim/proto/%.proto)
	@mkdir -p $(SHIM_GEN)
	protoc-c --c_out=$(SHIM_GEN) -Ishim/proto -I/usr/include $(SHIM_PROTO:%=shim/proto/%.proto) \
		$(SHIM_WKT:%=/usr/include/%.proto)
	touch $@
$(SHIM_GEN_C): $(SHIM_GEN)/.stamp ;
$(SHIM_GEN_OBJ): %.o: %.c
	$(CC) $(CPPFLAGS_ALL) -I$(SHIM_GEN) $(CFLAGS) $(WARN) $(HARDEN) -c $< -o $@

$(BUILDDIR)/bin/containerd-shim-rune-v2: $(SHIM_OBJ) $(SHIM_GEN_OBJ) $(BUILDDIR)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SHIM_LDFLAGS) -o $@ $(SHIM_OBJ) $(SHIM_GEN_OBJ) $(BUILDDIR)/libcommon.a $(SHIM_LIBS)

# libFuzzer targets (tests/fuzz/README.md): built by clang with ASan+UBSan
# into build-fuzz (`make FUZZ=1 fuzz-targets`), one per parser of untrusted
# input; each links only the component it fuzzes. `make fuzz` runs them all.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILDDIR)/fuzz/%)
FUZZ_SECONDS ?= 60
CHECK_FUZZ_SECONDS ?= 30
$(BUILDDIR)/fuzz/fuzz_rune_%: FUZZ_INC := $(LIBRUNE_INC)
$(BUILDDIR)/fuzz/fuzz_rune_%: FUZZ_LIBS = $(BUILDDIR)/librune.a $(BUILDDIR)/libcommon.a $(RUNE_LIBS)
$(BUILDDIR)/fuzz/fuzz_image_%: FUZZ_INC := $(IMAGE_INC)
$(BUILDDIR)/fuzz/fuzz_image_%: FUZZ_LIBS = $(BUILDDIR)/libruneimage.a $(BUILDDIR)/libcommon.a $(IMAGE_LIBS)
$(BUILDDIR)/fuzz/fuzz_attest_%: FUZZ_INC := $(ATTEST_INC)
$(BUILDDIR)/fuzz/fuzz_attest_%: FUZZ_LIBS = $(BUILDDIR)/libruneattest.a $(BUILDDIR)/libcommon.a $(ATTEST_LIBS)
$(BUILDDIR)/fuzz/fuzz_common_%: FUZZ_INC := $(COMMON_INC)
$(BUILDDIR)/fuzz/fuzz_common_%: FUZZ_LIBS = $(BUILDDIR)/libcommon.a -ljose -ljansson -lcrypto -lyajl
$(BUILDDIR)/fuzz/fuzz_shim_%: FUZZ_INC := $(SHIM_INC)
$(BUILDDIR)/fuzz/fuzz_shim_%: FUZZ_LIBS = $(filter-out $(BUILDDIR)/shim/main.o,$(SHIM_OBJ)) $(SHIM_GEN_OBJ) \
	$(BUILDDIR)/libcommon.a $(SHIM_LIBS)
$(BUILDDIR)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h tests/fuzz/fuzz_reader.h $(BUILDDIR)/libcommon.a $(BUILDDIR)/librune.a $(BUILDDIR)/libruneimage.a \
	$(BUILDDIR)/libruneattest.a $(SHIM_OBJ) $(SHIM_GEN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(FUZZ_INC) -Itests/fuzz $(CFLAGS) $(WARN) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_LIBS)
fuzz-targets: $(FUZZ_BIN)

# Every target for FUZZ_SECONDS (default 60) each; findings are kept and named.
fuzz:
	$(MAKE) FUZZ=1 fuzz-targets
	tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

# Enclave runtimes (PALs): shared objects exporting only the pal_* ABI.
LIBDIR ?= $(PREFIX)/lib
PALDIR ?= $(LIBDIR)/rune
PAL_CFLAGS := -fPIC -fvisibility=hidden $(PAL_INC)
PAL_LDFLAGS := -shared -Wl,-z,relro,-z,now -Wl,-z,defs -Wl,--as-needed
PALPROC_OBJ := $(BUILDDIR)/pic/pal/lib/palproc.o
SIM_OBJ := $(patsubst %.c,$(BUILDDIR)/pic/%.o,$(filter-out pal/sim/sim_image.c,$(wildcard pal/sim/*.c)))
PALS := $(BUILDDIR)/pal/liberpal-skeleton-v1.so $(BUILDDIR)/pal/liberpal-skeleton-v2.so \
	$(BUILDDIR)/pal/liberpal-skeleton-v3.so $(BUILDDIR)/pal/liberpal-sim.so $(BUILDDIR)/pal/liberpal-sim-agent.so

.PHONY: all install uninstall deps check check-asan check-tsan test unit integration demo bench bench-curves fuzz fuzz-targets \
	format format-check clean check-structure runc-suite

all: $(BINARIES) $(PALS) $(UNIT_BIN) $(TEST_HELPERS)

# liberpal-sim hosts the in-enclave agent (docs/architecture.md): libcommon,
# libruneimage and libruneattest built position-independent for it, symbols
# hidden. Only sim_image.c sees their headers.
AGENT_PIC_OBJ := $(patsubst %.c,$(BUILDDIR)/pic/%.o,$(COMMON_SRC) $(IMAGE_LIB_SRC) $(ATTEST_LIB_SRC))
PIC_CFLAGS = $(PAL_CFLAGS)
$(AGENT_PIC_OBJ): PIC_CFLAGS = -fPIC -fvisibility=hidden -DRUNE_VERSION='"$(VERSION)"' -DRUNE_COMMIT='"$(COMMIT)"'
$(filter $(BUILDDIR)/pic/common/%,$(AGENT_PIC_OBJ)): PIC_CFLAGS += $(COMMON_INC)
$(filter $(BUILDDIR)/pic/image/%,$(AGENT_PIC_OBJ)): PIC_CFLAGS += $(IMAGE_INC) $(if $(filter 1,$(ISAL)),-DRUNE_HAVE_ISAL)
$(filter $(BUILDDIR)/pic/attestation/%,$(AGENT_PIC_OBJ)): PIC_CFLAGS += $(ATTEST_INC)
$(BUILDDIR)/pic/pal/sim/sim_image.o: PIC_CFLAGS = $(PAL_CFLAGS) -Iimage/lib -Iattestation/lib
$(BUILDDIR)/libagent-pic.a: $(AGENT_PIC_OBJ)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILDDIR)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 $(PIC_CFLAGS) $(CFLAGS) $(WARN) \
		-fstack-protector-strong -MMD -MP -c $< -o $@

SKELETON_OBJ := $(foreach v,1 2 3,$(BUILDDIR)/pic/pal/skeleton/skeleton-v$(v).o)
# A static pattern: only these targets, so make never chains it to a .d file.
$(SKELETON_OBJ): $(BUILDDIR)/pic/pal/skeleton/skeleton-v%.o: pal/skeleton/skeleton.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -DSKELETON_VERSION=$* $(PAL_CFLAGS) $(CFLAGS) $(WARN) \
		-fstack-protector-strong -MMD -MP -c $< -o $@

$(BUILDDIR)/pal/liberpal-skeleton-v%.so: $(BUILDDIR)/pic/pal/skeleton/skeleton-v%.o $(PALPROC_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PAL_LDFLAGS) $(SANITIZE_LDFLAGS) -o $@ $^

$(BUILDDIR)/pal/liberpal-sim.so: $(SIM_OBJ) $(PALPROC_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PAL_LDFLAGS) $(SANITIZE_LDFLAGS) -o $@ $^ -lseccomp -lcrypto -ldl

# The in-enclave agent, loaded by liberpal-sim only for image mode (pal_preload).
$(BUILDDIR)/pal/liberpal-sim-agent.so: $(BUILDDIR)/pic/pal/sim/sim_image.o $(BUILDDIR)/libagent-pic.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PAL_LDFLAGS) $(SANITIZE_LDFLAGS) -o $@ $^ $(IMAGE_LIBS) $(ATTEST_LIBS)

$(BUILDDIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(INC) $(CFLAGS) $(WARN) $(HARDEN) -MMD -MP -c $< -o $@

# Archives are written afresh, so a removed source leaves nothing behind in them.
$(BUILDDIR)/libcommon.a: $(COMMON_OBJ)
	rm -f $@ && $(AR) rcs $@ $^

# rune-exec (rune/lib/dmz.h): freestanding — no libc, start files or
# sanitizer —, a static PIE without relocations, carried inside librune.
DMZ_CFLAGS := -std=gnu11 -Os -ffreestanding -fno-builtin -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fPIE -static-pie -nostdlib -Wl,-z,noexecstack,-z,relro,-z,now -Wl,--build-id=none -s
$(BUILDDIR)/rune/dmz/rune-exec: rune/dmz/rune-exec.c rune/lib/dmz.h
	@mkdir -p $(dir $@)
	$(CC) $(DMZ_CFLAGS) -Irune/lib $(WARN) -o $@ $<

$(BUILDDIR)/rune/lib/dmz_blob.o: rune/lib/dmz_blob.S $(BUILDDIR)/rune/dmz/rune-exec
	@mkdir -p $(dir $@)
	$(CC) -c -DRUNE_DMZ_ELF='"$(BUILDDIR)/rune/dmz/rune-exec"' -o $@ $<

$(BUILDDIR)/librune.a: $(LIBRUNE_OBJ)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILDDIR)/libruneimage.a: $(IMAGE_LIB_OBJ)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILDDIR)/bin/rune-image: $(IMAGE_CLI_OBJ) $(BUILDDIR)/libruneimage.a $(BUILDDIR)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS_ALL) -o $@ $(IMAGE_CLI_OBJ) $(BUILDDIR)/libruneimage.a $(BUILDDIR)/libcommon.a $(IMAGE_LIBS)

$(BUILDDIR)/libruneattest.a: $(ATTEST_LIB_OBJ)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILDDIR)/bin/rune-attest: $(ATTEST_CLI_OBJ) $(BUILDDIR)/libruneattest.a $(BUILDDIR)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS_ALL) -o $@ $(ATTEST_CLI_OBJ) $(BUILDDIR)/libruneattest.a $(BUILDDIR)/libcommon.a $(ATTEST_LIBS)

$(BUILDDIR)/bin/rune-kbs: $(KBS_OBJ) $(BUILDDIR)/libruneattest.a $(BUILDDIR)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS_ALL) -o $@ $(KBS_OBJ) $(BUILDDIR)/libruneattest.a $(BUILDDIR)/libcommon.a $(KBS_LIBS)

$(BUILDDIR)/bin/rune: $(RUNE_OBJ) $(BUILDDIR)/librune.a $(BUILDDIR)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS_ALL) -o $@ $(RUNE_OBJ) $(BUILDDIR)/librune.a $(BUILDDIR)/libcommon.a $(RUNE_BIN_LIBS)

# Unit tests see the component they test, and link only its libraries.
$(BUILDDIR)/tests/unit/test_config $(BUILDDIR)/tests/unit/test_enclave: TEST_INC := -Icommon -Irune/lib -Ipal -Itests/unit
$(BUILDDIR)/tests/unit/test_config $(BUILDDIR)/tests/unit/test_enclave: TEST_LIBS := $(BUILDDIR)/librune.a \
	$(BUILDDIR)/libcommon.a $(RUNE_LIBS)
$(BUILDDIR)/tests/unit/test_image $(BUILDDIR)/tests/unit/test_trust $(BUILDDIR)/tests/unit/test_decrypt: TEST_INC := -Icommon -Iimage/lib -Itests/unit
$(BUILDDIR)/tests/unit/test_image $(BUILDDIR)/tests/unit/test_trust $(BUILDDIR)/tests/unit/test_decrypt: TEST_LIBS := $(BUILDDIR)/libruneimage.a \
	$(BUILDDIR)/libcommon.a $(IMAGE_LIBS)
$(BUILDDIR)/tests/unit/test_attest: TEST_INC := -Icommon -Iattestation/lib -Itests/unit
$(BUILDDIR)/tests/unit/test_attest: TEST_LIBS := $(BUILDDIR)/libruneattest.a $(BUILDDIR)/libcommon.a $(ATTEST_LIBS)
$(BUILDDIR)/tests/unit/%: tests/unit/%.c $(BUILDDIR)/librune.a $(BUILDDIR)/libruneimage.a $(BUILDDIR)/libruneattest.a \
	$(BUILDDIR)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(TEST_INC) $(CFLAGS) $(WARN) $(HARDEN) $(LDFLAGS_ALL) -o $@ $< $(TEST_LIBS)

$(BUILDDIR)/tests/pal-report: INC := -Ipal
$(BUILDDIR)/tests/%: tests/helpers/%.c $(BUILDDIR)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(INC) $(CFLAGS) $(WARN) $(HARDEN) $(LDFLAGS_ALL) -o $@ $<

$(BUILDDIR)/tests/seccomp-agent $(BUILDDIR)/tests/refuse-syscall: $(BUILDDIR)/tests/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wall -Werror -o $@ $< -lseccomp

# A fake configfs-tsm tree (FUSE) for the TDX evidence tests.
$(BUILDDIR)/tests/fake-tsm: tests/helpers/fake-tsm.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wall -Werror -Wno-unused-parameter $(shell pkg-config --cflags fuse3) -o $@ $< \
		$(shell pkg-config --libs fuse3)

# Runs inside containers whose rootfs has no libc: static.
$(BUILDDIR)/tests/syscall-probe: tests/helpers/syscall-probe.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Werror -o $@ $<

# Test PALs: built on their own, without rune's headers, as third parties build.
$(BUILDDIR)/tests/pal-thirdparty.so: tests/helpers/pal-thirdparty.c
	@mkdir -p $(dir $@)
	$(CC) -fPIC -shared -fvisibility=hidden -O2 -Wall -Werror -o $@ $<

$(BUILDDIR)/tests/pal-broken-%.so: tests/helpers/pal-broken.c
	@mkdir -p $(dir $@)
	$(CC) -fPIC -shared -fvisibility=hidden -O2 -Wall -Werror -Wno-unused-parameter \
		-DBROKEN_$(shell echo $* | tr a-z A-Z) -o $@ $<

-include $(shell find $(BUILDDIR) -name '*.d' 2>/dev/null)

install: $(BINARIES) $(PALS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(PALDIR)
	install -m 0755 $(BINARIES) $(DESTDIR)$(BINDIR)/
	install -m 0644 docs/man/rune-image.1 docs/man/rune-attest.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 docs/man/rune-kbs.8 docs/man/containerd-shim-rune-v2.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0755 $(PALS) $(DESTDIR)$(PALDIR)/
	install -m 0644 docs/man/rune.8 $(DESTDIR)$(MANDIR)/man8/rune.8

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(BINARIES))) $(DESTDIR)$(MANDIR)/man8/rune.8 \
		$(DESTDIR)$(MANDIR)/man8/rune-kbs.8 $(DESTDIR)$(MANDIR)/man8/containerd-shim-rune-v2.8 \
		$(DESTDIR)$(MANDIR)/man1/rune-image.1 $(DESTDIR)$(MANDIR)/man1/rune-attest.1
	rm -rf $(DESTDIR)$(PALDIR)

deps:
	contrib/install-deps.sh

# The suite: unit tests then integration tests against real containers.
test: all
	tests/run.sh $(BUILDDIR)

# The sigstore reference implementation (sigstore-js, npm) the signing tests
# make their fixtures with, at the versions package-lock.json pins.
SIGSTORE_JS := tests/sigstore/node_modules/.package-lock.json
$(SIGSTORE_JS): tests/sigstore/package.json tests/sigstore/package-lock.json
	cd tests/sigstore && npm ci --no-audit --no-fund --loglevel=error

check: deps
	$(MAKE) all
	$(MAKE) format-check
	$(MAKE) $(SIGSTORE_JS)
	$(MAKE) FUZZ=1 fuzz-targets
	FUZZ_BUILD=build-fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS) tests/run.sh $(BUILDDIR)

check-asan: deps
	$(MAKE) SANITIZE=1 all
	$(MAKE) $(SIGSTORE_JS)
	tests/run.sh build-asan

# The threaded parts under ThreadSanitizer: the pull pool (rune-image), the
# enclave init's exec threads (rune and the sim PAL), the shim's I/O threads;
# a reported race fails the test that ran into it (docs/robustness.md).
# rune itself is single-threaded but for the enclave init, and TSan's own
# thread and deferred signal handlers change what rune does (setns of a
# mount namespace needs a single thread; signal forwarding is timing): the
# shim's tests run the TSan shim beside the plain build's rune, and the
# enclave tests that time signals are left to the other builds.
TSAN_TESTS ?= image/,robustness/pull_and_unpack,enclave/sim_run_exit_codes,enclave/terminal_run_and_exec,enclave/sim_isolation
TSAN_RUN = TSAN_OPTIONS="halt_on_error=1 exitcode=66 $(TSAN_OPTIONS)" tests/run.sh
check-tsan: deps
	$(MAKE) all
	$(MAKE) TSAN=1 all
	$(MAKE) $(SIGSTORE_JS)
	ONLY=$(TSAN_TESTS) $(TSAN_RUN) build-tsan
	rm -rf build-tsan/shim-mix && mkdir -p build-tsan/shim-mix && cp -rs $(CURDIR)/$(BUILDDIR)/. build-tsan/shim-mix/
	cp --remove-destination build-tsan/bin/containerd-shim-rune-v2 build-tsan/shim-mix/bin/
	ONLY=shim/ $(TSAN_RUN) build-tsan/shim-mix

demo: deps
	$(MAKE) all
	$(MAKE) $(SIGSTORE_JS)
	contrib/demo.sh $(BUILDDIR)

bench: all
	tests/bench/lifecycle.sh $(BUILDDIR)
	tests/bench/sporadic.sh $(BUILDDIR)
	tests/bench/seal.sh $(BUILDDIR)
	tests/bench/enclave.sh $(BUILDDIR)
	tests/bench/image.sh $(BUILDDIR)
	tests/bench/attest.sh $(BUILDDIR)
	tests/bench/confidential.sh $(BUILDDIR)
	tests/bench/shim.sh $(BUILDDIR)

# How costs grow: the curves in docs/benchmarks.md, redrawn into docs/img/
# (builds images up to 2 GB once, in /var/tmp/rune-bench-curves).
bench-curves: all
	tests/bench/curves.sh $(BUILDDIR)

# The structure the build promises (docs/architecture.md), checked: no
# component resolves a header it may not use, no relative include reaches
# around the include paths, and every function a library exports carries its
# library's prefix (common: rune_ and the x-allocators; librune: librune_ and,
# for the PAL loader, pal_runtime_; libruneimage: image_).
define refuse_header # component-flags header
	@printf '#include "%s"\n' $(2) | $(CC) $(CPPFLAGS_ALL) $(1) -x c -fsyntax-only - 2>/dev/null \
		&& { echo "boundary broken: $(2) is visible with $(1)"; exit 1; } || true
endef
define exports_only # archive allowed-prefixes-regex
	@bad=$$(nm -g --defined-only $(1) | awk '$$2 ~ /[TDBR]/ && $$3 !~ /^__/ {print $$3}' | grep -vE '$(2)'); \
		[ -z "$$bad" ] || { echo "$(1) exports names without its prefix: $$bad"; exit 1; }
endef
check-structure: $(BUILDDIR)/libcommon.a $(BUILDDIR)/librune.a $(BUILDDIR)/libruneimage.a $(BUILDDIR)/libruneattest.a
	$(call refuse_header,$(COMMON_INC),container.h)
	$(call refuse_header,$(COMMON_INC),image.h)
	$(call refuse_header,$(COMMON_INC),pal.h)
	$(call refuse_header,$(IMAGE_INC),container.h)
	$(call refuse_header,$(IMAGE_INC),loader.h)
	$(call refuse_header,$(LIBRUNE_INC),image.h)
	$(call refuse_header,$(RUNE_CLI_INC),image.h)
	$(call refuse_header,$(RUNE_CLI_INC),loader.h)
	$(call refuse_header,$(PAL_INC),container.h)
	$(call refuse_header,$(PAL_INC),image.h)
	$(call refuse_header,$(IMAGE_INC),attest.h)
	$(call refuse_header,$(ATTEST_INC),image.h)
	$(call refuse_header,$(ATTEST_INC),container.h)
	$(call refuse_header,$(SHIM_INC),container.h)
	$(call refuse_header,$(SHIM_INC),image.h)
	$(call refuse_header,$(SHIM_INC),attest.h)
	$(call refuse_header,$(SHIM_INC),pal.h)
	@! git grep -nE '^#[[:space:]]*include[[:space:]]+"\.\./' -- '*.c' '*.h' || { echo "relative includes reach around the boundaries"; exit 1; }
	$(call exports_only,$(BUILDDIR)/libcommon.a,^(rune_|x(malloc|calloc|realloc|strdup|asprintf|vasprintf)$$))
	$(call exports_only,$(BUILDDIR)/librune.a,^(librune_|pal_runtime_))
	$(call exports_only,$(BUILDDIR)/libruneimage.a,^image_)
	$(call exports_only,$(BUILDDIR)/libruneattest.a,^attest_)
	@echo "structure: boundaries and exported names hold"

# runc 1.1.5's own integration suite against rune (docs/runc-suite.md); not
# part of `make check` (about 25 minutes, most of it the suite's own waits).
RUNC_SUITE_OUT ?= $(BUILDDIR)/runc-suite
runc-suite: all
	contrib/install-deps.sh runc-suite
	../shared/suites/run-runc-suite.sh $(BUILDDIR)/bin/rune $(RUNC_SUITE_OUT)

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@out=$$(clang-format --dry-run $(FORMAT_FILES) 2>&1); \
	if [ -n "$$out" ]; then echo "$$out" | head -40; echo "clang-format: files need formatting (make format)"; exit 1; fi; \
	echo "clang-format: clean"

clean:
	rm -rf build build-asan build-fuzz
