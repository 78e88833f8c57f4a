// Package prodtest runs Gooni's production topology on loopback, every part a separate OS
// process built by the test: a standalone Temporal server on PostgreSQL (cmd/gooni-temporal),
// two `gooni api`, one `gooni worker control` and two `gooni worker gpu`, all on one throwaway
// PostgreSQL cluster. Its tests carry the build tag prodtest and run with `make test-prod`.
package prodtest
