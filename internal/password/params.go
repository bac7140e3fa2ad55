package password

import (
	"errors"
	"fmt"
)

// Bounds on argon2id parameters. They apply to configured parameters and,
// more importantly, to parameters read back from a stored hash: a corrupted
// or hostile row must not make one verification allocate gigabytes or spin
// for minutes while holding a concurrency slot.
const (
	// MaxMemoryKiB is 256 MiB: four times RFC 9106's 64 MiB "memory
	// constrained" recommendation, so operators can raise the cost, while a
	// corrupted m field cannot ask for more than that per hash.
	MaxMemoryKiB = 256 * 1024
	// MaxIterations is 16: OWASP's low-memory profiles top out at t=5 and
	// RFC 9106 uses t=3; anything far above is a corrupted field.
	MaxIterations = 16
	// MaxParallelism is 16: argon2 starts one goroutine per lane, and
	// more lanes than a server has cores only adds scheduling.
	MaxParallelism = 16
	// maxWorkKiB bounds memory×passes at 1 GiB (27× the default profile,
	// roughly a second of one core) so that combining two in-range
	// extremes still cannot stall a verification.
	maxWorkKiB = 1024 * 1024
	// MinSaltLen is RFC 9106's recommended 16 bytes for new hashes.
	MinSaltLen = 16
	// minStoredSaltLen is the argon2 specification's minimum of 8 bytes:
	// stored hashes imported from other systems may use it, and verifying
	// them costs nothing more.
	minStoredSaltLen = 8
	// MaxSaltLen is 64 bytes, the PHC format's recommended maximum.
	MaxSaltLen = 64
	// MinKeyLen is 16 bytes so a constant-time match means 128 bits agreed.
	MinKeyLen = 16
	// MaxKeyLen is 64 bytes; longer tags add storage and no security.
	MaxKeyLen = 64
)

// Params are argon2id cost parameters.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Iterations is the number of passes over memory (argon2's t).
	Iterations uint32
	// Parallelism is the number of lanes (argon2's p).
	Parallelism uint8
	// SaltLen is the length in bytes of the random salt of each hash.
	SaltLen uint32
	// KeyLen is the length in bytes of the derived tag.
	KeyLen uint32
}

// DefaultParams returns OWASP's first argon2id recommendation (Password
// Storage Cheat Sheet): m=19 MiB, t=2, p=1. It is the profile OWASP tunes
// to resist GPU cracking while keeping a login around tens of milliseconds
// on one core; p=1 because a login server parallelises across requests,
// not within one. 16-byte salt and 32-byte tag follow RFC 9106.
func DefaultParams() Params {
	return Params{
		Memory:      19 * 1024,
		Iterations:  2,
		Parallelism: 1,
		SaltLen:     16,
		KeyLen:      32,
	}
}

// ErrInvalidParams is wrapped by every Params.Validate error.
var ErrInvalidParams = errors.New("invalid argon2id parameters")

// Validate reports whether p is usable for new hashes: within argon2's own
// rules and within this package's bounds.
func (p Params) Validate() error { return p.validate(MinSaltLen) }

// validate is Validate with the salt floor as a parameter, as stored hashes
// are allowed the specification's shorter minimum.
func (p Params) validate(minSaltLen uint32) error {
	switch {
	case p.Parallelism < 1 || p.Parallelism > MaxParallelism:
		return fmt.Errorf("%w: parallelism %d outside [1, %d]", ErrInvalidParams, p.Parallelism, MaxParallelism)
	case p.Iterations < 1 || p.Iterations > MaxIterations:
		return fmt.Errorf("%w: iterations %d outside [1, %d]", ErrInvalidParams, p.Iterations, MaxIterations)
	case p.Memory < 8*uint32(p.Parallelism) || p.Memory > MaxMemoryKiB:
		// argon2 needs at least 8 KiB per lane.
		return fmt.Errorf("%w: memory %d KiB outside [%d, %d]", ErrInvalidParams, p.Memory, 8*uint32(p.Parallelism), MaxMemoryKiB)
	case uint64(p.Memory)*uint64(p.Iterations) > maxWorkKiB:
		return fmt.Errorf("%w: memory×iterations %d KiB exceeds %d", ErrInvalidParams, uint64(p.Memory)*uint64(p.Iterations), maxWorkKiB)
	case p.SaltLen < minSaltLen || p.SaltLen > MaxSaltLen:
		return fmt.Errorf("%w: salt length %d outside [%d, %d]", ErrInvalidParams, p.SaltLen, minSaltLen, MaxSaltLen)
	case p.KeyLen < MinKeyLen || p.KeyLen > MaxKeyLen:
		return fmt.Errorf("%w: key length %d outside [%d, %d]", ErrInvalidParams, p.KeyLen, MinKeyLen, MaxKeyLen)
	}
	return nil
}
