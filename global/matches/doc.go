// Package matches owns what a finished match does in the global core: each
// player's xp, level, rewards and rating change, and the match history
// players read at GET /player/me/matches.
package matches
