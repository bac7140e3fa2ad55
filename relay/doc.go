// Package relay owns the relay service (`atoll relay`): a region's UDP ping
// beacon and browser ping, routing of players to the nearest healthy cell,
// and forwarding of game traffic so game-server addresses stay hidden.
package relay
