//go:build !linux

package fleet

import (
	"errors"
	"syscall"
)

// processStartTime is unknown without /proc.
func processStartTime(int) uint64 { return 0 }

// processAlive reports whether ref's process exists. Without /proc a
// recycled pid cannot be told apart, nor a zombie.
func processAlive(ref ProcessRef) bool {
	err := syscall.Kill(ref.PID, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
