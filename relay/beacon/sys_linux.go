package beacon

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// reusePortSupported: Linux spreads datagrams over SO_REUSEPORT sockets by
// source, so each worker (and its rate-limit table) sees every packet of a
// given source.
const reusePortSupported = true

func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// threadCPU is the CPU time of the calling OS thread.
func threadCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
