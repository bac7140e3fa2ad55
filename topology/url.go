package topology

import (
	"net/url"
	"strings"
)

// WebSocketURL turns a relay's base URL into the WebSocket URL of path on it:
// http becomes ws and https wss, so operators may write either.
func WebSocketURL(base, path string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	return u.String()
}

// HTTPURL turns a relay's base URL into the HTTP URL of path on it (ws
// becomes http and wss https), e.g. for POST /route.
func HTTPURL(base, path string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	return u.String()
}
