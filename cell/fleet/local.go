package fleet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// adoptedPollInterval is how often the fleet checks that an adopted
// process (not its child, so it cannot wait for it) still runs. Heartbeats
// catch a dead server within HeartbeatPeriod × FailureThreshold anyway; a
// quarter second makes crash detection after a restart nearly as fast as
// for children, at the cost of one /proc read per server.
const adoptedPollInterval = 250 * time.Millisecond

// inheritedEnv are the only variables of the cell's own environment a game
// server inherits: the cell's environment holds database URLs and keys that
// game servers have no business seeing.
var inheritedEnv = []string{"PATH", "HOME", "TMPDIR", "TZ", "LANG", "LC_ALL"}

// LocalBackend runs game servers as local OS processes, each in its own
// process group (so signals to the cell do not reach them and a cell
// restart leaves them running), with stdin from /dev/null and stdout and
// stderr appended to LogDir/<id>.log.
//
// A child is reaped by a goroutine that waits for it; after the fleet shuts
// down leaving servers running, those goroutines end as the servers exit.
type LocalBackend struct {
	// Command is the program and its arguments. Required.
	Command []string
	// LogDir receives one log file per server. Required.
	LogDir string
}

var _ Backend = (*LocalBackend)(nil)

// NewLocalBackend checks its arguments and returns a LocalBackend.
func NewLocalBackend(command []string, logDir string) (*LocalBackend, error) {
	if len(command) == 0 || command[0] == "" {
		return nil, errors.New("local backend: empty command")
	}
	if logDir == "" {
		return nil, errors.New("local backend: empty log directory")
	}
	if err := os.MkdirAll(logDir, 0o750); err != nil {
		return nil, fmt.Errorf("local backend: %w", err)
	}
	return &LocalBackend{Command: command, LogDir: logDir}, nil
}

// LogPath is where the server with the given id logs.
func (b *LocalBackend) LogPath(id string) string {
	return filepath.Join(b.LogDir, id+".log")
}

// Start implements Backend.
func (b *LocalBackend) Start(_ context.Context, spec Spec) (Process, error) {
	logf, err := os.OpenFile(b.LogPath(spec.ID), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("start game server: open log: %w", err)
	}
	defer logf.Close() // the child holds its own descriptor
	// Not CommandContext: no context of the cell may kill a running game.
	cmd := exec.Command(b.Command[0], b.Command[1:]...)
	cmd.Env = childEnv(spec.Env)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start game server %s: %w", b.Command[0], err)
	}
	p := &localProcess{
		ref:    ProcessRef{PID: cmd.Process.Pid, StartTime: processStartTime(cmd.Process.Pid)},
		exited: make(chan struct{}),
	}
	go func() { // owned by p: ends when the child exits
		err := cmd.Wait()
		p.setExit(describeExit(err))
	}()
	return p, nil
}

// Adopt implements Backend.
func (b *LocalBackend) Adopt(ctx context.Context, ref ProcessRef) (Process, error) {
	if ref.PID <= 0 || !processAlive(ref) {
		return nil, ErrProcessGone
	}
	p := &localProcess{ref: ref, exited: make(chan struct{})}
	go func() { // owned by p; stops with ctx or when the process is gone
		t := time.NewTicker(adoptedPollInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if !processAlive(ref) {
					p.setExit("exited (adopted process; exit status unknown)")
					return
				}
			}
		}
	}()
	return p, nil
}

func childEnv(extra []string) []string {
	env := make([]string, 0, len(inheritedEnv)+len(extra))
	for _, k := range inheritedEnv {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return append(env, extra...)
}

func describeExit(err error) string {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "exited with status 0"
	case errors.As(err, &ee):
		return ee.Error() // "exit status 1", "signal: killed"
	default:
		return "wait failed: " + err.Error()
	}
}

// localProcess is a local game-server process, a child or adopted.
type localProcess struct {
	ref    ProcessRef
	exited chan struct{}

	once   sync.Once
	reason string // written inside once, read after exited is closed
}

func (p *localProcess) setExit(reason string) {
	p.once.Do(func() {
		p.reason = reason
		close(p.exited)
	})
}

func (p *localProcess) Ref() ProcessRef         { return p.ref }
func (p *localProcess) Exited() <-chan struct{} { return p.exited }
func (p *localProcess) ExitReason() string      { return p.reason }
func (p *localProcess) Stop() error             { return p.signal(syscall.SIGTERM) }
func (p *localProcess) Kill() error             { return p.signal(syscall.SIGKILL) }

// signal signals the server's whole process group (its pid, thanks to
// Setpgid), unless it has exited or its pid now belongs to someone else.
func (p *localProcess) signal(sig syscall.Signal) error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	if !processAlive(p.ref) {
		return nil
	}
	if err := syscall.Kill(-p.ref.PID, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal game server (pid %d): %w", p.ref.PID, err)
	}
	return nil
}

// removeLog deletes the log of a server that ended cleanly.
func (b *LocalBackend) removeLog(id string) {
	_ = os.Remove(b.LogPath(id)) // absent already is fine
}
