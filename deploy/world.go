package deploy

import (
	"errors"
	"fmt"
	"regexp"
)

// World is what the manifests are rendered from: the operator's regions,
// each with its cells and relays (see topology/ for the files they come
// from), and the images and names shared by all of them.
type World struct {
	// Image is the Atoll container image, e.g. ghcr.io/atollgg/atoll:v1.2.3.
	// Required.
	Image string
	// Namespace is the Kubernetes namespace; empty means DefaultNamespace.
	Namespace string
	// GlobalURL is the core's public URL, the issuer of players' tokens and
	// what cells call. Required.
	GlobalURL string
	// GlobalReplicas is the core's replica count; zero means 2, enough to
	// survive one node's loss while the database keeps the state.
	GlobalReplicas int32
	// Regions are rendered one folder each. At least one.
	Regions []Region
	// Topology are the topology folder's files by name (see topology/),
	// rendered into the ConfigMap TopologyConfigMap that the core (GET
	// /topology, POST /route) and the relays read. Nil means no ConfigMap:
	// the operator provides one by that name.
	Topology map[string]string
}

// Region is one region's part of the world.
type Region struct {
	ID     string
	Cells  []Cell
	Relays []Relay
}

// Cell is one regional cell.
type Cell struct {
	ID string
	// PublicURL is where players reach the cell's API. Required.
	PublicURL string
	// WarmServers and MaxServers size the game-server fleet; zero means
	// the cell's own defaults.
	WarmServers, MaxServers int
	// GamePortMin and GamePortMax are the game servers' port range inside
	// the pod; zero means DefaultGamePorts.
	GamePortMin, GamePortMax int
}

// Relay is one relay of a region.
type Relay struct {
	ID string
	// BeaconPort is the UDP ping beacon's port; zero means DefaultBeaconPort.
	BeaconPort int32
	// Weight is the relay's capacity weight in routing; zero means 1. The
	// relay reads it from the topology; it is shown on the pods' labels.
	Weight int
}

// Defaults of the rendered manifests.
const (
	// DefaultNamespace keeps Atoll's objects apart from the cluster's.
	DefaultNamespace = "atoll"
	// DefaultBeaconPort is the relays' UDP beacon port.
	DefaultBeaconPort = 7480
	// DefaultGamePortMin and DefaultGamePortMax: 100 ports, one per game
	// server, far more than one pod's CPU runs at once.
	DefaultGamePortMin, DefaultGamePortMax = 7700, 7799
	// defaultGlobalReplicas survives one node's loss.
	defaultGlobalReplicas = 2
)

var idPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$`)

// Validate reports the first reason w cannot be rendered: ids must be
// DNS-1123 labels short enough to prefix Kubernetes names.
func (w World) Validate() error {
	if w.Image == "" {
		return errors.New("deploy: an image is required")
	}
	if w.GlobalURL == "" {
		return errors.New("deploy: the global core's URL is required")
	}
	if len(w.Regions) == 0 {
		return errors.New("deploy: at least one region is required")
	}
	seen := map[string]string{}
	check := func(kind, id string) error {
		if !idPattern.MatchString(id) {
			return fmt.Errorf("deploy: %s id %q: want lower-case letters, digits and '-', at most 42 characters", kind, id)
		}
		if prev, dup := seen[id]; dup {
			return fmt.Errorf("deploy: %s id %q is also a %s id", kind, id, prev)
		}
		seen[id] = kind
		return nil
	}
	for _, r := range w.Regions {
		if err := check("region", r.ID); err != nil {
			return err
		}
		if len(r.Cells) == 0 || len(r.Relays) == 0 {
			return fmt.Errorf("deploy: region %q needs a cell and a relay", r.ID)
		}
		for _, c := range r.Cells {
			if err := check("cell", c.ID); err != nil {
				return err
			}
			if c.PublicURL == "" {
				return fmt.Errorf("deploy: cell %q has no public URL", c.ID)
			}
		}
		for _, rl := range r.Relays {
			if err := check("relay", rl.ID); err != nil {
				return err
			}
		}
	}
	return nil
}
