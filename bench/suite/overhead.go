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
// until done, one at a time. Two blocks of rounds run on the same Temporal server:
//
//   - the catalogue's smallest request, each followed by one bare workflow (the brief's
//     baseline: its activity comes back eagerly with the workflow task);
//   - the tiny request, each followed by one bare workflow whose activity runs on another task
//     queue and so goes through matching, as the GPU activity does.
//
// A round's two halves see the same machine state. The blocks are kept apart because what ran
// just before on the server changes how fast it hands out the next tasks (see bench/README.md).
func (su *Suite) Overhead(ctx context.Context) error {
	g, err := su.stack.StartGPUWorker(benchstack.GPUOptions{Model: su.opts.Model, Concurrency: 1})
	if err != nil {
		return err
	}
	defer g.Stop()
	su.rep.Logf("   rounds of one generation then one bare workflow (%d after %d warm-ups per block); runner warm, no step or load delay;",
		su.opts.Runs, su.opts.Warmups)
	su.rep.Logf("   generations: GET /status polled every %s; bare workflows: DescribeWorkflowExecution polled as often", su.opts.StatusPoll)
	blocks := []struct {
		t     target
		cross bool
	}{{su.smallest, false}, {su.tiny, true}}
	for _, b := range blocks {
		runs, bare, err := su.overheadBlock(ctx, b.t, b.cross)
		if err != nil {
			return err
		}
		jobs, err := g.Jobs()
		if err != nil {
			return err
		}
		if err := su.reportOverhead(ctx, b.t, runs, jobs, bare, b.cross); err != nil {
			return err
		}
	}
	return nil
}

// overheadBlock runs the rounds of one block and returns the measured generations and bare
// workflow durations (ms).
func (su *Suite) overheadBlock(ctx context.Context, t target, cross bool) ([]genRun, []float64, error) {
	body := su.request(t, t.steps, "orchestration overhead")
	var runs []genRun
	var bare []float64
	for i := range su.opts.Warmups + su.opts.Runs {
		r, err := su.generate(ctx, t.api, body, su.opts.StatusPoll)
		if err != nil {
			return nil, nil, err
		}
		d, err := su.bare.once(ctx, cross, su.opts.StatusPoll)
		if err != nil {
			return nil, nil, err
		}
		if i >= su.opts.Warmups {
			runs = append(runs, r)
			bare = append(bare, stats.Ms(d))
		}
	}
	return runs, bare, nil
}

// reportOverhead prints the overhead lines of one target.
func (su *Suite) reportOverhead(ctx context.Context, t target, runs []genRun, jobs map[string]*runnertrace.Job, bare []float64, cross bool) error {
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
		{label: "→task recorded done (local FinishTask)"},
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
		gpu := h.activities[workflows.RunGenerationActivity]
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
			task.FinishedAt.Sub(h.wfts[1].started),
			r.Done.Sub(*task.FinishedAt),
		} {
			phases[i].ms = append(phases[i].ms, stats.Ms(d))
		}
	}
	p50 := func(xs []float64) float64 { return stats.Percentile(xs, 50) }
	p99 := func(xs []float64) float64 { return stats.Percentile(xs, 99) }
	bareName, bareWhat := "bare_workflow", "bare workflow (activity eagerly dispatched with the workflow task)"
	if cross {
		bareName, bareWhat = "bare_workflow_cross_queue", "bare workflow with its activity on another task queue (through matching, as the GPU activity)"
	}
	bareP50 := p50(bare)
	rep := su.rep
	rep.Bench("overhead."+bareName+".p50", bareP50, "ms")
	rep.Bench("overhead."+bareName+".p99", p99(bare), "ms")
	rep.Bench(t.bench("overhead", "generation.p50"), p50(latency), "ms")
	rep.Bench(t.bench("overhead", "generation.p99"), p99(latency), "ms")
	rep.Bench(t.bench("overhead", "runner_own.p50"), p50(own), "ms")
	rep.Bench(t.bench("overhead", "above_runner.p50"), p50(above), "ms")
	rep.Bench(t.bench("overhead", "above_runner.p99"), p99(above), "ms")
	rep.Bench(t.bench("overhead", "generation_vs_"+bareName+".p50"), p50(latency)/bareP50, "x")
	rep.Bench(t.bench("overhead", "above_runner_vs_"+bareName+".p50"), p50(above)/bareP50, "x")

	rep.Logf("   %s (%d runs), each followed by a %s:", t.describe(su.opts.Model), len(runs), bareWhat)
	rep.Logf("     bare start→seen closed (DescribeWorkflowExecution polled every %s) p50 %.1f ms, p99 %.1f ms", su.opts.StatusPoll, bareP50, p99(bare))
	rep.Logf("     generation submit→done p50 %.1f ms, p99 %.1f ms; runner's own time p50 %.1f ms;",
		p50(latency), p99(latency), p50(own))
	rep.Logf("     above the runner p50 %.1f ms (target ≤ 100), p99 %.1f ms; generation/bare %.2fx, above-runner/bare %.2fx",
		p50(above), p99(above), p50(latency)/bareP50, p50(above)/bareP50)
	rep.Logf("     where the time goes (medians, ms; times from the client, the task record, the workflow history and the runner trace):")
	line := "      "
	for i, ph := range phases {
		line += fmt.Sprintf(" %s %.1f", ph.label, p50(ph.ms))
		if i == 5 || i == 8 {
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
