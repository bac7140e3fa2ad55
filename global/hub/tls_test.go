package hub_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/atollgg/atoll/cell/bus"
	"github.com/atollgg/atoll/contract"
	"github.com/atollgg/atoll/global/hub"
	"github.com/atollgg/atoll/global/hub/hubtest"
)

// writePKI writes a CA, a hub certificate for 127.0.0.1 and a cell client
// certificate, all signed by the CA, as PEM files in dir.
func writePKI(t *testing.T, dir string) (ca, hubCert, hubKey, cellCert, cellKey string) {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	now := time.Now()
	caKey := key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "atoll test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leaf := func(serial int64, name string, usage x509.ExtKeyUsage) (string, string) {
		k := key()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return write(name+".pem", "CERTIFICATE", der), write(name+"-key.pem", "EC PRIVATE KEY", kder)
	}
	hubCert, hubKey = leaf(2, "hub", x509.ExtKeyUsageServerAuth)
	cellCert, cellKey = leaf(3, "cell", x509.ExtKeyUsageClientAuth)
	return write("ca.pem", "CERTIFICATE", caDER), hubCert, hubKey, cellCert, cellKey
}

func TestLeafOverMutualTLS(t *testing.T) {
	ca, hc, hk, cc, ck := writePKI(t, t.TempDir())
	cfg := hubtest.HubConfig(t.TempDir(), "eu-1")
	cfg.TLS = hub.TLSFiles{Cert: hc, Key: hk, CA: ca}
	h := hubtest.StartHub(t, cfg)
	ccfg := hubtest.CellConfig("eu-1", t.TempDir(), h.LeafURL())
	ccfg.HubTLS = bus.TLSFiles{Cert: cc, Key: ck, CA: ca}
	b := hubtest.StartCell(t, ccfg)
	hubtest.WaitLeaf(t, b)
	if _, err := b.Publish(t.Context(), contract.KindMatchCompleted, []byte(`{}`), "tls-1"); err != nil {
		t.Fatal(err)
	}
	msgs := waitMsgs(t, h, contract.CellEventsStream, 1)
	if msgs[0].Subject != contract.CellSubject("eu-1", contract.KindMatchCompleted) {
		t.Fatalf("sourced %s", msgs[0].Subject)
	}
}

// TestLeafWithoutClientCertificateRefused: a cell configured without TLS
// files against a hub requiring client certificates never joins.
func TestLeafWithoutClientCertificateRefused(t *testing.T) {
	ca, hc, hk, _, _ := writePKI(t, t.TempDir())
	watch := hubtest.NewLogWatch()
	cfg := hubtest.HubConfig(t.TempDir(), "eu-1")
	cfg.TLS = hub.TLSFiles{Cert: hc, Key: hk, CA: ca}
	cfg.Log = watch.Logger()
	h := hubtest.StartHub(t, cfg)
	refused := watch.Wait("Leafnode connection closed: TLS Handshake Failure")
	b := hubtest.StartCell(t, hubtest.CellConfig("eu-1", t.TempDir(), h.LeafURL()))
	select {
	case <-refused:
	case <-time.After(hubtest.Timeout):
		t.Fatal("the hub never refused the leaf connection")
	}
	if b.LeafConnected() || h.Server.NumLeafNodes() != 0 {
		t.Fatal("a leaf without a client certificate connected")
	}
}
