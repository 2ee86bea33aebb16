// Package qemu boots an rt0 kernel image in QEMU and reports what the
// program did: its serial output, the kernel's debug log and its exit
// status. `rt0 run` and the boot tests both use it.
//
// # Wiring
//
// QEMU runs with -nodefaults -no-reboot -display none and exactly three
// devices besides the machine's own:
//
//   - COM1 (isa-serial, 0x3f8, IRQ 4) on a "stdio" chardev. QEMU's stdin and
//     stdout are pipes owned by Run, never the terminal: the program's
//     output reaches Config.Serial byte for byte (no tty, so no CRLF
//     translation, and the user's terminal is never put into raw mode), and
//     Config.Stdin is copied into the pipe for the guest to read.
//   - debugcon (isa-debugcon, port 0xe9) on a "file" chardev at /dev/fd/3,
//     the write end of a second pipe: the kernel log, copied to
//     Config.Debug live and kept in Result.Debug.
//   - isa-debug-exit (port 0xf4, 4 bytes): the kernel writes the exit
//     status N there and QEMU exits with (N<<1)|1.
//
// QEMU's own stderr is a third pipe (Result.Stderr, Config.Stderr), so its
// warnings never mix with the program's output.
//
// # Exit status
//
// The kernel writes "rt0: exit N" on debugcon before stopping; that line is
// authoritative, because QEMU's 8-bit status cannot tell N above 127 apart.
// Without it, an odd QEMU status s > 1 gives s>>1; a status of 0 means the
// machine reset (a triple fault under -no-reboot) or stopped without an exit
// status, and that, a QEMU error or a kill is ExitFailure (125). A Timeout
// kills QEMU's whole process group and gives ExitTimeout (124). If the exit
// line arrives but QEMU keeps running, it is killed after ExitGrace and the
// line's status stands. MapExit states the rules.
//
// # Accelerator
//
// AccelAuto uses KVM only where the KVM verdict says it runs rt0: a probe
// boots a real rt0 kernel (./kvmprobe, built by rt0/host/build) under -accel kvm
// and requires its exact output and exit status within ProbeTimeout. The
// verdict is cached in os.UserCacheDir()/rt0 per QEMU binary, /dev/kvm,
// host kernel and version of rt0's code. Every KVM run watches QEMU's
// stderr for KVM's failure messages and kills QEMU at once; a run whose KVM
// was chosen automatically then records "no" and boots again under TCG,
// without showing the program's output twice. accel.go tells the story.
//
// # Memory
//
// CheckMemory refuses a -m that cannot hold the image (below the end of its
// bss) and names the smallest that can; rt0 run and rt0 test call it
// before they boot (memory.go).
//
// # Why not github.com/hugelgupf/vmtest/qemu
//
// The lead asked for vmtest if it fits. It is pinned in go.mod and used in
// this package's tests (vmtest_test.go boots MinimalKernel with Config.Args
// through vmtest.Start and its Expect helpers, an independent check of the
// command line), but Run uses os/exec directly because vmtest does not give
// what `rt0 run` must:
//
//   - Its console is a pseudo-terminal: QEMU's stdin is the pty slave, and
//     what Expect reads has passed through the tty line discipline, so the
//     guest's "\n" arrives as "\r\n" (TestVMTestConsoleIsNotByteExact shows
//     it). Its SerialOutput writers do see the raw bytes, but merged with
//     QEMU's stderr, since it points QEMU's stdout and stderr at the same
//     writer. rt0 run needs stdout exact and diagnostics apart.
//   - It has no notion of a second output channel: debugcon needs our own
//     pipe passed as an extra file and read by our own goroutine anyway,
//     which is most of Run.
//   - It has no exit-status protocol: Wait returns an *exec.ExitError, and
//     the "rt0: exit N" parsing, the (N<<1)|1 decoding, the reset case, the
//     timeout-versus-exit distinction and the grace kill would all be ours.
//   - Host stdin cannot be handed to the guest without another copy loop
//     into the pty, and its timeout kills QEMU alone, not a process group.
//   - Its package imports "testing", go-expect and a pty library, and its
//     VMTEST_QEMU, VMTEST_QEMU_APPEND, VMTEST_KERNEL_APPEND and
//     VMTEST_TIMEOUT environment variables silently change the command line:
//     fine for a test harness, wrong inside a user-facing `rt0 run`.
//
// So the dependency stays test-only (it is not linked into cmd/rt0).
package qemu
