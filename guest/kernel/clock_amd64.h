// Offsets into clockParams (clock.go) for vdso_amd64.s; host/rules'
// TestClockParamsLayout checks each against the struct.

#define CLOCK_TSC0	0
#define CLOCK_MULT	8
#define CLOCK_BASE	16
#define CLOCK_SHIFT	5
