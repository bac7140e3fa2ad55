package cell

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"time"

	"github.com/atollgg/atoll/cell/bus"
	"github.com/atollgg/atoll/cell/matchmaker"
	"github.com/atollgg/atoll/cell/matchmaking"
	"github.com/atollgg/atoll/cell/telemetry"
	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/internal/tokens"
)

// Defaults of Config's zero values.
const (
	// DefaultWarmServers is the warm buffer of Ready game servers: two lets
	// back-to-back matches start at once while a replacement boots.
	DefaultWarmServers = 2
	// MaxNATSPort is the highest TCP port.
	MaxNATSPort = 65535
)

// Config is a cell's whole configuration. `atoll cell` fills it from flags
// and the ATOLL_* environment variables named on each field.
type Config struct {
	// CellID names the cell: JetStream domain, stream CELL_<id>, Consul
	// service id and meta (ATOLL_CELL_ID). Required: letters, digits, '-'
	// and '_', at most 64 characters.
	CellID string
	// Region is the region the cell serves; tickets take their latency from
	// latencies_ms[Region] (ATOLL_REGION). Required.
	Region string
	// HTTPAddr is the players' API listen address, e.g. 0.0.0.0:8081
	// (ATOLL_HTTP_ADDR). Required.
	HTTPAddr string
	// PublicURL is the URL players reach the cell at, registered in Consul
	// (ATOLL_PUBLIC_URL). Empty means http://<bound HTTPAddr>.
	PublicURL string
	// GlobalURL is the global core's base URL: JWKS and ratings are fetched
	// from it (ATOLL_GLOBAL_URL). Required.
	GlobalURL string
	// GlobalIssuer is the "iss" of players' access tokens, the global core's
	// public URL (ATOLL_GLOBAL_ISSUER). Empty means GlobalURL.
	GlobalIssuer string
	// DataDir holds the JetStream store, the connect-token signing keys, the
	// cached JWKS and game-server logs (ATOLL_DATA_DIR). Required.
	DataDir string
	// ServiceToken is the cell's credential for the global core's internal
	// API, listed for this cell id in the core's ATOLL_CELL_TOKENS
	// (ATOLL_SERVICE_TOKEN). Empty means ratings are never fetched and
	// everyone has the default rating.
	ServiceToken string
	// ConsulAddr is the local Consul agent (host:port) to register with
	// (ATOLL_CONSUL_ADDR). Empty means no registration.
	ConsulAddr string
	// ConsulToken is the Consul ACL token (ATOLL_CONSUL_TOKEN); empty means
	// none.
	ConsulToken string
	// NATSPort is the embedded NATS server's client port (ATOLL_NATS_PORT).
	// Zero means no listener: the cell connects in-process only.
	// bus.RandomPort picks a free port (tests).
	NATSPort int
	// NATSHost is the client listener's address (ATOLL_NATS_HOST); empty
	// means 127.0.0.1.
	NATSHost string
	// HubURL is the global hub's leaf-node URL, e.g. nats-leaf://hub:7422
	// (ATOLL_HUB_URL). Empty means no leaf connection.
	HubURL string
	// --- bus ---
	// NATSUser and NATSPassword are required of every client of NATSPort
	// (ATOLL_NATS_USER, ATOLL_NATS_PASSWORD). Empty means none, accepted
	// only with a loopback NATSHost.
	NATSUser, NATSPassword string
	// HubSecret is the cell's leaf password at the hub, its entry in the
	// core's ATOLL_HUB_CELLS (ATOLL_HUB_SECRET); the leaf user is CellID.
	// Empty means HubCreds or none (Atoll's hub refuses that).
	HubSecret string
	// HubCreds is a NATS .creds file for an operator's hub
	// (ATOLL_HUB_CREDS); empty means HubSecret.
	HubCreds string
	// HubTLS secures the leaf connection (ATOLL_HUB_TLS_CERT,
	// ATOLL_HUB_TLS_KEY, ATOLL_HUB_TLS_CA); the zero value means TLS only
	// for a tls:// URL, with the system roots.
	HubTLS bus.TLSFiles
	// --- end bus ---
	// ModesFile is a YAML file of game modes, {modes: [...]} in
	// matchmaker.Mode's fields (ATOLL_MODES_FILE). Empty means Modes.
	ModesFile string
	// Modes are the game modes when ModesFile is empty; nil means
	// matchmaker.DefaultModes() (duel, 2v2, 5v5, ffa8).
	Modes []matchmaker.Mode
	// LeaderboardsFile is the YAML file of leaderboard definitions
	// (contract.ParseLeaderboards; ATOLL_LEADERBOARDS_FILE); the cell keeps
	// the regional ones. Empty means Leaderboards.
	LeaderboardsFile string
	// Leaderboards are the definitions when LeaderboardsFile is empty; nil
	// means no leaderboards.
	Leaderboards []contract.LeaderboardDefinition
	// DefaultRating is the rating of players the core has none for
	// (ATOLL_DEFAULT_RATING); zero means ratings.DefaultRating.
	DefaultRating float64
	// MatchInterval is the matching loop's period (ATOLL_MATCH_INTERVAL);
	// zero means matchmaking.DefaultPassInterval, at most 250ms.
	MatchInterval time.Duration
	// MaxWebSockets bounds the matchmaking WebSockets (/ws) the cell holds
	// (ATOLL_MAX_WEBSOCKETS); zero means
	// matchmaking.DefaultMaxWSConnections, at most
	// matchmaking.MaxWSConnectionsLimit.
	MaxWebSockets int
	// ConnectTokenTTL is a connect token's lifetime
	// (ATOLL_CONNECT_TOKEN_TTL); zero means tokens.DefaultConnectTTL.
	ConnectTokenTTL time.Duration
	// ForwardRelay is the host:port of the region's relay that forwards
	// play (ATOLL_FORWARD_RELAY); with ForwardKeyFile, matched players get
	// it instead of game servers' addresses. Empty means no forwarding.
	ForwardRelay string
	// ForwardKeyFile holds the hex key shared with the region's relays
	// (ATOLL_FORWARD_KEY_FILE); required with ForwardRelay.
	ForwardKeyFile string

	// GameServerCommand is the game-server program and its arguments
	// (ATOLL_GAMESERVER_COMMAND, space-separated). Empty means this binary's
	// "gameserver" subcommand.
	GameServerCommand []string
	// GameServerEnv is extra KEY=VALUE environment for game servers
	// (ATOLL_GAMESERVER_ENV, comma-separated), e.g. ATOLL_GAME_DURATION=5m.
	GameServerEnv []string
	// GameHost is the address players connect to game servers at
	// (ATOLL_GAME_HOST); empty means fleet.DefaultHost (127.0.0.1).
	GameHost string
	// GamePortMin and GamePortMax bound game ports (ATOLL_GAME_PORTS,
	// "7700-7999"); zero means fleet.DefaultPortMin..DefaultPortMax.
	GamePortMin, GamePortMax int
	// WarmServers is how many Ready servers wait for matches
	// (ATOLL_WARM_SERVERS); zero means DefaultWarmServers.
	WarmServers int
	// MaxServers caps the cell's game servers (ATOLL_MAX_SERVERS); zero
	// means fleet.DefaultMax.
	MaxServers int
	// HeartbeatPeriod is how often game servers heartbeat
	// (ATOLL_HEARTBEAT_PERIOD); a server silent for three periods is
	// unhealthy. Zero means fleet.DefaultHeartbeatPeriod (2s).
	HeartbeatPeriod time.Duration

	// TelemetryClient and TelemetryServer are the telemetry ingest's limits
	// for players and game servers (ATOLL_TELEMETRY_CLIENT_RATE,
	// ATOLL_TELEMETRY_SERVER_RATE set their rates); the zero value means
	// telemetry.DefaultClientLimits() and DefaultServerLimits().
	TelemetryClient, TelemetryServer telemetry.Limits
	// TelemetryMaxInFlight bounds concurrent telemetry publishes
	// (ATOLL_TELEMETRY_MAX_IN_FLIGHT); zero means
	// telemetry.DefaultMaxInFlight.
	TelemetryMaxInFlight int

	// Log is the logger; nil means a JSON logger on stderr at info.
	Log *slog.Logger
}

// Validate reports every problem with c at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !bus.ValidCellID(c.CellID) {
		bad("cell id %q (ATOLL_CELL_ID): want letters, digits, '-' or '_', at most 64 characters", c.CellID)
	}
	if c.Region == "" {
		bad("region is required (ATOLL_REGION)")
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("HTTP address %q (ATOLL_HTTP_ADDR): want host:port", c.HTTPAddr)
	}
	if c.PublicURL != "" && !absoluteHTTP(c.PublicURL) {
		bad("public URL %q (ATOLL_PUBLIC_URL): want an absolute http(s) URL", c.PublicURL)
	}
	if !absoluteHTTP(c.GlobalURL) {
		bad("global core URL %q (ATOLL_GLOBAL_URL): want an absolute http(s) URL", c.GlobalURL)
	} else if !httpsOrLoopback(c.GlobalURL) {
		bad("global core URL %q (ATOLL_GLOBAL_URL): want https (signing keys and the service token travel over it); plain http only on loopback", c.GlobalURL)
	}
	if c.DataDir == "" {
		bad("data directory is required (ATOLL_DATA_DIR)")
	}
	if c.ConsulAddr != "" {
		if _, _, err := net.SplitHostPort(c.ConsulAddr); err != nil {
			bad("Consul address %q (ATOLL_CONSUL_ADDR): want host:port", c.ConsulAddr)
		}
	}
	if c.NATSPort != bus.RandomPort && (c.NATSPort < 0 || c.NATSPort > MaxNATSPort) {
		bad("NATS port %d (ATOLL_NATS_PORT): want 0 (none) to %d", c.NATSPort, MaxNATSPort)
	}
	if c.NATSPort != 0 && c.NATSPassword == "" && !bus.IsLoopback(c.NATSHost) {
		bad("NATS client port on %q (ATOLL_NATS_HOST) needs ATOLL_NATS_USER and ATOLL_NATS_PASSWORD: anyone reaching it could rewrite fleet records, tickets and sessions", c.NATSHost)
	}
	if (c.NATSUser == "") != (c.NATSPassword == "") {
		bad("set both ATOLL_NATS_USER and ATOLL_NATS_PASSWORD, or neither")
	}
	if c.HubURL != "" {
		if u, err := url.Parse(c.HubURL); err != nil || u.Host == "" {
			bad("hub URL %q (ATOLL_HUB_URL): want e.g. nats-leaf://hub:7422", c.HubURL)
		}
	}
	if c.ModesFile == "" && c.Modes != nil {
		if err := matchmaker.ValidateModes(c.Modes); err != nil {
			errs = append(errs, err)
		}
	}
	if c.MatchInterval < 0 || c.MatchInterval > matchmaking.MaxPassInterval {
		bad("match interval %s (ATOLL_MATCH_INTERVAL): want 0 to %s", c.MatchInterval, matchmaking.MaxPassInterval)
	}
	if (c.ForwardRelay == "") != (c.ForwardKeyFile == "") {
		bad("forwarding needs both the relay address (ATOLL_FORWARD_RELAY) and the key file (ATOLL_FORWARD_KEY_FILE)")
	}
	if c.MaxWebSockets < 0 || c.MaxWebSockets > matchmaking.MaxWSConnectionsLimit {
		bad("max websockets %d (ATOLL_MAX_WEBSOCKETS): want 0 to %d", c.MaxWebSockets, matchmaking.MaxWSConnectionsLimit)
	}
	if c.ConnectTokenTTL < 0 || c.ConnectTokenTTL > 10*time.Minute {
		bad("connect token TTL %s (ATOLL_CONNECT_TOKEN_TTL): want 0 to 10m", c.ConnectTokenTTL)
	}
	if c.WarmServers < 0 || c.MaxServers < 0 || c.HeartbeatPeriod < 0 || c.DefaultRating < 0 {
		bad("warm servers, max servers, heartbeat period and default rating must not be negative")
	}
	return errors.Join(errs...)
}

func absoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// httpsOrLoopback reports whether s is an https URL, or an http one whose
// host is loopback (localhost, 127.0.0.0/8, ::1), where nothing crosses a
// network.
func httpsOrLoopback(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	if u.Scheme == "https" {
		return true
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// connectIssuer is the "iss" of the cell's connect and party tokens. It is
// derived from the cell id, not a URL, so it survives a change of address:
// game servers allocated before a restart keep accepting new tokens.
func connectIssuer(cellID string) string { return "urn:atoll:cell:" + cellID }

// connectKeyOverlap keeps a retired connect-token key published this long;
// the keys are not rotated automatically yet, and a rotation must keep the
// old key for every running game's allocation.
const connectKeyOverlap = tokens.DefaultOverlap
