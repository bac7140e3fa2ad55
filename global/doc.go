// Package global is Atoll's thin global core as a library: identity,
// profiles, economy and the APIs cells call, served over HTTP from one
// Config.
package global
