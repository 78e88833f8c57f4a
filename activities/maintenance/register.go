package maintenance

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/gooni/gooni/workflows"
)

// Register registers the maintenance activities on w under their contract names.
func (a *Activities) Register(w worker.ActivityRegistry) {
	w.RegisterActivityWithOptions(a.CleanupArtifactsBatch, activity.RegisterOptions{Name: workflows.CleanupArtifactsBatchActivity})
	w.RegisterActivityWithOptions(a.ReconcileBatch, activity.RegisterOptions{Name: workflows.ReconcileBatchActivity})
	w.RegisterActivityWithOptions(a.DeleteAudit, activity.RegisterOptions{Name: workflows.DeleteAuditActivity})
	w.RegisterActivityWithOptions(a.RotateKeysBatch, activity.RegisterOptions{Name: workflows.RotateKeysBatchActivity})
	w.RegisterActivityWithOptions(a.HealthSweep, activity.RegisterOptions{Name: workflows.HealthSweepActivity})
}
