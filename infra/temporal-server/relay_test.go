package main

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"

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
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
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

func TestRelayRefusesAnAddressInUse(t *testing.T) {
	// A listener of another kind (no SO_REUSEPORT): the relay does not share its port.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	if relay, err := startRelay(taken.Addr().String(), "127.0.0.1:1"); err == nil {
		relay.Close()
		t.Fatal("the relay started at an address another process listens on")
	} else if !strings.Contains(err.Error(), taken.Addr().String()) {
		t.Fatalf("the error does not name the address: %v", err)
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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
