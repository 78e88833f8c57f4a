package control

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/gooni/gooni/workflows"
)

// Register registers the control activities on w under their contract names.
func (a *Activities) Register(w worker.ActivityRegistry) {
	w.RegisterActivityWithOptions(a.FinishTask, activity.RegisterOptions{Name: workflows.FinishTaskActivity})
	w.RegisterActivityWithOptions(a.FailTask, activity.RegisterOptions{Name: workflows.FailTaskActivity})
	w.RegisterActivityWithOptions(a.CancelTask, activity.RegisterOptions{Name: workflows.CancelTaskActivity})
	w.RegisterActivityWithOptions(a.AdmitShared, activity.RegisterOptions{Name: workflows.AdmitSharedActivity})
}
