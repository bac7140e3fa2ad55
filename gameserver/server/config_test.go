package server

import (
	"strings"
	"testing"
	"time"

	"github.com/atollgg/atoll/gameserver/sdk"
)

func TestConfigFromEnv(t *testing.T) {
	base := map[string]string{
		sdk.EnvSDKAddr: "127.0.0.1:9000", sdk.EnvSDKSecret: "s3cret", sdk.EnvServerID: "srv-1",
		sdk.EnvGamePort: "7701", sdk.EnvGameHost: "10.0.0.5",
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for bk, bv := range base {
			m[bk] = bv
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(Config) bool
	}{
		{"defaults", base, "", func(c Config) bool {
			return c.Port == 7701 && c.Bind == "10.0.0.5" && c.Duration == 0 && c.SDK.ServerID == "srv-1"
		}},
		{"bind overrides host", with(sdk.EnvGameBind, "0.0.0.0"), "", func(c Config) bool { return c.Bind == "0.0.0.0" }},
		{"duration", with(EnvGameDuration, "1500ms"), "", func(c Config) bool { return c.Duration == 1500*time.Millisecond }},
		{"bad duration", with(EnvGameDuration, "-1s"), EnvGameDuration, nil},
		{"bad join timeout", with(EnvGameJoinTimeout, "soon"), EnvGameJoinTimeout, nil},
		{"no port", with(sdk.EnvGamePort, ""), sdk.EnvGamePort, nil},
		{"bad port", with(sdk.EnvGamePort, "70000"), sdk.EnvGamePort, nil},
		{"no secret", with(sdk.EnvSDKSecret, ""), sdk.EnvSDKSecret, nil},
		{"bad server id", with(sdk.EnvServerID, "has space"), sdk.EnvServerID, nil},
		{"bad heartbeat", with(sdk.EnvHeartbeatPeriod, "0s"), sdk.EnvHeartbeatPeriod, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ConfigFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one naming %s", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("error leaks the secret: %v", err)
				}
				return
			}
			if err != nil || !tc.check(cfg) {
				t.Fatalf("cfg %+v, err %v", cfg, err)
			}
		})
	}
}
