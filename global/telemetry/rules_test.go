package telemetry_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/global/identity"
	"github.com/atollgg/atoll/global/telemetry"
	"github.com/google/uuid"
)

// serverBatch is a game server's batch of events of one type about player.
func serverBatch(player, eventType string, n int, payload string, ts time.Time) contract.TelemetryBatch {
	b := batch(contract.SenderServer, "srv-1", n, ts)
	for i := range b.Events {
		b.Events[i].PlayerID, b.Events[i].EventType, b.Events[i].SessionID = player, eventType, "s1"
		b.Events[i].Payload = nil
		if payload != "" {
			b.Events[i].Payload = json.RawMessage(payload)
		}
	}
	return b
}

// TestRulesFlagThenSuspend runs the anti-cheat rules on a real core: game
// servers' violations and an impossible score rate flag the cheater in the
// audit log and, at the second flag, suspend them (login and refresh answer
// account_suspended) until an operator lifts it. Clients' claims and an
// honest player's few violations flag nobody, and replaying the stream
// changes nothing.
func TestRulesFlagThenSuspend(t *testing.T) {
	core := globaltest.Start(t)
	d := core.DB
	r := newStream(t)
	device := "test-device-cheater-" + uuid.NewString()
	login := core.Do(t, "POST", "/auth/device", "", map[string]string{"device_id": device})
	globaltest.MustStatus(t, login, http.StatusCreated)
	var cheater identity.SessionResponse
	login.Decode(t, &cheater)
	honest := core.Guest(t)

	rules := telemetry.Rules{Window: time.Hour, MaxViolations: 5, FlagKicks: true, MaxScore: 100, SuspendAfter: 2, SuspendWindow: 24 * time.Hour}
	mutate := func(c *telemetry.Config) { c.Rules = rules; c.Suspend = identity.Suspend }
	now := time.Now().UTC()
	pub := func(b contract.TelemetryBatch) { r.publish(t, testCell, encode(t, b), b.BatchID) }

	pub(serverBatch(cheater.PlayerID, contract.TelemetryViolation, 6, `{"violation":"speed"}`, now))
	pub(serverBatch(honest.ID, contract.TelemetryViolation, 3, `{"violation":"rate"}`, now))
	claims := batch(contract.SenderClient, honest.ID, 10, now) // a client cannot condemn anyone
	for i := range claims.Events {
		claims.Events[i].EventType, claims.Events[i].PlayerID = contract.TelemetryViolation, cheater.PlayerID
	}
	pub(claims)
	drain(t, newSink(t, d, r, "sink", mutate))

	flags := func(player string) int {
		return count(t, d, `SELECT count(*) FROM audit_log WHERE kind = $1 AND player_id = $2`, telemetry.AuditFlagged, player)
	}
	suspended := func(player string) bool {
		return count(t, d, `SELECT count(*) FROM players WHERE id = $1 AND suspended_at IS NOT NULL`, player) == 1
	}
	if flags(cheater.PlayerID) != 1 || flags(honest.ID) != 0 || suspended(cheater.PlayerID) {
		t.Fatalf("after violations: cheater flags %d suspended %v, honest flags %d", flags(cheater.PlayerID), suspended(cheater.PlayerID), flags(honest.ID))
	}

	pub(serverBatch(cheater.PlayerID, contract.TelemetryScore, 3, `{"points":60}`, now))
	pub(serverBatch(honest.ID, contract.TelemetryScore, 1, `{"points":60}`, now))
	drain(t, newSink(t, d, r, "sink", mutate))
	if flags(cheater.PlayerID) != 2 || !suspended(cheater.PlayerID) || flags(honest.ID) != 0 || suspended(honest.ID) {
		t.Fatalf("after score: cheater flags %d suspended %v, honest flags %d", flags(cheater.PlayerID), suspended(cheater.PlayerID), flags(honest.ID))
	}
	if n := count(t, d, `SELECT count(*) FROM audit_log WHERE kind = $1 AND player_id = $2`, telemetry.AuditSuspended, cheater.PlayerID); n != 1 {
		t.Fatalf("%d suspension records, want 1", n)
	}

	// A replay of everything (a second consumer) changes nothing.
	drain(t, newSink(t, d, r, "replay", mutate))
	if flags(cheater.PlayerID) != 2 || flags(honest.ID) != 0 {
		t.Fatalf("after replay: cheater flags %d, honest %d", flags(cheater.PlayerID), flags(honest.ID))
	}
	if n := count(t, d, `SELECT value FROM anticheat_counters WHERE player_id = $1 AND rule = $2`, cheater.PlayerID, telemetry.RuleViolations); n != 6 {
		t.Fatalf("violation counter %d after replay, want 6", n)
	}

	for _, tc := range []struct {
		name, path string
		body       any
	}{
		{"device login", "/auth/device", map[string]string{"device_id": device}},
		{"refresh", "/auth/refresh", map[string]string{"refresh_token": cheater.RefreshToken}},
	} {
		resp := core.Do(t, "POST", tc.path, "", tc.body)
		if resp.Status != http.StatusForbidden || resp.ErrorCode() != identity.CodeAccountSuspended {
			t.Fatalf("%s while suspended: %d %s", tc.name, resp.Status, resp.Body)
		}
	}
	resp := core.Do(t, "DELETE", fmt.Sprintf("/admin/players/%s/suspension", cheater.PlayerID), "wrong-admin-token-0123456789", nil)
	globaltest.MustStatus(t, resp, http.StatusUnauthorized)
	resp = core.Do(t, "DELETE", fmt.Sprintf("/admin/players/%s/suspension", cheater.PlayerID), globaltest.AdminToken, nil)
	globaltest.MustStatus(t, resp, http.StatusNoContent)
	globaltest.MustStatus(t, core.Do(t, "POST", "/auth/device", "", map[string]string{"device_id": device}), http.StatusOK)
	globaltest.MustStatus(t, core.Do(t, "POST", "/auth/refresh", "", map[string]string{"refresh_token": cheater.RefreshToken}), http.StatusOK)
}
