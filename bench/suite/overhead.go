package suite

import (
	"context"
	"fmt"
	"time"

	"github.com/gooni/gooni/bench/benchstack"
	"github.com/gooni/gooni/bench/runnertrace"
	"github.com/gooni/gooni/bench/stats"
	"github.com/gooni/gooni/workflows"
)

// Overhead measures what orchestration adds to a generation that does as little work as allowed:
// on a warm runner with no pacing, submitted through POST /generate and polled on GET /status
// until done, one at a time. Each round runs the catalogue's smallest request, one bare workflow
// (start → result) and the tiny request, so all three see the same machine state.
func (su *Suite) Overhead(ctx context.Context) error {
	g, err := su.stack.StartGPUWorker(benchstack.GPUOptions{Model: su.opts.Model, Concurrency: 1})
	if err != nil {
		return err
	}
	defer g.Stop()
	targets := []target{su.smallest, su.tiny}
	bodies := make([]any, len(targets))
	for i, t := range targets {
		bodies[i] = su.request(t, t.steps, "orchestration overhead")
	}

	runs := make([][]genRun, len(targets))
	var bare, cross []float64
	for i := range su.opts.Warmups + su.opts.Runs {
		measured := i >= su.opts.Warmups
		for k, t := range targets {
			r, err := su.generate(ctx, t.api, bodies[k], su.opts.StatusPoll)
			if err != nil {
				return err
			}
			if measured {
				runs[k] = append(runs[k], r)
			}
			if k > 0 {
				continue
			}
			d, err := su.bare.once(ctx, false)
			if err != nil {
				return err
			}
			c, err := su.bare.once(ctx, true)
			if err != nil {
				return err
			}
			if measured {
				bare = append(bare, stats.Ms(d))
				cross = append(cross, stats.Ms(c))
			}
		}
	}

	jobs, err := g.Jobs()
	if err != nil {
		return err
	}
	p50 := func(xs []float64) float64 { return stats.Percentile(xs, 50) }
	p99 := func(xs []float64) float64 { return stats.Percentile(xs, 99) }
	su.rep.Bench("overhead.bare_workflow.p50", p50(bare), "ms")
	su.rep.Bench("overhead.bare_workflow.p99", p99(bare), "ms")
	su.rep.Bench("overhead.bare_workflow_cross_queue.p50", p50(cross), "ms")
	su.rep.Bench("overhead.bare_workflow_cross_queue.p99", p99(cross), "ms")
	su.rep.Logf("   %d rounds (after %d warm-ups) of: one generation, one bare one-activity workflow, one bare workflow whose activity runs on",
		su.opts.Runs, su.opts.Warmups)
	su.rep.Logf("   another task queue, one tiny generation, all on the same Temporal server; runner warm with no step or load delay,")
	su.rep.Logf("   GET /status polled every %s", su.opts.StatusPoll)
	su.rep.Logf("   bare workflow start→result p50 %.1f ms, p99 %.1f ms (activity dispatched eagerly with the workflow task)", p50(bare), p99(bare))
	su.rep.Logf("   bare workflow with its activity on another queue (through matching, like the GPU activity): p50 %.1f ms, p99 %.1f ms", p50(cross), p99(cross))
	for k, t := range targets {
		if err := su.reportOverhead(ctx, t, runs[k], jobs, p50(bare)); err != nil {
			return err
		}
	}
	return nil
}

// reportOverhead prints the overhead lines of one target.
func (su *Suite) reportOverhead(ctx context.Context, t target, runs []genRun, jobs map[string]*runnertrace.Job, bareP50 float64) error {
	var latency, own, above []float64
	// phases are the hops of a generation, in order, each with its samples.
	phases := []struct {
		label string
		ms    []float64
	}{
		{label: "POST /generate"},
		{label: "record→workflow started"},
		{label: "→control worker took workflow task"},
		{label: "workflow task"},
		{label: "→GPU worker took activity"},
		{label: "→runner got request"},
		{label: "runner"},
		{label: "runner result→activity completed"},
		{label: "→control worker took workflow task"},
		{label: "workflow task"},
		{label: "→FinishTask started"},
		{label: "→task recorded done"},
		{label: "→client saw done"},
	}
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
		h, err := su.history(ctx, r.TaskID)
		if err != nil {
			return err
		}
		gpu, finish := h.activities[workflows.RunGenerationActivity], h.activities[workflows.FinishTaskActivity]
		latency = append(latency, stats.Ms(r.Latency()))
		own = append(own, stats.Ms(job.Own()))
		above = append(above, stats.Ms(r.Latency()-job.Own()))
		for i, d := range []time.Duration{
			r.Accepted.Sub(r.Submitted),
			h.started.Sub(task.CreatedAt),
			h.wfts[0].started.Sub(h.started),
			h.wfts[0].completed.Sub(h.wfts[0].started),
			gpu.started.Sub(h.wfts[0].completed),
			job.Received.Sub(gpu.started),
			job.Own(),
			gpu.completed.Sub(job.Finished),
			h.wfts[1].started.Sub(gpu.completed),
			h.wfts[1].completed.Sub(h.wfts[1].started),
			finish.started.Sub(h.wfts[1].completed),
			task.FinishedAt.Sub(finish.started),
			r.Done.Sub(*task.FinishedAt),
		} {
			phases[i].ms = append(phases[i].ms, stats.Ms(d))
		}
	}
	p50 := func(xs []float64) float64 { return stats.Percentile(xs, 50) }
	p99 := func(xs []float64) float64 { return stats.Percentile(xs, 99) }
	rep := su.rep
	rep.Bench(t.bench("overhead", "generation.p50"), p50(latency), "ms")
	rep.Bench(t.bench("overhead", "generation.p99"), p99(latency), "ms")
	rep.Bench(t.bench("overhead", "runner_own.p50"), p50(own), "ms")
	rep.Bench(t.bench("overhead", "above_runner.p50"), p50(above), "ms")
	rep.Bench(t.bench("overhead", "above_runner.p99"), p99(above), "ms")
	rep.Bench(t.bench("overhead", "generation_vs_bare.p50"), p50(latency)/bareP50, "x")
	rep.Bench(t.bench("overhead", "above_runner_vs_bare.p50"), p50(above)/bareP50, "x")

	rep.Logf("   %s (%d runs): submit→done p50 %.1f ms, p99 %.1f ms; runner's own time p50 %.1f ms;",
		t.describe(su.opts.Model), len(runs), p50(latency), p99(latency), p50(own))
	rep.Logf("     above the runner p50 %.1f ms (target ≤ 100), p99 %.1f ms; generation/bare %.2fx, above-runner/bare %.2fx",
		p50(above), p99(above), p50(latency)/bareP50, p50(above)/bareP50)
	rep.Logf("     where the time goes (medians, ms; times from the client, the task record, the workflow history and the runner trace):")
	line := "      "
	for i, ph := range phases {
		line += fmt.Sprintf(" %s %.1f", ph.label, p50(ph.ms))
		if i == 5 || i == 9 {
			rep.Logf("%s", line)
			line = "      "
		} else if i < len(phases)-1 {
			line += " |"
		}
	}
	rep.Logf("%s", line)
	return nil
}

// ms formats a duration in milliseconds for the summary.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", stats.Ms(d)) }
