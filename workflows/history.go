package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
)

// localActivityMarker is the marker the Go SDK records for a local activity's outcome, and the
// key of its details that names the activity.
const (
	localActivityMarker     = "LocalActivity"
	localActivityMarkerData = "data"
)

// LocalActivityOutcome reads a local activity's outcome from a history event: the activity type
// and whether it failed. ok is false when ev is not a local activity's marker. Tools that count a
// generation's steps in its history use it for FinishTask, a local activity in newer runs.
func LocalActivityOutcome(ev *historypb.HistoryEvent) (activityType string, failed, ok bool) {
	if ev.GetEventType() != enumspb.EVENT_TYPE_MARKER_RECORDED {
		return "", false, false
	}
	m := ev.GetMarkerRecordedEventAttributes()
	if m.GetMarkerName() != localActivityMarker {
		return "", false, false
	}
	var data struct{ ActivityType string }
	if err := converter.GetDefaultDataConverter().FromPayloads(m.GetDetails()[localActivityMarkerData], &data); err != nil || data.ActivityType == "" {
		return "", false, false
	}
	return data.ActivityType, m.GetFailure() != nil, true
}
