package suite

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// cpuTimes is the machine's CPU time so far from /proc/stat, in clock ticks.
type cpuTimes struct {
	busy, total uint64
	ok          bool
}

// readCPU reads the aggregate "cpu" line of /proc/stat (Linux); ok is false elsewhere.
func readCPU() cpuTimes {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return cpuTimes{}
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || fields[0] != "cpu" {
			continue
		}
		var t cpuTimes
		for i, f := range fields[1:] {
			v, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				return cpuTimes{}
			}
			if i >= 8 { // guest and guest_nice are already counted in user and nice
				break
			}
			t.total += v
			if i != 3 && i != 4 { // idle, iowait
				t.busy += v
			}
		}
		t.ok = true
		return t
	}
	return cpuTimes{}
}

// busySince returns the share of all cores' time spent busy since start, in percent.
func busySince(start cpuTimes) (float64, bool) {
	end := readCPU()
	if !start.ok || !end.ok || end.total <= start.total {
		return 0, false
	}
	return 100 * float64(end.busy-start.busy) / float64(end.total-start.total), true
}

// pct formats a busy share for the summary.
func pct(v float64, ok bool) string {
	if !ok {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%%", v)
}
