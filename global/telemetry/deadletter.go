package telemetry

import (
	"context"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers of a dead letter.
const (
	HeaderReason  = "Atoll-Dead-Reason"
	HeaderSubject = "Atoll-Dead-Subject"
	HeaderSeq     = "Atoll-Dead-Seq"
)

// maxReason bounds the reason header: a decoder error quotes input.
const maxReason = 512

// deadLetterTimeout bounds publishing one dead letter.
const deadLetterTimeout = 10 * time.Second

// deadLetter moves msg to the dead-letter stream with the reason and acks
// it, so it never blocks the batches behind it. When even the dead-letter
// stream cannot take it, it is nak'ed and comes back later.
func (s *Sink) deadLetter(ctx context.Context, msg jetstream.Msg, reason error) {
	out := nats.NewMsg(s.cfg.DeadLetterSubject)
	out.Data = msg.Data()
	text := reason.Error()
	if len(text) > maxReason {
		text = text[:maxReason]
	}
	out.Header.Set(HeaderReason, text)
	out.Header.Set(HeaderSubject, msg.Subject())
	opts := []jetstream.PublishOpt{jetstream.WithExpectStream(s.cfg.DeadLetterStream)}
	if md, err := msg.Metadata(); err == nil {
		seq := strconv.FormatUint(md.Sequence.Stream, 10)
		out.Header.Set(HeaderSeq, seq)
		opts = append(opts, jetstream.WithMsgID(s.cfg.Stream+":"+seq))
	}
	ctx, cancel := context.WithTimeout(ctx, deadLetterTimeout)
	defer cancel()
	if _, err := s.cfg.JS.PublishMsg(ctx, out, opts...); err != nil {
		s.log.Warn("dead-letter telemetry batch", "subject", msg.Subject(), "err", err)
		_ = msg.NakWithDelay(retryDelay)
		return
	}
	s.log.Warn("telemetry batch dead-lettered", "subject", msg.Subject(), "reason", text)
	s.metrics.batches.WithLabelValues("dead_lettered").Inc()
	_ = msg.Ack()
}
