package kernel

import (
	"rt0/guest/arch/amd64"
)

// The floating-point part of a signal frame, as Linux's x86-64 kernel
// writes it (arch/x86/kernel/fpu/signal.c): uc_mcontext.fpstate points at
// the thread's state, 64-byte aligned above the rt_sigframe. Without XSAVE
// it is the 512-byte FXSAVE image. With XSAVE it is the whole standard
// XSAVE image (the frame's FX area, fpu.go), and FP_XSTATE_MAGIC2 follows
// it. Either way the last 48 bytes of the legacy part (sw_reserved) say
// what it is — struct _fpx_sw_bytes: magic1, the size with a trailing
// magic2, the components (0 without XSAVE), the image's size. uc_flags has UC_FP_XSTATE then, and
// always UC_SIGCONTEXT_SS|UC_STRICT_RESTORE_SS (the frame's SS is valid and
// restored as it is), as on Linux.
//
// rt_sigreturn takes the image back the way Linux does: an extended image
// only if both magics and the sizes agree (else the legacy 512 bytes, the
// other components reset); an image with reserved MXCSR bits set, or an
// extended one with a header Linux refuses, is a bad frame (SIGSEGV,
// forced), as on Linux on hardware. Nothing the
// program writes there can make the kernel's XRSTOR or FXRSTOR fault:
// MXCSR keeps only the bits the CPU has (and its exceptions masked: the
// kernel's Go code runs with the thread's MXCSR), XSTATE_BV only the
// components turned on and in the image, the rest of the XSAVE header is
// zero.
//
// host/rules checks the constants against Linux's uapi headers.
const (
	fpXstateMagic1     = 0x46505853 // "SXPF"
	fpXstateMagic2     = 0x46505845 // "EXPF"
	fpXstateMagic2Size = 4
	ucFPXstate         = 0x1
	ucSigcontextSS     = 0x2
	ucStrictRestoreSS  = 0x4
	ucFlags            = 0 // in the ucontext

	// struct _fpx_sw_bytes, at amd64.FXSWReserved in the image
	swMagic1       = 0
	swExtendedSize = 4
	swXfeatures    = 8
	swXstateSize   = 16
)

// fpstateSize returns the bytes of the fpstate in a signal frame.
func fpstateSize() uint64 {
	n := uint64(amd64.FXSize())
	if amd64.XSave() {
		n += fpXstateMagic2Size
	}
	return n
}

// sigFlags returns the ucontext's uc_flags.
func sigFlags() uint64 {
	f := uint64(ucSigcontextSS | ucStrictRestoreSS)
	if amd64.XSave() {
		f |= ucFPXstate
	}
	return f
}

// saveFPState writes the state of the thread whose frame is tf into
// fp, fpstateSize() bytes of its signal frame.
func saveFPState(fp []byte, tf *amd64.TrapFrame) {
	tf.CompleteFX()
	size := amd64.FXSize()
	copy(fp, tf.FX[:size])
	// Linux writes the software bytes with or without XSAVE (then: no
	// components, 512 bytes, and no magic2, so rt_sigreturn takes the
	// image as a legacy one).
	sw := fp[amd64.FXSWReserved : amd64.FXSWReserved+48]
	clear(sw)
	put32(sw[swMagic1:], fpXstateMagic1)
	put32(sw[swExtendedSize:], uint32(size+fpXstateMagic2Size))
	put64(sw[swXfeatures:], amd64.XCR0())
	put32(sw[swXstateSize:], uint32(size))
	if amd64.XSave() {
		put32(fp[size:], fpXstateMagic2)
	}
}

// restoreFPState loads tf's state from the signal frame's fpstate at
// address fp (0: none, the state goes to its initial values, as on
// Linux). It returns false, a bad frame, if the memory cannot be read, or
// the image has MXCSR bits the CPU lacks or an XSAVE header Linux refuses.
func restoreFPState(tf *amd64.TrapFrame, fp uint64) bool {
	tf.CompleteFX()
	mxcsrMask := u32(tf.FX[amd64.FXMXCSRMask:]) // the CPU's, from its own save
	if mxcsrMask == 0 {
		mxcsrMask = 0xFFBF // SDM vol. 1, 11.6.6: the default when FXSAVE writes 0
	}
	tf.FXPartial = 0
	if fp == 0 {
		tf.ResetFX()
		return true
	}
	legacy, ok := userBytes(fp, amd64.FXLegacySize, false)
	if !ok {
		return false
	}
	features := uint64(amd64.XFeatureX87 | amd64.XFeatureSSE)
	n := uint64(amd64.FXLegacySize)
	if amd64.XSave() {
		if size, ok := xstateInFrame(legacy, fp); ok {
			n = size
			features = amd64.XCR0() & le64(legacy[amd64.FXSWReserved+swXfeatures:])
		}
	}
	b, ok := userBytes(fp, n, false)
	if !ok {
		return false
	}
	if n > amd64.FXLegacySize && !validXSaveHeader(b[amd64.XSaveHeader:amd64.XSaveHeader+amd64.XSaveHdrSize]) {
		return false
	}
	m := u32(b[amd64.FXMXCSR:])
	if m&^mxcsrMask != 0 {
		// Linux's FXRSTOR or XRSTOR from the frame faults on it (on
		// hardware: QEMU's TCG does not check): a bad frame.
		return false
	}
	copy(tf.FX[:], b)
	// rt0 masks MXCSR's exceptions: the kernel's Go code runs with the
	// thread's MXCSR.
	put32(tf.FX[amd64.FXMXCSR:], m|0x1F80)
	if amd64.XSave() {
		hdr := tf.FX[amd64.XSaveHeader : amd64.XSaveHeader+amd64.XSaveHdrSize]
		bv := uint64(amd64.XFeatureX87 | amd64.XFeatureSSE) // a legacy image: those two as given
		if n > amd64.FXLegacySize {
			bv = le64(hdr) & features
		}
		clear(hdr)
		put64(hdr, bv)
	}
	return true
}

// validXSaveHeader is Linux's validate_user_xstate_header: no component
// the kernel did not turn on, a standard (not compacted) layout, the
// reserved bytes zero.
func validXSaveHeader(h []byte) bool {
	if le64(h[0:])&^amd64.XCR0() != 0 || le64(h[8:]) != 0 {
		return false
	}
	for _, b := range h[16:] {
		if b != 0 {
			return false
		}
	}
	return true
}

// xstateInFrame says whether the legacy image at address fp begins an
// extended one (Linux's check_xstate_in_sigframe), and its size.
func xstateInFrame(legacy []byte, fp uint64) (uint64, bool) {
	sw := legacy[amd64.FXSWReserved:]
	if u32(sw[swMagic1:]) != fpXstateMagic1 {
		return 0, false
	}
	size := uint64(u32(sw[swXstateSize:]))
	ext := uint64(u32(sw[swExtendedSize:]))
	if size < amd64.XSaveHeader+amd64.XSaveHdrSize || size > uint64(amd64.FXSize()) || size+fpXstateMagic2Size > ext {
		return 0, false
	}
	m, ok := userBytes(fp+size, fpXstateMagic2Size, false)
	if !ok || u32(m) != fpXstateMagic2 {
		return 0, false
	}
	return size, true
}
