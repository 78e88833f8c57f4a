package suite

import (
	"context"
	"fmt"
	"sort"

	"github.com/gooni/gooni/bench/benchstack"
	"github.com/gooni/gooni/bench/runnertrace"
	"github.com/gooni/gooni/bench/stats"
	"github.com/gooni/gooni/internal/store"
)

// WarmReuse queues ReuseJobs zero-work generations back to back (submitted one after another
// without waiting) on a fresh GPU worker that runs one at a time, and measures how many times the
// model was loaded and how long the runner sat idle between one job's result and the next job's
// request.
func (su *Suite) WarmReuse(ctx context.Context) error {
	n := su.opts.ReuseJobs
	g, err := su.stack.StartGPUWorker(benchstack.GPUOptions{Model: su.opts.Model, Concurrency: 1, LoadDelay: su.opts.ReuseLoadDelay})
	if err != nil {
		return err
	}
	defer g.Stop()
	t := su.smallest
	ids := make([]string, 0, n)
	for i := range n {
		id, err := t.api.Submit(ctx, su.request(t, t.steps, fmt.Sprintf("warm reuse %d", i)))
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	if _, err := su.waitAll(ctx, t.api, ids, throughputPoll); err != nil {
		return err
	}
	loads := g.Loads(su.opts.Model)

	traced, err := g.Jobs()
	if err != nil {
		return err
	}
	jobs := make([]*runnertrace.Job, 0, n)
	pids := map[int]bool{}
	tasks := make([]*store.Task, 0, n)
	for _, id := range ids {
		j, ok := traced[id]
		if !ok || j.Finished.IsZero() {
			return fmt.Errorf("task %s: the runner trace has no finished request", id)
		}
		jobs = append(jobs, j)
		pids[j.PID] = true
		t, err := su.stack.Store.GetTask(ctx, id)
		if err != nil {
			return err
		}
		if t.StartedAt == nil || t.FinishedAt == nil {
			return fmt.Errorf("task %s: record has no start or finish time", id)
		}
		tasks = append(tasks, t)
	}
	sort.Slice(jobs, func(i, k int) bool { return jobs[i].Received.Before(jobs[k].Received) })
	sort.Slice(tasks, func(i, k int) bool { return tasks[i].StartedAt.Before(*tasks[k].StartedAt) })
	var idle, startAfterDone []float64
	for i := 1; i < len(jobs); i++ {
		idle = append(idle, stats.Ms(jobs[i].Received.Sub(jobs[i-1].Finished)))
		startAfterDone = append(startAfterDone, stats.Ms(tasks[i].StartedAt.Sub(*tasks[i-1].FinishedAt)))
	}

	rep := su.rep
	rep.Bench("reuse.model_loads", float64(loads), "count")
	rep.Bench("reuse.runner_processes", float64(len(pids)), "count")
	rep.Bench("reuse.runner_idle_gap.p50", stats.Percentile(idle, 50), "ms")
	rep.Bench("reuse.runner_idle_gap.p95", stats.Percentile(idle, 95), "ms")
	rep.Bench("reuse.start_after_prev_done.p50", stats.Percentile(startAfterDone, 50), "ms")
	rep.Logf("   %d %s generations queued back to back on one worker (concurrency 1, runner load delay %s, no step delay):",
		n, t.describe(su.opts.Model), su.opts.ReuseLoadDelay)
	rep.Logf("   model loads %d (target 1), runner processes %d", loads, len(pids))
	rep.Logf("   runner idle between jobs (result sent → next request received): p50 %.1f ms, p95 %.1f ms, max %.1f ms",
		stats.Percentile(idle, 50), stats.Percentile(idle, 95), stats.Max(idle))
	rep.Logf("   next task's started_at − previous task's finished_at (records): p50 %.1f ms (negative: the next job started before the previous was recorded done)",
		stats.Percentile(startAfterDone, 50))
	return nil
}
