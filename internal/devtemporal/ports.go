package devtemporal

import (
	"fmt"
	"net"
	"strconv"
)

// FreePorts returns n distinct TCP ports on host that were free a moment ago. The caller binds
// them later, so they are not reserved; to make a collision with another bind(":0") unlikely, each
// port is left in TIME_WAIT (a connection to it is closed from the listening side first): Linux
// does not hand out a port in TIME_WAIT as an ephemeral port, while an explicit bind with
// SO_REUSEADDR (Go's default for listeners) still succeeds.
func FreePorts(host string, n int) ([]int, error) {
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		// All n listeners stay open until the end, so the kernel cannot return a port twice.
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("pick a free port on %s: %w", host, err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range listeners {
		if err := parkInTimeWait(l); err != nil {
			return nil, err
		}
	}
	return ports, nil
}

// parkInTimeWait connects to l and closes the accepted side first, which leaves the port in
// TIME_WAIT on the listening side.
func parkInTimeWait(l net.Listener) error {
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return fmt.Errorf("reserve port %s: %w", l.Addr(), err)
	}
	defer func() { _ = client.Close() }()
	server, err := l.Accept()
	if err != nil {
		return fmt.Errorf("reserve port %s: %w", l.Addr(), err)
	}
	return server.Close()
}

// checkPortFree returns an error when host:port cannot be bound now. The server and the UI call
// log.Fatal (or worse, panic) when their port is taken, so the ports are checked up front.
func checkPortFree(host string, port int, what string) error {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("%s port %d on %s is not free (another gooni dev or Temporal server running?): %w", what, port, host, err)
	}
	return l.Close()
}
