# rt0: a bare-metal unikernel that boots the real Go runtime.
#
#   make run    build examples/hello and boot it in QEMU (output on this terminal)
#   make test   vet + unit tests + boot tests in QEMU
#   make bench  image size, boot time, cycles to main.main, smallest -m, syscalls
#   make conformance  the standard library's tests on rt0 -> docs/conformance.md
#
# Both run and test install what they need first (make deps).

GO      ?= go
PROG    ?= ./examples/hello
APT_PKGS = qemu-system-x86 grub-pc-bin grub-common xorriso mtools gdb grub-efi-amd64-bin ovmf linux-libc-dev
# Commands, and files where a package has no command (GRUB's BIOS and UEFI
# platforms, the UEFI firmware, the Linux headers guest/linux is checked
# against).
TOOLS    = qemu-system-x86_64 grub-mkrescue xorriso mformat gdb \
	/usr/lib/grub/i386-pc/modinfo.sh /usr/lib/grub/x86_64-efi/modinfo.sh \
	/usr/share/OVMF/OVMF_CODE.fd /usr/share/OVMF/OVMF_VARS.fd \
	/usr/include/linux/futex.h

.PHONY: run test bench deps vet unit fmt-check conformance debug

run: deps
	$(GO) run ./cmd/rt0 run $(PROG)

test: deps fmt-check vet
	$(GO) test -count=1 -timeout 30m ./...   # -count=1: boot tests build kernels in subprocesses the test cache cannot see

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l . ); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

bench: deps
	$(GO) run ./host/bench

# conformance runs the standard library's own tests on rt0 (host/conformance/
# packages.go lists them), prints a summary table and writes it to
# docs/conformance.md; it fails if a package fails. make test runs only its
# quick subset (go test ./host/conformance).
conformance: deps
	$(GO) run ./host/conformance -o docs/conformance.md -readme README.md

# debug boots $(PROG) in QEMU, paused, with GDB attached: it stops at each
# startup milestone (rt0_go, schedinit, newproc, schedule, execute, gogo,
# runtime.main, main.main, ...); type c for the next.
debug: deps
	$(GO) run ./cmd/rt0 debug $(PROG)

# deps installs QEMU, GRUB and the ISO tools from Debian when one is
# missing (as root, or via sudo).
deps:
	@missing=; for t in $(TOOLS); do [ -e "$$t" ] || command -v "$$t" >/dev/null 2>&1 || missing=1; done; \
	[ -z "$$missing" ] || { \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		echo "installing $(APT_PKGS) (apt-get)"; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(APT_PKGS) >/dev/null; }
	@for t in $(TOOLS); do [ -e "$$t" ] || command -v "$$t" >/dev/null 2>&1 || { echo "$$t is required (apt-get install $(APT_PKGS))"; exit 1; }; done
