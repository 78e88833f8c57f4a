// Command gallery measures the read paths of the API at scale, in one process on loopback:
//
//   - GET /gallery over 100k done tasks (loaded with COPY), every sort order and filter on
//     first and deeper pages, sequentially → `BENCH gallery_page_p99`; the planner's choice for
//     each shape is printed on stderr;
//   - GET /status/{id} from 64 concurrent connections for 5 s, next to a trivial Fiber route on
//     its own app in the same process, with the same client → `BENCH status_rps`,
//     `status_p99_ms`, `trivial_rps` and their ratio.
//
// It starts a throwaway PostgreSQL cluster (durability off) and the real API (no Temporal: these
// routes do not use it). Run from the repository root: `go run ./bench/gallery` (make bench).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/gooni/gooni/api"
	"github.com/gooni/gooni/bench/stats"
	"github.com/gooni/gooni/internal/artifact"
	"github.com/gooni/gooni/internal/pgcluster"
	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/settings"
)

const apiKey = "bench-gallery-key-0123456789"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gallery bench:", err)
		os.Exit(1)
	}
}

func run() error {
	rows := flag.Int("rows", 100_000, "done tasks to load")
	rounds := flag.Int("rounds", 5, "gallery: passes over every sort × filter × page shape")
	conns := flag.Int("conns", 64, "status: concurrent connections")
	dur := flag.Duration("duration", 5*time.Second, "status and trivial: how long each runs")
	flag.Parse()
	rep := stats.Reporter{Out: os.Stdout, Log: os.Stderr}
	rep.Logf("gallery bench: %d CPUs, %s", runtime.NumCPU(), runtime.Version())

	ctx := context.Background()
	dir, err := os.MkdirTemp("", "gooni-bench-gallery-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dbURL, stopPG, err := startPostgres(ctx, dir)
	if err != nil {
		return err
	}
	defer stopPG()
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	cat, err := settings.Load("settings/inference_settings.json")
	if err != nil {
		return fmt.Errorf("%w (run from the repository root)", err)
	}
	arts, err := artifact.NewLocal(filepath.Join(dir, "artifacts"))
	if err != nil {
		return err
	}

	began := time.Now()
	if err := loadDoneTasks(ctx, st, cat, *rows); err != nil {
		return err
	}
	rep.Logf("loaded %d done tasks (+%d failed) with COPY and vacuum analyze in %s", *rows, *rows/10, time.Since(began).Round(time.Millisecond))

	// The access log formats a line per request, as in production, into io.Discard.
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv, err := api.New(api.Config{APIKey: apiKey, Logger: logger}, api.Deps{Store: st, Catalogue: cat, Artifacts: arts})
	if err != nil {
		return err
	}
	base, stopAPI, err := serve(srv.Serve)
	if err != nil {
		return err
	}
	defer stopAPI()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns}, Timeout: 30 * time.Second}

	rep.Logf("\n== gallery (%d done tasks)", *rows)
	if err := explainShapes(ctx, st, rep); err != nil {
		return err
	}
	if err := benchGallery(client, base, rep, *rounds); err != nil {
		return err
	}

	rep.Logf("\n== status vs a trivial route (%d connections, %s each)", *conns, *dur)
	taskID := uuid.NewString()
	if err := st.CreateTask(ctx, &store.Task{ID: taskID, WorkflowID: "generation-" + taskID, Status: store.StatusDone,
		Lane: "gpu-pony", Model: "pony", Type: "image", Mode: "txt2img", Prompt: "status bench", Width: 512, Height: 512,
		Parameters: map[string]any{"steps": 20}, ResultKey: "results/" + taskID + "/result.png", PreviewKey: "previews/" + taskID + "/preview.jpg"}); err != nil {
		return err
	}
	trivial := fiber.New(fiber.Config{DisableStartupMessage: true})
	trivial.Get("/ping", func(c *fiber.Ctx) error { return c.SendString("pong") })
	trivialBase, stopTrivial, err := serve(trivial.Listener)
	if err != nil {
		return err
	}
	defer stopTrivial()

	status, err := load(client, base+"/status/"+taskID, *conns, *dur)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	ping, err := load(client, trivialBase+"/ping", *conns, *dur)
	if err != nil {
		return fmt.Errorf("trivial: %w", err)
	}
	rep.Logf("status:  %.0f req/s, p50 %.2f ms, p99 %.2f ms (%d requests)", status.rps, status.p50, status.p99, status.n)
	rep.Logf("trivial: %.0f req/s, p50 %.2f ms, p99 %.2f ms (%d requests)", ping.rps, ping.p50, ping.p99, ping.n)
	rep.Bench("status_rps", status.rps, "req/s")
	rep.Bench("status_p99_ms", status.p99, "ms")
	rep.Bench("trivial_rps", ping.rps, "req/s")
	rep.Bench("status_vs_trivial_rps", status.rps/ping.rps, "ratio")
	return nil
}

// loadDoneTasks writes n done tasks spread over the catalogue's models, sizes and the last 30
// days, plus n/10 failed ones the gallery must skip, with COPY; then vacuums and analyses.
func loadDoneTasks(ctx context.Context, st *store.Store, cat *settings.Catalogue, n int) error {
	models := cat.Models()
	sizes := []int{512, 576, 640, 704, 768, 832, 896, 960, 1024}
	now := time.Now()
	expires := now.Add(30 * 24 * time.Hour)
	rnd := rand.New(rand.NewPCG(1, 2))
	total := n + n/10
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i >= total {
			return nil, nil
		}
		i++
		m := models[rnd.IntN(len(models))]
		id := uuid.NewString()
		status := store.StatusDone
		var resultKey, previewKey any = "results/" + id + "/result.png", "previews/" + id + "/preview.jpg"
		if i > n {
			status, resultKey, previewKey = store.StatusFailed, nil, nil
		}
		created := now.Add(-time.Duration(rnd.Int64N(int64(30 * 24 * time.Hour))))
		return []any{id, "generation-" + id, status, m.Runtime.Lane, m.ID, m.Type, m.DefaultMode,
			fmt.Sprintf("bench prompt %d, a lighthouse at dusk", i), "blurry",
			map[string]any{"steps": 20, "cfg_scale": 7.0, "sampler": "Euler a"},
			sizes[rnd.IntN(len(sizes))], sizes[rnd.IntN(len(sizes))], rnd.Int64N(1 << 31),
			created, created, created, expires, resultKey, previewKey}, nil
	})
	// The throwaway cluster runs with synchronous_commit off. VACUUM marks a page all-visible
	// (which index-only scans need) only once the inserting commit is flushed, so the COPY
	// commits synchronously: the vacuum below then sees a table like production's, where old
	// done tasks are all-visible.
	err := pgx.BeginFunc(ctx, st.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "set local synchronous_commit = on"); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"tasks"},
			[]string{"id", "workflow_id", "status", "lane", "model", "type", "mode", "prompt", "negative_prompt", "parameters",
				"width", "height", "seed", "created_at", "updated_at", "finished_at", "expires_at", "result_key", "preview_key"}, src)
		return err
	})
	if err != nil {
		return fmt.Errorf("copy tasks: %w", err)
	}
	if _, err := st.Pool().Exec(ctx, "vacuum analyze tasks"); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	var visible, pages int
	if err := st.Pool().QueryRow(ctx, "select relallvisible, relpages from pg_class where oid = 'tasks'::regclass").Scan(&visible, &pages); err != nil {
		return err
	}
	if visible < pages*9/10 {
		return fmt.Errorf("after vacuum only %d of %d table pages are all-visible", visible, pages)
	}
	return nil
}

// shape is one gallery request shape.
type shape struct {
	sort, model, typ string
	page             int
}

func (s shape) query() string {
	q := fmt.Sprintf("?per_page=20&page=%d&sort=%s", s.page, s.sort)
	if s.model != "" {
		q += "&model=" + s.model
	}
	if s.typ != "" {
		q += "&type=" + s.typ
	}
	return q
}

func shapes() []shape {
	var out []shape
	for _, sort := range store.GallerySorts() {
		for _, f := range []struct{ model, typ string }{{"", ""}, {"pony", ""}, {"", "video"}, {"flux", "image"}} {
			for _, page := range []int{1, 2, 10, 100} {
				out = append(out, shape{sort, f.model, f.typ, page})
			}
		}
	}
	return out
}

// explainShapes prints, per shape on page 10, the index the planner picks for the page's ids.
func explainShapes(ctx context.Context, st *store.Store, rep stats.Reporter) error {
	for _, s := range shapes() {
		if s.page != 10 {
			continue
		}
		plan, err := st.ExplainGallery(ctx, store.GalleryQuery{Page: s.page, PerPage: 20, Sort: s.sort, Model: s.model, Type: s.typ}, false)
		if err != nil {
			return err
		}
		var scans []string
		for _, line := range strings.Split(plan, "\n") {
			line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "->"))
			if strings.Contains(line, " Scan ") || strings.HasPrefix(line, "Sort") || strings.HasPrefix(line, "Incremental Sort") {
				if i := strings.Index(line, "  (cost"); i > 0 {
					line = line[:i]
				}
				scans = append(scans, line)
			}
		}
		rep.Logf("plan %-40s %s", s.query(), strings.Join(scans, " | "))
	}
	return nil
}

// benchGallery requests every shape rounds times, sequentially, after one warm-up pass.
func benchGallery(client *http.Client, base string, rep stats.Reporter, rounds int) error {
	all := shapes()
	var lat, deep []float64
	for r := 0; r <= rounds; r++ {
		for _, s := range all {
			began := time.Now()
			if err := get(client, base+"/gallery"+s.query(), apiKey); err != nil {
				return fmt.Errorf("gallery %s: %w", s.query(), err)
			}
			if r == 0 {
				continue // warm-up
			}
			ms := stats.Ms(time.Since(began))
			lat = append(lat, ms)
			if s.page == 100 {
				deep = append(deep, ms)
			}
		}
	}
	rep.Logf("gallery: %d requests over %d shapes (sorts × filters × pages 1, 2, 10, 100): p50 %.2f ms, p99 %.2f ms, max %.2f ms; page 100 alone p99 %.2f ms",
		len(lat), len(all), stats.Percentile(lat, 50), stats.Percentile(lat, 99), stats.Max(lat), stats.Percentile(deep, 99))
	rep.Bench("gallery_page_p50", stats.Percentile(lat, 50), "ms")
	rep.Bench("gallery_page_p99", stats.Percentile(lat, 99), "ms")
	return nil
}

// loadResult is one load run.
type loadResult struct {
	n             int
	rps, p50, p99 float64
}

// load sends GETs to url from conns goroutines (one connection each) for d.
func load(client *http.Client, url string, conns int, d time.Duration) (loadResult, error) {
	// Warm the connections up.
	for range conns {
		if err := get(client, url, apiKey); err != nil {
			return loadResult{}, err
		}
	}
	var (
		mu    sync.Mutex
		lat   []float64
		first error
		wg    sync.WaitGroup
	)
	began := time.Now()
	deadline := began.Add(d)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]float64, 0, 4096)
			var err error
			for time.Now().Before(deadline) {
				t := time.Now()
				if err = get(client, url, apiKey); err != nil {
					break
				}
				mine = append(mine, stats.Ms(time.Since(t)))
			}
			mu.Lock()
			lat = append(lat, mine...)
			if err != nil && first == nil {
				first = err
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	if first != nil {
		return loadResult{}, first
	}
	slices.Sort(lat)
	return loadResult{n: len(lat), rps: float64(len(lat)) / elapsed.Seconds(),
		p50: stats.Percentile(lat, 50), p99: stats.Percentile(lat, 99)}, nil
}

// get sends one GET with the key and drains the body; any status but 200 is an error.
func get(client *http.Client, url, key string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", key)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	return nil
}

// serve runs a server on a loopback port and returns its base URL and a stop function.
func serve(listen func(net.Listener) error) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	done := make(chan error, 1)
	go func() { done <- listen(ln) }()
	return "http://" + ln.Addr().String(), func() {
		_ = ln.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	}, nil
}

// startPostgres starts a throwaway cluster (durability off) under dir on a free port.
func startPostgres(ctx context.Context, dir string) (string, func(), error) {
	cfg := pgcluster.Config{Dir: filepath.Join(dir, "postgres"), Database: "gooni", Fast: true, Attached: true,
		Logger: slog.New(slog.DiscardHandler)}
	var (
		c   *pgcluster.Cluster
		err error
	)
	for range 3 { // another process can take the free port before the server binds it
		ln, lerr := net.Listen("tcp", "127.0.0.1:0")
		if lerr != nil {
			return "", nil, lerr
		}
		cfg.Port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if c, err = pgcluster.Start(ctx, cfg); !errors.Is(err, pgcluster.ErrPortInUse) {
			break
		}
	}
	if err != nil {
		return "", nil, fmt.Errorf("start throwaway PostgreSQL: %w", err)
	}
	return c.URL(cfg.Database), func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = c.Stop(ctx)
	}, nil
}
