package federation

import (
	"context"
	"errors"
	"fmt"
)

// AfterFunc runs once a handler's transaction has committed an event
// (never for a duplicate, never when the transaction failed), before the
// ack. It updates what lives outside the database, such as in-memory
// indexes, so it must be idempotent and cannot fail the event: if the
// process dies before it runs, the event is not redelivered (its marker is
// committed), so what it updates must also be repairable from the
// database (a refresh loop, a rebuild at start).
type AfterFunc func(ctx context.Context, ev Event)

// AfterCommit registers fn to run after each commit of handler name, which
// must already be registered with Handle. Call it before Start.
func (f *Federation) AfterCommit(name string, fn AfterFunc) error {
	if fn == nil {
		return errors.New("federation: AfterCommit needs a function")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.started {
		return errors.New("federation: AfterCommit after Start")
	}
	for i := range f.handlers {
		if f.handlers[i].name == name {
			f.handlers[i].after = fn
			return nil
		}
	}
	return fmt.Errorf("federation: AfterCommit: no handler %q", name)
}
