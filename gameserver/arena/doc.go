// Package arena owns the authoritative, deterministic simulation of Atoll's reference top-down arena shooter.
package arena
