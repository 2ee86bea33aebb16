// Command cpuflags prints what golang.org/x/sys/cpu found of the x86 CPU
// and its operating system, one "NAME true|false" line per flag of
// cpu.X86, sorted: the features a Go program's libraries choose their code
// paths by (AVX2 for memmove and bytes, AVX-512, SHA-NI, AES-NI...).
// Flags such as HasAVX are true only if the OS saves the registers
// (CPUID.OSXSAVE and XCR0). TestBootCPUFeatures boots it on rt0 and as the
// init of a Linux guest on the same QEMU CPU: the lines must be the same.
// As a Linux init (pid 1) it powers the machine off at the end.
package main

import (
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/cpu"
)

func main() {
	v := reflect.ValueOf(cpu.X86)
	var lines []string
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if f.Type.Kind() == reflect.Bool && strings.HasPrefix(f.Name, "Has") {
			lines = append(lines, fmt.Sprintf("%s %v", f.Name, v.Field(i).Bool()))
		}
	}
	sort.Strings(lines)
	fmt.Println(strings.Join(lines, "\n"))
	fmt.Println("cpuflags done")
	if os.Getpid() == 1 {
		syscall.Sync()
		syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	}
}
