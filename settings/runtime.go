package settings

import (
	"fmt"
	"time"
)

// Runtime is a model's runtime declaration: where its work runs and the limits the workflow
// applies to it.
type Runtime struct {
	// Lane is the Temporal task queue served by the model's dedicated GPU workers.
	Lane string
	// GPUProfile names the GPU setup the model is built for ("sdxl-fp16").
	GPUProfile string
	// VRAMGB is the GPU memory a worker needs to keep the model loaded, in GB.
	VRAMGB int
	// ScheduleToStart is how long a task may wait for a dedicated worker to pick it up.
	ScheduleToStart time.Duration
	// StartToClose bounds one attempt of the generation.
	StartToClose time.Duration
	// Heartbeat is the activity heartbeat timeout.
	Heartbeat time.Duration
	// StallTimeout is how long the runner may go without reporting progress before the worker
	// restarts it.
	StallTimeout time.Duration
	// Retry is the retry policy of the GPU activity.
	Retry Retry
	// Concurrency is how many generations one worker runs at once for this model.
	Concurrency int
	// Warmup is the request body (without "model") used to preload the model; it is validated
	// against the model's own rules at load. Numbers are int64 or float64.
	Warmup map[string]any
}

// Retry is a retry policy, in the terms of Temporal's RetryPolicy.
type Retry struct {
	// MaxAttempts counts the first attempt; 1 means no retry.
	MaxAttempts int
	// InitialInterval is the wait before the first retry.
	InitialInterval time.Duration
	// BackoffCoefficient multiplies the wait after each retry (at least 1).
	BackoffCoefficient float64
	// MaxInterval caps the wait between retries.
	MaxInterval time.Duration
	// NonRetryableCodes are failure codes (ApplicationError types) that are never retried.
	NonRetryableCodes []string
}

// SharedLane is the shared "degraded" lane: workers that load one model at a time, used when
// no dedicated worker picks a task up in time.
type SharedLane struct {
	// TaskQueue is the Temporal task queue of the shared lane.
	TaskQueue string
	// MaxDepth is how many tasks may wait for the shared lane at once.
	MaxDepth int
	// MaxWait is how long a task may wait for admission before it is refused.
	MaxWait time.Duration
}

// parseRuntime reads a model's runtime object; every key is required. It also returns the
// warm-up request's members, for validating it once the model is complete.
func parseRuntime(o *fileObject) (Runtime, []member) {
	o.onlyKeys("lane", "gpu_profile", "vram_gb", "schedule_to_start", "start_to_close", "heartbeat",
		"stall_timeout", "retry", "concurrency", "warmup")
	r := Runtime{
		Lane:            o.str("lane", true),
		GPUProfile:      o.str("gpu_profile", true),
		VRAMGB:          positiveInt(o, "vram_gb"),
		ScheduleToStart: o.duration("schedule_to_start"),
		StartToClose:    o.duration("start_to_close"),
		Heartbeat:       o.duration("heartbeat"),
		StallTimeout:    o.duration("stall_timeout"),
		Concurrency:     positiveInt(o, "concurrency"),
	}
	if r.Heartbeat > 0 && r.StartToClose > 0 && r.Heartbeat >= r.StartToClose {
		o.errs.add(o.at("heartbeat"), "%s must be shorter than start_to_close %s", r.Heartbeat, r.StartToClose)
	}
	if r.StallTimeout > 0 && r.StartToClose > 0 && r.StallTimeout > r.StartToClose {
		o.errs.add(o.at("stall_timeout"), "%s must not exceed start_to_close %s", r.StallTimeout, r.StartToClose)
	}
	if retry := o.object("retry", true); retry != nil {
		r.Retry = parseRetry(retry)
	}
	var warmup []member
	if w := o.object("warmup", true); w != nil {
		warmup = w.members
		r.Warmup = make(map[string]any, len(w.members))
		for _, m := range w.members {
			v, err := decodeValue(m.Value)
			if err != nil {
				o.errs.add(w.at(m.Key), "%v", err)
				continue
			}
			r.Warmup[m.Key] = normalize(v)
		}
	}
	return r, warmup
}

// parseRetry reads a retry policy; every key is required.
func parseRetry(o *fileObject) Retry {
	o.onlyKeys("max_attempts", "initial_interval", "backoff_coefficient", "max_interval", "non_retryable_codes")
	r := Retry{
		MaxAttempts:       positiveInt(o, "max_attempts"),
		InitialInterval:   o.duration("initial_interval"),
		MaxInterval:       o.duration("max_interval"),
		NonRetryableCodes: o.stringList("non_retryable_codes", true),
	}
	if f, ok := o.float("backoff_coefficient", true); ok {
		if f < 1 {
			o.errs.add(o.at("backoff_coefficient"), "%v must be at least 1", f)
		}
		r.BackoffCoefficient = f
	}
	if r.InitialInterval > 0 && r.MaxInterval > 0 && r.MaxInterval < r.InitialInterval {
		o.errs.add(o.at("max_interval"), "%s must not be shorter than initial_interval %s", r.MaxInterval, r.InitialInterval)
	}
	if r.NonRetryableCodes == nil {
		r.NonRetryableCodes = []string{}
	}
	return r
}

// parseSharedLane reads the top-level shared_lane object; every key is required.
func parseSharedLane(o *fileObject) SharedLane {
	o.onlyKeys("task_queue", "max_depth", "max_wait")
	return SharedLane{
		TaskQueue: o.str("task_queue", true),
		MaxDepth:  positiveInt(o, "max_depth"),
		MaxWait:   o.duration("max_wait"),
	}
}

// positiveInt reads a required integer of at least 1 that fits an int.
func positiveInt(o *fileObject, key string) int {
	n, ok := o.integer(key, true)
	if !ok {
		return 0
	}
	if n < 1 || n > 1<<31-1 {
		o.errs.add(o.at(key), "%s must be between 1 and %d", fmt.Sprint(n), 1<<31-1)
		return 0
	}
	return int(n)
}
