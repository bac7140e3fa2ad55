// Package bus owns a cell's embedded NATS server: JetStream under the cell's
// domain, the cell's event stream, its key-value buckets and the optional
// leaf connection to the global hub.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Limits and timings of the embedded server.
const (
	// readyTimeout bounds the server's start: JetStream recovers its file
	// store before it is ready, which takes well under a second for a cell's
	// state but longer on a slow disk after a crash.
	readyTimeout = 30 * time.Second
	// shutdownTimeout bounds waiting for the server's goroutines after
	// Shutdown; the server stops in milliseconds unless a store is stuck.
	shutdownTimeout = 10 * time.Second
	// StreamMaxAge keeps events this long: long enough for the global hub to
	// catch up after a multi-day partition, short enough to bound the disk.
	StreamMaxAge = 7 * 24 * time.Hour
	// DuplicateWindow is how long the stream remembers Nats-Msg-Ids: a
	// publisher retrying after a restart does so within minutes.
	DuplicateWindow = 10 * time.Minute
	// requestTimeout bounds one JetStream API call through the in-process
	// connection; they answer in microseconds unless the store is stuck.
	requestTimeout = 10 * time.Second
)

// RandomPort asks for a free client port chosen by the system (tests).
const RandomPort = -1

// ValidCellID reports whether id can name a JetStream domain, a stream and a
// subject token: letters, digits, '-' and '_', at most 64 characters.
func ValidCellID(id string) bool { return contract.ValidCellID(id) }

// Config configures the embedded server.
type Config struct {
	// CellID is the JetStream domain and names the stream (CELL_<id>) and its
	// subjects (cell.<id>.>). Required; see ValidCellID.
	CellID string
	// DataDir holds the JetStream file store (DataDir/jetstream). Required.
	DataDir string
	// ClientHost is the client listener's address; empty means 127.0.0.1.
	ClientHost string
	// ClientPort is the NATS client port: 0 means no listener (in-process
	// connections only), RandomPort a free port chosen by the system.
	ClientPort int
	// ClientUser and ClientPassword are the credentials every client of the
	// client port must present. Empty means none, which Start accepts only
	// on a loopback ClientHost: the port can rewrite fleet records, tickets
	// and sessions and publish the cell's events.
	ClientUser, ClientPassword string
	// HubURL is the global hub's leaf-node URL (nats-leaf://host:7422); empty
	// means the cell runs without a hub.
	HubURL string
	// HubSecret is the cell's leaf password at the hub (user: the cell id),
	// listed for this cell in the core's ATOLL_HUB_CELLS. Empty means
	// HubCreds, or credentials inside HubURL, or none (refused by Atoll's
	// hub).
	HubSecret string
	// HubCreds is a NATS .creds file for the leaf connection (operators'
	// own NATS); empty means HubSecret.
	HubCreds string
	// HubTLS secures the leaf connection; the zero value means TLS only if
	// the URL's scheme asks for it (tls://), with the system roots.
	HubTLS TLSFiles
	// Log receives the server's notices and errors; nil means slog.Default().
	Log *slog.Logger
}

// TLSFiles names PEM files; all empty means no TLS.
type TLSFiles struct {
	// Cert and Key are the client certificate and key the hub may require;
	// empty means none.
	Cert, Key string
	// CA verifies the hub's certificate; empty means the system roots.
	CA string
}

// Enabled reports whether any TLS file is set.
func (t TLSFiles) Enabled() bool { return t.Cert != "" || t.Key != "" || t.CA != "" }

// Bus is a running embedded server with the cell's in-process connection.
type Bus struct {
	cfg    Config
	Server *server.Server
	Conn   *nats.Conn
	JS     jetstream.JetStream
	stream jetstream.Stream

	cancel context.CancelFunc // stops watchLeaf
	wg     sync.WaitGroup
}

// Start starts the server, waits until JetStream has recovered its store,
// connects in-process and creates or updates the cell's stream.
func Start(ctx context.Context, cfg Config) (*Bus, error) {
	if !ValidCellID(cfg.CellID) {
		return nil, fmt.Errorf("start bus: cell id %q: want letters, digits, '-' or '_', at most 64 characters", cfg.CellID)
	}
	if cfg.DataDir == "" {
		return nil, errors.New("start bus: data directory is required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.ClientHost == "" {
		cfg.ClientHost = "127.0.0.1"
	}
	if err := checkClientAuth(cfg); err != nil {
		return nil, fmt.Errorf("start bus: %w", err)
	}
	internalPass, err := randomSecret()
	if err != nil {
		return nil, fmt.Errorf("start bus: %w", err)
	}
	opts := &server.Options{
		ServerName:      "cell-" + cfg.CellID, // the hub recognises the cell by it (hub.CellServerName)
		Host:            cfg.ClientHost,
		Port:            cfg.ClientPort,
		DontListen:      cfg.ClientPort == 0,
		JetStream:       true,
		JetStreamDomain: cfg.CellID,
		StoreDir:        filepath.Join(cfg.DataDir, "jetstream"),
		NoSigs:          true,
		HTTPPort:        0,
		Users:           []*server.User{{Username: internalUser, Password: internalPass}},
	}
	switch {
	case cfg.ClientUser != "":
		opts.Users = append(opts.Users, &server.User{Username: cfg.ClientUser, Password: cfg.ClientPassword})
	case cfg.ClientPort != 0:
		// Loopback without credentials (checkClientAuth): local clients
		// connect anonymously as a user nobody can log in as.
		anonPass, err := randomSecret()
		if err != nil {
			return nil, fmt.Errorf("start bus: %w", err)
		}
		opts.Users = append(opts.Users, &server.User{Username: anonymousUser, Password: anonPass})
		opts.NoAuthUser = anonymousUser
	}
	if cfg.HubURL != "" {
		remote, err := leafRemote(cfg)
		if err != nil {
			return nil, fmt.Errorf("start bus: %w", err)
		}
		// Connect only once the streams exist (enableLeaf): the hub creates
		// its sourcing consumer when the leaf comes up, and a first attempt
		// against a missing stream backs off for up to two minutes.
		remote.Disabled = true
		opts.LeafNode.Remotes = []*server.RemoteLeafOpts{remote}
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("start bus: %w", err)
	}
	srv.SetLoggerV2(&logAdapter{log: cfg.Log.With("component", "nats")}, false, false, false)
	srv.Start()
	if !srv.ReadyForConnections(readyTimeout) {
		srv.Shutdown()
		return nil, fmt.Errorf("start bus: server not ready after %s (port taken or store unreadable; see the log)", readyTimeout)
	}
	b := &Bus{cfg: cfg, Server: srv}
	if err := b.connect(ctx, internalPass); err != nil {
		b.stop()
		return nil, err
	}
	if err := b.enableLeaf(opts); err != nil {
		b.stop()
		return nil, err
	}
	if cfg.HubURL != "" {
		wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		b.cancel = cancel
		b.wg.Add(1)
		go func() { defer b.wg.Done(); b.watchLeaf(wctx) }()
	}
	return b, nil
}

// enableLeaf turns the leaf remote on once the cell's streams exist.
func (b *Bus) enableLeaf(opts *server.Options) error {
	if len(opts.LeafNode.Remotes) == 0 {
		return nil
	}
	next := opts.Clone()
	remote := *opts.LeafNode.Remotes[0] // a copy: reload diffs old against new
	remote.Disabled = false
	next.LeafNode.Remotes = []*server.RemoteLeafOpts{&remote}
	if err := b.Server.ReloadOptions(next); err != nil {
		return fmt.Errorf("start bus: enable the leaf connection: %w", err)
	}
	return nil
}

func (b *Bus) connect(ctx context.Context, internalPass string) error {
	nc, err := nats.Connect("", nats.InProcessServer(b.Server), nats.Name("cell-"+b.cfg.CellID),
		nats.UserInfo(internalUser, internalPass), nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("start bus: in-process connection: %w", err)
	}
	b.Conn = nc
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(requestTimeout))
	if err != nil {
		return fmt.Errorf("start bus: jetstream: %w", err)
	}
	b.JS = js
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        b.StreamName(),
		Description: "events of cell " + b.cfg.CellID + ", sourced by the global core",
		Subjects:    []string{b.Subject(">")},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      StreamMaxAge,
		Duplicates:  DuplicateWindow,
		Replicas:    1,
	})
	if err != nil {
		return fmt.Errorf("start bus: stream %s: %w", b.StreamName(), err)
	}
	b.stream = st
	if err := b.ensureGlobalIn(ctx); err != nil {
		return fmt.Errorf("start bus: %w", err)
	}
	return nil
}

// CellID is the cell the bus belongs to.
func (b *Bus) CellID() string { return b.cfg.CellID }

// StreamName is the cell's event stream, CELL_<id>.
func (b *Bus) StreamName() string { return StreamName(b.cfg.CellID) }

// StreamName is the event stream of cell id.
func StreamName(cellID string) string { return "CELL_" + cellID }

// Subject is the stream subject for an event kind: cell.<id>.<kind>.
func (b *Bus) Subject(kind string) string { return "cell." + b.cfg.CellID + "." + kind }

// Stream is the cell's event stream.
func (b *Bus) Stream() jetstream.Stream { return b.stream }

// ClientURL is the nats:// URL of the client listener, or "" when the server
// does not listen.
func (b *Bus) ClientURL() string {
	if b.cfg.ClientPort == 0 {
		return ""
	}
	return b.Server.ClientURL()
}

// Publish stores data on the cell's stream under cell.<id>.<kind>. msgID is
// sent as Nats-Msg-Id, so republishing the same event within
// DuplicateWindow stores it once; ack.Duplicate reports that.
func (b *Bus) Publish(ctx context.Context, kind string, data []byte, msgID string) (*jetstream.PubAck, error) {
	if msgID == "" {
		return nil, errors.New("publish: a message id is required for deduplication")
	}
	ack, err := b.JS.Publish(ctx, b.Subject(kind), data, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(b.StreamName()))
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", kind, err)
	}
	return ack, nil
}

// KeyValue creates or updates a file-backed bucket in the cell's domain.
func (b *Bus) KeyValue(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	cfg.Storage = jetstream.FileStorage
	kv, err := b.JS.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("key-value bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// Ready reports whether the in-process connection and JetStream answer.
func (b *Bus) Ready(ctx context.Context) error {
	if !b.Conn.IsConnected() {
		return errors.New("bus: in-process connection is down")
	}
	if _, err := b.JS.AccountInfo(ctx); err != nil {
		return fmt.Errorf("bus: jetstream: %w", err)
	}
	return nil
}

// LeafConnected reports whether the leaf connection to the hub is up.
func (b *Bus) LeafConnected() bool { return b.Server.NumLeafNodes() > 0 }

// Shutdown flushes and closes the connection and stops the server.
func (b *Bus) Shutdown(ctx context.Context) error {
	var err error
	if b.Conn != nil {
		if ferr := b.Conn.FlushWithContext(ctx); ferr != nil && !errors.Is(ferr, nats.ErrConnectionClosed) {
			err = fmt.Errorf("bus: flush: %w", ferr)
		}
	}
	b.stop()
	return err
}

func (b *Bus) stop() {
	if b.cancel != nil {
		b.cancel()
		b.wg.Wait()
	}
	if b.Conn != nil {
		b.Conn.Close()
	}
	b.Server.Shutdown()
	done := make(chan struct{})
	go func() { b.Server.WaitForShutdown(); close(done) }()
	select {
	case <-done:
	case <-time.After(shutdownTimeout):
		b.cfg.Log.Warn("nats server did not stop in time", "timeout", shutdownTimeout)
	}
}
