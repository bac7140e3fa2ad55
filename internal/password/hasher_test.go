package password

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cheapParams keep tests fast; DefaultParams are exercised by the
// reference vector and the benchmark.
var cheapParams = Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

func newHasher(t testing.TB, p Params, maxConcurrent int) *Hasher {
	t.Helper()
	h, err := New(p, maxConcurrent)
	if err != nil {
		t.Fatalf("New(%+v, %d) = %v", p, maxConcurrent, err)
	}
	return h
}

func TestNewRejects(t *testing.T) {
	if _, err := New(Params{}, 1); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("New(zero params) = %v, want ErrInvalidParams", err)
	}
	if _, err := New(cheapParams, 0); err == nil {
		t.Error("New(maxConcurrent=0) = nil error")
	}
}

var phcPattern = regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t, cheapParams, 2)
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatalf("Hash() = %v", err)
	}
	if !phcPattern.MatchString(enc) {
		t.Fatalf("Hash() = %q, not a PHC argon2id string", enc)
	}
	again, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatalf("Hash() = %v", err)
	}
	if again == enc {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}

	tests := []struct {
		password string
		want     bool
	}{
		{"correct horse battery staple", true},
		{"correct horse battery staplE", false},
		{"correct horse battery staple ", false},
		{"", false},
		{strings.Repeat("x", MaxPasswordBytes+1), false},
	}
	for _, tt := range tests {
		ok, rehash, err := h.Verify(ctx, tt.password, enc)
		if err != nil || ok != tt.want || rehash {
			t.Errorf("Verify(%.20q) = %v, %v, %v; want %v, false, nil", tt.password, ok, rehash, err, tt.want)
		}
	}
}

func TestHashRejects(t *testing.T) {
	h := newHasher(t, cheapParams, 1)
	if _, err := h.Hash(context.Background(), ""); !errors.Is(err, ErrEmptyPassword) {
		t.Errorf("Hash(\"\") = %v, want ErrEmptyPassword", err)
	}
	if _, err := h.Hash(context.Background(), strings.Repeat("x", MaxPasswordBytes+1)); !errors.Is(err, ErrPasswordTooLong) {
		t.Errorf("Hash(long) = %v, want ErrPasswordTooLong", err)
	}
	if _, err := h.Hash(context.Background(), strings.Repeat("x", MaxPasswordBytes)); err != nil {
		t.Errorf("Hash(MaxPasswordBytes) = %v", err)
	}
}

// Vectors from the reference implementation (Debian's argon2 CLI,
// phc-winner-argon2), so hashes written elsewhere verify here.
func TestVerifyReferenceVectors(t *testing.T) {
	tests := []struct{ password, encoded string }{
		{"password", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"},
		{"correct horse battery staple", "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0"},
		{"pässwörd", "$argon2id$v=19$m=64,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$TLiTodXQLo9lFPlXmDDIkA"},
	}
	h := newHasher(t, DefaultParams(), 1)
	for _, tt := range tests {
		ok, rehash, err := h.Verify(context.Background(), tt.password, tt.encoded)
		if err != nil || !ok {
			t.Errorf("Verify(%q, %q) = %v, %v; want match", tt.password, tt.encoded, ok, err)
		}
		wantRehash := !strings.HasPrefix(tt.encoded, "$argon2id$v=19$m=19456,t=2,p=1$") ||
			strings.Contains(tt.encoded, "$c29tZXNhbHQ$") // 8-byte salt differs from SaltLen 16
		if rehash != wantRehash {
			t.Errorf("Verify(%q) needsRehash = %v, want %v", tt.encoded, rehash, wantRehash)
		}
		if ok, _, err := h.Verify(context.Background(), tt.password+"!", tt.encoded); err != nil || ok {
			t.Errorf("Verify(wrong password, %q) = %v, %v; want false, nil", tt.encoded, ok, err)
		}
	}
}

func TestVerifyNeedsRehash(t *testing.T) {
	ctx := context.Background()
	old := newHasher(t, cheapParams, 1)
	enc, err := old.Hash(ctx, "a fine passphrase")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		params Params
		want   bool
	}{
		{"same params", cheapParams, false},
		{"more memory", Params{Memory: 128, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}, true},
		{"more iterations", Params{Memory: 64, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}, true},
		{"more lanes", Params{Memory: 64, Iterations: 1, Parallelism: 2, SaltLen: 16, KeyLen: 32}, true},
		{"longer salt", Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 32, KeyLen: 32}, true},
		{"shorter key", Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 16}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := newHasher(t, tt.params, 1).Verify(ctx, "a fine passphrase", enc)
			if err != nil || !ok || rehash != tt.want {
				t.Fatalf("Verify() = %v, %v, %v; want true, %v, nil", ok, rehash, err, tt.want)
			}
			// needsRehash is only ever reported for a correct password.
			if ok, rehash, _ := newHasher(t, tt.params, 1).Verify(ctx, "wrong", enc); ok || rehash {
				t.Fatalf("Verify(wrong) = %v, %v; want false, false", ok, rehash)
			}
		})
	}
}

func TestVerifyTamperedAndMalformed(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t, cheapParams, 1)
	enc, err := h.Hash(ctx, "a fine passphrase")
	if err != nil {
		t.Fatal(err)
	}
	// Flip one character of the tag and of the salt: still well-formed, no match.
	for _, i := range []int{len(enc) - 2, strings.LastIndexByte(enc, '$') - 2} {
		b := []byte(enc)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		ok, _, err := h.Verify(ctx, "a fine passphrase", string(b))
		if err != nil || ok {
			t.Errorf("Verify(tampered at %d) = %v, %v; want false, nil", i, ok, err)
		}
	}
	ok, _, err := h.Verify(ctx, "a fine passphrase", strings.Replace(enc, "m=64", "m=4294967295", 1))
	if ok || !errors.Is(err, ErrMalformedHash) {
		t.Errorf("Verify(absurd memory) = %v, %v; want ErrMalformedHash", ok, err)
	}
	if strings.Contains(err.Error(), enc[len(enc)-20:]) {
		t.Errorf("error %q echoes the stored hash", err)
	}
}

func TestVerifyDummy(t *testing.T) {
	h := newHasher(t, cheapParams, 1)
	// The dummy must cost what a current hash costs.
	d, err := decode(h.dummy)
	if err != nil {
		t.Fatalf("dummy hash does not decode: %v", err)
	}
	if d.params != h.params {
		t.Fatalf("dummy params %+v, want hasher's %+v", d.params, h.params)
	}
	if err := h.VerifyDummy(context.Background(), "anything at all"); err != nil {
		t.Fatalf("VerifyDummy() = %v", err)
	}
	if ok, _, err := h.Verify(context.Background(), "anything at all", h.dummy); ok || err != nil {
		t.Fatalf("dummy hash matched: %v, %v", ok, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.VerifyDummy(ctx, "anything"); !errors.Is(err, context.Canceled) {
		t.Fatalf("VerifyDummy(cancelled) = %v, want context.Canceled", err)
	}
}

func TestConcurrencyBoundRespectsContext(t *testing.T) {
	h := newHasher(t, cheapParams, 1)
	enc, err := h.Hash(context.Background(), "a fine passphrase")
	if err != nil {
		t.Fatal(err)
	}
	// Occupy the only slot as a long-running hash would.
	h.sem <- struct{}{}

	// The deadline is how the waiting call ends, not synchronisation:
	// whenever it fires, the result must be DeadlineExceeded.
	const wait = 5 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := h.Hash(ctx, "a fine passphrase"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash() with no free slot = %v, want DeadlineExceeded", err)
	}
	if _, _, err := h.Verify(ctx, "a fine passphrase", enc); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Verify() with no free slot = %v, want DeadlineExceeded", err)
	}

	// A cancelled context must not take a free slot either.
	<-h.sem
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if _, err := h.Hash(cctx, "a fine passphrase"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash(cancelled) = %v, want context.Canceled", err)
	}
	if ok, _, err := h.Verify(context.Background(), "a fine passphrase", enc); !ok || err != nil {
		t.Fatalf("Verify() after slot freed = %v, %v", ok, err)
	}
	if n := len(h.sem); n != 0 {
		t.Fatalf("%d slots still held after calls returned", n)
	}
}

func TestConcurrentUse(t *testing.T) {
	h := newHasher(t, cheapParams, 2)
	ctx := context.Background()
	const workers = 8
	errs := make(chan error, workers)
	for i := range workers {
		go func() {
			pw := strings.Repeat("p", 10+i)
			enc, err := h.Hash(ctx, pw)
			if err != nil {
				errs <- err
				return
			}
			ok, _, err := h.Verify(ctx, pw, enc)
			if err == nil && !ok {
				err = errors.New("own hash did not verify")
			}
			errs <- err
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	h := newHasher(b, DefaultParams(), 1)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := newHasher(b, DefaultParams(), 1)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, err := h.Verify(ctx, "correct horse battery staple", enc); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
