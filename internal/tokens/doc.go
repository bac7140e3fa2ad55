// Package tokens owns Atoll's Ed25519-signed JWTs: signing keys and their rotation, issuing, verifying, and publishing and fetching the JWKS.
package tokens
