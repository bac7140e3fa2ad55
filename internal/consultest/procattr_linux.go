package consultest

import (
	"os/exec"
	"syscall"
)

// agentSysProcAttr makes the kernel kill the agent if the test binary dies
// without running its cleanups (a -timeout panic, a SIGKILL), so no agent
// outlives its tests. Cleanups and Main remain the normal way agents stop.
func agentSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// setBuildProcAttr runs build.sh in its own process group and makes a
// cancelled build kill the whole group, go build included, not just bash.
func setBuildProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
