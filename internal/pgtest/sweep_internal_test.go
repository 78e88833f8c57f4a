package pgtest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSweepRemovesOnlyDirectoriesOfDeadRuns(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	mk := func(name string) string {
		dir := filepath.Join(tmp, name)
		if err := os.MkdirAll(filepath.Join(dir, "pg"), 0o700); err != nil {
			t.Fatal(err)
		}
		return dir
	}

	live := mk("gooni-pgtest-live")
	lock, err := lockDir(live)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()

	dead := mk("gooni-pgtest-dead")
	deadLock, err := lockDir(dead)
	if err != nil {
		t.Fatal(err)
	}
	deadLock.Close() // its process died: the kernel dropped the lock

	settingUp := mk("gooni-pgtest-new") // no lock file yet
	abandoned := mk("gooni-pgtest-old") // no lock file, long ago
	old := time.Now().Add(-2 * unlockedGrace)
	if err := os.Chtimes(abandoned, old, old); err != nil {
		t.Fatal(err)
	}
	other := mk("not-ours")

	sweep()

	for dir, want := range map[string]bool{live: true, dead: false, settingUp: true, abandoned: false, other: true} {
		_, err := os.Stat(dir)
		if exists := err == nil; exists != want {
			t.Errorf("%s: exists = %v, want %v", filepath.Base(dir), exists, want)
		}
	}
}
