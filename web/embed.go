// Package web holds the studio and admin pages (React + TypeScript + Vite sources beside this
// file) and embeds their production bundle, web/dist, built by `make web` (npm ci && npm run
// build). The API process serves it (api/studio.go). A binary built before the bundle embeds only
// dist/.keep and answers the pages with studio_not_built.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Bundle returns the built bundle (index.html at its root, hashed files under assets/) and
// whether it was built: false when the binary was compiled before `make web`.
func Bundle() (fs.FS, bool) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, false
	}
	if _, err := fs.Stat(sub, "index.html"); err != nil {
		return sub, false
	}
	return sub, true
}
