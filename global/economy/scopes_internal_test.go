package economy

import (
	"testing"

	"github.com/atollgg/atoll/internal/authn"
)

func TestCheckCellScopes(t *testing.T) {
	set := Settings{}.withDefaults()
	tests := []struct {
		name    string
		scopes  authn.Scopes
		wantErr bool
	}{
		{"none", nil, false},
		{"coins cap", authn.Scopes{"eu": {Scopes: []string{authn.ScopeResultsApply}, GrantCaps: map[string]int64{"coins": 50}}}, false},
		{"premium forbidden explicitly", authn.Scopes{"eu": {GrantCaps: map[string]int64{"gems": 0}}}, false},
		{"premium cap", authn.Scopes{"eu": {GrantCaps: map[string]int64{"gems": 1}}}, true},
		{"unknown currency", authn.Scopes{"eu": {GrantCaps: map[string]int64{"gold": 1}}}, true},
		{"cap above MaxAmount", authn.Scopes{"eu": {GrantCaps: map[string]int64{"coins": MaxAmount + 1}}}, true},
	}
	for _, tc := range tests {
		if err := checkCellScopes(set, tc.scopes); (err != nil) != tc.wantErr {
			t.Errorf("%s: err %v, want error %v", tc.name, err, tc.wantErr)
		}
	}
}
