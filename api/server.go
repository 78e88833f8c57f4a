// Package api is Gooni's public HTTP API (Fiber): it validates generations against the
// catalogue, records tasks, starts their workflows and serves status, results and previews.
package api

import (
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"go.temporal.io/sdk/client"

	"github.com/gooni/gooni/internal/artifact"
	"github.com/gooni/gooni/internal/secret"
	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/settings"
	"github.com/gooni/gooni/workflows"
)

// Config configures the API.
type Config struct {
	// APIKey is the key clients send in X-API-Key (or the api_key query parameter). Required.
	APIKey string
	// CORSOrigins are the browser origins allowed to call the API. Empty: no cross-origin access.
	CORSOrigins []string
	// BodyLimit is the largest request body accepted, in bytes. Default 64 MiB (room for
	// several 12 MiB reference images, base64-encoded).
	BodyLimit int
	// RequestTimeout bounds each request's work. Default 30s.
	RequestTimeout time.Duration
	// Namespace is the Temporal namespace generations run in. Default "default".
	Namespace string
	// ControlQueue is the task queue generation workflows start on. Default
	// workflows.ControlTaskQueue.
	ControlQueue string
	// Logger receives access and error logs. Default slog.Default().
	Logger *slog.Logger
	// Seed returns a random seed for requests with seed −1. Default: crypto/rand in 0..2^31−1.
	Seed func() int64
	// IdempotencyTTL is how long an Idempotency-Key of POST /generate is remembered; an older
	// key is treated as new. Default 24h.
	IdempotencyTTL time.Duration
	// MaxStreams bounds the concurrent GET /tasks/{id}/events streams of this process; more
	// are refused with 503 too_many_streams. Default 1000.
	MaxStreams int
	// StreamPoll is how often a stream reads its task's record. Default 200ms (the GPU worker
	// writes progress at most every 200ms).
	StreamPoll time.Duration
	// StreamKeepAlive is how often an idle stream sends a comment, so proxies keep it open and
	// a client that left is noticed. Default 15s.
	StreamKeepAlive time.Duration

	// SessionTTL is how long a browser session (POST /auth/session) lasts. Default 24h.
	SessionTTL time.Duration
	// InsecureCookies drops the Secure flag from the session cookie (GOONI_COOKIE_SECURE=false),
	// for plain-HTTP development only. Default false: cookies are Secure.
	InsecureCookies bool
	// CookieSameSite is the session cookie's SameSite: Lax (default), Strict or None (None
	// needs Secure).
	CookieSameSite string
	// URLSigningKey signs media URLs (result_url, preview_url). Default: derived from APIKey
	// with HKDF-SHA256, so every replica and restart agrees without another secret.
	URLSigningKey []byte
	// SignedURLTTL is how long a signed media URL stays valid. Default 4h.
	SignedURLTTL time.Duration
	// GeneratePerMinute limits POST /generate per client (an API key or a session), shared by
	// every replica through PostgreSQL. Default 10.
	GeneratePerMinute int
	// MaxActiveTasks limits a client's pending and processing tasks. Default 2.
	MaxActiveTasks int
	// TemporalUIURL is the Temporal Web UI's base URL that admin answers link runs to.
	// Default http://127.0.0.1:8233.
	TemporalUIURL string
	// MaintenanceIDPrefix prefixes maintenance workflow ids ("" in production), separating
	// deployments or tests that share one Temporal namespace; it must match the prefix the
	// control worker's schedules use (stack.EnsureSchedules).
	MaintenanceIDPrefix string

	// AdminKey (ADMIN_KEY) bootstraps admin sessions (POST /admin/session, X-Admin-Key header
	// only). Unset, shorter than 16 characters or equal to APIKey: every admin route answers
	// 403 admin_misconfigured. No default.
	AdminKey string
	// AdminIdleTimeout is the sliding idle timeout of an admin session. Default 12h.
	AdminIdleTimeout time.Duration
	// AdminAuthPerMinute, AdminReadPerMinute and AdminWritePerMinute limit admin requests per
	// client IP (bootstraps; GET; other methods). Defaults 20, 60, 30. A failed bootstrap
	// counts twice.
	AdminAuthPerMinute, AdminReadPerMinute, AdminWritePerMinute int
	// AccountsEncryptKey (ACCOUNTS_ENCRYPT_KEY) holds the Fernet keys of worker-account
	// secrets, comma-separated, newest first. Unset or unreadable: the account routes answer
	// 503 accounts_misconfigured (the rest of the API works).
	AccountsEncryptKey string
	// GPUSecondCost is the estimated cost of one GPU-second, for account usage. Default 0 (no
	// estimate).
	GPUSecondCost float64
	// AccountCooldown is how long a failed account waits before it may serve again. Default 300s.
	AccountCooldown time.Duration
	// AccountMaxFailures disables an account at its this-many-th failure since it was created
	// or last enabled. Default 6.
	AccountMaxFailures int

	// Studio is the web bundle (index.html and assets/) served at / and /admin. Default: the
	// bundle embedded in the binary (web.Bundle).
	Studio fs.FS

	// HTTPMetrics, when set, is told of every answered request: its route pattern, method,
	// status and duration (metrics.Metrics.ObserveHTTP). Nil records nothing.
	HTTPMetrics func(route, method string, status int, d time.Duration)
}

func (c Config) withDefaults() Config {
	if c.BodyLimit <= 0 {
		c.BodyLimit = 64 << 20
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 30 * time.Second
	}
	if c.Namespace == "" {
		c.Namespace = "default"
	}
	if c.ControlQueue == "" {
		c.ControlQueue = workflows.ControlTaskQueue
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Seed == nil {
		c.Seed = randomSeed
	}
	if c.IdempotencyTTL <= 0 {
		c.IdempotencyTTL = 24 * time.Hour
	}
	if c.MaxStreams <= 0 {
		c.MaxStreams = 1000
	}
	if c.StreamPoll <= 0 {
		c.StreamPoll = 200 * time.Millisecond
	}
	if c.StreamKeepAlive <= 0 {
		c.StreamKeepAlive = 15 * time.Second
	}
	if c.TemporalUIURL == "" {
		c.TemporalUIURL = DefaultTemporalUIURL
	}
	c = c.withAuthDefaults()
	c = c.withAdminDefaults()
	return c
}

func (c Config) validate() error {
	if len(c.APIKey) < 8 {
		return errors.New("api: APIKey must be set and at least 8 characters (set API_KEY)")
	}
	for _, o := range c.CORSOrigins {
		if o == "*" {
			return errors.New("api: CORS_ORIGINS must list origins, not '*'")
		}
	}
	return c.validateAuth()
}

// Deps are the services the API works with.
type Deps struct {
	Store     *store.Store
	Temporal  client.Client
	Catalogue *settings.Catalogue
	Artifacts artifact.Store
}

// Server is the HTTP API.
type Server struct {
	cfg     Config
	deps    Deps
	keys    keyChecker
	signer  urlSigner
	app     *fiber.App
	streams streamGauge
	pollers *lanePollers

	// adminKeys checks X-Admin-Key; accountKeys encrypts worker-account secrets (nil when
	// ACCOUNTS_ENCRYPT_KEY is unset or unreadable: see initAdmin).
	adminKeys   keyChecker
	accountKeys *secret.Keyring

	// studio is the web bundle served at / and /admin (studio.go); studioBuilt is false when
	// it holds no index.html.
	studio      fs.FS
	studioBuilt bool
}

// New builds the API; serve it with Listen or App().Test.
func New(cfg Config, deps Deps) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, deps: deps, keys: newKeyChecker(cfg.APIKey), pollers: &lanePollers{temporal: deps.Temporal}}
	s.studio, s.studioBuilt = studioBundle(cfg.Studio)
	s.signer = newURLSigner(cfg.URLSigningKey, cfg.SignedURLTTL)
	s.initAdmin()
	s.app = fiber.New(fiber.Config{
		AppName:               "gooni",
		BodyLimit:             cfg.BodyLimit,
		ErrorHandler:          errorHandler(cfg.Logger),
		DisableStartupMessage: true,
		ReadTimeout:           cfg.RequestTimeout,
		WriteTimeout:          10 * time.Minute, // large results over slow links
		IdleTimeout:           2 * time.Minute,
	})
	s.app.Use(recover.New())
	s.app.Use(requestid.New())
	s.app.Use(securityHeaders)
	s.app.Use(accessLog(cfg.Logger))
	if cfg.HTTPMetrics != nil {
		s.app.Use(observeHTTP(cfg.HTTPMetrics))
	}
	if len(cfg.CORSOrigins) > 0 {
		s.app.Use(cors.New(cors.Config{
			AllowOrigins:  strings.Join(cfg.CORSOrigins, ","),
			AllowHeaders:  "Content-Type, X-API-Key, Idempotency-Key",
			AllowMethods:  "GET, POST, DELETE, OPTIONS",
			ExposeHeaders: "Content-Range, Accept-Ranges, Content-Length, Idempotent-Replayed, ETag, Retry-After",

			// The studio's session cookie travels on credentialed requests.
			AllowCredentials: true,
		}))
	}
	s.app.Use(s.withDeadline)
	s.routes()
	return s, nil
}

// App returns the Fiber app (tests use App().Test).
func (s *Server) App() *fiber.App { return s.app }

// Listen serves on addr until Shutdown.
func (s *Server) Listen(addr string) error { return s.app.Listen(addr) }

// Serve serves on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.app.Listener(ln) }

// Shutdown stops accepting requests and waits for those in flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.app.ShutdownWithContext(ctx) }

// withDeadline gives each request a context bounded by the request timeout.
func (s *Server) withDeadline(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RequestTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

// randomSeed draws a seed in 0..2147483647 from crypto/rand.
func randomSeed() int64 {
	n, err := rand.Int(rand.Reader, big.NewInt(1<<31))
	if err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return n.Int64()
}
