package main

import (
	"crypto/x509"
	"fmt"
	"slices"

	"go.temporal.io/server/common/authorization"
)

// The names in the client certificates the cluster's CA issues (infra/cluster-common.sh tls_issue):
// every one has this organization; the common name says who connects.
const (
	clusterOrganization = "sweep cluster"
	// The servers' own certificate: the services among themselves and the system worker.
	serversName = "sweep cluster servers"
	// cluster-up.sh, the operator's CLI and the Web UI server.
	operatorName = "operator"
)

// nodeClaimMapper gives each client certificate of the cluster's CA the roles its holder needs: the
// servers and the operator administer the cluster; any other name is a worker node's (nodes-up.sh
// names each certificate after its node), which may work (workerAuthorizer) and read in the sweeps'
// namespace and nothing else: not start, signal, cancel, terminate, reset or delete workflows, no
// other namespace, no namespace or cluster administration. A certificate on the revocation list (nil:
// none) gets no roles, whoever it names.
type nodeClaimMapper struct {
	namespace string
	revoked   *revocationList
}

var _ authorization.ClaimMapper = nodeClaimMapper{}

func (m nodeClaimMapper) GetClaims(info *authorization.AuthInfo) (*authorization.Claims, error) {
	subject := info.TLSSubject
	// Only the cluster's CA signs certificates the frontend accepts (requireClientAuth); the check is
	// against a CA that signs for others too. No roles: every call but a health check is denied.
	if subject == nil || !slices.Contains(subject.Organization, clusterOrganization) {
		return &authorization.Claims{}, nil
	}
	if certificate := peerCertificate(info); certificate != nil && m.revoked != nil {
		revoked, err := m.revoked.revoked(certificate.SerialNumber)
		if err != nil {
			return nil, err
		}
		// An error, not empty claims: the server logs it ("Authorization error"), naming who was refused,
		// and refuses the call as it refuses any other (PERMISSION_DENIED, Request unauthorized).
		if revoked {
			return nil, fmt.Errorf("the client certificate of %s (serial %x) is revoked (%s)", subject.CommonName, certificate.SerialNumber, m.revoked.path)
		}
	}
	claims := &authorization.Claims{Subject: subject.CommonName, AuthType: "mtls"}
	switch subject.CommonName {
	case serversName, operatorName:
		claims.System = authorization.RoleAdmin
	default:
		claims.Namespaces = map[string]authorization.Role{m.namespace: authorization.RoleWorker | authorization.RoleReader}
	}
	return claims, nil
}

// The client's own certificate, as the frontend's TLS handshake verified it.
func peerCertificate(info *authorization.AuthInfo) *x509.Certificate {
	if info.TLSConnection == nil || len(info.TLSConnection.State.PeerCertificates) == 0 {
		return nil
	}
	return info.TLSConnection.State.PeerCertificates[0]
}
