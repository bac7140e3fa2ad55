package identity_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/atollgg/atoll/global/globaltest"
)

// BenchmarkDeviceLoginHTTP measures POST /auth/device for existing devices
// over real HTTP against a real PostgreSQL: the Nakama "device login" figure.
// Run with -cpu to choose client parallelism (RunParallel uses GOMAXPROCS×p).
func BenchmarkDeviceLoginHTTP(b *testing.B) {
	c := globaltest.Start(b)
	const devices = 256
	ids := make([]string, devices)
	for i := range ids {
		var r [8]byte
		_, _ = rand.Read(r[:])
		ids[i] = "bench-device-" + hex.EncodeToString(r[:])
		globaltest.MustStatus(b, c.Do(b, "POST", "/auth/device", "", map[string]string{"device_id": ids[i]}), http.StatusCreated)
	}
	benchDevice(b, c, func(i int64) string { return ids[i%devices] }, http.StatusOK)
	b.StopTimer()
	mfs, err := c.Registry.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "atoll_identity_device_login_batch_size" {
			h := mf.GetMetric()[0].GetHistogram()
			b.ReportMetric(h.GetSampleSum()/float64(h.GetSampleCount()), "logins/batch")
		}
	}
}

// BenchmarkDeviceRegisterHTTP measures first-use device auth (player creation).
func BenchmarkDeviceRegisterHTTP(b *testing.B) {
	c := globaltest.Start(b)
	var prefix [6]byte
	_, _ = rand.Read(prefix[:])
	p := "bench-reg-" + hex.EncodeToString(prefix[:]) + "-"
	benchDevice(b, c, func(i int64) string {
		return p + hex.EncodeToString([]byte{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)})
	}, http.StatusCreated)
}

func benchDevice(b *testing.B, c *globaltest.Core, id func(int64) string, want int) {
	tr := &http.Transport{MaxIdleConnsPerHost: 512}
	hc := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := []byte(`{"device_id":"` + id(n.Add(1)) + `"}`)
			resp, err := hc.Post(c.URL+"/auth/device", "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body) // drain so the connection is reused
			_ = resp.Body.Close()
			if resp.StatusCode != want {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}
