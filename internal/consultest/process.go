package consultest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// process owns one agent's OS process, from start until it has been reaped.
type process struct {
	cmd       *exec.Cmd
	logPath   string
	transport *http.Transport

	// exited is closed by wait once the process has been reaped; waitErr is
	// written before that and only read after it.
	exited  chan struct{}
	waitErr error

	stopOnce sync.Once
	forced   bool  // SIGKILL was needed; set inside stopOnce
	stopErr  error // set inside stopOnce
}

// wait reaps the process; it runs in its own goroutine from start and ends
// when the process exits, which stop guarantees.
func (p *process) wait() {
	p.waitErr = p.cmd.Wait()
	close(p.exited)
}

// stop terminates the agent (SIGTERM, then SIGKILL after stopGrace) and waits
// until it is reaped. forced reports that SIGKILL was needed. It returns an
// error if the agent had already exited on its own, since whatever used it
// ran against a dead agent. Safe to call more than once.
func (p *process) stop() (forced bool, err error) {
	p.stopOnce.Do(func() {
		p.forced, p.stopErr = p.terminate()
		p.transport.CloseIdleConnections()
	})
	return p.forced, p.stopErr
}

func (p *process) terminate() (forced bool, err error) {
	select {
	case <-p.exited:
		return false, fmt.Errorf("consul agent exited before it was stopped (%v); log %s ends:\n%s", p.waitErr, p.logPath, p.logTail())
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		// Could not ask politely; fall through to the kill below at once.
		return p.kill(fmt.Errorf("sigterm: %w", err))
	}
	grace := time.NewTimer(stopGrace)
	defer grace.Stop()
	select {
	case <-p.exited:
		return false, nil
	case <-grace.C:
		return p.kill(nil)
	}
}

// kill sends SIGKILL and waits for the reaper; cause is why a kill was needed
// beyond the grace period running out.
func (p *process) kill(cause error) (bool, error) {
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return true, fmt.Errorf("kill consul agent (pid %d): %w", p.cmd.Process.Pid, errors.Join(cause, err))
	}
	reaped := time.NewTimer(killWait)
	defer reaped.Stop()
	select {
	case <-p.exited:
		return true, cause
	case <-reaped.C:
		return true, fmt.Errorf("consul agent (pid %d) still running %s after SIGKILL", p.cmd.Process.Pid, killWait)
	}
}

// logTail returns the last logTailBytes of the agent's log, starting at a
// line boundary, or a note saying why it could not be read.
func (p *process) logTail() string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	off := max(info.Size()-logTailBytes, 0)
	buf := make([]byte, info.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	if off > 0 {
		// Drop the partial first line.
		for i, c := range buf {
			if c == '\n' {
				buf = buf[i+1:]
				break
			}
		}
	}
	if len(buf) == 0 {
		return "(log empty)"
	}
	return string(buf)
}
