package stack_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflowservice/v1"

	"github.com/gooni/gooni/workflows"
)

// TestPonyTxt2imgRunsEndToEndThroughAPIWorkflowWorkerAndRunner is the foundation's promise: a
// request through the real HTTP API becomes a workflow on the real Temporal server, runs on a GPU
// worker's real runner process, reports real progress, and serves a real PNG and JPEG preview.
func TestPonyTxt2imgRunsEndToEndThroughAPIWorkflowWorkerAndRunner(t *testing.T) {
	e := setup(t, envOptions{})
	code, body, _ := e.do("POST", "/generate", map[string]any{
		"model": "pony", "mode": "txt2img", "prompt": "a lighthouse at dusk", "width": 512, "height": 512, "steps": 20,
	}, nil)
	require.Equal(t, http.StatusAccepted, code, string(body))
	var accepted acceptedTask
	require.NoError(t, json.Unmarshal(body, &accepted))
	require.Equal(t, "pending", accepted.Status)
	require.NotEmpty(t, accepted.TaskID)

	seen := e.waitTerminal(accepted.TaskID, 60*time.Second)
	final := seen[len(seen)-1]
	require.Equal(t, "done", final.Status, "%+v", final)
	require.Equal(t, float64(100), final.Progress)
	require.Equal(t, "completed", final.Stage)
	require.Equal(t, "dedicated", final.LaneMode)
	require.GreaterOrEqual(t, final.Seed, int64(0), "seed -1 is resolved before the run")
	require.True(t, strings.HasPrefix(final.ResultURL, "/results/"+accepted.TaskID+"?exp="), final.ResultURL)

	// Progress is real: it moved through intermediate values with step details.
	var intermediate []float64
	for _, s := range seen {
		if s.Status == "processing" && s.Progress > 5 && s.Progress < 95 {
			require.Regexp(t, `^step \d+/20$`, s.StageDetail)
			intermediate = append(intermediate, s.Progress)
		}
	}
	require.GreaterOrEqual(t, len(distinct(intermediate)), 2, "several intermediate progress values: %v", intermediate)

	code, img, hdr := e.do("GET", "/results/"+accepted.TaskID, nil, nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "image/png", hdr.Get("Content-Type"))
	decoded, err := png.Decode(bytes.NewReader(img))
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 512, 512), decoded.Bounds())

	code, part, hdr := e.do("GET", "/results/"+accepted.TaskID, nil, map[string]string{"Range": "bytes=0-9"})
	require.Equal(t, http.StatusPartialContent, code)
	require.Equal(t, img[:10], part)
	require.Equal(t, fmt.Sprintf("bytes 0-9/%d", len(img)), hdr.Get("Content-Range"))

	code, prev, hdr := e.do("GET", "/preview/"+accepted.TaskID, nil, nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "image/jpeg", hdr.Get("Content-Type"))
	pimg, err := jpeg.Decode(bytes.NewReader(prev))
	require.NoError(t, err)
	require.LessOrEqual(t, max(pimg.Bounds().Dx(), pimg.Bounds().Dy()), 512)

	// The record holds what the status and gallery need.
	task, err := e.store.GetTask(context.Background(), accepted.TaskID)
	require.NoError(t, err)
	require.Equal(t, "pony", task.Model)
	require.Equal(t, "image", task.Type)
	require.Equal(t, 512, task.Width)
	require.Equal(t, final.Seed, task.Seed)
	require.NotNil(t, task.StartedAt)
	require.NotNil(t, task.FinishedAt)
	require.NotNil(t, task.ExpiresAt)
	require.Equal(t, 1, e.gpu.Loads("pony"), "the model loaded once")

	// Operators find the run in Temporal by task id and by model.
	ctx := context.Background()
	desc, err := e.temporal.DescribeWorkflowExecution(ctx, workflows.WorkflowID(accepted.TaskID), "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, desc.WorkflowExecutionInfo.Status)
	require.Eventually(t, func() bool {
		resp, err := e.temporal.ListWorkflow(ctx, &workflowpb.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowId = '%s' AND %s = 'pony'", workflows.WorkflowID(accepted.TaskID), workflows.SearchAttrModel),
		})
		return err == nil && len(resp.Executions) == 1
	}, 10*time.Second, 100*time.Millisecond, "the run is listed by its task id and model")
}

// TestSecondRunOnTheSameWorkerReusesTheLoadedModel proves the runner stays warm between tasks.
func TestSecondRunOnTheSameWorkerReusesTheLoadedModel(t *testing.T) {
	e := setup(t, envOptions{})
	req := map[string]any{"model": "pony", "prompt": "warm reuse", "width": 512, "height": 512, "steps": 20, "seed": 7}
	var results [][]byte
	for range 2 {
		code, body, _ := e.do("POST", "/generate", req, nil)
		require.Equal(t, http.StatusAccepted, code, string(body))
		var accepted acceptedTask
		require.NoError(t, json.Unmarshal(body, &accepted))
		seen := e.waitTerminal(accepted.TaskID, 60*time.Second)
		require.Equal(t, "done", seen[len(seen)-1].Status)
		require.Equal(t, int64(7), seen[len(seen)-1].Seed)
		_, img, _ := e.do("GET", "/results/"+accepted.TaskID, nil, nil)
		results = append(results, img)
	}
	require.Equal(t, 1, e.gpu.Loads("pony"))
	require.Equal(t, results[0], results[1], "same prompt, seed and parameters render the same image")
}

// TestImg2imgStoresTheReferenceAndTheRunnerUsesIt sends a reference image as a data URI.
func TestImg2imgStoresTheReferenceAndTheRunnerUsesIt(t *testing.T) {
	e := setup(t, envOptions{})
	ref := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for i := range ref.Pix {
		ref.Pix[i] = []byte{250, 10, 10, 255}[i%4]
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, ref))
	uri := "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())

	code, body, _ := e.do("POST", "/generate", map[string]any{
		"model": "flux", "mode": "img2img", "prompt": "make it red", "width": 512, "height": 512, "steps": 15,
		"reference_image": uri, "denoising_strength": 0.2,
	}, nil)
	require.Equal(t, http.StatusAccepted, code, string(body))
	var accepted acceptedTask
	require.NoError(t, json.Unmarshal(body, &accepted))
	task, err := e.store.GetTask(context.Background(), accepted.TaskID)
	require.NoError(t, err)
	require.Len(t, task.Inputs, 1)
	require.Equal(t, "reference_image", task.Inputs[0].Field)

	seen := e.waitTerminal(accepted.TaskID, 60*time.Second)
	require.Equal(t, "done", seen[len(seen)-1].Status, "%+v", seen[len(seen)-1])
	_, img, _ := e.do("GET", "/results/"+accepted.TaskID, nil, nil)
	out, err := png.Decode(bytes.NewReader(img))
	require.NoError(t, err)
	r, g, b := meanColour(out)
	require.Greater(t, r, g+40, "the red reference dominates a low-denoise img2img (mean %v,%v,%v)", r, g, b)
	require.Greater(t, r, b+40)
}

// TestNoWorkerForTheLaneFailsWithWorkerStartTimeout: with no GPU worker the task fails with an
// actionable code after the model's schedule-to-start limit instead of staying pending.
func TestNoWorkerForTheLaneFailsWithWorkerStartTimeout(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true, edit: func(s string) string {
		s = strings.Replace(s, `"max_wait": "30s"`, `"max_wait": "2s"`, 1)
		return strings.ReplaceAll(s, `"schedule_to_start": "10m"`, `"schedule_to_start": "2s"`)
	}})
	code, body, _ := e.do("POST", "/generate", map[string]any{"model": "pony", "prompt": "nobody home", "width": 512, "height": 512}, nil)
	require.Equal(t, http.StatusAccepted, code, string(body))
	var accepted acceptedTask
	require.NoError(t, json.Unmarshal(body, &accepted))
	seen := e.waitTerminal(accepted.TaskID, 60*time.Second)
	final := seen[len(seen)-1]
	require.Equal(t, "failed", final.Status)
	require.Equal(t, "worker_start_timeout", final.ErrorCode)
	require.Contains(t, final.ErrorMsg, "No GPU worker")
}

func distinct(v []float64) map[float64]bool {
	m := map[float64]bool{}
	for _, x := range v {
		m[x] = true
	}
	return m
}

func meanColour(img image.Image) (r, g, b float64) {
	bnd := img.Bounds()
	n := float64(bnd.Dx() * bnd.Dy())
	for y := bnd.Min.Y; y < bnd.Max.Y; y++ {
		for x := bnd.Min.X; x < bnd.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			r += float64(c.R)
			g += float64(c.G)
			b += float64(c.B)
		}
	}
	return r / n, g / n, b / n
}

// acceptedTask is the answer to POST /generate.
type acceptedTask struct {
	TaskID string `json:"task_id"`
	Status string `json:"status"`
}
