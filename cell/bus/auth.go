package bus

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/nats-io/nats-server/v2/server"
)

// internalUser is the cell's own in-process connection's user; its
// password is random per start, so only this process knows it.
const internalUser = "atoll-cell"

// anonymousUser is who clients of a loopback client port without
// configured credentials are.
const anonymousUser = "atoll-local"

// minClientPassword is the shortest client-port password accepted, the
// floor of Atoll's other shared secrets.
const minClientPassword = 16

func randomSecret() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random secret: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// checkClientAuth refuses a client port beyond loopback without
// credentials, and weak or half-set credentials.
func checkClientAuth(cfg Config) error {
	if cfg.ClientPort == 0 {
		return nil
	}
	if cfg.ClientUser == "" && cfg.ClientPassword == "" {
		if !IsLoopback(cfg.ClientHost) {
			return fmt.Errorf("NATS client port on %s needs credentials (ATOLL_NATS_USER, ATOLL_NATS_PASSWORD): anyone reaching it could rewrite fleet records, tickets and sessions", cfg.ClientHost)
		}
		return nil
	}
	if cfg.ClientUser == "" || cfg.ClientUser == internalUser {
		return errors.New("NATS client user: set a user name (not " + internalUser + ") with the password")
	}
	if len(cfg.ClientPassword) < minClientPassword {
		return fmt.Errorf("NATS client password must be at least %d characters", minClientPassword)
	}
	return nil
}

// IsLoopback reports whether a client listener on host is reachable only
// from this machine; empty means the default, 127.0.0.1.
func IsLoopback(host string) bool {
	if host == "" || host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// leafRemote builds the leaf connection to the hub: the cell's user is its
// id, with HubSecret, or a creds file; TLS from HubTLS.
func leafRemote(cfg Config) (*server.RemoteLeafOpts, error) {
	u, err := url.Parse(cfg.HubURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("hub URL %q is not a URL such as nats-leaf://hub:7422", cfg.HubURL)
	}
	if cfg.HubSecret != "" {
		u.User = url.UserPassword(cfg.CellID, cfg.HubSecret)
	}
	r := &server.RemoteLeafOpts{URLs: []*url.URL{u}, Credentials: cfg.HubCreds}
	if cfg.HubTLS.Enabled() {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: cfg.HubTLS.Cert, KeyFile: cfg.HubTLS.Key, CaFile: cfg.HubTLS.CA})
		if err != nil {
			return nil, fmt.Errorf("hub TLS: %w", err)
		}
		// GenTLSConfig loads the CA as a server's client CAs; a remote
		// verifies the hub with it.
		tc.RootCAs = tc.ClientCAs
		r.TLS, r.TLSConfig = true, tc
	}
	return r, nil
}
