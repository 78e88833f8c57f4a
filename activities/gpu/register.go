package gpu

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/gooni/gooni/workflows"
)

// Register registers the GPU activity on w under its contract name.
func (a *Activities) Register(w worker.ActivityRegistry) {
	w.RegisterActivityWithOptions(a.RunGeneration, activity.RegisterOptions{Name: workflows.RunGenerationActivity})
}
