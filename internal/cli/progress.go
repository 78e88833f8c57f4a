package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/gooni/gooni/internal/client"
)

// progressView shows a running task: a live bar on a terminal, plain lines elsewhere.
type progressView interface {
	update(*client.Status)
	close()
}

func newProgressView(env Env) progressView {
	if env.Terminal {
		return newBarView(env.Stdout, 50*time.Millisecond)
	}
	return &lineView{w: env.Stdout, eta: &etaEstimator{now: time.Now}}
}

// barScale is the bar's units per percent (progress has one decimal).
const barScale = 10

// barView draws the progress with progressbar, the description carrying stage, step and ETA.
type barView struct {
	w   io.Writer
	bar *progressbar.ProgressBar
	eta *etaEstimator
}

// newBarView draws at most once per throttle (the last state always shows: the stream sends
// the terminal status and close renders it).
func newBarView(w io.Writer, throttle time.Duration) *barView {
	bar := progressbar.NewOptions(100*barScale,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetWidth(30),
		progressbar.OptionSetPredictTime(false), // queueing and loading skew its estimate; ours uses the step rate
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionThrottle(throttle),
		progressbar.OptionSetDescription("queued"),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	return &barView{w: w, bar: bar, eta: &etaEstimator{now: time.Now}}
}

func (v *barView) update(st *client.Status) {
	v.eta.observe(st)
	v.bar.Describe(describe(st, v.eta))
	_ = v.bar.Set(int(st.Progress * barScale))
}

// close leaves the bar where it stopped (a failed or cancelled task does not fill it) and ends
// its line (OptionOnCompletion); a bar that reached 100% ended its line itself.
func (v *barView) close() {
	if !v.bar.IsFinished() {
		_ = v.bar.Exit()
	}
}

// lineView prints one line per change, for logs and pipes.
type lineView struct {
	w   io.Writer
	eta *etaEstimator
}

func (v *lineView) update(st *client.Status) {
	v.eta.observe(st)
	fmt.Fprintf(v.w, "%5.1f%%  %s\n", st.Progress, describe(st, v.eta))
}

func (v *lineView) close() {}

// describe is the status in a few words: "inference · step 7/20 · ETA 3s".
func describe(st *client.Status, eta *etaEstimator) string {
	parts := []string{st.Status}
	if st.Stage != "" && st.Stage != st.Status {
		parts = append(parts, st.Stage)
	}
	if st.StageDetail != "" {
		parts = append(parts, st.StageDetail)
	}
	if st.Status == "processing" {
		if d, ok := eta.remaining(); ok {
			parts = append(parts, "ETA "+formatETA(d))
		}
	}
	return strings.Join(parts, " · ")
}

func formatETA(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
	}
	return d.Round(time.Second).String()
}

// etaEstimator predicts the time left from the rate progress moved since the task began
// processing; queueing and model loading (no progress) do not count.
type etaEstimator struct {
	now        func() time.Time
	startAt    time.Time
	startValue float64
	lastAt     time.Time
	lastValue  float64
}

func (e *etaEstimator) observe(st *client.Status) {
	if st.Status != "processing" || st.Progress <= 0 {
		return
	}
	t := e.now()
	if e.startAt.IsZero() || st.Progress < e.lastValue {
		e.startAt, e.startValue = t, st.Progress
	}
	e.lastAt, e.lastValue = t, st.Progress
}

// remaining returns the predicted time to 100%, once progress has moved.
func (e *etaEstimator) remaining() (time.Duration, bool) {
	moved := e.lastValue - e.startValue
	elapsed := e.lastAt.Sub(e.startAt)
	if moved <= 0 || elapsed <= 0 {
		return 0, false
	}
	left := time.Duration(float64(elapsed) * (100 - e.lastValue) / moved)
	return left, true
}
