package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// API is the HTTP API's request, session, media-URL and limit settings.
type API struct {
	// BodyLimit (GOONI_BODY_LIMIT), default 64MiB: the largest request body, in bytes, or with
	// a KiB, MiB or GiB suffix.
	BodyLimit int
	// RequestTimeout (GOONI_REQUEST_TIMEOUT), default 30s: how long a request may take.
	RequestTimeout time.Duration
	// CookieSecure (GOONI_COOKIE_SECURE), default true: the session cookie is sent over HTTPS
	// only. false is for plain-HTTP development.
	CookieSecure bool
	// CookieSameSite (GOONI_COOKIE_SAMESITE), default Lax: Lax, Strict or None (None needs
	// CookieSecure).
	CookieSameSite string
	// URLSigningKey (GOONI_URL_SIGNING_KEY), default derived from API_KEY: the key that signs
	// media URLs; at least 32 characters. Set it to rotate signatures without changing API_KEY.
	URLSigningKey string
	// SignedURLTTL (GOONI_SIGNED_URL_TTL), default 4h: how long a signed media URL works.
	SignedURLTTL time.Duration
	// GeneratePerMinute (GOONI_RATE_GENERATE_PER_MIN), default 10: POST /generate per client.
	GeneratePerMinute int
	// MaxActiveTasks (GOONI_MAX_ACTIVE_TASKS), default 2: a client's pending and processing tasks.
	MaxActiveTasks int
	// TemporalUIURL (GOONI_TEMPORAL_UI_URL), default http://127.0.0.1:8233: the Temporal Web UI
	// that admin answers link to (maintenance runs, stuck tasks).
	TemporalUIURL string
}

// API defaults.
const (
	DefaultBodyLimit         = 64 << 20
	DefaultRequestTimeout    = 30 * time.Second
	DefaultCookieSameSite    = "Lax"
	DefaultSignedURLTTL      = 4 * time.Hour
	DefaultGeneratePerMinute = 10
	DefaultMaxActiveTasks    = 2
)

// readAPI reads the API settings, appending every problem to errs.
func readAPI(getenv func(string) string, errs *[]error) API {
	a := API{
		CookieSecure:   true,
		CookieSameSite: DefaultCookieSameSite,
		URLSigningKey:  getenv("GOONI_URL_SIGNING_KEY"),
		TemporalUIURL:  strings.TrimRight(getenv("GOONI_TEMPORAL_UI_URL"), "/"),
	}
	a.BodyLimit = byteSize(getenv, "GOONI_BODY_LIMIT", DefaultBodyLimit, errs)
	a.RequestTimeout = duration(getenv, "GOONI_REQUEST_TIMEOUT", DefaultRequestTimeout, errs)
	a.SignedURLTTL = duration(getenv, "GOONI_SIGNED_URL_TTL", DefaultSignedURLTTL, errs)
	a.GeneratePerMinute = positive(getenv, "GOONI_RATE_GENERATE_PER_MIN", DefaultGeneratePerMinute, errs)
	a.MaxActiveTasks = positive(getenv, "GOONI_MAX_ACTIVE_TASKS", DefaultMaxActiveTasks, errs)
	if v := getenv("GOONI_COOKIE_SECURE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("GOONI_COOKIE_SECURE=%q: use true or false", v))
		} else {
			a.CookieSecure = b
		}
	}
	if v := getenv("GOONI_COOKIE_SAMESITE"); v != "" {
		switch strings.ToLower(v) {
		case "lax":
			a.CookieSameSite = "Lax"
		case "strict":
			a.CookieSameSite = "Strict"
		case "none":
			a.CookieSameSite = "None"
		default:
			*errs = append(*errs, fmt.Errorf("GOONI_COOKIE_SAMESITE=%q: use Lax, Strict or None", v))
		}
	}
	if a.CookieSameSite == "None" && !a.CookieSecure {
		*errs = append(*errs, errors.New("GOONI_COOKIE_SAMESITE=None needs GOONI_COOKIE_SECURE=true (browsers drop such cookies otherwise)"))
	}
	if a.URLSigningKey != "" && len(a.URLSigningKey) < 32 {
		*errs = append(*errs, errors.New("GOONI_URL_SIGNING_KEY is shorter than 32 characters: use a long random key (openssl rand -hex 32)"))
	}
	return a
}

// positive reads a positive integer.
func positive(getenv func(string) string, name string, def int, errs *[]error) int {
	v := getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		*errs = append(*errs, fmt.Errorf("%s=%q is not a positive whole number", name, v))
		return def
	}
	return n
}

// byteSize reads a positive size in bytes, optionally with a KiB, MiB or GiB suffix.
func byteSize(getenv func(string) string, name string, def int, errs *[]error) int {
	v := getenv(name)
	if v == "" {
		return def
	}
	num, mult := v, 1
	for suffix, m := range map[string]int{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(v, suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(v, suffix)), m
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > (1<<31-1)/mult {
		*errs = append(*errs, fmt.Errorf("%s=%q is not a size (bytes, or with KiB, MiB or GiB, for example 64MiB)", name, v))
		return def
	}
	return n * mult
}
