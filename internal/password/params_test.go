package password

import (
	"errors"
	"testing"
)

func TestDefaultParamsValid(t *testing.T) {
	p := DefaultParams()
	if err := p.Validate(); err != nil {
		t.Fatalf("DefaultParams().Validate() = %v", err)
	}
	if p.Memory != 19*1024 || p.Iterations != 2 || p.Parallelism != 1 {
		t.Errorf("DefaultParams() = %+v, want OWASP m=19456 t=2 p=1", p)
	}
}

func TestParamsValidate(t *testing.T) {
	ok := Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}
	tests := []struct {
		name   string
		modify func(*Params)
		valid  bool
	}{
		{"cheap but valid", func(*Params) {}, true},
		{"max memory", func(p *Params) { p.Memory = MaxMemoryKiB }, true},
		{"zero parallelism", func(p *Params) { p.Parallelism = 0 }, false},
		{"too much parallelism", func(p *Params) { p.Parallelism = MaxParallelism + 1 }, false},
		{"zero iterations", func(p *Params) { p.Iterations = 0 }, false},
		{"too many iterations", func(p *Params) { p.Iterations = MaxIterations + 1 }, false},
		{"memory below 8 KiB per lane", func(p *Params) { p.Parallelism = 4; p.Memory = 31 }, false},
		{"too much memory", func(p *Params) { p.Memory = MaxMemoryKiB + 1 }, false},
		{"memory times iterations too large", func(p *Params) { p.Memory = MaxMemoryKiB; p.Iterations = 5 }, false},
		{"short salt", func(p *Params) { p.SaltLen = MinSaltLen - 1 }, false},
		{"long salt", func(p *Params) { p.SaltLen = MaxSaltLen + 1 }, false},
		{"short key", func(p *Params) { p.KeyLen = MinKeyLen - 1 }, false},
		{"long key", func(p *Params) { p.KeyLen = MaxKeyLen + 1 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok
			tt.modify(&p)
			err := p.Validate()
			if tt.valid && err != nil {
				t.Fatalf("Validate(%+v) = %v, want nil", p, err)
			}
			if !tt.valid && !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("Validate(%+v) = %v, want ErrInvalidParams", p, err)
			}
		})
	}
}
