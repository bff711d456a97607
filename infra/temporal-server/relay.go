package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/inetaf/tcpproxy"
	"go.temporal.io/server/common/config"
	"golang.org/x/sys/unix"
)

// The frontend listens on the host's loopback, beside the other services' gRPC and membership ports
// (ringpop, which has no TLS or authentication); the nodes reach the host at another address. The
// frontend's process relays that address's connections to its own port, bytes unchanged, as a TCP load
// balancer in front of the frontends does in production: TLS passes through, and the frontend checks
// each client's certificate as before. Temporal binds a service's gRPC and membership ports to one
// address, so the frontend cannot listen at the nodes' address without its membership port.
//
// Every frontend process listens at the same public address (SO_REUSEPORT): the kernel hands each new
// connection to one of them, and while one is down or restarting the others take every connection,
// so the frontends have no balancer to lose. Only processes of the same user may share the port.

// frontendAddress is where the configuration has the frontend's gRPC port listen.
func frontendAddress(cfg *config.Config) (string, error) {
	frontend, ok := cfg.Services["frontend"]
	if !ok || frontend.RPC.GRPCPort == 0 || frontend.RPC.BindOnIP == "" {
		return "", fmt.Errorf("the configuration has no frontend service with a grpcPort and bindOnIP to relay to")
	}
	return net.JoinHostPort(frontend.RPC.BindOnIP, strconv.Itoa(frontend.RPC.GRPCPort)), nil
}

// startRelay listens at public, beside other relays there, and relays each connection it is handed to
// target, until the returned proxy is closed.
func startRelay(public, target string) (*tcpproxy.Proxy, error) {
	proxy := &tcpproxy.Proxy{ListenFunc: listenShared}
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

// listenShared listens with SO_REUSEPORT, so that every frontend process of the host listens at one address.
func listenShared(network, address string) (net.Listener, error) {
	config := net.ListenConfig{Control: func(_, _ string, raw syscall.RawConn) error {
		var err error
		if controlErr := raw.Control(func(fd uintptr) {
			err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); controlErr != nil {
			return controlErr
		}
		return err
	}}
	return config.Listen(context.Background(), network, address)
}
