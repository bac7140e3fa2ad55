package contract

import "errors"

// ErrInvalidEvent marks an event that no retry can apply (undecodable or
// failing validation): consumers move it to a dead-letter stream with the
// reason instead of retrying it forever.
var ErrInvalidEvent = errors.New("invalid event")
