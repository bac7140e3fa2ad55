package hub

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/nats-io/nats.go/jetstream"
)

// Retention of the core's streams. All use limits retention: work-queue
// retention would lose what a consumer had not yet seen across an outage.
const (
	// StreamMaxAge keeps sourced and outgoing events long enough for a
	// consumer (or a cell) to catch up after a multi-day incident.
	StreamMaxAge = 7 * 24 * time.Hour
	// DeadLetterMaxAge keeps poison events for operators to inspect and
	// replay: a month spans a release cycle.
	DeadLetterMaxAge = 30 * 24 * time.Hour
	// DuplicateWindow is how long the streams remember Nats-Msg-Ids; the
	// outbox republishes within seconds, a cell within minutes.
	DuplicateWindow = 10 * time.Minute
)

// DeadLetterStream holds events a consumer could never apply, with the
// reason in a header; subjects deadletter.<handler>.
const DeadLetterStream = "DEAD_LETTERS"

// DeadLetterSubject is the subject of handler's dead letters.
func DeadLetterSubject(handler string) string { return "deadletter." + handler }

// cellSource sources cell id's stream from its JetStream domain. The
// filter keeps only the cell's own prefix: a cell that reconfigured its
// stream to hold another cell's subjects still cannot forge them.
func cellSource(id string) *jetstream.StreamSource {
	return &jetstream.StreamSource{
		Name:          contract.CellStreamName(id),
		FilterSubject: contract.CellSubject(id, ">"),
		External: &jetstream.ExternalStream{
			APIPrefix:     contract.JSAPIPrefix(id),
			DeliverPrefix: contract.HubDeliverPrefix(id),
		},
	}
}

func (h *Hub) cellEventsConfig() jetstream.StreamConfig {
	ids := make([]string, 0, len(h.attached))
	for id := range h.attached {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	sources := make([]*jetstream.StreamSource, 0, len(ids))
	for _, id := range ids {
		sources = append(sources, cellSource(id))
	}
	return jetstream.StreamConfig{
		Name:        contract.CellEventsStream,
		Description: "every cell's events, sourced from the cells' domains",
		Sources:     sources,
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      StreamMaxAge,
		Duplicates:  DuplicateWindow,
		Replicas:    1,
	}
}

func (h *Hub) ensureStreams(ctx context.Context, cells []string) error {
	h.mu.Lock()
	for _, id := range cells {
		h.cells[id] = true
		if h.Server == nil {
			// An external hub's leaf connections are not visible here:
			// source every cell from the start.
			h.attached[id] = true
		}
	}
	cfg := h.cellEventsConfig()
	h.mu.Unlock()
	for _, sc := range []jetstream.StreamConfig{cfg, {
		Name:        contract.GlobalEventsStream,
		Description: "the core's events for every cell (sourced by each cell's GLOBAL_IN)",
		Subjects:    []string{contract.GlobalSubject(">")},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      StreamMaxAge,
		Duplicates:  DuplicateWindow,
		Replicas:    1,
	}, {
		Name:        DeadLetterStream,
		Description: "events consumers could never apply, with the reason in a header",
		Subjects:    []string{DeadLetterSubject(">")},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      DeadLetterMaxAge,
		Duplicates:  DuplicateWindow,
		Replicas:    1,
	}} {
		if _, err := h.JS.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("hub: stream %s: %w", sc.Name, err)
		}
	}
	return nil
}

// AddCell sources cell id's stream into CELL_EVENTS at run time (an
// UpdateStream; with the embedded hub, once its leaf connects). With the
// embedded hub the cell also needs leaf credentials, which are read at
// start: restart the core with the cell in Config.Cells, or manage users in
// an external NATS.
func (h *Hub) AddCell(ctx context.Context, id string) error {
	if !contract.ValidCellID(id) {
		return errors.New("hub: add cell: invalid cell id")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cells[id] {
		return nil
	}
	h.cells[id] = true
	if h.Server != nil {
		return nil // attached by watchLeafs when its leaf connects
	}
	h.attached[id] = true
	if _, err := h.JS.UpdateStream(ctx, h.cellEventsConfig()); err != nil {
		delete(h.cells, id)
		delete(h.attached, id)
		return fmt.Errorf("hub: add cell %s: %w", id, err)
	}
	return nil
}

// Cells lists the cells CELL_EVENTS sources, sorted.
func (h *Hub) Cells() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := make([]string, 0, len(h.cells))
	for id := range h.cells {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
