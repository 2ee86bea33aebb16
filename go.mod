module rt0

go 1.26.3

require (
	github.com/google/pprof v0.0.0-20261105003125-4bf881d7fb0b
	github.com/hugelgupf/vmtest v0.0.0-20240307030256-5d9f3d34a58d
	github.com/insomniacslk/dhcp v0.0.0-20260901064844-234b97448fae
	github.com/u-root/mkuimage v0.0.0-20240216050315-5f527d1fae2e
	github.com/u-root/u-root v0.12.1-0.20240114161452-ab3534910ced
	golang.org/x/arch v0.33.0
	golang.org/x/image v0.48.0
	golang.org/x/net v0.55.0
	gvisor.dev/gvisor v0.0.0-20260905035102-160fafc42237
)

require (
	github.com/Netflix/go-expect v0.0.0-20220104043353-73e0943537d2 // indirect
	github.com/creack/pty v1.1.24 // indirect
	github.com/google/btree v1.1.2 // indirect
	github.com/pierrec/lz4/v4 v4.1.14 // indirect
	github.com/u-root/uio v0.0.0-20240209044354-b3d14b93376a // indirect
	golang.org/x/exp v0.0.0-20250711185948-6ae5c78190dc // indirect
	golang.org/x/sync v0.20.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)
