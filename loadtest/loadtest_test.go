package loadtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/atollgg/atoll/global/globaltest"
	"github.com/atollgg/atoll/internal/dbtest"
	"github.com/atollgg/atoll/loadtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestRunAgainstRealCore(t *testing.T) {
	c := globaltest.Start(t)
	for _, sc := range []loadtest.Scenario{loadtest.DeviceLogin, loadtest.DeviceRegister} {
		rep, err := loadtest.Run(context.Background(), loadtest.Config{URL: c.URL, Scenario: sc, Concurrency: 4, Duration: 300 * time.Millisecond, Devices: 8})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Requests == 0 || rep.Errors != 0 || rep.P99 <= 0 || rep.P50 > rep.P99 {
			t.Fatalf("%s report %+v", sc, rep)
		}
	}
	var players int
	if err := c.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM players`).Scan(&players); err != nil || players < 9 {
		t.Fatalf("players = %d (err %v): the load test did not really register", players, err)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	cases := []loadtest.Config{
		{URL: "not a url", Scenario: loadtest.DeviceLogin},
		{URL: "http://127.0.0.1:1", Scenario: "nope"},
		{URL: "http://127.0.0.1:1", Scenario: loadtest.DeviceLogin, Concurrency: loadtest.MaxConcurrency + 1},
		{URL: "http://127.0.0.1:1", Scenario: loadtest.DeviceLogin, Duration: loadtest.MaxDuration + time.Second},
	}
	for _, cfg := range cases {
		if _, err := loadtest.Run(context.Background(), cfg); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
}
