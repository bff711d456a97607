package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
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
//
// As a load balancer adds a backend once it answers and drains it before it stops, a frontend's relay
// listens only while its frontend serves: opened once a TLS server answers at the frontend's port,
// closed first when the process is told to stop. While a frontend starts or stops, the kernel then
// hands every new connection to the other frontends' relays, not to one that can only refuse it (the
// port not bound yet, or closed by the shutdown) or hold it unanswered (bound, not yet serving).

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
		return nil, cannotListen(public, err)
	}
	return proxy, nil
}

func cannotListen(public string, err error) error {
	return fmt.Errorf("cannot listen at %s to relay to the frontend: %w", public, err)
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

// gatedRelay is a frontend's relay that listens only while its frontend serves (see above).
type gatedRelay struct {
	public, target string
	mu             sync.Mutex
	proxy          *tcpproxy.Proxy
	closed         bool
}

// newGatedRelay checks that public can be listened at now (this host's address, not held by a listener
// that does not share it), so a mistake ends the process at its start, and opens nothing yet.
func newGatedRelay(public, target string) (*gatedRelay, error) {
	probe, err := listenShared("tcp", public)
	if err != nil {
		return nil, cannotListen(public, err)
	}
	probe.Close()
	return &gatedRelay{public: public, target: target}, nil
}

// openWhen asks ready every `every` and starts relaying once it says yes (main asks whether the
// frontend serves: tlsServerAnswers); it returns at once when the relay is closed meanwhile.
func (r *gatedRelay) openWhen(ready func() bool, every time.Duration) error {
	for !ready() {
		if r.isClosed() {
			return nil
		}
		time.Sleep(every)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	proxy, err := startRelay(r.public, r.target)
	r.proxy = proxy
	return err
}

func (r *gatedRelay) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// Close stops listening (connections relayed already carry on until either end closes them) and keeps it closed.
func (r *gatedRelay) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.proxy != nil {
		r.proxy.Close()
	}
}

// closedFirst passes interrupt's signal on once the relay is closed: the server stops after it.
func (r *gatedRelay) closedFirst(interrupt <-chan any) <-chan any {
	passed := make(chan any, 1)
	go func() {
		signal := <-interrupt
		r.Close()
		passed <- signal
	}()
	return passed
}

// tlsServerAnswers says whether a TLS server answers a handshake at address within timeout: the
// frontend's gRPC server does once it serves (a bound port that is not served yet takes the connection
// and says nothing). The frontend asks every client for its certificate; this probe has none, and the
// server's refusal (at the handshake in TLS 1.2, after it in 1.3) shows as well that it serves.
func tlsServerAnswers(address string, timeout time.Duration) bool {
	dialer := &net.Dialer{Timeout: timeout}
	// Nothing is sent over it and nothing it says is trusted: only whether it answers.
	conn, err := tls.DialWithDialer(dialer, "tcp", address, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec
	if err == nil {
		conn.Close()
		return true
	}
	var refused *net.OpError
	return errors.As(err, &refused) && refused.Op == "remote error"
}
