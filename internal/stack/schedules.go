package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/gooni/gooni/workflows"
)

// MaintenanceSchedule is one maintenance workflow run on a Temporal Schedule.
type MaintenanceSchedule struct {
	// Name is the maintenance name (workflows.MaintenanceCleanup, …).
	Name string
	// Every is the schedule's interval.
	Every time.Duration
	// Input is the workflow's input.
	Input any
}

// MaintenanceSchedules are the maintenance workflows that run on their own: artifact cleanup
// hourly, reconcile every 5 minutes, audit retention daily, the accounts' health sweep every
// minute.
func MaintenanceSchedules() []MaintenanceSchedule {
	return []MaintenanceSchedule{
		{Name: workflows.MaintenanceCleanup, Every: time.Hour, Input: workflows.CleanupInput{}},
		{Name: workflows.MaintenanceReconcile, Every: 5 * time.Minute, Input: workflows.ReconcileInput{}},
		{Name: workflows.MaintenanceAuditRetention, Every: 24 * time.Hour, Input: workflows.AuditRetentionInput{}},
		{Name: workflows.MaintenanceHealthSweep, Every: time.Minute, Input: workflows.HealthSweepInput{}},
	}
}

// ScheduleID is the id of the schedule of the maintenance called name; prefix separates the
// schedules of several deployments (or tests) sharing one namespace ("" in production).
func ScheduleID(prefix, name string) string { return prefix + "gooni-maintenance-" + name }

// EnsureSchedules creates the maintenance schedules on taskQueue unless they exist (an existing
// schedule is kept as it is, so operators may pause or edit it in the Web UI). Runs that would
// overlap a running one are skipped, so a slow run never doubles.
func EnsureSchedules(ctx context.Context, c client.Client, prefix, taskQueue string, logger *slog.Logger) error {
	for _, s := range MaintenanceSchedules() {
		id := ScheduleID(prefix, s.Name)
		_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
			ID:      id,
			Spec:    client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: s.Every}}},
			Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
			Note:    "created by the gooni control worker",
			Action: &client.ScheduleWorkflowAction{
				ID:                 prefix + workflows.MaintenanceWorkflowID(s.Name),
				Workflow:           workflows.MaintenanceWorkflow(s.Name),
				Args:               []any{s.Input},
				TaskQueue:          taskQueue,
				WorkflowRunTimeout: workflows.MaintenanceRunTimeout(s.Name),
			},
		})
		switch {
		case err == nil:
			logger.Info("maintenance schedule created", "schedule_id", id, "every", s.Every)
		case errors.Is(err, temporal.ErrScheduleAlreadyRunning):
			logger.Debug("maintenance schedule exists", "schedule_id", id)
		default:
			return fmt.Errorf("create schedule %s: %w", id, err)
		}
	}
	return nil
}
