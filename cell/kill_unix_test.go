//go:build unix

package cell_test

import "syscall"

// killGroup SIGKILLs a game server's process group.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
