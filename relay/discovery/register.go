package discovery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/hashicorp/consul/api"
)

// RelayService is the Consul service every relay registers as.
const RelayService = "atoll-relay"

// Check timings, the same as cells' (cell/registry), for the same reasons.
const (
	// CheckInterval is how often Consul probes the relay's /readyz: a
	// failed relay leaves within seconds at negligible load.
	CheckInterval = 5 * time.Second
	// CheckTimeout bounds one probe.
	CheckTimeout = 3 * time.Second
	// DeregisterAfter removes a relay that stayed critical this long (killed
	// without deregistering), far longer than a restart.
	DeregisterAfter = 10 * time.Minute
	// requestTimeout bounds one call to the local agent.
	requestTimeout = 10 * time.Second
)

// Meta keys of a relay's registration.
const (
	MetaRelayID   = "relay_id"
	MetaPublicURL = "public_url"
	MetaBeacon    = "beacon"
)

// RegistrationConfig configures a relay's registration.
type RegistrationConfig struct {
	// ConsulAddr is the agent's HTTP address (host:port). Required.
	ConsulAddr string
	// Token is the Consul ACL token; empty means none.
	Token string
	// RelayID and Region identify the relay (service id suffix, tag).
	// Required.
	RelayID, Region string
	// PublicURL is the relay's HTTP/WebSocket base URL. Required.
	PublicURL string
	// Beacon is the UDP beacon's public host:port. Required.
	Beacon string
	// CheckURL is the URL the agent probes (the relay's /readyz). Required.
	CheckURL string
}

// Registration is a relay registered with a Consul agent.
type Registration struct {
	cfg    RegistrationConfig
	client *api.Client
	id     string
}

// NewRegistration checks cfg and returns an unregistered Registration.
func NewRegistration(cfg RegistrationConfig) (*Registration, error) {
	var errs []error
	if cfg.ConsulAddr == "" || cfg.RelayID == "" || cfg.Region == "" || cfg.Beacon == "" {
		errs = append(errs, errors.New("consul address, relay id, region and beacon are required"))
	}
	for _, u := range []string{cfg.PublicURL, cfg.CheckURL} {
		if p, err := url.Parse(u); err != nil || p.Host == "" {
			errs = append(errs, fmt.Errorf("%q is not an absolute URL", u))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("relay registration: %w", errors.Join(errs...))
	}
	client, err := api.NewClient(&api.Config{Address: cfg.ConsulAddr, Token: cfg.Token})
	if err != nil {
		return nil, fmt.Errorf("relay registration: %w", err)
	}
	return &Registration{cfg: cfg, client: client, id: RelayService + "-" + cfg.RelayID}, nil
}

// Register registers (or re-registers) the relay and its check.
func (r *Registration) Register(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	u, _ := url.Parse(r.cfg.PublicURL) // checked by NewRegistration
	host, portStr, err := net.SplitHostPort(u.Host)
	if err != nil {
		host, portStr = u.Host, "80"
		if u.Scheme == "https" || u.Scheme == "wss" {
			portStr = "443"
		}
	}
	port, _ := strconv.Atoi(portStr)
	reg := &api.AgentServiceRegistration{
		ID: r.id, Name: RelayService, Tags: []string{r.cfg.Region}, Address: host, Port: port,
		Meta: map[string]string{MetaRelayID: r.cfg.RelayID, MetaPublicURL: r.cfg.PublicURL, MetaBeacon: r.cfg.Beacon},
		Check: &api.AgentServiceCheck{
			CheckID: r.id + "-ready", Name: "relay readiness", HTTP: r.cfg.CheckURL, Method: "GET",
			Interval: CheckInterval.String(), Timeout: CheckTimeout.String(),
			DeregisterCriticalServiceAfter: DeregisterAfter.String(),
		},
	}
	opts := api.ServiceRegisterOpts{ReplaceExistingChecks: true}.WithContext(ctx)
	if err := r.client.Agent().ServiceRegisterOpts(reg, opts); err != nil {
		return fmt.Errorf("register %s with consul at %s: %w", r.id, r.cfg.ConsulAddr, err)
	}
	return nil
}

// Deregister removes the relay from the agent.
func (r *Registration) Deregister(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	if err := r.client.Agent().ServiceDeregisterOpts(r.id, (&api.QueryOptions{}).WithContext(ctx)); err != nil {
		return fmt.Errorf("deregister %s from consul: %w", r.id, err)
	}
	return nil
}
