// Package route owns routing: ranking a player's candidate cells from their
// measured latencies, the world's topology and the cells' live health, and
// the POST /route handler relays and the global core both serve.
package route
