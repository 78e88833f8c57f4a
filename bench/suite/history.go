package suite

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/gooni/gooni/workflows"
)

// runHistory is when the steps of one generation's workflow happened, from its Temporal history.
type runHistory struct {
	started time.Time
	// wfts are the workflow tasks in order: when each was scheduled, started and completed.
	wfts []struct{ scheduled, started, completed time.Time }
	// activities by type name (the first of each): scheduled, started, completed.
	activities map[string]*struct{ scheduled, started, completed time.Time }
	// localFinish is when the outcome of FinishTask, a local activity, was recorded (with the
	// completion of the workflow task that ran it).
	localFinish time.Time
	closed      time.Time
}

// history reads the history of the generation of taskID.
func (su *Suite) history(ctx context.Context, taskID string) (*runHistory, error) {
	it := su.stack.Temporal.GetWorkflowHistory(ctx, workflows.WorkflowID(taskID), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &runHistory{activities: map[string]*struct{ scheduled, started, completed time.Time }{}}
	byScheduled := map[int64]string{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", taskID, err)
		}
		t := e.GetEventTime().AsTime()
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			h.started = t
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
			h.wfts = append(h.wfts, struct{ scheduled, started, completed time.Time }{scheduled: t})
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
			if n := len(h.wfts); n > 0 {
				h.wfts[n-1].started = t
			}
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			if n := len(h.wfts); n > 0 {
				h.wfts[n-1].completed = t
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			name := e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()
			byScheduled[e.GetEventId()] = name
			if _, ok := h.activities[name]; !ok {
				h.activities[name] = &struct{ scheduled, started, completed time.Time }{scheduled: t}
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if a := h.activities[byScheduled[e.GetActivityTaskStartedEventAttributes().GetScheduledEventId()]]; a != nil && a.started.IsZero() {
				a.started = t
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			if a := h.activities[byScheduled[e.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()]]; a != nil && a.completed.IsZero() {
				a.completed = t
			}
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			if name, failed, ok := workflows.LocalActivityOutcome(e); ok && !failed && name == workflows.FinishTaskActivity {
				h.localFinish = t
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
			h.closed = t
		}
	}
	gpu := h.activities[workflows.RunGenerationActivity]
	if h.started.IsZero() || len(h.wfts) < 2 || gpu == nil ||
		gpu.started.IsZero() || gpu.completed.IsZero() || h.localFinish.IsZero() {
		return nil, fmt.Errorf("history of %s: not the expected start → GPU activity → FinishTask (local) shape", taskID)
	}
	return h, nil
}
