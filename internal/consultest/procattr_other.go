//go:build !linux

package consultest

import (
	"os/exec"
	"syscall"
)

// agentSysProcAttr has no parent-death signal to ask for off Linux; agents
// stop through test cleanups and Main only.
func agentSysProcAttr() *syscall.SysProcAttr { return nil }

// setBuildProcAttr leaves exec's default of killing only bash on cancel.
func setBuildProcAttr(*exec.Cmd) {}
