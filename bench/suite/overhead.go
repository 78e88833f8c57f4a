package suite

import (
	"context"
	"fmt"
	"time"

	"github.com/gooni/gooni/bench/benchstack"
	"github.com/gooni/gooni/bench/stats"
)

// Overhead measures what orchestration adds to a generation that does (almost) no work: the
// model's smallest request on a warm runner with no pacing, submitted through POST /generate and
// polled on GET /status until done, one at a time. Next to each generation it runs one bare
// workflow (start → result), so both see the same machine state.
func (su *Suite) Overhead(ctx context.Context) error {
	g, err := su.stack.StartGPUWorker(benchstack.GPUOptions{Model: su.opts.Model, Concurrency: 1})
	if err != nil {
		return err
	}
	defer g.Stop()
	body := su.request(su.minSteps, "orchestration overhead")

	for range su.opts.Warmups {
		if _, err := su.generate(ctx, body, su.opts.StatusPoll); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
		if _, err := su.bare.once(ctx); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	runs := make([]genRun, 0, su.opts.Runs)
	var bare []float64
	for range su.opts.Runs {
		r, err := su.generate(ctx, body, su.opts.StatusPoll)
		if err != nil {
			return err
		}
		runs = append(runs, r)
		d, err := su.bare.once(ctx)
		if err != nil {
			return err
		}
		bare = append(bare, stats.Ms(d))
	}

	jobs, err := g.Jobs()
	if err != nil {
		return err
	}
	var latency, own, above []float64
	var phAPI, phToActivity, phToRunner, phAfterRunner, phVisible []float64
	for _, r := range runs {
		job, ok := jobs[r.TaskID]
		if !ok || job.Finished.IsZero() {
			return fmt.Errorf("task %s: the runner trace has no finished request", r.TaskID)
		}
		task, err := su.stack.Store.GetTask(ctx, r.TaskID)
		if err != nil {
			return err
		}
		if task.StartedAt == nil || task.FinishedAt == nil {
			return fmt.Errorf("task %s: record has no start or finish time", r.TaskID)
		}
		latency = append(latency, stats.Ms(r.Latency()))
		own = append(own, stats.Ms(job.Own()))
		above = append(above, stats.Ms(r.Latency()-job.Own()))
		phAPI = append(phAPI, stats.Ms(r.Accepted.Sub(r.Submitted)))
		phToActivity = append(phToActivity, stats.Ms(task.StartedAt.Sub(task.CreatedAt)))
		phToRunner = append(phToRunner, stats.Ms(job.Received.Sub(*task.StartedAt)))
		phAfterRunner = append(phAfterRunner, stats.Ms(task.FinishedAt.Sub(job.Finished)))
		phVisible = append(phVisible, stats.Ms(r.Done.Sub(*task.FinishedAt)))
	}

	p50 := func(xs []float64) float64 { return stats.Percentile(xs, 50) }
	p99 := func(xs []float64) float64 { return stats.Percentile(xs, 99) }
	rep := su.rep
	rep.Bench("overhead.generation.p50", p50(latency), "ms")
	rep.Bench("overhead.generation.p99", p99(latency), "ms")
	rep.Bench("overhead.runner_own.p50", p50(own), "ms")
	rep.Bench("overhead.runner_own.p99", p99(own), "ms")
	rep.Bench("overhead.above_runner.p50", p50(above), "ms")
	rep.Bench("overhead.above_runner.p99", p99(above), "ms")
	rep.Bench("overhead.bare_workflow.p50", p50(bare), "ms")
	rep.Bench("overhead.bare_workflow.p99", p99(bare), "ms")
	rep.Bench("overhead.generation_vs_bare.p50", p50(latency)/p50(bare), "x")
	rep.Bench("overhead.above_runner_vs_bare.p50", p50(above)/p50(bare), "x")

	rep.Logf("   %d sequential %s %dx%d %d-step generations (runner: no step or load delay, warm; %d warm-ups), polled every %s,",
		len(runs), su.opts.Model, su.width, su.height, su.minSteps, su.opts.Warmups, su.opts.StatusPoll)
	rep.Logf("   each followed by one bare one-activity workflow on the same Temporal server.")
	rep.Logf("   submit→done p50 %.1f ms, p99 %.1f ms; runner's own time p50 %.1f ms; above the runner p50 %.1f ms (target ≤ 100), p99 %.1f ms",
		p50(latency), p99(latency), p50(own), p50(above), p99(above))
	rep.Logf("   bare workflow start→result p50 %.1f ms, p99 %.1f ms; generation/bare %.2fx, above-runner/bare %.2fx",
		p50(bare), p99(bare), p50(latency)/p50(bare), p50(above)/p50(bare))
	rep.Logf("   where the time goes (medians, ms): POST /generate %.1f | record→GPU activity start %.1f | activity start→runner got request %.1f |",
		p50(phAPI), p50(phToActivity), p50(phToRunner))
	rep.Logf("     runner %.1f | runner result→task recorded done %.1f | recorded done→seen by the client %.1f",
		p50(own), p50(phAfterRunner), p50(phVisible))
	return nil
}

// ms formats a duration in milliseconds for the summary.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", stats.Ms(d)) }
