package settings

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestExprEvaluatesConditionsOverMode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		mode string
		want bool
	}{
		{"mode == img2img", "img2img", true},
		{"mode == img2img", "txt2img", false},
		{"mode != t2v", "i2v", true},
		{"mode != t2v", "t2v", false},
		{`mode == "i2v"`, "i2v", true},
		{`mode == 'first_last_frame'`, "first_last_frame", true},
		{"mode == i2v || mode == arbitrary_frame", "arbitrary_frame", true},
		{"mode == i2v || mode == arbitrary_frame", "t2v", false},
		{"mode != t2v && mode != i2v", "i2v", false},
		{"mode != t2v && mode != i2v", "first_last_frame", true},
		// && binds tighter than ||.
		{"mode == a || mode == b && mode == c", "a", true},
		{"(mode == a || mode == b) && mode == c", "a", false},
		{"((mode == x))", "x", true},
		{"mode==x||mode==y", "y", true},
		{`mode == "with space"`, "with space", true},
		{"mode == v1.2-beta_3", "v1.2-beta_3", true},
	}
	for _, tt := range tests {
		t.Run(tt.src+"/"+tt.mode, func(t *testing.T) {
			t.Parallel()
			e, err := parseExpr(tt.src)
			require.NoError(t, err)
			require.Equal(t, tt.want, e.evalMode(tt.mode))
			require.Equal(t, tt.src, e.String())
		})
	}
}

func TestExprListsComparedLiterals(t *testing.T) {
	t.Parallel()
	e, err := parseExpr(`(mode == i2v || mode != "t2v") && mode == 'x'`)
	require.NoError(t, err)
	require.Equal(t, []string{"i2v", "t2v", "x"}, e.literals())
}

func TestExprRejectsMalformedConditions(t *testing.T) {
	t.Parallel()
	tests := []struct{ src, want string }{
		{"", "empty condition"},
		{"   ", "empty condition"},
		{"mode = img2img", "unexpected character"},
		{"mode img2img", "expected == or !="},
		{"mode ==", "expected a value after =="},
		{"mode == (", "expected a value after =="},
		{"type == image", "expected a variable (mode)"},
		{"img2img == mode", "expected a variable (mode)"},
		{"(mode == a", "missing ')'"},
		{"mode == a)", `unexpected ")"`},
		{"mode == a ||", "unexpected end of condition"},
		{"mode == a && && mode == b", "expected a variable"},
		{`mode == "open`, "unterminated string"},
		{"mode == a mode == b", `unexpected "mode"`},
		{"!(mode == a)", "unexpected character"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			_, err := parseExpr(tt.src)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{"mode == a", "mode != 'b' || (mode == c && mode == d)", "((", `mode == "`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := parseExpr(src)
		if err == nil {
			_ = e.evalMode("a")
			_ = e.literals()
		}
	})
}
