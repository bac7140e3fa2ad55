// Package federationtest holds the end-to-end tests of the federation: a real core with its hub, a real cell playing real matches, PostgreSQL.
package federationtest
