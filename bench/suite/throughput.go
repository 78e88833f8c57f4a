package suite

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/gooni/gooni/bench/benchstack"
	"github.com/gooni/gooni/bench/stats"
)

// throughputPoll is how often the throughput benchmark looks for finished tasks.
const throughputPoll = 10 * time.Millisecond

// Throughput submits Concurrent zero-work generations through the API at once and measures
// generations per second until all are done, on a GPU worker running LaneConcurrency of them at
// a time (one warm runner process each); then the same number of bare workflows at once.
func (su *Suite) Throughput(ctx context.Context) error {
	n, conc := su.opts.Concurrent, su.opts.LaneConcurrency
	g, err := su.stack.StartGPUWorker(benchstack.GPUOptions{Model: su.opts.Model, Concurrency: conc})
	if err != nil {
		return err
	}
	defer g.Stop()
	body := func(i int) any { return su.request(su.minSteps, fmt.Sprintf("throughput %d", i)) }

	// Warm every runner slot: runners start and load on first use.
	for round := 0; round < 3 && g.Loads(su.opts.Model) < conc; round++ {
		ids, err := su.submitAll(ctx, conc, body)
		if err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
		if _, err := su.waitAll(ctx, ids, throughputPoll); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	warmLoads := g.Loads(su.opts.Model)

	// The baseline runs before and after the generations, so a burst of load from elsewhere on
	// the machine (it is shared) is less likely to favour one side.
	bare1, err := su.bareBurst(ctx, n)
	if err != nil {
		return err
	}

	machine0, tree0 := readCPU(), readTreeCPU()
	start := time.Now()
	ids, err := su.submitAll(ctx, n, body)
	if err != nil {
		return err
	}
	accepted := time.Now()
	end, err := su.waitAll(ctx, ids, throughputPoll)
	if err != nil {
		return err
	}
	genTree := readTreeCPU().Sub(tree0)
	genBusy, genBusyOK := busySince(machine0)
	genElapsed := end.Sub(start)
	genRate := float64(n) / genElapsed.Seconds()

	jobs, err := g.Jobs()
	if err != nil {
		return err
	}
	var runnerCPU, runnerOwn []float64
	for _, id := range ids {
		if j, ok := jobs[id]; ok && !j.Finished.IsZero() {
			runnerCPU = append(runnerCPU, stats.Ms(j.CPU))
			runnerOwn = append(runnerOwn, stats.Ms(j.Own()))
		}
	}
	loads := g.Loads(su.opts.Model)
	g.Stop()

	bare2, err := su.bareBurst(ctx, n)
	if err != nil {
		return err
	}
	bareRate := float64(2*n) / (bare1.elapsed + bare2.elapsed).Seconds()
	bareTree := bare1.tree
	bareTree.Gooni += bare2.tree.Gooni
	perBare := stats.Ms(bareTree.Gooni) / float64(2*n)

	cores := runtime.NumCPU()
	perGen := func(d time.Duration) float64 { return stats.Ms(d) / float64(n) }
	rep := su.rep
	rep.Bench("throughput.generations", genRate, "per_s")
	rep.Bench("throughput.bare_workflows", bareRate, "per_s")
	rep.Bench("throughput.generations_vs_bare", genRate/bareRate, "x")
	rep.Bench("throughput.lane_concurrency", float64(conc), "count")
	if genTree.ok && bareTree.ok {
		rep.Bench("throughput.cpu_per_generation.total", perGen(genTree.Total()), "ms")
		rep.Bench("throughput.cpu_per_generation.runner", perGen(genTree.Runners), "ms")
		rep.Bench("throughput.cpu_per_generation.gooni_temporal", perGen(genTree.Gooni), "ms")
		rep.Bench("throughput.cpu_per_generation.postgres", perGen(genTree.Postgres), "ms")
		rep.Bench("throughput.cpu_per_bare_workflow", perBare, "ms")
	}
	if genBusyOK {
		rep.Bench("throughput.machine_cpu_busy", genBusy, "%")
	}

	rep.Logf("   %d %s %dx%d %d-step generations submitted at once through POST /generate (all accepted after %s),",
		n, su.opts.Model, su.width, su.height, su.minSteps, ms(accepted.Sub(start)))
	rep.Logf("   GPU worker lane concurrency %d (%d warm runner processes: %d loads before, %d after): all done after %s → %.2f generations/s",
		conc, conc, warmLoads, loads, ms(genElapsed), genRate)
	rep.Logf("   %d bare workflows at once, before and after: %s and %s → %.2f workflows/s; generations/bare %.2fx (target ≥ 0.5)",
		n, ms(bare1.elapsed), ms(bare2.elapsed), bareRate, genRate/bareRate)
	if genTree.ok {
		rep.Logf("   CPU per generation %.1f ms = runner %.1f + this process (Temporal server, API, workers) %.1f + PostgreSQL %.1f; per bare workflow %.1f ms",
			perGen(genTree.Total()), perGen(genTree.Runners), perGen(genTree.Gooni), perGen(genTree.Postgres), perBare)
		rep.Logf("   during the generations this stack used %.0f%% of the machine's %d cores; the machine was %s busy (the rest: other processes)",
			100*genTree.Total().Seconds()/(genElapsed.Seconds()*float64(cores)), cores, pct(genBusy, genBusyOK))
		rep.Logf("   at that CPU cost, %d cores cap generations at %.1f/s if nothing else ran (runner alone: %.1f/s)",
			cores, float64(cores)*1000/perGen(genTree.Total()), float64(cores)*1000/perGen(genTree.Runners))
	}
	if len(runnerCPU) > 0 {
		rep.Logf("   runner trace: CPU per generation p50 %.1f ms, own time p50 %.1f ms with %d at once",
			stats.Percentile(runnerCPU, 50), stats.Percentile(runnerOwn, 50), conc)
	}
	return nil
}

// burst is one burst of bare workflows.
type burst struct {
	elapsed time.Duration
	tree    treeCPU
}

// bareBurst starts n bare workflows at once and waits for all their results.
func (su *Suite) bareBurst(ctx context.Context, n int) (burst, error) {
	tree0 := readTreeCPU()
	start := time.Now()
	err := su.bareAll(ctx, n)
	return burst{elapsed: time.Since(start), tree: readTreeCPU().Sub(tree0)}, err
}

// bareAll starts n bare workflows at once and waits for all their results.
func (su *Suite) bareAll(ctx context.Context, n int) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			run, err := su.bare.start(ctx)
			if err == nil {
				var out string
				err = run.Get(ctx, &out)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("bare workflow: %w", err)
		}
	}
	return nil
}
