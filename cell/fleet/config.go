package fleet

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults for Config's zero values.
const (
	// DefaultHost is where players reach game servers when Host is unset:
	// right for one machine; real cells set their public address.
	DefaultHost = "127.0.0.1"
	// DefaultPortMin..DefaultPortMax is the game-port range: 300 ports, far
	// more servers than one machine runs, outside the ephemeral range.
	DefaultPortMin = 7700
	DefaultPortMax = 7999
	// DefaultBuffer is how many Ready servers wait for matches: two lets
	// back-to-back matches allocate while a replacement starts.
	DefaultBuffer = 2
	// DefaultMax caps the servers one cell runs; each is a process with
	// its own memory, and 64 matches fit a modest machine.
	DefaultMax = 64
	// DefaultHeartbeatPeriod × DefaultFailureThreshold is how long a server
	// may stay silent before it is Unhealthy (6 s), as in Agones.
	DefaultHeartbeatPeriod  = sdk.DefaultHeartbeatPeriod
	DefaultFailureThreshold = 3
	// DefaultStartTimeout is how long a server may take from exec to Ready:
	// our server needs milliseconds; 30 s covers an engine loading assets.
	DefaultStartTimeout = 30 * time.Second
	// DefaultScaleDownDelay is how long a surplus Ready server idles before
	// it is stopped, so a burst of matches does not make the fleet flap.
	DefaultScaleDownDelay = time.Minute
	// DefaultStopGrace is how long a server asked to stop (or that said it
	// is shutting down) may take to exit before it is killed.
	DefaultStopGrace = 10 * time.Second
	// DefaultSDKAddr listens on a free loopback port; the port chosen is
	// persisted and reused across restarts (see Config.SDKAddr).
	DefaultSDKAddr = "127.0.0.1:0"
)

// Config is the fleet's whole configuration.
type Config struct {
	// Backend runs game servers; nil means a LocalBackend running Command
	// with logs in LogDir.
	Backend Backend
	// Command is the game-server program and arguments for the local
	// backend; empty means this binary's "gameserver" subcommand
	// (os.Executable() gameserver).
	Command []string
	// LogDir receives each local server's stdout and stderr as <id>.log;
	// empty means $TMPDIR/atoll-gameservers. Logs of servers that ended
	// cleanly are removed, those of failed servers kept.
	LogDir string

	// Host is the address players connect to, given to servers as
	// ATOLL_GAME_HOST; empty means DefaultHost.
	Host string
	// PortMin and PortMax bound the game ports (inclusive); zero means
	// DefaultPortMin / DefaultPortMax. The range must hold Max ports.
	PortMin, PortMax int

	// Buffer is how many Ready servers to keep waiting; zero means
	// DefaultBuffer.
	Buffer int
	// Min is the fewest servers to run whatever the demand; zero means no
	// floor beyond Buffer.
	Min int
	// Max caps all servers, in any state; zero means DefaultMax.
	Max int

	// HeartbeatPeriod is how often servers heartbeat (ATOLL_HEARTBEAT_PERIOD)
	// and FailureThreshold how many periods one may miss before it is
	// Unhealthy; zero means DefaultHeartbeatPeriod and
	// DefaultFailureThreshold.
	HeartbeatPeriod  time.Duration
	FailureThreshold int
	// StartTimeout bounds Starting; zero means DefaultStartTimeout.
	StartTimeout time.Duration
	// ScaleDownDelay is how long a surplus Ready server idles before it is
	// stopped; zero means DefaultScaleDownDelay.
	ScaleDownDelay time.Duration
	// StopGrace is how long a stopping server may take to exit before it
	// is killed; zero means DefaultStopGrace.
	StopGrace time.Duration

	// SDKAddr is the local address the SDK API listens on; empty means
	// DefaultSDKAddr. With port 0 the fleet reuses the port it persisted
	// in KV on its previous run, so servers that outlived a restart find it
	// again; if that port is taken it picks a new one and those servers,
	// unable to heartbeat, are replaced.
	SDKAddr string

	// ConnectKeys returns the JSON Web Key Set of the keys the cell signs
	// connect tokens with; it is called at every allocation so key rotation
	// reaches new sessions. (*tokens.KeyRing).JWKS fits. Required.
	ConnectKeys func() ([]byte, error)
	// Issuer is the "iss" of the cell's connect tokens. Required.
	Issuer string

	// KV holds the fleet's state (servers, allocations, the SDK address)
	// under keys "fleet.*", so a restarted cell re-adopts its servers.
	// Required.
	KV jetstream.KeyValue

	// Events receives the sessions' events, in order, retried until
	// accepted; nil means they go to the Events() channel, which loses what
	// its reader has not applied when the cell stops.
	Events EventSink

	// Telemetry receives game servers' telemetry batches; nil accepts and
	// drops them (counted in atoll_fleet_telemetry_events_total).
	Telemetry TelemetrySink

	// Log receives the fleet's logs; nil discards them.
	Log *slog.Logger
	// Registry receives the fleet's metrics; nil leaves them unregistered.
	Registry prometheus.Registerer

	// Env is extra environment for every server (KEY=VALUE), e.g. game
	// configuration such as ATOLL_GAME_DURATION. Servers inherit only PATH,
	// HOME, TMPDIR, TZ, LANG and LC_ALL from the cell.
	Env []string
}

func (c *Config) applyDefaults() error {
	if c.Host == "" {
		c.Host = DefaultHost
	}
	if c.PortMin == 0 && c.PortMax == 0 {
		c.PortMin, c.PortMax = DefaultPortMin, DefaultPortMax
	}
	if c.Buffer == 0 {
		c.Buffer = DefaultBuffer
	}
	if c.Max == 0 {
		c.Max = DefaultMax
	}
	if c.HeartbeatPeriod == 0 {
		c.HeartbeatPeriod = DefaultHeartbeatPeriod
	}
	if c.FailureThreshold == 0 {
		c.FailureThreshold = DefaultFailureThreshold
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = DefaultStartTimeout
	}
	if c.ScaleDownDelay == 0 {
		c.ScaleDownDelay = DefaultScaleDownDelay
	}
	if c.StopGrace == 0 {
		c.StopGrace = DefaultStopGrace
	}
	if c.SDKAddr == "" {
		c.SDKAddr = DefaultSDKAddr
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Backend == nil {
		if len(c.Command) == 0 {
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("default game-server command: %w", err)
			}
			c.Command = []string{exe, "gameserver"}
		}
		if c.LogDir == "" {
			c.LogDir = filepath.Join(os.TempDir(), "atoll-gameservers")
		}
		b, err := NewLocalBackend(c.Command, c.LogDir)
		if err != nil {
			return err
		}
		c.Backend = b
	}
	return nil
}

func (c *Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.PortMin < 1 || c.PortMax > 65535 || c.PortMin > c.PortMax {
		bad("port range %d-%d: want 1 <= PortMin <= PortMax <= 65535", c.PortMin, c.PortMax)
	} else if c.PortMax-c.PortMin+1 < c.Max {
		bad("port range %d-%d holds fewer than Max=%d ports", c.PortMin, c.PortMax, c.Max)
	}
	if c.Buffer < 0 || c.Min < 0 || c.Max < 1 {
		bad("negative Buffer/Min or Max < 1")
	}
	if c.Min > c.Max || c.Buffer > c.Max {
		bad("Min (%d) and Buffer (%d) must not exceed Max (%d)", c.Min, c.Buffer, c.Max)
	}
	if c.HeartbeatPeriod < 0 || c.FailureThreshold < 0 || c.StartTimeout < 0 || c.ScaleDownDelay < 0 || c.StopGrace < 0 {
		bad("negative heartbeat period, failure threshold or timeout")
	}
	if _, _, err := net.SplitHostPort(c.SDKAddr); err != nil {
		bad("SDKAddr %q: %v", c.SDKAddr, err)
	}
	if c.ConnectKeys == nil {
		bad("ConnectKeys is required")
	}
	if c.Issuer == "" {
		bad("Issuer is required")
	}
	if c.KV == nil {
		bad("KV is required")
	}
	for _, kv := range c.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			bad("Env entry %q is not KEY=VALUE", kv)
		} else if strings.HasPrefix(k, "ATOLL_SDK_") || k == sdk.EnvServerID || k == sdk.EnvGamePort {
			bad("Env entry %q would override a variable the fleet sets", k)
		}
	}
	return errors.Join(errs...)
}
