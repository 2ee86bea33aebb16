package linux

// Values golang.org/x/sys/unix does not export. Each is checked by
// TestExtra against the Go runtime's copy and the kernel headers.

// AT_FDCWD, as a dirfd argument: "relative to the working directory".
const AT_FDCWD = -100

// arch_prctl(2) codes.
const (
	ARCH_SET_FS = 0x1002
	ARCH_GET_FS = 0x1003
)

// futex(2) operations and flags.
const (
	FUTEX_WAIT           = 0
	FUTEX_WAKE           = 1
	FUTEX_WAIT_BITSET    = 9
	FUTEX_WAKE_BITSET    = 10
	FUTEX_PRIVATE_FLAG   = 128
	FUTEX_CLOCK_REALTIME = 256
)

// sigaction(2) flags, sigaltstack(2) states, the default dispositions.
const (
	SA_SIGINFO   = 0x4
	SA_ONSTACK   = 0x8000000
	SA_RESTORER  = 0x4000000
	SA_NODEFER   = 0x40000000
	SA_RESETHAND = 0x80000000
	SS_ONSTACK   = 1
	SS_DISABLE   = 2
	SIG_DFL      = 0
	SIG_IGN      = 1
)

// siginfo si_code values.
const (
	SI_KERNEL   = 0x80
	SI_TIMER    = -2
	SI_TKILL    = -6
	SEGV_MAPERR = 1
	SEGV_ACCERR = 2
	FPE_INTDIV  = 1
	ILL_ILLOPN  = 2
	TRAP_BRKPT  = 1
)

// struct sigevent's sigev_notify (timer_create(2)).
const (
	SIGEV_SIGNAL    = 0
	SIGEV_NONE      = 1
	SIGEV_THREAD    = 2
	SIGEV_THREAD_ID = 4
)

// Auxiliary vector tags (the initial stack's auxv).
const (
	AT_NULL         = 0
	AT_PLATFORM     = 15
	AT_HWCAP        = 16
	AT_PAGESZ       = 6
	AT_CLKTCK       = 17
	AT_SECURE       = 23
	AT_RANDOM       = 25
	AT_EXECFN       = 31
	AT_SYSINFO_EHDR = 33
)

// reboot(2)'s magic numbers and commands (linux/reboot.h).
const (
	LINUX_REBOOT_MAGIC1         = 0xfee1dead
	LINUX_REBOOT_MAGIC2         = 672274793
	LINUX_REBOOT_MAGIC2A        = 85072278
	LINUX_REBOOT_MAGIC2B        = 369367448
	LINUX_REBOOT_MAGIC2C        = 537993216
	LINUX_REBOOT_CMD_RESTART    = 0x01234567
	LINUX_REBOOT_CMD_HALT       = 0xCDEF0123
	LINUX_REBOOT_CMD_CAD_ON     = 0x89ABCDEF
	LINUX_REBOOT_CMD_CAD_OFF    = 0x00000000
	LINUX_REBOOT_CMD_POWER_OFF  = 0x4321FEDC
	LINUX_REBOOT_CMD_RESTART2   = 0xA1B2C3D4
	LINUX_REBOOT_CMD_SW_SUSPEND = 0xD000FCE2
	LINUX_REBOOT_CMD_KEXEC      = 0x45584543
)
