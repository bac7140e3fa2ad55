package global

import (
	"context"

	"github.com/atollgg/atoll/global/identity"
	"github.com/atollgg/atoll/global/telemetry"
)

// startTelemetrySink runs the sink of the cells' telemetry until ctx ends:
// on the embedded hub's in-process JetStream when the core has a hub, or on
// the NATS at Telemetry.NATSURL when an operator runs their own.
func (s *Server) startTelemetrySink(ctx context.Context) {
	st := s.cfg.Telemetry
	switch {
	case st.NATSURL != "":
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := telemetry.Run(ctx, st, s.DB, identity.Suspend, s.log, s.Registry); err != nil && ctx.Err() == nil {
				s.log.Error("telemetry sink stopped", "err", err)
			}
		}()
	case s.Hub != nil:
		sink, err := telemetry.New(telemetry.Config{DB: s.DB, JS: s.Hub.JS, Retention: st.Retention, Rules: st.Rules,
			Suspend: identity.Suspend, Log: s.log, Registry: s.Registry})
		if err != nil {
			s.log.Error("telemetry sink", "err", err)
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := sink.Run(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("telemetry sink stopped", "err", err)
			}
		}()
	}
}
