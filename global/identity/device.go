package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/atollgg/atoll/internal/httpx"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// DeviceRequest is the body of POST /auth/device.
type DeviceRequest struct {
	DeviceID string `json:"device_id"`
}

// Device ids are client-generated identifiers (a UUID or a platform id):
// at least 10 characters so they are not guessable, at most 128.
const (
	minDeviceID = 10
	maxDeviceID = 128
)

func validDeviceID(id string) bool {
	if len(id) < minDeviceID || len(id) > maxDeviceID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// deviceHash is what is stored: a device id is a bearer credential.
func deviceHash(id string) string {
	h := sha256.Sum256([]byte("atoll-device:" + id))
	return hex.EncodeToString(h[:])
}

var errDeviceRace = errors.New("device created concurrently")

func (s *Service) device(w http.ResponseWriter, r *http.Request) error {
	var req DeviceRequest
	if err := httpx.DecodeJSON(w, r, &req, maxAuthBody); err != nil {
		return err
	}
	if !validDeviceID(req.DeviceID) {
		return httpx.BadRequest("device_id must be %d-%d printable ASCII characters", minDeviceID, maxDeviceID)
	}
	dh := deviceHash(req.DeviceID)
	if err := s.allow(r, s.ipLimit, "device", "d:"+dh); err != nil {
		return err
	}
	ctx := r.Context()
	now := s.now()
	sess := s.newSession(now)
	// Two attempts: a first-use race with another request for the same
	// device loses the insert, then finds the device on the fast path.
	for attempt := 0; attempt < 2; attempt++ {
		id, err := s.deviceLogin(ctx, dh, sess)
		created := false
		if errors.Is(err, pgx.ErrNoRows) {
			id, err = s.deviceCreate(ctx, dh, sess)
			created = true
			if errors.Is(err, errDeviceRace) {
				continue
			}
		}
		if err != nil {
			return fmt.Errorf("device login: %w", err)
		}
		if id == suspendedMarker {
			return errSuspended
		}
		return s.writeSession(w, id, sess, now, created)
	}
	return errors.New("device login: lost the creation race twice")
}

func (s *Service) deviceLogin(ctx context.Context, dh string, sess pendingSession) (string, error) {
	return s.batch.do(ctx, &deviceReq{deviceHash: dh, sess: sess})
}

func (s *Service) deviceCreate(ctx context.Context, dh string, sess pendingSession) (string, error) {
	id, err := s.create.do(ctx, &deviceReq{deviceHash: dh, sess: sess, newID: uuid.NewString(), username: generatedUsername("guest_")})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errDeviceRace
	}
	return id, err
}
