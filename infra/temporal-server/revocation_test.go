package main

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/server/common/authorization"
	"google.golang.org/grpc/credentials"
)

// A certificate taken back gets no roles from its next call on, whoever it names; the others keep theirs.
func TestARevokedCertificateIsRefusedFromItsNextCall(t *testing.T) {
	list := filepath.Join(t.TempDir(), "revoked-certificates")
	mapper := nodeClaimMapper{namespace: "sweeps", revoked: newRevocationList(list)}
	gpu1, gpu2, operator := connection(node("gpu1"), 0x0a1b2c), connection(node("gpu2"), 0xff00), connection(node("operator"), 0x77)

	// No list yet: nothing revoked.
	for _, info := range []*authorization.AuthInfo{gpu1, gpu2, operator} {
		if _, err := mapper.GetClaims(info); err != nil {
			t.Fatalf("%s before any revocation: %v", info.TLSSubject.CommonName, err)
		}
	}
	// nodes-revoke.sh writes openssl's form (upper case, leading zeros) with the node's name after it.
	write(t, list, "# serial node revoked-at\n000A1B2C gpu1 2026-12-06T00:00:00Z\n")
	if _, err := mapper.GetClaims(gpu1); err == nil || !strings.Contains(err.Error(), "gpu1 (serial a1b2c) is revoked") {
		t.Fatalf("gpu1 revoked: got %v", err)
	}
	if claims, err := mapper.GetClaims(gpu2); err != nil || claims.Namespaces["sweeps"] == authorization.RoleUndefined {
		t.Fatalf("gpu2 not revoked: claims %+v, error %v", claims, err)
	}
	// The operator's too, once on the list.
	write(t, list, "000A1B2C gpu1\n0x77 operator\n")
	if _, err := mapper.GetClaims(operator); err == nil {
		t.Fatal("the operator's revoked certificate kept its roles")
	}
	// A list it cannot parse refuses every certificate rather than let the ones it names through.
	write(t, list, "000A1B2C gpu1\nnot-hex gpu2\n")
	if _, err := mapper.GetClaims(gpu2); err == nil || !strings.Contains(err.Error(), `line 2: "not-hex" is not a serial number`) {
		t.Fatalf("gpu2 with an unreadable list: got %v", err)
	}
	// Mended, and the list gone: as before.
	if err := os.Remove(list); err != nil {
		t.Fatal(err)
	}
	if _, err := mapper.GetClaims(gpu1); err != nil {
		t.Fatalf("gpu1 with no list: %v", err)
	}
}

func connection(subject pkix.Name, serial int64) *authorization.AuthInfo {
	certificate := &x509.Certificate{Subject: subject, SerialNumber: big.NewInt(serial)}
	return &authorization.AuthInfo{
		TLSSubject:    &subject,
		TLSConnection: &credentials.TLSInfo{State: tls.ConnectionState{PeerCertificates: []*x509.Certificate{certificate}}},
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	// As the script does: a new file moved into place.
	if err := os.WriteFile(path+".tmp", []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}
