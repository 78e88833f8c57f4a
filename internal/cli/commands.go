package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gooni/gooni/internal/client"
)

// Status is `gooni status <task_id> [--json]`.
func Status(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("status", "<task_id> [--json]", env.Stderr)
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return quietHelp(err)
	}
	id, err := oneTaskID(fs, pos)
	if err != nil {
		return err
	}
	c, err := env.newClient()
	if err != nil {
		return err
	}
	st, err := c.Status(ctx, id)
	if err != nil {
		return explain(err)
	}
	if *asJSON {
		return printJSON(env, st)
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%s\t%s\n", k, v)
		}
	}
	row("task", st.TaskID)
	row("status", st.Status)
	row("progress", fmt.Sprintf("%.1f%%", st.Progress))
	row("stage", strings.TrimSpace(st.Stage+" "+st.StageDetail))
	row("model", strings.TrimSpace(st.Model+" "+st.Mode))
	if st.Width > 0 {
		row("size", fmt.Sprintf("%d×%d", st.Width, st.Height))
	}
	row("seed", fmt.Sprint(st.Seed))
	row("lane", st.LaneMode)
	if st.ErrorCode != "" || st.ErrorMsg != "" {
		row("error", strings.TrimSpace(st.ErrorMsg+" ["+st.ErrorCode+"]"))
	}
	row("result", st.ResultURL)
	row("preview", st.PreviewURL)
	row("created", st.CreatedAt.Local().Format(time.DateTime))
	row("updated", st.UpdatedAt.Local().Format(time.DateTime))
	return w.Flush()
}

// Cancel is `gooni cancel <task_id>`.
func Cancel(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("cancel", "<task_id>", env.Stderr)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return quietHelp(err)
	}
	id, err := oneTaskID(fs, pos)
	if err != nil {
		return err
	}
	c, err := env.newClient()
	if err != nil {
		return err
	}
	res, err := c.Cancel(ctx, id)
	if err != nil {
		return explain(err)
	}
	fmt.Fprintf(env.Stdout, "task %s: %s\n", res.TaskID, res.Status)
	return nil
}

// Gallery is `gooni gallery [--page N] [--per-page N] [--model M] [--type T] [--sort S] [--json]`.
func Gallery(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("gallery", "[--page N] [--per-page N] [--model ID] [--type image|video] [--sort S] [--json]", env.Stderr)
	var q client.GalleryQuery
	fs.IntVar(&q.Page, "page", 0, "page number, from 1 (default: the server's, 1)")
	fs.IntVar(&q.PerPage, "per-page", 0, "items per page, 1..100 (default: the server's, 20)")
	fs.StringVar(&q.Model, "model", "", "only this model")
	fs.StringVar(&q.Type, "type", "", "only image or video")
	fs.StringVar(&q.Sort, "sort", "", "sort order, as the API accepts it")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return quietHelp(err)
	}
	if len(pos) > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	c, err := env.newClient()
	if err != nil {
		return err
	}
	page, err := c.Gallery(ctx, q)
	if err != nil {
		return explain(err)
	}
	if *asJSON {
		return printJSON(env, page)
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TASK\tMODEL\tTYPE\tCREATED\tPROMPT")
	for _, it := range page.Items {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", field(it, "task_id", "id"), field(it, "model"), field(it, "type"),
			field(it, "created_at", "finished_at"), truncate(field(it, "prompt"), 48))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	more := ""
	if page.HasMore {
		more = fmt.Sprintf("; next: --page %d", page.Page+1)
	}
	fmt.Fprintf(env.Stdout, "page %d, %d of %d items%s\n", page.Page, len(page.Items), page.Total, more)
	return nil
}

// field returns the first of keys that the item has, as text.
func field(item map[string]any, keys ...string) string {
	for _, k := range keys {
		if v, ok := item[k]; ok && v != nil {
			return fmt.Sprint(v)
		}
	}
	return "-"
}

func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func printJSON(env Env, v any) error {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
