package store_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/store"
)

// galleryRow is a task row for the gallery tests, written with COPY.
type galleryRow struct {
	id, status, model, typ string
	width, height          int
	created                time.Time
	expires                *time.Time
}

func copyRows(t *testing.T, s *store.Store, rows []galleryRow) {
	t.Helper()
	src := make([][]any, len(rows))
	for i, r := range rows {
		var resultKey any
		if r.status == store.StatusDone {
			resultKey = "results/" + r.id + "/result.png"
		}
		src[i] = []any{r.id, "generation-" + r.id, r.status, "gpu-" + r.model, r.model, r.typ, "txt2img",
			"prompt " + r.id, map[string]any{"steps": 20}, r.width, r.height, int64(i), r.created, r.created, r.expires, resultKey}
	}
	n, err := s.Pool().CopyFrom(t.Context(), pgx.Identifier{"tasks"},
		[]string{"id", "workflow_id", "status", "lane", "model", "type", "mode", "prompt", "parameters",
			"width", "height", "seed", "created_at", "updated_at", "expires_at", "result_key"},
		pgx.CopyFromRows(src))
	require.NoError(t, err)
	require.EqualValues(t, len(rows), n)
}

func ids(items []store.GalleryItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

func TestGalleryListsOnlyUnexpiredDoneResultsInEverySortOrder(t *testing.T) {
	s := setup(t)
	base := time.Now().Add(-time.Hour).Truncate(time.Microsecond)
	past, future := base.Add(-time.Minute), time.Now().Add(time.Hour)
	// Names say the expected position; a, b and c share created_at so id breaks the tie.
	rows := []galleryRow{
		{id: "00000000-0000-4000-8000-00000000000a", status: "done", model: "pony", typ: "image", width: 512, height: 768, created: base},
		{id: "00000000-0000-4000-8000-00000000000b", status: "done", model: "flux", typ: "image", width: 1024, height: 512, created: base},
		{id: "00000000-0000-4000-8000-00000000000c", status: "done", model: "anisora", typ: "video", width: 832, height: 480, created: base, expires: &future},
		{id: "00000000-0000-4000-8000-00000000000d", status: "done", model: "pony", typ: "image", width: 512, height: 512, created: base.Add(time.Second)},
		{id: "00000000-0000-4000-8000-00000000000e", status: "done", model: "pony", typ: "image", width: 768, height: 768, created: base.Add(-time.Second)},
		// Never listed: expired, live, failed, cancelled.
		{id: "00000000-0000-4000-8000-0000000000f1", status: "done", model: "pony", typ: "image", width: 2048, height: 2048, created: base.Add(time.Hour), expires: &past},
		{id: "00000000-0000-4000-8000-0000000000f2", status: "processing", model: "pony", typ: "image", width: 2048, height: 2048, created: base.Add(time.Hour)},
		{id: "00000000-0000-4000-8000-0000000000f3", status: "failed", model: "flux", typ: "image", width: 2048, height: 2048, created: base.Add(time.Hour)},
		{id: "00000000-0000-4000-8000-0000000000f4", status: "cancelled", model: "phr00t", typ: "video", width: 2048, height: 2048, created: base.Add(time.Hour)},
	}
	copyRows(t, s, rows)
	short := func(items []store.GalleryItem) string {
		var b strings.Builder
		for _, id := range ids(items) {
			b.WriteByte(id[len(id)-1])
		}
		return b.String()
	}
	cases := []struct {
		q     store.GalleryQuery
		want  string
		total int
	}{
		{store.GalleryQuery{Page: 1, PerPage: 20}, "dcbae", 5},
		{store.GalleryQuery{Page: 1, PerPage: 20, Sort: "created_at"}, "dcbae", 5},
		{store.GalleryQuery{Page: 1, PerPage: 20, Sort: "model"}, "daebc", 5},
		{store.GalleryQuery{Page: 1, PerPage: 20, Sort: "width"}, "bceda", 5},
		{store.GalleryQuery{Page: 1, PerPage: 20, Sort: "height"}, "aedbc", 5},
		{store.GalleryQuery{Page: 1, PerPage: 2}, "dc", 5},
		{store.GalleryQuery{Page: 2, PerPage: 2}, "ba", 5},
		{store.GalleryQuery{Page: 3, PerPage: 2}, "e", 5},
		{store.GalleryQuery{Page: 4, PerPage: 2}, "", 5},
		{store.GalleryQuery{Page: 1, PerPage: 20, Model: "pony"}, "dae", 3},
		{store.GalleryQuery{Page: 1, PerPage: 20, Model: "pony", Sort: "width"}, "eda", 3},
		{store.GalleryQuery{Page: 1, PerPage: 20, Type: "video"}, "c", 1},
		{store.GalleryQuery{Page: 1, PerPage: 20, Type: "image", Model: "flux"}, "b", 1},
		{store.GalleryQuery{Page: 1, PerPage: 20, Type: "video", Model: "flux"}, "", 0},
		// A filter value is a value: SQL in it matches nothing and breaks nothing.
		{store.GalleryQuery{Page: 1, PerPage: 20, Model: "pony' or '1'='1"}, "", 0},
	}
	for _, tc := range cases {
		page, err := s.Gallery(t.Context(), tc.q)
		require.NoError(t, err, "%+v", tc.q)
		require.Equal(t, tc.want, short(page.Items), "%+v", tc.q)
		require.Equal(t, tc.total, page.Total, "%+v", tc.q)
	}

	page, err := s.Gallery(t.Context(), store.GalleryQuery{Page: 1, PerPage: 1, Model: "flux"})
	require.NoError(t, err)
	it := page.Items[0]
	require.Equal(t, store.GalleryItem{ID: rows[1].id, Model: "flux", Type: "image", Mode: "txt2img",
		Prompt: "prompt " + rows[1].id, Parameters: map[string]any{"steps": float64(20)}, Width: 1024, Height: 512,
		Seed: 1, CreatedAt: it.CreatedAt}, it)
	require.True(t, it.CreatedAt.Equal(base))

	for _, q := range []store.GalleryQuery{{Page: 0, PerPage: 20}, {Page: 1, PerPage: 0}, {Page: 1, PerPage: 20, Sort: "id; drop table tasks"}} {
		_, err := s.Gallery(t.Context(), q)
		require.ErrorIs(t, err, store.ErrInvalid, "%+v", q)
	}
}

// TestGalleryEverySortAndFilterHasAMatchingIndex loads done rows and checks every sort order
// and filter of GET /gallery, on the first page and a deep one, with sorts made unaffordable
// for the planner: the page's ids still come in order from one of the gallery indexes, by an
// index-only scan (the filters and the expiry are in the index, so skipped rows are never read
// from the table), and the page's rows from the primary key. Without a matching index the plan
// would sort (enable_sort only penalises sorting) or scan the table.
func TestGalleryEverySortAndFilterHasAMatchingIndex(t *testing.T) {
	s := setup(t)
	models := []struct{ id, typ string }{{"pony", "image"}, {"flux", "image"}, {"anisora", "video"}, {"phr00t", "video"}}
	sizes := []int{512, 576, 640, 704, 768, 832, 896, 960, 1024}
	base := time.Now().Add(-24 * time.Hour)
	rows := make([]galleryRow, 5000)
	for i := range rows {
		m := models[i%len(models)]
		status := store.StatusDone
		if i%10 == 0 {
			status = store.StatusFailed
		}
		rows[i] = galleryRow{id: uuid.NewString(), status: status, model: m.id, typ: m.typ,
			width: sizes[i%len(sizes)], height: sizes[(i/3)%len(sizes)], created: base.Add(time.Duration(i) * time.Second)}
	}
	copyRows(t, s, rows)
	_, err := s.Pool().Exec(t.Context(), "analyze tasks")
	require.NoError(t, err)

	for _, sort := range store.GallerySorts() {
		for _, f := range []struct{ model, typ string }{{"", ""}, {"pony", ""}, {"", "video"}, {"flux", "image"}} {
			for _, pageNo := range []int{1, 50} {
				q := store.GalleryQuery{Page: pageNo, PerPage: 20, Sort: sort, Model: f.model, Type: f.typ}
				plan, err := s.ExplainGallery(t.Context(), q, true)
				require.NoError(t, err)
				name := fmt.Sprintf("%+v", q)
				require.NotContains(t, plan, "Seq Scan", "%s:\n%s", name, plan)
				require.Contains(t, plan, "Index Scan using tasks_pkey", "%s:\n%s", name, plan)
				lines := strings.Split(plan, "\n")
				limits := 0
				for i, line := range lines {
					if strings.Contains(line, "->  Limit") {
						limits++
						require.Greater(t, len(lines), i+1)
						require.Contains(t, lines[i+1], "Index Only Scan using tasks_gallery_", "%s:\n%s", name, plan)
					}
				}
				require.Equal(t, 1, limits, "%s:\n%s", name, plan)
			}
		}
	}
}

func TestDeleteFinishedTaskRefusesLiveTasks(t *testing.T) {
	s := setup(t)
	for _, status := range []string{store.StatusDone, store.StatusFailed, store.StatusCancelled} {
		task := newTask(t, s, status)
		require.NoError(t, s.DeleteFinishedTask(t.Context(), task.ID), status)
		_, err := s.GetTask(t.Context(), task.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, s.DeleteFinishedTask(t.Context(), task.ID), store.ErrNotFound)
	}
	for _, status := range []string{store.StatusPending, store.StatusProcessing} {
		task := newTask(t, s, status)
		require.ErrorIs(t, s.DeleteFinishedTask(t.Context(), task.ID), store.ErrConflict, status)
		require.Equal(t, status, get(t, s, task.ID).Status)
	}
}
