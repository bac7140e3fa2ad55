// Package identity owns players' credentials and sessions: registration,
// password, device and OpenID Connect login, refresh-token rotation and logout.
package identity
