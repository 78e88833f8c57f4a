package stack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/gooni/gooni/internal/config"
)

// DialOptions say how a process connects to Temporal.
type DialOptions struct {
	// Address is the frontend host:port (TEMPORAL_ADDRESS). Required.
	Address string
	// Namespace (TEMPORAL_NAMESPACE).
	Namespace string
	// Conn holds TLS and API-key settings (Temporal Cloud, mTLS). Zero: plaintext.
	Conn config.TemporalConn
	// Metrics receives the SDK's own metrics (metrics.Metrics.TemporalHandler). Nil: none.
	Metrics client.MetricsHandler
	// Logger receives the SDK's logs.
	Logger *slog.Logger
	// Wait is how long to keep retrying while the frontend does not answer yet.
	Wait time.Duration
}

// Dial connects to Temporal as opts say, retrying for up to opts.Wait so that processes started
// together with Temporal do not race it.
func Dial(ctx context.Context, opts DialOptions) (client.Client, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	co := client.Options{
		HostPort:       opts.Address,
		Namespace:      opts.Namespace,
		Logger:         sdklog.NewStructuredLogger(opts.Logger.With("component", "temporal-sdk")),
		MetricsHandler: opts.Metrics,
	}
	if opts.Conn.TLS {
		tc, err := TemporalTLS(opts.Address, opts.Conn)
		if err != nil {
			return nil, err
		}
		co.ConnectionOptions.TLS = tc
	}
	if opts.Conn.APIKey != "" {
		co.Credentials = client.NewAPIKeyStaticCredentials(opts.Conn.APIKey)
	}
	deadline := time.Now().Add(opts.Wait)
	for {
		c, err := client.DialContext(ctx, co)
		if err == nil {
			return c, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("dial temporal %s: %w", opts.Address, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// TemporalTLS builds the TLS configuration for dialling address: the client certificate for
// mTLS when set, the CA file (else the system roots), and the server name (else address's host).
func TemporalTLS(address string, conn config.TemporalConn) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: conn.TLSServerName}
	if tc.ServerName == "" {
		if host, _, err := net.SplitHostPort(address); err == nil {
			tc.ServerName = host
		}
	}
	if conn.TLSCert != "" || conn.TLSKey != "" {
		cert, err := tls.LoadX509KeyPair(conn.TLSCert, conn.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY: load client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	if conn.TLSCA != "" {
		pem, err := os.ReadFile(conn.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("TEMPORAL_TLS_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("TEMPORAL_TLS_CA: no PEM certificate in the file")
		}
		tc.RootCAs = pool
	}
	return tc, nil
}
