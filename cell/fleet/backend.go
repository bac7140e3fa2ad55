package fleet

import (
	"context"
	"errors"
)

// Backend starts and re-attaches game-server processes. The fleet decides
// what runs where and when; a Backend only knows how to run one server.
// LocalBackend runs local OS processes; a Kubernetes/Agones backend would
// implement the same interface.
type Backend interface {
	// Start launches one game server. The process must outlive the fleet
	// (a cell restart must not kill running games) and receive spec.Env.
	Start(ctx context.Context, spec Spec) (Process, error)
	// Adopt re-attaches to a server a previous fleet started, from the
	// reference it persisted. It returns ErrProcessGone if that process no
	// longer runs. Watching an adopted process stops when ctx ends.
	Adopt(ctx context.Context, ref ProcessRef) (Process, error)
}

// ErrProcessGone means an adopted process no longer runs.
var ErrProcessGone = errors.New("fleet: game server process is gone")

// Spec is what a Backend needs to start one game server.
type Spec struct {
	// ID is the server's id.
	ID string
	// Port is the game port the server must accept players on.
	Port int
	// Env is the server's complete extra environment: the SDK variables
	// (sdk.EnvSDKAddr, ...) and the operator's Config.Env.
	Env []string
}

// ProcessRef identifies a running server across fleet restarts; it is
// persisted in the KV.
type ProcessRef struct {
	// PID is the OS process id (and process group id) of a local server.
	PID int `json:"pid,omitempty"`
	// StartTime is the process's start time in clock ticks since boot
	// (Linux /proc/<pid>/stat field 22), so a recycled pid is never
	// mistaken for the server; zero where unknown.
	StartTime uint64 `json:"start_time,omitempty"`
	// Name identifies servers of backends without pids (in-process test
	// backends, pods).
	Name string `json:"name,omitempty"`
}

// Process is one running game server.
type Process interface {
	// Ref is what the fleet persists to adopt the process later.
	Ref() ProcessRef
	// Exited is closed once the process has exited.
	Exited() <-chan struct{}
	// ExitReason describes how the process ended, for logs and failure
	// events; valid once Exited is closed.
	ExitReason() string
	// Stop asks the server to exit (SIGTERM to its process group).
	Stop() error
	// Kill ends the server at once (SIGKILL to its process group).
	Kill() error
}
