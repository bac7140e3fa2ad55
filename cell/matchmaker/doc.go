// Package matchmaker owns a regional cell's matchmaking algorithm: game modes, queued tickets and the passes that turn them into balanced matches.
package matchmaker
