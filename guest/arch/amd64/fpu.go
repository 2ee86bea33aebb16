package amd64

// The thread's floating-point and vector state: x87, SSE and, where the CPU
// has XSAVE, every user state component rt0 turns on in XCR0 (AVX's upper
// halves of YMM0-15, AVX-512's opmask and ZMM registers).
//
// Without XSAVE (CPUID.1:ECX[26]; QEMU's qemu64, for one) the state is
// FXSAVE's 512 bytes and the runtime sees SSE only. With it, CR4.OSXSAVE
// is set and XCR0 gets every component of fpuComponents the CPU offers
// (CPUID.(EAX=0DH,ECX=0):EAX), so CPUID.1:ECX.OSXSAVE and XGETBV tell the
// runtime, internal/cpu and golang.org/x/sys/cpu that the OS saves AVX (and
// AVX-512) state, as Linux's do, and Go's AVX2 memmove, bytes and crypto
// paths turn on. The entry paths (trap_amd64.s) then save and restore with
// XSAVE/XRSTOR in the standard (non-compacted) layout — the one Linux puts
// in a signal frame — in the frame's FX area, whose first 512 bytes are
// FXSAVE's layout either way.
//
// XCR0 is then what Linux sets, but for two components. PKRU (9): rt0 does
// not turn protection keys on (CR4.PKE), since the kernel reaches the
// program's memory through the same user pages, so a WRPKRU that denies
// key 0 would fault the kernel itself; so OSPKE is clear and RDPKRU is
// undefined, as on a Linux booted with nopku. AMX's tile state (17, 18):
// Linux turns it on but faults its first use (XFD) unless the process
// asked by arch_prctl(ARCH_REQ_XCOMP_PERM), which rt0 does not serve; its
// 8 KiB would be in every frame; without it AMX instructions fault, a
// SIGILL, as on a Linux that was not asked. The supervisor components
// (IA32_XSS) are the kernel's, unused. MPX's bound registers (3, 4) are
// on, as Linux keeps them, though neither serves MPX.

// State components of XCR0 (Intel SDM vol. 1, 13.1).
const (
	XFeatureX87      = 1 << 0
	XFeatureSSE      = 1 << 1
	XFeatureAVX      = 1 << 2
	XFeatureBNDREGS  = 1 << 3
	XFeatureBNDCSR   = 1 << 4
	xfeatureMPX      = XFeatureBNDREGS | XFeatureBNDCSR
	XFeatureOpmask   = 1 << 5
	XFeatureZMMHi256 = 1 << 6
	XFeatureHi16ZMM  = 1 << 7
	xfeatureAVX512   = XFeatureOpmask | XFeatureZMMHi256 | XFeatureHi16ZMM

	// fpuComponents are the components rt0 turns on where offered.
	fpuComponents = XFeatureX87 | XFeatureSSE | XFeatureAVX | xfeatureMPX | xfeatureAVX512

	CR4_OSXSAVE = 1 << 18
)

// Where things are in the FX area (standard XSAVE layout, SDM vol. 1, 13.4).
const (
	FXMXCSR      = 24  // MXCSR (32 bits)
	FXMXCSRMask  = 28  // MXCSR_MASK (32 bits): the MXCSR bits the CPU has
	FXSWReserved = 464 // 48 bytes software may use: Linux's _fpx_sw_bytes in a signal frame
	FXLegacySize = 512 // FXSAVE's area
	XSaveHeader  = 512 // the XSAVE header: XSTATE_BV, XCOMP_BV, 48 reserved bytes
	XSaveHdrSize = 64
	// FXYMMScratch is where the SYSCALL entry puts YMM0-15 (16 of 32
	// bytes) in SyscallFPYMM: beyond what XSAVE uses then (832 bytes, or
	// 1088 with MPX's), where AVX-512's state would be.
	FXYMMScratch = 1152
	// FXAreaSize holds the standard layout of every component rt0 turns on:
	// AVX-512's last, Hi16_ZMM, ends at 1664+1024. A CPU that states a
	// larger size for them gets fewer components (initFPU).
	FXAreaSize = 2688
)

// xsave is 1 once XCR0 is set (the same on every CPU: the APs take the
// boot CPU's decisions); the entry paths test it. xcr0 is what it was set
// to, and fxSize the bytes of the FX area in use: CPUID's size of the XSAVE
// area for xcr0, or 512 without XSAVE. The frame copies (CopyFrame) and
// signal frames move fxSize bytes, not the whole area.
var (
	xsave  uint8
	xcr0   uint64
	fxSize uintptr = FXLegacySize
	// xcr0vec is xcr0 without x87: what the SYSCALL entry's XSAVE saves.
	xcr0vec uint64
	// syscallFP is how the SYSCALL entry saves the vector registers.
	syscallFP uint8 = SyscallFPXMM
)

// How the SYSCALL entry saves the vector registers (trap_amd64.s). Moves
// where they cover the state: under TCG an XSAVE and XRSTOR of the vector
// components cost 600 ns a system call (getpid 975 ns with them, 475 with
// MOVUPS and VEXTRACTF128/VINSERTF128 of the upper halves, 415-440 with
// VMOVDQU of the whole registers, against 360-390 for MOVUPS of XMM alone); on hardware all are cheap. XSAVE where XCR0 has AVX-512, whose
// registers moves would need four instructions kinds and 72 moves for.
const (
	SyscallFPXMM   = 0 // no XSAVE: MOVUPS of XMM0-15
	SyscallFPYMM   = 1 // XCR0 x87|SSE|AVX (and MPX): VMOVDQU of YMM0-15 to FXYMMScratch
	SyscallFPXSAVE = 2 // XCR0 other (AVX-512; or no AVX): XSAVE of every component but x87
)

// XSave reports whether the state moves with XSAVE (else FXSAVE).
func XSave() bool { return xsave != 0 }

// XCR0 returns the state components turned on (0 without XSAVE).
func XCR0() uint64 { return xcr0 }

// FXSize returns the bytes of a frame's FX area in use.
func FXSize() uintptr { return fxSize }

// InitFPU chooses the XSAVE state components and turns them on, on the
// boot CPU: after InitIDT, so that a CPU that faults on CR4.OSXSAVE or
// XSETBV although CPUID offers them gets a fault report, not a triple
// fault. Before any thread exists: the trap paths save with FXSAVE until
// then.
func InitFPU() { initFPU(true) }

// initFPU turns XSAVE on, on the running CPU. The boot CPU decides which
// components (chooseXCR0); each AP sets the same XCR0 before it runs a
// thread, since XCR0 is per CPU (its reset value is x87 only).
func initFPU(boot bool) {
	if boot {
		chooseXCR0()
	}
	if xsave == 0 {
		return
	}
	WriteCR4(ReadCR4() | CR4_OSXSAVE)
	Xsetbv(0, xcr0)
}

// chooseXCR0 picks XCR0 from what the CPU offers and sizes the area.
func chooseXCR0() {
	if max, _, _, _ := Cpuid(0, 0); max < 0xD {
		return
	}
	if _, _, c, _ := Cpuid(1, 0); c&(1<<26) == 0 {
		return // no XSAVE
	}
	a, _, _, d := Cpuid(0xD, 0)
	want := XCR0For(uint64(d)<<32 | uint64(a))
	// The standard layout puts each component where CPUID.(0DH,i) says;
	// drop the ones that end beyond the frame's area (none on any CPU
	// known: AVX-512's end at 2688).
	for i := uint32(2); i < 8; i++ { // the components beyond FXSAVE's
		if want&(1<<i) == 0 {
			continue
		}
		size, off, _, _ := Cpuid(0xD, i)
		if off+size > FXAreaSize {
			want = XCR0For(want &^ (1 << i))
		}
	}
	xcr0 = want
	xcr0vec = want &^ XFeatureX87
	WriteCR4(ReadCR4() | CR4_OSXSAVE)
	Xsetbv(0, xcr0)
	_, size, _, _ := Cpuid(0xD, 0) // EBX: the area's size for the XCR0 now set
	fxSize = uintptr(size)
	xsave = 1
	syscallFP = SyscallFPXSAVE
	if want&xfeatureAVX512 == 0 && want&XFeatureAVX != 0 && fxSize <= FXYMMScratch {
		syscallFP = SyscallFPYMM
	}
}

// SyscallXSAVE makes the SYSCALL entry save with XSAVE, as on a CPU with
// AVX-512 (the kernel option rt0.syscallfp=xsave: so that path is tested
// on CPUs without). Only before any thread has run; false without XSAVE.
func SyscallXSAVE() bool {
	if xsave == 0 {
		return false
	}
	syscallFP = SyscallFPXSAVE
	return true
}

// SyscallFP returns how the SYSCALL entry saves the vector registers.
func SyscallFP() uint8 { return syscallFP }

// XCR0For returns the XCR0 rt0 sets on a CPU that offers the components
// in supported: those of fpuComponents, AVX only with SSE, MPX's two only
// together, AVX-512's three only all together and with AVX (XSETBV faults
// otherwise: SDM vol. 1, 13.3).
func XCR0For(supported uint64) uint64 {
	x := supported & fpuComponents
	if x&XFeatureX87 == 0 || x&XFeatureSSE == 0 {
		return x & XFeatureX87
	}
	if x&xfeatureMPX != xfeatureMPX {
		x &^= xfeatureMPX
	}
	if x&XFeatureAVX == 0 || x&xfeatureAVX512 != xfeatureAVX512 {
		x &^= xfeatureAVX512
	}
	return x
}

// ResetFX gives tf the state of a freshly reset FPU: FCW 0x37F, MXCSR
// 0x1F80 (all exceptions masked, round to nearest), every register zero.
// As an XSAVE image it has a zero header: every component in its initial
// state (which XRSTOR loads as such), but MXCSR, which XRSTOR always takes
// from the image.
func (tf *TrapFrame) ResetFX() {
	clear(tf.FX[:])
	tf.FX[0], tf.FX[1] = 0x7F, 0x03                       // FCW
	tf.FX[FXMXCSR], tf.FX[FXMXCSR+1] = 0x80, 0x1F         // MXCSR
	tf.FX[FXMXCSRMask], tf.FX[FXMXCSRMask+1] = 0xFF, 0xFF // MXCSR_MASK
	tf.FXPartial = 0
}

// Xsetbv writes extended control register n.
func Xsetbv(n uint32, v uint64)
