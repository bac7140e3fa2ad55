package matchmaking

import (
	"sync"
	"time"
)

// maxCachedConnectTokens bounds the connect-token cache: one entry per
// matched player, far more than wait on one cell at once. When full, expired
// entries are dropped; if none are, tokens are signed afresh uncached.
const maxCachedConnectTokens = 100_000

// connectTokens reuses a player's connect token until it nears expiry, so a
// client asking for its status again and again costs a map lookup, not an
// Ed25519 signature each time.
type connectTokens struct {
	mu sync.Mutex // guards following
	m  map[string]cachedConnect
}

type cachedConnect struct {
	server, session, token string
	issued, exp            time.Time
}

// get returns player's token for (server, session): the cached one while
// more than half its life is left, else a fresh one from sign.
func (c *connectTokens) get(server, session, player string, now time.Time, sign func() (string, time.Time, error)) (string, time.Time, error) {
	c.mu.Lock()
	e, ok := c.m[player]
	c.mu.Unlock()
	if ok && e.server == server && e.session == session && !now.Before(e.issued) && e.exp.Sub(now) > e.exp.Sub(e.issued)/2 {
		return e.token, e.exp, nil
	}
	tok, exp, err := sign()
	if err != nil {
		return "", time.Time{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]cachedConnect{}
	}
	if _, ok := c.m[player]; !ok && len(c.m) >= maxCachedConnectTokens {
		for p, e := range c.m {
			if !now.Before(e.exp) {
				delete(c.m, p)
			}
		}
		if len(c.m) >= maxCachedConnectTokens {
			return tok, exp, nil
		}
	}
	c.m[player] = cachedConnect{server: server, session: session, token: tok, issued: now, exp: exp}
	return tok, exp, nil
}
