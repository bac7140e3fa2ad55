// Package hub owns the global core's NATS hub: the embedded nats-server (or
// a connection to an operator's NATS) with JetStream in the global domain,
// the authenticated leaf-node listener cells connect to, and the core's
// streams (CELL_EVENTS sourcing every cell, GLOBAL_EVENTS, DEAD_LETTERS).
package hub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Limits and timings of the hub.
const (
	// readyTimeout bounds the embedded server's start: JetStream recovers
	// its file store first, which a slow disk after a crash can stretch.
	readyTimeout = 30 * time.Second
	// shutdownTimeout bounds waiting for the server's goroutines to stop.
	shutdownTimeout = 10 * time.Second
	// requestTimeout bounds one JetStream API call; in-process they answer
	// in microseconds, an external cluster in milliseconds.
	requestTimeout = 10 * time.Second
	// DefaultLeafPort is NATS's conventional leaf-node port.
	DefaultLeafPort = 7422
	// RandomPort asks for a free leaf port chosen by the system (tests).
	RandomPort = -1
	// minLeafSecret is the shortest leaf password accepted: the same floor
	// as the cells' HTTP service credentials.
	minLeafSecret = 16
)

// Config configures the hub: embedded (the default) or external.
type Config struct {
	// DataDir holds the embedded JetStream store (DataDir/hub). Required
	// unless ExternalURL is set.
	DataDir string
	// LeafHost is the leaf-node listener's address; empty means 0.0.0.0.
	LeafHost string
	// LeafPort is the leaf-node port; zero means DefaultLeafPort,
	// RandomPort a free one (tests).
	LeafPort int
	// Cells maps each cell id to its leaf password (ATOLL_HUB_CELLS,
	// "cell-id=secret,..."). Each cell authenticates as user <cell id>, may
	// publish only its own subjects, and its stream CELL_<id> is sourced
	// into CELL_EVENTS. Empty means no cell can connect. With ExternalURL
	// only the ids matter (the operator's NATS holds the credentials).
	Cells map[string]string
	// TLS secures the leaf listener; the zero value means plain TCP (only
	// for a private network). With CA set, cells must present certificates
	// signed by it.
	TLS TLSFiles
	// ExternalURL points the core at an operator's NATS (JetStream domain
	// must be contract.GlobalDomain) instead of embedding one; empty embeds.
	// The operator then runs the leaf listener and the cells' users.
	ExternalURL string
	// ExternalCreds is a NATS .creds file for ExternalURL; empty means
	// ExternalUser/ExternalPassword, or no credentials.
	ExternalCreds string
	// ExternalUser and ExternalPassword authenticate to ExternalURL; empty
	// means none.
	ExternalUser, ExternalPassword string
	// Log receives the server's notices and errors; nil means slog.Default().
	Log *slog.Logger
}

// TLSFiles names PEM files; all empty means no TLS.
type TLSFiles struct {
	// Cert and Key are this side's certificate and private key.
	Cert, Key string
	// CA verifies the peer; empty means the system roots on a client and
	// no client certificates on a server.
	CA string
}

// Enabled reports whether any TLS file is set.
func (t TLSFiles) Enabled() bool { return t.Cert != "" || t.Key != "" || t.CA != "" }

// Hub is the core's running NATS side.
type Hub struct {
	cfg Config
	// Server is the embedded server; nil with ExternalURL.
	Server *server.Server
	// Conn is the core's connection (in-process when embedded).
	Conn *nats.Conn
	// JS is JetStream in the global domain.
	JS jetstream.JetStream

	opts *server.Options // embedded server's options; the bound leaf port is written back

	mu       sync.Mutex // guards following
	cells    map[string]bool
	attached map[string]bool // cells whose source is in CELL_EVENTS' config

	cancel context.CancelFunc // stops watchLeafs
	wg     sync.WaitGroup
}

// Validate reports every problem with c at once.
func (c *Config) Validate() error {
	var errs []error
	if c.ExternalURL == "" && c.DataDir == "" {
		errs = append(errs, errors.New("hub: data directory is required for the embedded hub"))
	}
	if c.LeafPort < RandomPort || c.LeafPort > 65535 {
		errs = append(errs, fmt.Errorf("hub: leaf port %d out of range", c.LeafPort))
	}
	ids := make([]string, 0, len(c.Cells))
	for id := range c.Cells {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if !contract.ValidCellID(id) {
			errs = append(errs, fmt.Errorf("hub: cell id %q: want letters, digits, '-' or '_', at most 64 characters", id))
		}
		if id == coreUser {
			errs = append(errs, fmt.Errorf("hub: cell id %q is reserved", id))
		}
		if c.ExternalURL == "" && len(c.Cells[id]) < minLeafSecret {
			errs = append(errs, fmt.Errorf("hub: leaf secret of cell %q must be at least %d characters", id, minLeafSecret))
		}
	}
	if c.TLS.Enabled() && (c.TLS.Cert == "" || c.TLS.Key == "") {
		errs = append(errs, errors.New("hub: leaf TLS needs both a certificate and a key"))
	}
	return errors.Join(errs...)
}

// coreUser is the embedded server's user for the core's own connection.
const coreUser = "atoll-core"

// Start starts (or connects to) the hub and creates or updates the core's
// streams, sourcing every configured cell.
func Start(ctx context.Context, cfg Config) (*Hub, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	h := &Hub{cfg: cfg, cells: map[string]bool{}, attached: map[string]bool{}}
	var err error
	if cfg.ExternalURL != "" {
		err = h.connectExternal()
	} else {
		err = h.startEmbedded()
	}
	if err != nil {
		h.stop()
		return nil, err
	}
	if h.JS, err = jetstream.NewWithDomain(h.Conn, contract.GlobalDomain, jetstream.WithDefaultTimeout(requestTimeout)); err != nil {
		h.stop()
		return nil, fmt.Errorf("start hub: jetstream: %w", err)
	}
	ids := make([]string, 0, len(cfg.Cells))
	for id := range cfg.Cells {
		ids = append(ids, id)
	}
	if err := h.ensureStreams(ctx, ids); err != nil {
		h.stop()
		return nil, err
	}
	if h.Server != nil {
		wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		h.cancel = cancel
		h.wg.Add(1)
		go func() { defer h.wg.Done(); h.watchLeafs(wctx) }()
	}
	return h, nil
}

func (h *Hub) startEmbedded() error {
	cfg := h.cfg
	corePass, err := randomSecret()
	if err != nil {
		return err
	}
	users := []*server.User{{Username: coreUser, Password: corePass}}
	for id, secret := range cfg.Cells {
		users = append(users, &server.User{Username: id, Password: secret, Permissions: LeafPermissions(id)})
	}
	port := cfg.LeafPort
	if port == 0 {
		port = DefaultLeafPort
	}
	host := cfg.LeafHost
	if host == "" {
		host = "0.0.0.0"
	}
	opts := &server.Options{
		ServerName:      "atoll-hub",
		DontListen:      true,
		JetStream:       true,
		JetStreamDomain: contract.GlobalDomain,
		StoreDir:        filepath.Join(cfg.DataDir, "hub"),
		NoSigs:          true,
		Users:           users,
		LeafNode:        server.LeafNodeOpts{Host: host, Port: port},
	}
	if cfg.TLS.Enabled() {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: cfg.TLS.Cert, KeyFile: cfg.TLS.Key, CaFile: cfg.TLS.CA, Verify: cfg.TLS.CA != ""})
		if err != nil {
			return fmt.Errorf("start hub: leaf TLS: %w", err)
		}
		opts.LeafNode.TLSConfig = tc
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("start hub: %w", err)
	}
	srv.SetLoggerV2(&logAdapter{log: cfg.Log.With("component", "nats-hub")}, false, false, false)
	h.Server, h.opts = srv, opts
	srv.Start()
	if !srv.ReadyForConnections(readyTimeout) {
		return fmt.Errorf("start hub: server not ready after %s (leaf port taken or store unreadable; see the log)", readyTimeout)
	}
	nc, err := nats.Connect("", nats.InProcessServer(srv), nats.UserInfo(coreUser, corePass),
		nats.Name("atoll-core"), nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("start hub: in-process connection: %w", err)
	}
	h.Conn = nc
	return nil
}

func (h *Hub) connectExternal() error {
	opts := []nats.Option{nats.Name("atoll-core"), nats.MaxReconnects(-1)}
	switch {
	case h.cfg.ExternalCreds != "":
		opts = append(opts, nats.UserCredentials(h.cfg.ExternalCreds))
	case h.cfg.ExternalUser != "":
		opts = append(opts, nats.UserInfo(h.cfg.ExternalUser, h.cfg.ExternalPassword))
	}
	nc, err := nats.Connect(h.cfg.ExternalURL, opts...)
	if err != nil {
		return fmt.Errorf("start hub: connect to external NATS: %w", err)
	}
	h.Conn = nc
	return nil
}

func randomSecret() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("hub: random secret: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// LeafURL is the leaf listener's nats-leaf:// URL, or "" with an external
// hub.
func (h *Hub) LeafURL() string {
	if h.Server == nil {
		return ""
	}
	host := h.opts.LeafNode.Host
	if host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return fmt.Sprintf("nats-leaf://%s", net.JoinHostPort(host, strconv.Itoa(h.opts.LeafNode.Port)))
}

// LeafPort is the bound leaf port of the embedded hub (0 with an external
// one), to restart it where cells dial.
func (h *Hub) LeafPort() int {
	if h.opts == nil {
		return 0
	}
	return h.opts.LeafNode.Port
}

// Ready reports whether the connection and JetStream answer.
func (h *Hub) Ready(ctx context.Context) error {
	if !h.Conn.IsConnected() {
		return errors.New("hub: connection is down")
	}
	if _, err := h.JS.AccountInfo(ctx); err != nil {
		return fmt.Errorf("hub: jetstream: %w", err)
	}
	return nil
}

// Shutdown closes the connection and stops the embedded server.
func (h *Hub) Shutdown(ctx context.Context) error {
	var err error
	if h.Conn != nil {
		if ferr := h.Conn.FlushWithContext(ctx); ferr != nil && !errors.Is(ferr, nats.ErrConnectionClosed) {
			err = fmt.Errorf("hub: flush: %w", ferr)
		}
	}
	h.stop()
	return err
}

func (h *Hub) stop() {
	if h.cancel != nil {
		h.cancel()
		h.wg.Wait()
	}
	if h.Conn != nil {
		h.Conn.Close()
	}
	if h.Server == nil {
		return
	}
	h.Server.Shutdown()
	done := make(chan struct{})
	go func() { h.Server.WaitForShutdown(); close(done) }()
	select {
	case <-done:
	case <-time.After(shutdownTimeout):
		h.cfg.Log.Warn("nats hub did not stop in time", "timeout", shutdownTimeout)
	}
}
