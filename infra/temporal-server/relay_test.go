package main

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/server/common/config"
)

func TestFrontendAddressIsTheConfiguredPort(t *testing.T) {
	cfg := &config.Config{Services: map[string]config.Service{
		"frontend": {RPC: config.RPC{GRPCPort: 7333, MembershipPort: 7433, BindOnIP: "127.0.0.1"}},
		"history":  {RPC: config.RPC{GRPCPort: 7334, BindOnIP: "127.0.0.1"}},
	}}
	got, err := frontendAddress(cfg)
	if err != nil || got != "127.0.0.1:7333" {
		t.Fatalf("frontendAddress = %q, %v; want 127.0.0.1:7333", got, err)
	}
	if _, err := frontendAddress(&config.Config{Services: map[string]config.Service{"history": cfg.Services["history"]}}); err == nil {
		t.Fatal("a configuration without a frontend gave an address")
	}
}

// A client's bytes reach the target and its answers come back, over one connection, both ways in turn
// (as a gRPC stream's), and the client's half-close reaches the target (a request that ends).
func TestRelayCarriesAConnectionBothWays(t *testing.T) {
	target := listening(t)
	received := make(chan string, 1)
	go func() {
		conn, err := target.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		lines := bufio.NewReader(conn)
		for {
			line, err := lines.ReadString('\n')
			if err != nil { // the client closed its side: report what came
				rest, _ := io.ReadAll(lines)
				received <- line + string(rest)
				return
			}
			_, _ = conn.Write([]byte(strings.ToUpper(line)))
		}
	}()

	public := freeAddress(t)
	relay, err := startRelay(public, target.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	client, err := net.Dial("tcp", public)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	answers := bufio.NewReader(client)
	for _, line := range []string{"first\n", "second\n"} {
		if _, err := client.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
		if got, err := answers.ReadString('\n'); err != nil || got != strings.ToUpper(line) {
			t.Fatalf("answer = %q, %v; want %q", got, err, strings.ToUpper(line))
		}
	}
	if _, err := client.Write([]byte("last, unterminated")); err != nil {
		t.Fatal(err)
	}
	if err := client.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if got := <-received; got != "last, unterminated" {
		t.Fatalf("the target got %q after the client's half-close; want the unterminated last bytes", got)
	}
}

// A listener of another kind (no SO_REUSEPORT): a relay does not share its port, and says so at once, naming it.
func TestRelayRefusesAnAddressInUse(t *testing.T) {
	taken := listening(t).Addr().String()
	starts := map[string]func() error{
		"startRelay": func() error {
			relay, err := startRelay(taken, "127.0.0.1:1")
			if err == nil {
				relay.Close()
			}
			return err
		},
		"newGatedRelay": func() error {
			_, err := newGatedRelay(taken, "127.0.0.1:1")
			return err
		},
	}
	for name, start := range starts {
		if err := start(); err == nil || !strings.Contains(err.Error(), taken) {
			t.Errorf("%s at an address another process listens on: %v; want an error naming it", name, err)
		}
	}
}

// Two frontends' relays share one public address; with one of them gone, the other takes every connection.
func TestRelaysShareTheirAddressAndOneCarriesOnAlone(t *testing.T) {
	targetA, targetB := answering(t, "A"), answering(t, "B")
	public := freeAddress(t)
	relayA, err := startRelay(public, targetA)
	if err != nil {
		t.Fatal(err)
	}
	relayB, err := startRelay(public, targetB)
	if err != nil {
		relayA.Close()
		t.Fatalf("a second relay at the same address: %v", err)
	}
	defer relayB.Close()
	// The kernel picks a listener by the connection's ports: many connections reach both.
	seen := map[string]int{}
	for range 64 {
		seen[askOnce(t, public)]++
	}
	if seen["A"] == 0 || seen["B"] == 0 {
		t.Fatalf("connections went to %v; want both relays", seen)
	}
	relayA.Close()
	for range 16 {
		if got := askOnce(t, public); got != "B" {
			t.Fatalf("with relay A closed, a connection was answered by %q", got)
		}
	}
}

// answering listens on the loopback and answers every connection with name; it returns its address.
func answering(t *testing.T, name string) string {
	t.Helper()
	l := listening(t)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = conn.Write([]byte(name))
			conn.Close()
		}
	}()
	return l.Addr().String()
}

// askOnce connects to address and returns what the other end says before it closes.
func askOnce(t *testing.T, address string) string {
	t.Helper()
	conn, err := net.Dial("tcp", address)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	answer, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	return string(answer)
}

func freeAddress(t *testing.T) string {
	t.Helper()
	l := listening(t)
	defer l.Close()
	return l.Addr().String()
}

// listening listens on a free loopback port until the test ends.
func listening(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// A frontend's relay takes no connection until its frontend serves, and none once its process is told
// to stop: the other frontend's relay at the same address takes them all meanwhile.
func TestGatedRelayListensOnlyWhileItsFrontendServes(t *testing.T) {
	public := freeAddress(t)
	other, err := startRelay(public, answering(t, "other"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	relay, err := newGatedRelay(public, answering(t, "starting"))
	if err != nil {
		t.Fatal(err)
	}
	var serves atomic.Bool
	opened := make(chan error, 1)
	go func() { opened <- relay.openWhen(serves.Load, 5*time.Millisecond) }()
	for range 32 {
		if got := askOnce(t, public); got != "other" {
			t.Fatalf("before its frontend served, a connection was answered by %q", got)
		}
	}
	serves.Store(true)
	if err := <-opened; err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for range 64 {
		seen[askOnce(t, public)]++
	}
	if seen["starting"] == 0 || seen["other"] == 0 {
		t.Fatalf("once its frontend served, connections went to %v; want both relays", seen)
	}
	interrupt := make(chan any, 1)
	passed := relay.closedFirst(interrupt)
	interrupt <- "TERM"
	if got := <-passed; got != "TERM" {
		t.Fatalf("the signal passed on to the server is %v; want TERM", got)
	}
	for range 32 {
		if got := askOnce(t, public); got != "other" {
			t.Fatalf("once the server was told to stop, a connection was answered by %q", got)
		}
	}
}

// A relay closed before its frontend served never listens.
func TestGatedRelayClosedBeforeItsFrontendServesStaysClosed(t *testing.T) {
	public := freeAddress(t)
	relay, err := newGatedRelay(public, answering(t, "starting"))
	if err != nil {
		t.Fatal(err)
	}
	relay.Close()
	if err := relay.openWhen(func() bool { return true }, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if conn, err := net.Dial("tcp", public); err == nil {
		conn.Close()
		t.Fatal("a relay closed before its frontend served took a connection")
	}
}

// The frontend serves once a TLS server answers at its port, even one that refuses the probe's lack of a certificate.
func TestTLSServerAnswersOnlyWhenOneServes(t *testing.T) {
	if tlsServerAnswers(freeAddress(t), 300*time.Millisecond) {
		t.Fatal("nothing listening answered")
	}
	if tlsServerAnswers(listening(t).Addr().String(), 300*time.Millisecond) {
		t.Fatal("a bound port that nothing serves answered")
	}
	if tlsServerAnswers(answering(t, "plain"), 300*time.Millisecond) {
		t.Fatal("a server that does not speak TLS answered")
	}
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		server := httptest.NewUnstartedServer(http.NotFoundHandler())
		server.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: version, MaxVersion: version}
		server.StartTLS()
		if !tlsServerAnswers(server.Listener.Addr().String(), 2*time.Second) {
			t.Errorf("a TLS server (version %x) that asks for a client certificate did not count as answering", version)
		}
		server.Close()
	}
}
