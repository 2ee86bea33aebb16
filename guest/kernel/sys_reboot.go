package kernel

import (
	"rt0/guest/arch/amd64"
	"rt0/guest/linux"
)

// reboot(2), as Linux serves it to a privileged process (rt0's one process
// has every privilege): both magic numbers checked (EINVAL otherwise), then
// POWER_OFF and HALT end the machine as the program's exit does — the
// kernel log says so, QEMU's exit device or ACPI turns it off (exit status
// 0, as rt0 has no other) — RESTART and RESTART2 reset it, CAD_ON and
// CAD_OFF are accepted (the keyboard's Ctrl-Alt-Del is rt0's own to
// handle), and suspend and kexec are not available (EINVAL, as a Linux
// built without them answers). A Go program that ends a Linux guest by
// reboot(LINUX_REBOOT_CMD_POWER_OFF), as testdata/progs/vsbench does,
// ends the same way on rt0.
func sysReboot(magic1, magic2, cmd uint64) int64 {
	if uint32(magic1) != linux.LINUX_REBOOT_MAGIC1 {
		return -linux.EINVAL
	}
	switch uint32(magic2) {
	case linux.LINUX_REBOOT_MAGIC2, linux.LINUX_REBOOT_MAGIC2A, linux.LINUX_REBOOT_MAGIC2B, linux.LINUX_REBOOT_MAGIC2C:
	default:
		return -linux.EINVAL
	}
	switch uint32(cmd) {
	case linux.LINUX_REBOOT_CMD_POWER_OFF, linux.LINUX_REBOOT_CMD_HALT:
		kprint("rt0: reboot(2): power off\n")
		stop(0)
	case linux.LINUX_REBOOT_CMD_RESTART, linux.LINUX_REBOOT_CMD_RESTART2:
		logToConsole = true
		kprint("rt0: reboot(2): restarting the machine\n")
		stopOthers()
		resetMachine()
	case linux.LINUX_REBOOT_CMD_CAD_ON, linux.LINUX_REBOOT_CMD_CAD_OFF:
		return 0
	}
	return -linux.EINVAL
}

// resetMachine resets the PC: the reset control register at port 0xCF9
// (PIIX and ICH chipsets: a hard reset, bits 1 and 2), then the keyboard
// controller's reset line (command 0xFE), then it halts and says so.
func resetMachine() {
	amd64.Outb(0xCF9, 0x02)
	amd64.Outb(0xCF9, 0x06)
	amd64.Outb(0x64, 0xFE)
	kprint("rt0: the machine did not reset; halted (it is safe to switch it off)\n")
	amd64.Halt()
}
