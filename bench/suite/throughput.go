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

	cpu0 := readCPU()
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
	genBusy, genBusyOK := busySince(cpu0)
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

	cpu1 := readCPU()
	bareStart := time.Now()
	if err := su.bareAll(ctx, n); err != nil {
		return err
	}
	bareElapsed := time.Since(bareStart)
	bareBusy, bareBusyOK := busySince(cpu1)
	bareRate := float64(n) / bareElapsed.Seconds()

	cpuP50 := stats.Percentile(runnerCPU, 50)
	cores := runtime.NumCPU()
	rep := su.rep
	rep.Bench("throughput.generations", genRate, "per_s")
	rep.Bench("throughput.bare_workflows", bareRate, "per_s")
	rep.Bench("throughput.generations_vs_bare", genRate/bareRate, "x")
	rep.Bench("throughput.lane_concurrency", float64(conc), "count")
	rep.Bench("throughput.runner_cpu_per_job.p50", cpuP50, "ms")
	if genBusyOK {
		rep.Bench("throughput.generations_cpu_busy", genBusy, "%")
	}
	if bareBusyOK {
		rep.Bench("throughput.bare_cpu_busy", bareBusy, "%")
	}

	rep.Logf("   %d %s %dx%d %d-step generations submitted at once through POST /generate (all accepted after %s),",
		n, su.opts.Model, su.width, su.height, su.minSteps, ms(accepted.Sub(start)))
	rep.Logf("   GPU worker lane concurrency %d (%d warm runner processes: %d loads before, %d after): all done after %s → %.2f generations/s",
		conc, conc, warmLoads, loads, ms(genElapsed), genRate)
	rep.Logf("   %d bare workflows started at once: all done after %s → %.2f workflows/s; generations/bare %.2fx (target ≥ 0.5)",
		n, ms(bareElapsed), bareRate, genRate/bareRate)
	rep.Logf("   machine CPU busy (all %d cores): %s during the generations, %s during the bare workflows", cores, pct(genBusy, genBusyOK), pct(bareBusy, bareBusyOK))
	if cpuP50 > 0 {
		rep.Logf("   runner CPU per generation p50 %.1f ms (own time p50 %.1f ms at %d at once): the runners alone cap this machine at %.1f generations/s",
			cpuP50, stats.Percentile(runnerOwn, 50), conc, float64(cores)*1000/cpuP50)
	}
	return nil
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
