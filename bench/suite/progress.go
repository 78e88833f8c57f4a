package suite

import (
	"context"
	"fmt"
	"time"

	"github.com/gooni/gooni/bench/benchstack"
	"github.com/gooni/gooni/bench/stats"
)

// ProgressLag measures how long a step the runner reports takes to show in GET /status. The
// runner's trace timestamps each progress line as it leaves the runner; the client polls GET
// /status every ProgressPoll. Step k counts as visible at the first answer that shows step k or
// later ("step j/N" with j ≥ k, or a stage after inference): the worker reports progress to the
// record at most every 200 ms, so some steps are never shown on their own, and what a user sees
// is how far behind the runner the status is.
func (su *Suite) ProgressLag(ctx context.Context) error {
	t := su.smallest
	steps := max(min(su.opts.ProgressSteps, max(su.maxSteps, t.steps)), t.steps)
	g, err := su.stack.StartGPUWorker(benchstack.GPUOptions{Model: su.opts.Model, Concurrency: 1, StepDelay: su.opts.ProgressStepDelay})
	if err != nil {
		return err
	}
	defer g.Stop()

	type run struct {
		id  string
		obs []observation
	}
	var runs []run
	for i := range su.opts.ProgressRuns {
		id, err := t.api.Submit(ctx, su.request(t, steps, fmt.Sprintf("progress lag %d", i)))
		if err != nil {
			return err
		}
		r := run{id: id}
		if _, _, err := su.watch(ctx, t.api, id, su.opts.ProgressPoll, func(o observation) { r.obs = append(r.obs, o) }); err != nil {
			return err
		}
		runs = append(runs, r)
	}

	jobs, err := g.Jobs()
	if err != nil {
		return err
	}
	var lags []float64
	exact, total := 0, 0
	for _, r := range runs {
		job, ok := jobs[r.id]
		if !ok {
			return fmt.Errorf("task %s: no runner trace", r.id)
		}
		shownExactly := map[int]bool{}
		for k := 1; k <= job.Total; k++ {
			reported, ok := job.Steps[k]
			if !ok {
				return fmt.Errorf("task %s: the runner trace has no step %d/%d", r.id, k, job.Total)
			}
			var visible time.Time
			for _, o := range r.obs {
				shown := shownStep(o.Status, job.Total)
				if shown == k {
					shownExactly[k] = true
				}
				if shown >= k && visible.IsZero() {
					visible = o.At
				}
			}
			if visible.IsZero() {
				return fmt.Errorf("task %s: step %d never became visible", r.id, k)
			}
			lags = append(lags, stats.Ms(visible.Sub(reported)))
			total++
		}
		exact += len(shownExactly)
	}

	rep := su.rep
	rep.Bench("progress.lag.p50", stats.Percentile(lags, 50), "ms")
	rep.Bench("progress.lag.p95", stats.Percentile(lags, 95), "ms")
	rep.Bench("progress.lag.max", stats.Max(lags), "ms")
	rep.Bench("progress.steps_shown_exactly", 100*float64(exact)/float64(total), "%")
	rep.Logf("   %d runs of %d steps paced at %s, GET /status polled every %s: %d steps measured",
		len(runs), steps, su.opts.ProgressStepDelay, su.opts.ProgressPoll, total)
	rep.Logf("   step reported by the runner → visible in GET /status: p50 %.1f ms, p95 %.1f ms (target ≤ 1000), max %.1f ms, min %.1f ms",
		stats.Percentile(lags, 50), stats.Percentile(lags, 95), stats.Max(lags), stats.Min(lags))
	rep.Logf("   %d of %d steps were shown as themselves (\"step k/N\"); the others were skipped over by a later step", exact, total)
	return nil
}

// shownStep is how far the status says the run is, in inference steps: the k of "step k/N"
// while inferring, total once past inference, 0 before.
func shownStep(s benchstack.Status, total int) int {
	switch {
	case s.Status == "done":
		return total
	case s.Stage == "inference":
		var k, n int
		if _, err := fmt.Sscanf(s.StageDetail, "step %d/%d", &k, &n); err == nil {
			return k
		}
		return 0
	case s.Stage == "" || s.Stage == "queued" || s.Stage == "loading_model":
		return 0
	default: // encoding, uploading, completed: inference is over
		return total
	}
}
