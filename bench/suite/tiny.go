package suite

import (
	"fmt"
	"regexp"

	"github.com/gooni/gooni/settings"
)

// The tiny-request variant of the catalogue lowers the smallest width and height to tinySide
// and the fewest steps to 1, so a generation costs the CPU runner next to nothing and what is
// left is orchestration. Nothing else changes (timeouts, lanes, retries).
const tinySide = 64

var (
	minSide  = regexp.MustCompile(`("(?:width|height)"\s*:\s*\{[^{}]*?"min"\s*:\s*)\d+`)
	minSteps = regexp.MustCompile(`("steps"\s*:\s*\{[^{}]*?"min"\s*:\s*)\d+`)
)

// tinyCatalogue returns the variant of cat (parsed from its file text) for tiny requests.
func tinyCatalogue(cat *settings.Catalogue) (*settings.Catalogue, error) {
	raw := []byte(cat.Raw())
	if !minSide.Match(raw) || !minSteps.Match(raw) {
		return nil, fmt.Errorf("catalogue variant: no width, height or steps minimum to lower")
	}
	raw = minSide.ReplaceAll(raw, []byte(fmt.Sprintf("${1}%d", tinySide)))
	raw = minSteps.ReplaceAll(raw, []byte("${1}1"))
	v, err := settings.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("catalogue variant: %w", err)
	}
	return v, nil
}
