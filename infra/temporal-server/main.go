// The cluster profile's Temporal server: the server of go.temporal.io/server, as its cmd/server builds
// it, plus Temporal's default authorizer with a worker role (authorizer.go) and the claim mapper of
// claims.go, so that each client certificate of the cluster's CA may do what its holder needs and no
// more (a worker node's: work on the sweeps' tasks and read in their namespace). infra/setup-cluster.sh builds it; infra/cluster-up.sh
// starts one process per service:
//
//	temporal-server --config-file <temporal.yaml> --service <history|matching|frontend|worker> --namespace <the sweeps' namespace> \
//	  [--revoked-certificates <file>] [--public-address <ip:port> (the frontend's: relay.go)]
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
	_ "time/tzdata" // as cmd/server: time zones where the host has none

	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	_ "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql" // the cluster's persistence and visibility
	"go.temporal.io/server/temporal"
)

func main() {
	configFile := flag.String("config-file", "", "the server's configuration (YAML)")
	service := flag.String("service", "", "the service this process runs: history, matching, frontend or worker")
	namespace := flag.String("namespace", "default", "the namespace worker nodes' certificates may run and start workflows in")
	revokedCertificates := flag.String("revoked-certificates", "", "a file of revoked client certificates' serial numbers (hex, one per line), read again when it changes")
	publicAddress := flag.String("public-address", "", "for the frontend: an address (ip:port) whose connections this process relays to the frontend's gRPC port")
	flag.Parse()
	if *configFile == "" || *service == "" || flag.NArg() > 0 || (*publicAddress != "" && *service != "frontend") {
		fmt.Fprintln(os.Stderr, "usage: temporal-server --config-file <file> --service <history|matching|frontend|worker> [--namespace <name>] [--revoked-certificates <file>] [--public-address <ip:port> (frontend only)]")
		os.Exit(2)
	}
	cfg, err := config.Load(config.WithConfigFile(*configFile))
	if err != nil {
		fail("unable to load the configuration: %v", err)
	}
	interrupt := temporal.InterruptCh()
	if *publicAddress != "" {
		frontend, err := frontendAddress(cfg)
		if err != nil {
			fail("%v", err)
		}
		relay, err := newGatedRelay(*publicAddress, frontend)
		if err != nil {
			fail("%v", err)
		}
		go func() {
			if err := relay.openWhen(func() bool { return tlsServerAnswers(frontend, time.Second) }, 250*time.Millisecond); err != nil {
				fail("%v", err)
			}
		}()
		interrupt = relay.closedFirst(interrupt)
	}
	mapper := nodeClaimMapper{namespace: *namespace}
	if *revokedCertificates != "" {
		mapper.revoked = newRevocationList(*revokedCertificates)
	}
	server, err := temporal.NewServer(
		temporal.ForServices([]string{*service}),
		temporal.WithConfig(cfg),
		temporal.WithLogger(log.NewZapLogger(log.BuildZapLogger(cfg.Log))),
		temporal.InterruptOn(interrupt),
		temporal.WithAuthorizer(newWorkerAuthorizer()),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return mapper }),
	)
	if err != nil {
		fail("unable to create the server: %v", err)
	}
	// Returns once interrupted (SIGINT, SIGTERM) and stopped.
	if err := server.Start(); err != nil {
		fail("unable to start the server: %v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ERROR: "+format+"\n", args...)
	os.Exit(1)
}
