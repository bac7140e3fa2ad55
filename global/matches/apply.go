package matches

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/economy"
	"github.com/jackc/pgx/v5"
)

// RewardKey is the economy idempotency key of a player's match reward; the
// ledger rows of the reward carry it.
func RewardKey(sessionID string) string { return "match:" + sessionID }

// ApplyMatchCompleted applies a finished match in tx: per player, the
// match history row, the rating change in the mode, and xp and soft
// currency through the economy's grant path (ledger and wallet together).
//
// It is idempotent per (match, player): a player's history row is the
// marker, written in tx with the effects, so re-running the event — in a
// retried transaction or after it committed — changes nothing for players
// already applied. Every write goes through tx; nothing is kept in memory.
//
// An invalid event (see Validate), or a session id already applied as a
// different match, returns an error wrapping contract.ErrInvalidEvent.
// Players without an account, or erased, are skipped: their results still
// rank the match and rate the others (at the unrated values), but nothing
// is written for them. Refusing the event instead would deny every other
// player their rewards because one player deleted their account while the
// match was being played.
func (s *Service) ApplyMatchCompleted(ctx context.Context, tx pgx.Tx, ev contract.MatchCompleted) error {
	ev.Players = slices.Clone(ev.Players)
	if err := Validate(&ev); err != nil {
		return err
	}
	st := rank(ev.Players)
	if err := s.claimMatch(ctx, tx, &ev, len(st.sides)); err != nil {
		return err
	}
	fresh, err := s.freshPlayers(ctx, tx, &ev)
	if err != nil || len(fresh) == 0 {
		return err
	}
	changes, err := s.cfg.Ratings.RateMatch(ctx, tx, ev.GameMode, st.sides, fresh)
	if err != nil {
		return fmt.Errorf("apply match %s: %w", ev.SessionID, err)
	}
	isFresh := map[string]bool{}
	for _, id := range fresh {
		isFresh[id] = true
	}
	rule, _ := s.rewards.Rule(ev.GameMode)
	due := map[string]Reward{}
	for _, p := range ev.Players {
		if isFresh[p.PlayerID] {
			due[p.PlayerID] = rule.For(st.placement[p.Team], len(st.sides), st.outcome[p.Team])
		}
	}
	granted, err := s.rewardAll(ctx, tx, &ev, fresh, due)
	if err != nil {
		return err
	}
	var rows [][]any
	for _, p := range ev.Players {
		if !isFresh[p.PlayerID] {
			continue
		}
		got := granted[p.PlayerID]
		if got.Currencies == nil {
			got.Currencies = map[string]int64{}
		}
		rewards, err := json.Marshal(got.Currencies)
		if err != nil {
			return fmt.Errorf("encode rewards: %w", err)
		}
		var before, after, rd *float64
		if c, ok := changes[p.PlayerID]; ok {
			before, after, rd = &c.Before.Rating, &c.After.Rating, &c.After.RD
		}
		rows = append(rows, []any{ev.SessionID, p.PlayerID, ev.EndedAt, p.Team, st.placement[p.Team], st.outcome[p.Team], p.Score, p.Kills,
			p.Deaths, p.TimePlayedS, got.XP, got.level, string(rewards), before, after, rd})
	}
	// A plain insert: a concurrent application of the same player fails
	// here (a serialization failure RunTx retries, or a unique violation the
	// event's redelivery retries) and, run again, finds the row.
	if err := insertParticipants(ctx, tx, rows); err != nil {
		return fmt.Errorf("record match %s: %w", ev.SessionID, err)
	}
	return nil
}

// participantColumns are the columns of one match_participants row, in the
// order ApplyMatchCompleted builds them.
var participantColumns = []string{"match_id", "player_id", "ended_at", "team", "placement", "outcome", "score", "kills", "deaths",
	"time_played_s", "xp", "level_after", "rewards", "rating_before", "rating_after", "rd_after"}

// insertParticipants writes rows in one multi-row INSERT (COPY is not part
// of CockroachDB's transactional subset); maxPlayers rows stay far below
// the 65535 parameters of one statement.
func insertParticipants(ctx context.Context, tx pgx.Tx, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO match_participants (" + strings.Join(participantColumns, ", ") + ") VALUES ")
	args := make([]any, 0, len(rows)*len(participantColumns))
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(")
		for j := range r {
			if j > 0 {
				b.WriteString(", ")
			}
			args = append(args, r[j])
			fmt.Fprintf(&b, "$%d", len(args))
		}
		b.WriteString(")")
	}
	_, err := tx.Exec(ctx, b.String(), args...)
	return err
}

// claimMatch records the match once. A session id already recorded for a
// different cell or mode is a forged or corrupt event.
func (s *Service) claimMatch(ctx context.Context, tx pgx.Tx, ev *contract.MatchCompleted, sides int) error {
	var cell, mode string
	err := tx.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO matches (id, cell_id, region, mode, started_at, ended_at, players, teams)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (id) DO NOTHING
			RETURNING cell_id, mode
		)
		SELECT cell_id, mode FROM ins
		UNION ALL
		SELECT cell_id, mode FROM matches WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM ins)`,
		ev.SessionID, ev.CellID, ev.Region, ev.GameMode, ev.StartedAt, ev.EndedAt, len(ev.Players), sides).Scan(&cell, &mode)
	if err != nil {
		return fmt.Errorf("record match %s: %w", ev.SessionID, err)
	}
	if cell != ev.CellID || mode != ev.GameMode {
		return invalid("session %s was already applied as a %s match of cell %s", ev.SessionID, mode, cell)
	}
	return nil
}

// freshPlayers returns the event's players who have an account and whose
// result is not applied yet, in event order.
func (s *Service) freshPlayers(ctx context.Context, tx pgx.Tx, ev *contract.MatchCompleted) ([]string, error) {
	ids := make([]string, len(ev.Players))
	for i, p := range ev.Players {
		ids[i] = p.PlayerID
	}
	rows, err := tx.Query(ctx, `
		SELECT p.id::TEXT FROM players AS p
		WHERE p.id = ANY($1::UUID[]) AND p.deleted_at IS NULL
			AND NOT EXISTS (SELECT 1 FROM match_participants AS mp WHERE mp.match_id = $2 AND mp.player_id = p.id)`, ids, ev.SessionID)
	if err != nil {
		return nil, fmt.Errorf("find match players: %w", err)
	}
	ok, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("find match players: %w", err)
	}
	want := map[string]bool{}
	for _, id := range ok {
		want[id] = true
	}
	var out []string
	for _, id := range ids {
		if want[id] {
			out = append(out, id)
		}
	}
	if skipped := len(ids) - len(out); skipped > 0 {
		s.cfg.Log.DebugContext(ctx, "match players skipped: no account or already applied", "session_id", ev.SessionID, "skipped", skipped)
	}
	return out, nil
}

// granted is what a player's reward grant moved.
type granted struct {
	Reward
	// level is the level after the xp; nil when no xp moved.
	level *int
}

// grantRequest is the economy grant of rw for the player's match.
func grantRequest(ev *contract.MatchCompleted, playerID string, rw Reward) economy.GrantRequest {
	cur := map[string]int64{}
	for c, n := range rw.Currencies {
		if n > 0 {
			cur[c] = n
		}
	}
	return economy.GrantRequest{PlayerID: playerID, Key: RewardKey(ev.SessionID), Reason: economy.ReasonReward,
		Currencies: cur, XP: rw.XP, Note: "match " + ev.GameMode, Actor: "cell:" + ev.CellID}
}

func grantedOf(req economy.GrantRequest, res *economy.GrantResult) granted {
	g := granted{Reward: Reward{XP: req.XP, Currencies: req.Currencies}}
	if res.Progress != nil {
		level := res.Progress.Level
		g.level = &level
	}
	return g
}

// rewardAll grants every player their due reward through the economy in
// tx: in one batch (a fixed number of statements for the whole lobby), or,
// when a player's key was already used by a different grant, one by one.
func (s *Service) rewardAll(ctx context.Context, tx pgx.Tx, ev *contract.MatchCompleted, players []string, due map[string]Reward) (map[string]granted, error) {
	out := map[string]granted{}
	var reqs []economy.GrantRequest
	for _, id := range players {
		if rw := due[id]; !rw.empty() {
			reqs = append(reqs, grantRequest(ev, id, rw))
		}
	}
	res, err := s.cfg.Economy.GrantBatch(ctx, tx, reqs)
	if err == nil {
		for i, r := range reqs {
			out[r.PlayerID] = grantedOf(r, res[i])
		}
		return out, nil
	}
	if !errors.Is(err, economy.ErrKeyReused) {
		return nil, fmt.Errorf("reward match %s: %w", ev.SessionID, err)
	}
	// GrantBatch refuses before writing anything, so the transaction is
	// intact for the slow path.
	for _, r := range reqs {
		g, err := s.reward(ctx, tx, ev, r)
		if err != nil {
			return nil, err
		}
		out[r.PlayerID] = g
	}
	return out, nil
}

// reward grants one player's reward, skipping it when its key was already
// used by another grant (e.g. a cell's own reward call for this match).
func (s *Service) reward(ctx context.Context, tx pgx.Tx, ev *contract.MatchCompleted, req economy.GrantRequest) (granted, error) {
	res, err := s.cfg.Economy.Grant(ctx, tx, req)
	if errors.Is(err, economy.ErrKeyReused) {
		s.cfg.Log.WarnContext(ctx, "match reward key already used by another grant; not rewarding twice", "session_id", ev.SessionID)
		return granted{}, nil
	}
	if err != nil {
		return granted{}, fmt.Errorf("reward match %s: %w", ev.SessionID, err)
	}
	return grantedOf(req, res), nil
}
