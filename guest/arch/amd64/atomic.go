package amd64

import "sync/atomic"

// Atomics for the kernel's locks and per-CPU handshakes. On x86-64 an
// aligned load or store is atomic and ordered with the other loads and
// stores (TSO); XCHG and LOCK-prefixed instructions are full barriers.
// sync/atomic's functions are compiler intrinsics on amd64 — one
// instruction in line (MOV, XCHG, LOCK XADD), never a call into the
// runtime — that the compiler neither caches in a register across a spin
// loop nor reorders around. These wrappers inline to them: the kernel's
// lock is taken and dropped on every entry, where a call and its return
// cost more than the instruction under TCG (a return is an indirect jump:
// a lookup of the translated block).

// Xchg32 stores v at p and returns the old value, atomically (a full barrier).
func Xchg32(p *uint32, v uint32) uint32 { return atomic.SwapUint32(p, v) }

// Load32 and Load64 read a word that another CPU may write.
func Load32(p *uint32) uint32 { return atomic.LoadUint32(p) }
func Load64(p *uint64) uint64 { return atomic.LoadUint64(p) }

// Store32 and Store64 write a word that another CPU may read, with a full
// barrier (XCHG): what was stored before is visible first.
func Store32(p *uint32, v uint32) { atomic.StoreUint32(p, v) }
func Store64(p *uint64, v uint64) { atomic.StoreUint64(p, v) }

// Add64 adds d to *p atomically and returns the new value.
func Add64(p *uint64, d uint64) uint64 { return atomic.AddUint64(p, d) }

// Cas64 stores new at p if it holds old, atomically, and reports whether.
func Cas64(p *uint64, old, new uint64) bool { return atomic.CompareAndSwapUint64(p, old, new) }
