package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Gallery sort orders. Every order is descending (newest, largest, last model first), with ties
// broken by created_at then id, both descending, so pages never overlap or skip rows.
const (
	GallerySortCreatedAt = "created_at"
	GallerySortModel     = "model"
	GallerySortWidth     = "width"
	GallerySortHeight    = "height"
)

// gallerySorts maps each sort order to its ORDER BY clause. Only these strings ever reach the
// SQL text; the filter values are always bind parameters. Each clause matches one index of
// migrations/004_gallery.sql.
var gallerySorts = map[string]string{
	GallerySortCreatedAt: "created_at desc, id desc",
	GallerySortModel:     "model desc, created_at desc, id desc",
	GallerySortWidth:     "width desc, created_at desc, id desc",
	GallerySortHeight:    "height desc, created_at desc, id desc",
}

// GallerySorts lists the sort orders GET /gallery accepts.
func GallerySorts() []string {
	return []string{GallerySortCreatedAt, GallerySortModel, GallerySortWidth, GallerySortHeight}
}

// GalleryQuery selects one page of finished, unexpired results.
type GalleryQuery struct {
	// Page is 1-based. Required (≥1).
	Page int
	// PerPage is the page size. Required (≥1).
	PerPage int
	// Sort is one of the GallerySort constants; "" means created_at.
	Sort string
	// Model and Type filter when not empty.
	Model string
	Type  string
}

// GalleryItem is one finished result as the gallery shows it.
type GalleryItem struct {
	ID             string
	Model          string
	Type           string
	Mode           string
	Prompt         string
	NegativePrompt string
	Parameters     map[string]any
	Width          int
	Height         int
	Seed           int64
	CreatedAt      time.Time
}

// GalleryPage is a page of the gallery and the number of items across all pages.
type GalleryPage struct {
	Items []GalleryItem
	Total int
}

// galleryColumns is the select list galleryItem scans.
const galleryColumns = `id, coalesce(model, ''), coalesce(type, ''), coalesce(mode, ''), coalesce(prompt, ''),
	coalesce(negative_prompt, ''), parameters, coalesce(width, 0), coalesce(height, 0), coalesce(seed, 0), created_at`

// gallerySQL returns the page and count statements of q and their arguments. The WHERE clause
// names only the filters q uses, so each combination is its own prepared statement with a plan
// that picks the matching index (a generic plan of an "empty $1 or model = $1" condition could not).
func gallerySQL(q GalleryQuery) (page, count string, pageArgs, countArgs []any, err error) {
	order, ok := gallerySorts[q.Sort]
	if q.Sort == "" {
		order, ok = gallerySorts[GallerySortCreatedAt], true
	}
	switch {
	case !ok:
		return "", "", nil, nil, fmt.Errorf("%w: unknown sort %q", ErrInvalid, q.Sort)
	case q.Page < 1:
		return "", "", nil, nil, fmt.Errorf("%w: page must be at least 1", ErrInvalid)
	case q.PerPage < 1:
		return "", "", nil, nil, fmt.Errorf("%w: per_page must be at least 1", ErrInvalid)
	}
	var where strings.Builder
	where.WriteString(`status = 'done' and (expires_at is null or expires_at > now())`)
	var args []any
	if q.Model != "" {
		args = append(args, q.Model)
		where.WriteString(` and model = $` + strconv.Itoa(len(args)))
	}
	if q.Type != "" {
		args = append(args, q.Type)
		where.WriteString(` and type = $` + strconv.Itoa(len(args)))
	}
	n := len(args)
	count = `select count(*) from tasks where ` + where.String()
	// A deferred join: the ids of the page come from an index-only scan that skips the offset
	// inside the index, then only those rows are read from the table, by primary key.
	page = `select ` + galleryColumns + ` from tasks join (select id from tasks where ` + where.String() +
		` order by ` + order + ` limit $` + strconv.Itoa(n+1) + ` offset $` + strconv.Itoa(n+2) +
		`) page using (id) order by ` + order
	offset := int64(q.Page-1) * int64(q.PerPage)
	pageArgs = append(append([]any{}, args...), q.PerPage, offset)
	return page, count, pageArgs, args, nil
}

// Gallery returns the page q selects of finished (done) results that have not expired, and how
// many such results there are. The page and the count go to the server in one round trip.
func (s *Store) Gallery(ctx context.Context, q GalleryQuery) (*GalleryPage, error) {
	pageSQL, countSQL, pageArgs, countArgs, err := gallerySQL(q)
	if err != nil {
		return nil, fmt.Errorf("store: gallery: %w", err)
	}
	out := &GalleryPage{Items: make([]GalleryItem, 0, q.PerPage)}
	var b pgx.Batch
	b.Queue(countSQL, countArgs...).QueryRow(func(row pgx.Row) error {
		return row.Scan(&out.Total)
	})
	b.Queue(pageSQL, pageArgs...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var it GalleryItem
			if err := rows.Scan(&it.ID, &it.Model, &it.Type, &it.Mode, &it.Prompt, &it.NegativePrompt,
				&it.Parameters, &it.Width, &it.Height, &it.Seed, &it.CreatedAt); err != nil {
				return err
			}
			out.Items = append(out.Items, it)
		}
		return rows.Err()
	})
	if err := s.pool.SendBatch(ctx, &b).Close(); err != nil {
		return nil, fmt.Errorf("store: gallery: %w", translate(err))
	}
	return out, nil
}

// ExplainGallery returns PostgreSQL's plan for q's page query (EXPLAIN without ANALYZE), so
// tests and benchmarks can see which index serves each sort and filter. With indexOnly, the
// plan is made as if sequential scans and sorts were unaffordable (enable_seqscan, enable_sort
// and enable_incremental_sort off, for this transaction only): a plan that still reads the
// page's ids in order from a gallery index proves that an index matches that order and filter.
func (s *Store) ExplainGallery(ctx context.Context, q GalleryQuery, indexOnly bool) (string, error) {
	pageSQL, _, pageArgs, _, err := gallerySQL(q)
	if err != nil {
		return "", fmt.Errorf("store: explain gallery: %w", err)
	}
	var lines []string
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if indexOnly {
			if _, err := tx.Exec(ctx, `set local enable_seqscan = off; set local enable_sort = off;
				set local enable_incremental_sort = off`); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, `explain `+pageSQL, pageArgs...)
		if err != nil {
			return err
		}
		lines, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: explain gallery: %w", translate(err))
	}
	return strings.Join(lines, "\n"), nil
}

// DeleteFinishedTask removes a task that has ended (done, failed or cancelled). A live task is
// ErrConflict (cancel it first: its workflow still writes to the record); an unknown id is
// ErrNotFound. Terminal states are final, so the check and the delete cannot race with a status
// change.
func (s *Store) DeleteFinishedTask(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `delete from tasks where id = $1 and not (`+live+`)`, id)
	if err != nil {
		return fmt.Errorf("store: delete finished task %s: %w", id, translate(err))
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	if _, err := s.status(ctx, id); err != nil {
		return fmt.Errorf("store: delete finished task %s: %w", id, err)
	}
	return fmt.Errorf("store: delete finished task %s: task is still running: %w", id, ErrConflict)
}
