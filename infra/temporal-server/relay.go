package main

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/inetaf/tcpproxy"
	"go.temporal.io/server/common/config"
)

// The frontend listens on the host's loopback, beside the other services' gRPC and membership ports
// (ringpop, which has no TLS or authentication); the nodes reach the host at another address. The
// frontend's process relays that address's connections to its own port, bytes unchanged, as a TCP load
// balancer in front of the frontends does in production: TLS passes through, and the frontend checks
// each client's certificate as before. Temporal binds a service's gRPC and membership ports to one
// address, so the frontend cannot listen at the nodes' address without its membership port.

// frontendAddress is where the configuration has the frontend's gRPC port listen.
func frontendAddress(cfg *config.Config) (string, error) {
	frontend, ok := cfg.Services["frontend"]
	if !ok || frontend.RPC.GRPCPort == 0 || frontend.RPC.BindOnIP == "" {
		return "", fmt.Errorf("the configuration has no frontend service with a grpcPort and bindOnIP to relay to")
	}
	return net.JoinHostPort(frontend.RPC.BindOnIP, strconv.Itoa(frontend.RPC.GRPCPort)), nil
}

// startRelay listens at public and relays each connection to target, until the returned proxy is closed.
func startRelay(public, target string) (*tcpproxy.Proxy, error) {
	proxy := &tcpproxy.Proxy{}
	proxy.AddRoute(public, &tcpproxy.DialProxy{
		Addr:        target,
		DialTimeout: 5 * time.Second,
		// Connections of nodes that vanished (a machine lost with its network) are found and closed.
		KeepAlivePeriod: 30 * time.Second,
	})
	if err := proxy.Start(); err != nil {
		return nil, fmt.Errorf("cannot listen at %s to relay to the frontend: %w", public, err)
	}
	return proxy, nil
}
