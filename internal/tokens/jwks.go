package tokens

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Well-known paths the global core serves its keys and metadata on.
const (
	JWKSPath                = "/.well-known/jwks.json"
	OpenIDConfigurationPath = "/.well-known/openid-configuration"
)

// JWKSMaxAge is how long HTTP caches may reuse the JWKS. Far shorter than the
// key overlap, so a retired key outlives every cached copy that lists it; a
// new key reaches cells sooner through their unknown-kid refresh.
const JWKSMaxAge = 5 * time.Minute

// MaxJWKSBytes bounds a JWKS we parse. An Ed25519 JWK is ~150 bytes and a
// ring publishes a handful, so 64 KiB is hundreds of keys of headroom while
// keeping a hostile or broken endpoint from filling a cell's memory.
const MaxJWKSBytes = 64 << 10

// JWKS returns the ring's public keys, active first, as a JSON Web Key Set.
func (k *KeyRing) JWKS() ([]byte, error) {
	s := k.state.Load()
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, len(s.keys))}
	for i, rk := range s.keys {
		set.Keys[i] = jose.JSONWebKey{Key: rk.pub, KeyID: rk.kid, Algorithm: string(jose.EdDSA), Use: "sig"}
	}
	data, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("encode JWKS: %w", err)
	}
	return data, nil
}

// JWKSHandler serves the ring's JWKS (mount it on JWKSPath), always current
// after Rotate and Prune.
func (k *KeyRing) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := k.JWKS()
		if err != nil {
			writeError(w, http.StatusInternalServerError, "internal", "cannot encode the key set")
			return
		}
		serveDocument(w, r, data, JWKSMaxAge)
	})
}

// OpenIDConfigurationMaxAge is how long caches may reuse the discovery
// document; it only changes with the issuer's URL.
const OpenIDConfigurationMaxAge = time.Hour

type openIDConfiguration struct {
	Issuer        string   `json:"issuer"`
	JWKSURI       string   `json:"jwks_uri"`
	ResponseTypes []string `json:"response_types_supported"`
	SubjectTypes  []string `json:"subject_types_supported"`
	SigningAlgs   []string `json:"id_token_signing_alg_values_supported"`
	Claims        []string `json:"claims_supported"`
}

// OpenIDConfiguration returns the discovery document for issuer (the
// global core's public URL, without a trailing slash, exactly as it appears in
// the tokens' "iss"), so standard OIDC/JWT libraries can find the JWKS.
func OpenIDConfiguration(issuer string) []byte {
	doc := openIDConfiguration{
		Issuer:        issuer,
		JWKSURI:       strings.TrimSuffix(issuer, "/") + JWKSPath,
		ResponseTypes: []string{"token"},
		SubjectTypes:  []string{"public"},
		SigningAlgs:   []string{string(jose.EdDSA)},
		Claims:        []string{"iss", "sub", "aud", "iat", "nbf", "exp", "jti", "token_use"},
	}
	// Marshalling a struct of strings cannot fail.
	data, _ := json.Marshal(doc)
	return data
}

// OpenIDConfigurationHandler serves OpenIDConfiguration(issuer); mount it on
// OpenIDConfigurationPath.
func OpenIDConfigurationHandler(issuer string) http.Handler {
	data := OpenIDConfiguration(issuer)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveDocument(w, r, data, OpenIDConfigurationMaxAge)
	})
}

func serveDocument(w http.ResponseWriter, r *http.Request, data []byte, maxAge time.Duration) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use GET")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(maxAge/time.Second)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(data)
	}
}

// writeError writes Atoll's JSON error envelope.
func writeError(w http.ResponseWriter, status int, code, message string) {
	body, _ := json.Marshal(map[string]map[string]string{"error": {"code": code, "message": message}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// privateMembers are JWK members that carry secret key material (RFC 7518
// §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}

// ParseJWKS reads a JSON Web Key Set and returns its Ed25519 signing keys by
// kid. Keys of other types or uses, and keys without a kid, are skipped, as
// RFC 7517 §5 asks; a set that leaks private key material, repeats a kid or
// holds a malformed Ed25519 key is refused whole, as is one with no usable key.
func ParseJWKS(data []byte) (StaticKeys, error) {
	if len(data) > MaxJWKSBytes {
		return nil, fmt.Errorf("parse JWKS: larger than %d bytes", MaxJWKSBytes)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("parse JWKS: %w", err)
	}
	keys := make(StaticKeys, len(set.Keys))
	for i, raw := range set.Keys {
		var members map[string]json.RawMessage
		if err := json.Unmarshal(raw, &members); err != nil {
			return nil, fmt.Errorf("parse JWKS: key %d: %w", i, err)
		}
		for _, m := range privateMembers {
			if _, ok := members[m]; ok {
				return nil, fmt.Errorf("parse JWKS: key %d contains private key material (%q)", i, m)
			}
		}
		kty, crv := memberString(members, "kty"), memberString(members, "crv")
		alg, use := memberString(members, "alg"), memberString(members, "use")
		kid := memberString(members, "kid")
		if kty != "OKP" || crv != "Ed25519" || (alg != "" && alg != string(jose.EdDSA)) || (use != "" && use != "sig") || kid == "" {
			continue
		}
		if len(kid) > MaxKIDLength {
			return nil, fmt.Errorf("parse JWKS: key %d: kid longer than %d bytes", i, MaxKIDLength)
		}
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("parse JWKS: key %d: %w", i, err)
		}
		pub, ok := jwk.Key.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("parse JWKS: key %d is %T, want an Ed25519 public key", i, jwk.Key)
		}
		if _, dup := keys[kid]; dup {
			return nil, fmt.Errorf("parse JWKS: key %d repeats kid %q", i, kid)
		}
		keys[kid] = pub
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("parse JWKS: no usable Ed25519 signing key")
	}
	return keys, nil
}

// memberString returns a string member of a JWK, or "" if it is absent or
// not a string.
func memberString(members map[string]json.RawMessage, name string) string {
	var s string
	if raw, ok := members[name]; ok {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}
