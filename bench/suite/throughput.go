package suite

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/gooni/gooni/bench/benchstack"
	"github.com/gooni/gooni/bench/stats"
)

// throughputPoll is how often the throughput benchmark looks for finished tasks.
const throughputPoll = 10 * time.Millisecond

// Throughput submits Concurrent generations through the API at once and measures generations per
// second until all are done, on a GPU worker running LaneConcurrency of them at a time (one warm
// runner process each) — first the catalogue's smallest request, then the tiny one. Bursts of as
// many bare workflows run before and after, as the baseline.
func (su *Suite) Throughput(ctx context.Context) error {
	n, conc := su.opts.Concurrent, su.opts.LaneConcurrency
	g, err := su.stack.StartGPUWorker(benchstack.GPUOptions{Model: su.opts.Model, Concurrency: conc})
	if err != nil {
		return err
	}
	defer g.Stop()

	// Warm every runner slot: runners start and load on first use.
	t := su.tiny
	for round := 0; round < 3 && g.Loads(su.opts.Model) < conc; round++ {
		ids, err := su.submitAll(ctx, t.api, conc, func(int) any { return su.request(t, t.steps, "warm-up") })
		if err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
		if _, err := su.waitAll(ctx, t.api, ids, throughputPoll); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	warmLoads := g.Loads(su.opts.Model)

	// The baseline runs before and after the generations, so a burst of load from elsewhere on
	// the machine (it may be shared) is less likely to favour one side.
	bare1, err := su.bareBurst(ctx, n)
	if err != nil {
		return err
	}
	var gens []genBurst
	for _, t := range []target{su.smallest, su.tiny} {
		b, err := su.genBurst(ctx, g, t, n)
		if err != nil {
			return err
		}
		gens = append(gens, b)
	}
	loads := g.Loads(su.opts.Model)
	bare2, err := su.bareBurst(ctx, n)
	if err != nil {
		return err
	}
	g.Stop()

	bareRate := float64(2*n) / (bare1.elapsed + bare2.elapsed).Seconds()
	perBare := stats.Ms(bare1.tree.Gooni+bare2.tree.Gooni) / float64(2*n)
	rep := su.rep
	rep.Bench("throughput.lane_concurrency", float64(conc), "count")
	rep.Bench("throughput.bare_workflows", bareRate, "per_s")
	if bare1.tree.ok && bare2.tree.ok {
		rep.Bench("throughput.cpu_per_bare_workflow", perBare, "ms")
	}
	rep.Logf("   %d at once through POST /generate; GPU worker lane concurrency %d (%d runner processes; loads %d after warm-up, %d at the end)",
		n, conc, conc, warmLoads, loads)
	rep.Logf("   %d bare workflows at once, before and after: all done after %s and %s → %.2f workflows/s, CPU %.1f ms each",
		n, ms(bare1.elapsed), ms(bare2.elapsed), bareRate, perBare)
	for _, b := range gens {
		su.reportGenBurst(b, bareRate, perBare)
	}
	return nil
}

// genBurst is one burst of generations.
type genBurst struct {
	t                target
	n                int
	accepted, done   time.Duration
	tree             treeCPU
	machine          float64
	machineOK        bool
	runnerCPU, ownMs []float64
	// retried counts the generations whose GPU activity needed more than one attempt.
	retried int
}

// genBurst submits n generations of t at once and waits until all are done.
func (su *Suite) genBurst(ctx context.Context, g *benchstack.GPU, t target, n int) (genBurst, error) {
	b := genBurst{t: t, n: n}
	machine0, tree0 := readCPU(), readTreeCPU()
	start := time.Now()
	ids, err := su.submitAll(ctx, t.api, n, func(i int) any { return su.request(t, t.steps, fmt.Sprintf("throughput %d", i)) })
	if err != nil {
		return b, err
	}
	b.accepted = time.Since(start)
	end, err := su.waitAll(ctx, t.api, ids, throughputPoll)
	if err != nil {
		return b, err
	}
	b.done = end.Sub(start)
	b.tree = readTreeCPU().Sub(tree0)
	b.machine, b.machineOK = busySince(machine0)
	jobs, err := g.Jobs()
	if err != nil {
		return b, err
	}
	for _, id := range ids {
		if j, ok := jobs[id]; ok && !j.Finished.IsZero() {
			b.runnerCPU = append(b.runnerCPU, stats.Ms(j.CPU))
			b.ownMs = append(b.ownMs, stats.Ms(j.Own()))
		}
		task, err := su.stack.Store.GetTask(ctx, id)
		if err != nil {
			return b, err
		}
		if task.Attempt > 1 {
			b.retried++
		}
	}
	return b, nil
}

// reportGenBurst prints the lines of one burst of generations.
func (su *Suite) reportGenBurst(b genBurst, bareRate, perBare float64) {
	rate := float64(b.n) / b.done.Seconds()
	cores := runtime.NumCPU()
	per := func(d time.Duration) float64 { return stats.Ms(d) / float64(b.n) }
	rep := su.rep
	rep.Bench(b.t.bench("throughput", "generations"), rate, "per_s")
	rep.Bench(b.t.bench("throughput", "generations_vs_bare"), rate/bareRate, "x")
	if b.tree.ok {
		rep.Bench(b.t.bench("throughput", "cpu_per_generation.total"), per(b.tree.Total()), "ms")
		rep.Bench(b.t.bench("throughput", "cpu_per_generation.runner"), per(b.tree.Runners), "ms")
		rep.Bench(b.t.bench("throughput", "cpu_per_generation.gooni_temporal"), per(b.tree.Gooni), "ms")
		rep.Bench(b.t.bench("throughput", "cpu_per_generation.postgres"), per(b.tree.Postgres), "ms")
	}
	if b.machineOK {
		rep.Bench(b.t.bench("throughput", "machine_cpu_busy"), b.machine, "%")
	}
	rep.Bench(b.t.bench("throughput", "retried_generations"), float64(b.retried), "count")
	rep.Logf("   %s: all accepted after %s, all done after %s → %.2f generations/s; generations/bare %.2fx (target ≥ 0.5)",
		b.t.describe(su.opts.Model), ms(b.accepted), ms(b.done), rate, rate/bareRate)
	if b.tree.ok {
		total := per(b.tree.Total())
		rep.Logf("     CPU per generation %.1f ms = runner %.1f + this process (Temporal server, API, workers, client) %.1f + PostgreSQL %.1f (bare workflow: %.1f)",
			total, per(b.tree.Runners), per(b.tree.Gooni), per(b.tree.Postgres), perBare)
		rep.Logf("     this stack used %.0f%% of the %d cores, the machine was %s busy; at this CPU cost %d idle cores would allow %.1f generations/s",
			100*b.tree.Total().Seconds()/(b.done.Seconds()*float64(cores)), cores, pct(b.machine, b.machineOK), cores, float64(cores)*1000/total)
	}
	if b.retried > 0 {
		rep.Logf("     %d of %d generations needed a second GPU attempt (see the stack log for why)", b.retried, b.n)
	}
	if len(b.runnerCPU) > 0 {
		rep.Logf("     runner trace: CPU per generation p50 %.1f ms; own time p50 %.1f ms with %d at once",
			stats.Percentile(b.runnerCPU, 50), stats.Percentile(b.ownMs, 50), su.opts.LaneConcurrency)
	}
}

// burst is one burst of bare workflows.
type burst struct {
	elapsed time.Duration
	tree    treeCPU
}

// bareBurst starts n bare workflows at once and waits for all their results. The burst ends at
// the last close the server recorded, so a result long poll that misses a close (and waits out
// its 20 s expiry) does not count against the baseline.
func (su *Suite) bareBurst(ctx context.Context, n int) (burst, error) {
	tree0 := readTreeCPU()
	start := time.Now()
	runs := make([]client.WorkflowRun, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			run, err := su.bare.start(ctx, false)
			if err == nil {
				var out string
				err = run.Get(ctx, &out)
			}
			runs[i], errs[i] = run, err
		})
	}
	wg.Wait()
	tree := readTreeCPU().Sub(tree0)
	var last time.Time
	for i, err := range errs {
		if err != nil {
			return burst{}, fmt.Errorf("bare workflow: %w", err)
		}
		ct, err := su.bare.closeTime(ctx, runs[i])
		if err != nil {
			return burst{}, err
		}
		if ct.After(last) {
			last = ct
		}
	}
	return burst{elapsed: last.Sub(start), tree: tree}, nil
}
