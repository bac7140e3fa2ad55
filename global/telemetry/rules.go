package telemetry

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/audit"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Audit kinds the rules write. Stable: dashboards and alerts match on them.
const (
	AuditFlagged   = "anticheat.flagged"
	AuditSuspended = "anticheat.suspended"
)

// maxPoints bounds one score event's points, so a corrupt server cannot
// overflow a counter.
const maxPoints = 1_000_000_000

// counterKey is one player's count under one rule in one window.
type counterKey struct {
	player, rule string
	window       time.Time
}

// applyRules adds fresh (newly stored) events to the rules' counters in
// tx, flags each window that crosses its threshold once, in the audit log,
// and suspends players with SuspendAfter flagged windows. Everything
// happens in the transaction that stored the events, so a redelivered
// batch changes nothing.
func (s *Sink) applyRules(ctx context.Context, tx pgx.Tx, fresh []row) error {
	if len(fresh) == 0 {
		return nil
	}
	r := s.cfg.Rules
	adds := map[counterKey]int64{}
	cells := map[counterKey]string{}
	for i := range fresh {
		e := &fresh[i]
		if _, err := uuid.Parse(e.player); err != nil {
			s.metrics.ruleSkipped.Inc() // not a core player id: nothing to flag
			continue
		}
		var rule string
		var add int64
		switch e.eventType {
		case contract.TelemetryViolation:
			rule, add = RuleViolations, 1
		case contract.TelemetryKick:
			rule, add = RuleKick, 1
		case contract.TelemetryScore:
			var p struct {
				Points int64 `json:"points"`
			}
			if json.Unmarshal(e.payload, &p) != nil || p.Points <= 0 {
				continue
			}
			rule, add = RuleScoreRate, min(p.Points, maxPoints)
		default:
			continue
		}
		k := counterKey{player: e.player, rule: rule, window: e.ts.Truncate(r.Window)}
		adds[k] += add
		cells[k] = e.cell
	}
	keys := make([]counterKey, 0, len(adds))
	for k := range adds {
		keys = append(keys, k)
	}
	// A fixed order, so two sinks' transactions lock counters in the same
	// order and do not deadlock.
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.player != b.player {
			return a.player < b.player
		}
		if a.rule != b.rule {
			return a.rule < b.rule
		}
		return a.window.Before(b.window)
	})
	flaggedPlayers := map[string]string{}
	for _, k := range keys {
		var value int64
		var flagged *time.Time
		if err := tx.QueryRow(ctx, `INSERT INTO anticheat_counters (player_id, rule, window_start, value) VALUES ($1, $2, $3, $4)
			ON CONFLICT (player_id, rule, window_start) DO UPDATE SET value = anticheat_counters.value + excluded.value
			RETURNING value, flagged_at`, k.player, k.rule, k.window, adds[k]).Scan(&value, &flagged); err != nil {
			return fmt.Errorf("anti-cheat counter: %w", err)
		}
		threshold := s.threshold(k.rule)
		if flagged != nil || value < threshold {
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE anticheat_counters SET flagged_at = now() WHERE player_id = $1 AND rule = $2 AND window_start = $3`,
			k.player, k.rule, k.window); err != nil {
			return fmt.Errorf("flag player: %w", err)
		}
		if err := audit.Write(ctx, tx, audit.Event{Kind: AuditFlagged, PlayerID: k.player, Actor: "system", Details: map[string]any{
			"rule": k.rule, "value": value, "threshold": threshold, "window_start": k.window, "window": r.Window.String(), "cell_id": cells[k],
		}}); err != nil {
			return err
		}
		s.metrics.flags.WithLabelValues(k.rule).Inc()
		flaggedPlayers[k.player] = k.rule
	}
	if r.SuspendAfter == 0 || s.cfg.Suspend == nil {
		return nil
	}
	players := make([]string, 0, len(flaggedPlayers))
	for p := range flaggedPlayers {
		players = append(players, p)
	}
	sort.Strings(players)
	for _, p := range players {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM anticheat_counters WHERE player_id = $1 AND flagged_at IS NOT NULL AND window_start >= $2`,
			p, s.cfg.Now().Add(-r.SuspendWindow).Truncate(r.Window)).Scan(&n); err != nil {
			return fmt.Errorf("count flags: %w", err)
		}
		if n < r.SuspendAfter {
			continue
		}
		reason := fmt.Sprintf("anti-cheat: %d flagged windows in %s (last rule %s)", n, r.SuspendWindow, flaggedPlayers[p])
		if err := s.cfg.Suspend(ctx, tx, p, reason); err != nil {
			return fmt.Errorf("suspend player: %w", err)
		}
		if err := audit.Write(ctx, tx, audit.Event{Kind: AuditSuspended, PlayerID: p, Actor: "system", Details: map[string]any{
			"flags": n, "suspend_after": r.SuspendAfter, "rule": flaggedPlayers[p],
		}}); err != nil {
			return err
		}
		s.metrics.suspensions.Inc()
	}
	return nil
}

func (s *Sink) threshold(rule string) int64 {
	switch rule {
	case RuleViolations:
		return s.cfg.Rules.MaxViolations
	case RuleScoreRate:
		return s.cfg.Rules.MaxScore + 1 // more than MaxScore
	}
	return 1
}
