package devstack_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/atollgg/atoll/devstack"
	"github.com/atollgg/atoll/global"
	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/global/payments"
	"github.com/atollgg/atoll/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestWalk(t *testing.T) {
	c := globaltest.Start(t, func(cfg *global.Config) { cfg.Payments = payments.Settings{Provider: "dev"} })
	var out bytes.Buffer
	if err := devstack.Walk(context.Background(), c.URL, "", &out); err != nil {
		t.Fatalf("walk: %v\n%s", err, out.String())
	}
	for _, want := range []string{"POST /auth/register -> 201", "POST /auth/login -> 200", "POST /auth/refresh -> 200", "-> 401", "/profile -> 200",
		"POST /store/purchase -> 201", "/complete -> 200", `"gems":100`, "sword_wooden"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("walk output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "art_") && !strings.Contains(out.String(), "…(") {
		t.Error("walk prints whole refresh tokens")
	}
}
