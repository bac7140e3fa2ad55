// Package registry owns a cell's registration in Consul as service
// atoll-cell, with an HTTP health check on its readiness probe.
package registry

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

// ServiceName is the Consul service every cell registers as.
const ServiceName = "atoll-cell"

// Check timings.
const (
	// CheckInterval is how often Consul probes /readyz: a failed cell leaves
	// routing within seconds, and a probe every 5 s is negligible load.
	CheckInterval = 5 * time.Second
	// CheckTimeout bounds one probe; /readyz answers within
	// obs.ReadyCheckTimeout (2 s), so this leaves it room.
	CheckTimeout = 3 * time.Second
	// DeregisterAfter removes a cell that stayed critical this long (a cell
	// killed without deregistering), so the catalog does not fill with dead
	// cells; it is far longer than a restart.
	DeregisterAfter = 10 * time.Minute
	// requestTimeout bounds one call to the local agent.
	requestTimeout = 10 * time.Second
)

// Meta keys of the registration.
const (
	MetaCellID    = "cell_id"
	MetaPublicURL = "public_url"
)

// Config configures a registration.
type Config struct {
	// ConsulAddr is the agent's HTTP address (host:port). Required.
	ConsulAddr string
	// Token is the Consul ACL token; empty means none.
	Token string
	// CellID is the service id's suffix and the cell_id meta. Required.
	CellID string
	// Region is the service's tag. Required.
	Region string
	// PublicURL is the public_url meta and gives the service address and
	// port. Required.
	PublicURL string
	// CheckURL is the URL the agent probes (the cell's /readyz). Required.
	CheckURL string
}

// Registration is a cell registered with a Consul agent.
type Registration struct {
	cfg    Config
	client *api.Client
	id     string
}

// ServiceID is the registration id of a cell.
func ServiceID(cellID string) string { return ServiceName + "-" + cellID }

// New checks cfg and returns an unregistered Registration.
func New(cfg Config) (*Registration, error) {
	var errs []error
	if cfg.ConsulAddr == "" {
		errs = append(errs, errors.New("consul address is required"))
	}
	if cfg.CellID == "" || cfg.Region == "" {
		errs = append(errs, errors.New("cell id and region are required"))
	}
	if u, err := url.Parse(cfg.CheckURL); err != nil || u.Host == "" {
		errs = append(errs, fmt.Errorf("check URL %q is not an absolute URL", cfg.CheckURL))
	}
	if u, err := url.Parse(cfg.PublicURL); err != nil || u.Host == "" {
		errs = append(errs, fmt.Errorf("public URL %q is not an absolute URL", cfg.PublicURL))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("consul registration: %w", errors.Join(errs...))
	}
	client, err := api.NewClient(&api.Config{Address: cfg.ConsulAddr, Token: cfg.Token})
	if err != nil {
		return nil, fmt.Errorf("consul registration: %w", err)
	}
	return &Registration{cfg: cfg, client: client, id: ServiceID(cfg.CellID)}, nil
}

// Register registers (or re-registers) the cell and its check.
func (r *Registration) Register(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	host, port := addressOf(r.cfg.PublicURL)
	reg := &api.AgentServiceRegistration{
		ID:      r.id,
		Name:    ServiceName,
		Tags:    []string{r.cfg.Region},
		Address: host,
		Port:    port,
		Meta:    map[string]string{MetaCellID: r.cfg.CellID, MetaPublicURL: r.cfg.PublicURL},
		Check: &api.AgentServiceCheck{
			CheckID:                        r.id + "-ready",
			Name:                           "cell readiness",
			HTTP:                           r.cfg.CheckURL,
			Method:                         "GET",
			Interval:                       CheckInterval.String(),
			Timeout:                        CheckTimeout.String(),
			DeregisterCriticalServiceAfter: DeregisterAfter.String(),
		},
	}
	opts := api.ServiceRegisterOpts{ReplaceExistingChecks: true}.WithContext(ctx)
	if err := r.client.Agent().ServiceRegisterOpts(reg, opts); err != nil {
		return fmt.Errorf("register %s with consul at %s: %w", r.id, r.cfg.ConsulAddr, err)
	}
	return nil
}

// Deregister removes the cell from the agent.
func (r *Registration) Deregister(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	if err := r.client.Agent().ServiceDeregisterOpts(r.id, (&api.QueryOptions{}).WithContext(ctx)); err != nil {
		return fmt.Errorf("deregister %s from consul: %w", r.id, err)
	}
	return nil
}

// addressOf splits a public URL into host and port, defaulting the port from
// the scheme.
func addressOf(publicURL string) (string, int) {
	u, _ := url.Parse(publicURL) // checked by New
	host, portStr, err := net.SplitHostPort(u.Host)
	if err != nil {
		host = u.Host
		portStr = "80"
		if u.Scheme == "https" {
			portStr = "443"
		}
	}
	port, _ := strconv.Atoi(portStr)
	return host, port
}
