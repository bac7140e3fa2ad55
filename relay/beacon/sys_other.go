//go:build !linux

package beacon

import (
	"syscall"
	"time"
)

// reusePortSupported is false off Linux: one socket, one worker.
const reusePortSupported = false

func reusePort(_, _ string, _ syscall.RawConn) error { return nil }

// threadCPU is unknown off Linux.
func threadCPU() time.Duration { return 0 }
