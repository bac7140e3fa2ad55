package topology

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// idPattern is the form of every id: lower-case DNS-label-like, so ids can
// be Consul tags, metric labels and file names without escaping.
var idPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// envPattern is the form of an "env:" credentials reference.
var envPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func checkCore(name string, c *Core) Problems {
	var ps Problems
	ps = append(ps, unknownKeys(name, c.at)...)
	ps = append(ps, checkURL(name, c.at, "api_url", c.APIURL, true, "http", "https")...)
	ps = append(ps, checkURL(name, c.at, "jwks_url", c.JWKSURL, false, "http", "https")...)
	ps = append(ps, checkURL(name, c.at, "hub_url", c.HubURL, false, "nats", "nats-leaf", "tls", "ws", "wss")...)
	return ps
}

// checkRegions checks every region and the rules that span regions: unique
// ids and fallbacks that name declared regions.
func checkRegions(regions []Region) Problems {
	var ps Problems
	regionFile := map[string]string{}
	cellFile := map[string]string{}
	relayFile := map[string]string{}
	for i := range regions {
		r := &regions[i]
		ps = append(ps, checkRegion(r)...)
		if r.ID != "" {
			if first, dup := regionFile[r.ID]; dup {
				ps = append(ps, problemAt(r.File, r.at, "id", "region %q is declared again (first in %s)", r.ID, first))
			} else {
				regionFile[r.ID] = r.File
			}
		}
		for _, c := range r.Cells {
			if c.ID == "" {
				continue
			}
			if first, dup := cellFile[c.ID]; dup {
				ps = append(ps, problemAt(r.File, c.at, "id", "cell %q is declared again (first in %s)", c.ID, first))
			} else {
				cellFile[c.ID] = r.File
			}
		}
		for _, rl := range r.Relays {
			if rl.ID == "" {
				continue
			}
			if first, dup := relayFile[rl.ID]; dup {
				ps = append(ps, problemAt(r.File, rl.at, "id", "relay %q is declared again (first in %s)", rl.ID, first))
			} else {
				relayFile[rl.ID] = r.File
			}
		}
	}
	for i := range regions {
		r := &regions[i]
		for j, f := range r.Fallback {
			line, col := r.fallbackAt(j)
			switch {
			case f == r.ID:
				ps = append(ps, Problem{File: r.File, Line: line, Column: col, Message: fmt.Sprintf("region %q names itself as a fallback", f)})
			case regionFile[f] == "":
				ps = append(ps, Problem{File: r.File, Line: line, Column: col, Message: fmt.Sprintf("fallback %q is not a declared region", f)})
			case slices.Index(r.Fallback, f) != j:
				ps = append(ps, Problem{File: r.File, Line: line, Column: col, Message: fmt.Sprintf("fallback %q is listed twice", f)})
			}
		}
	}
	return ps
}

// fallbackAt returns the position of the j-th fallback entry.
func (r *Region) fallbackAt(j int) (int, int) {
	if j < len(r.fallbackPos) {
		return r.fallbackPos[j][0], r.fallbackPos[j][1]
	}
	return r.at.at("fallback")
}

func checkRegion(r *Region) Problems {
	name := r.File
	ps := unknownKeys(name, r.at)
	ps = append(ps, checkID(name, r.at, "region", r.ID)...)
	if strings.TrimSpace(r.Name) == "" {
		ps = append(ps, problemAt(name, r.at, "name", "region %q has no name", r.ID))
	}
	loc := r.Location
	if _, ok := r.at.keys["location"]; !ok {
		ps = append(ps, problemAt(name, r.at, "", "region %q has no location", r.ID))
	} else {
		ps = append(ps, unknownKeys(name, loc.at)...)
		if loc.Lat < -90 || loc.Lat > 90 {
			ps = append(ps, problemAt(name, loc.at, "lat", "latitude %v is outside [-90, 90]", loc.Lat))
		}
		if loc.Lon < -180 || loc.Lon > 180 {
			ps = append(ps, problemAt(name, loc.at, "lon", "longitude %v is outside [-180, 180]", loc.Lon))
		}
	}
	if len(r.Cells) == 0 {
		ps = append(ps, problemAt(name, r.at, "cells", "region %q has no cell", r.ID))
	}
	if len(r.Relays) == 0 {
		ps = append(ps, problemAt(name, r.at, "relays", "region %q has no relay", r.ID))
	}
	for _, c := range r.Cells {
		ps = append(ps, unknownKeys(name, c.at)...)
		ps = append(ps, checkID(name, c.at, "cell", c.ID)...)
		ps = append(ps, checkURL(name, c.at, "api_url", c.APIURL, true, "http", "https")...)
		ps = append(ps, checkCredentials(name, c.at, c.LeafCredentials)...)
		if c.Capacity < 0 {
			ps = append(ps, problemAt(name, c.at, "capacity", "capacity must not be negative"))
		}
	}
	for _, rl := range r.Relays {
		ps = append(ps, unknownKeys(name, rl.at)...)
		ps = append(ps, checkID(name, rl.at, "relay", rl.ID)...)
		ps = append(ps, checkHostPort(name, rl.at, "beacon", rl.Beacon)...)
		ps = append(ps, checkURL(name, rl.at, "url", rl.URL, true, "http", "https", "ws", "wss")...)
		if rl.Weight < 0 {
			ps = append(ps, problemAt(name, rl.at, "weight", "weight must not be negative"))
		}
	}
	return ps
}

func unknownKeys(name string, at position) Problems {
	var ps Problems
	for _, k := range at.unknown {
		ps = append(ps, problemAt(name, at, k, "unknown key %q", k))
	}
	return ps
}

func checkID(name string, at position, kind, id string) Problems {
	switch {
	case id == "":
		return Problems{problemAt(name, at, "id", "%s has no id", kind)}
	case !idPattern.MatchString(id):
		return Problems{problemAt(name, at, "id", "%s id %q must be lower-case letters, digits and inner dashes, at most 63", kind, id)}
	}
	return nil
}

func checkURL(name string, at position, key, raw string, required bool, schemes ...string) Problems {
	if raw == "" {
		if required {
			return Problems{problemAt(name, at, key, "%s is required", key)}
		}
		return nil
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return Problems{problemAt(name, at, key, "%s %q is not a URL", key, raw)}
	case !slices.Contains(schemes, u.Scheme):
		return Problems{problemAt(name, at, key, "%s %q must use %s", key, raw, strings.Join(schemes, ", "))}
	case u.Host == "" || u.Hostname() == "":
		return Problems{problemAt(name, at, key, "%s %q has no host", key, raw)}
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return Problems{problemAt(name, at, key, "%s %q must not carry a query, fragment or user", key, raw)}
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return Problems{problemAt(name, at, key, "%s %q has a bad port", key, raw)}
		}
	}
	return nil
}

func checkHostPort(name string, at position, key, raw string) Problems {
	if raw == "" {
		return Problems{problemAt(name, at, key, "%s is required", key)}
	}
	host, port, err := net.SplitHostPort(raw)
	n, perr := strconv.Atoi(port)
	if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
		return Problems{problemAt(name, at, key, "%s %q must be host:port with a port in 1-65535", key, raw)}
	}
	return nil
}

func checkCredentials(name string, at position, ref string) Problems {
	if ref == "" {
		return nil
	}
	scheme, rest, _ := strings.Cut(ref, ":")
	switch {
	case scheme == "file" && filepath.IsAbs(rest):
		return nil
	case scheme == "env" && envPattern.MatchString(rest):
		return nil
	}
	return Problems{problemAt(name, at, "leaf_credentials", "leaf_credentials must be a reference, file:/absolute/path or env:VARIABLE, never the secret itself")}
}
