package suite

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
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

// clockTicks is USER_HZ, the unit of /proc CPU times (100 on every Linux Go supports).
const clockTicks = 100

// treeCPU is the CPU time used so far by this process and its descendants, by part.
type treeCPU struct {
	// Gooni is this process: the embedded Temporal server, the API, the workers and the
	// benchmark's own client.
	Gooni time.Duration
	// Runners are descendants running this executable (runner processes), plus exited children.
	Runners time.Duration
	// Postgres is every other descendant: the throwaway cluster's processes.
	Postgres time.Duration
	ok       bool
}

// Total is the CPU time of all parts.
func (c treeCPU) Total() time.Duration { return c.Gooni + c.Runners + c.Postgres }

// Sub returns c − o part by part.
func (c treeCPU) Sub(o treeCPU) treeCPU {
	return treeCPU{Gooni: c.Gooni - o.Gooni, Runners: c.Runners - o.Runners, Postgres: c.Postgres - o.Postgres, ok: c.ok && o.ok}
}

// readTreeCPU reads /proc for this process and its descendants (Linux; ok is false elsewhere).
func readTreeCPU() treeCPU {
	self := os.Getpid()
	exe, _ := os.Executable()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return treeCPU{}
	}
	type proc struct {
		ppid          int
		own, children uint64
	}
	procs := map[int]proc{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(raw)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 15 {
			continue
		}
		num := func(k int) uint64 { v, _ := strconv.ParseUint(f[k], 10, 64); return v }
		ppid, _ := strconv.Atoi(f[1])
		procs[pid] = proc{ppid: ppid, own: num(11) + num(12), children: num(13) + num(14)}
	}
	me, ok := procs[self]
	if !ok {
		return treeCPU{}
	}
	ticks := func(t uint64) time.Duration { return time.Duration(t) * time.Second / clockTicks }
	out := treeCPU{Gooni: ticks(me.own), Runners: ticks(me.children), ok: true}
	descends := func(pid int) bool {
		for range 64 {
			p, ok := procs[pid]
			if !ok || p.ppid <= 1 {
				return false
			}
			if p.ppid == self {
				return true
			}
			pid = p.ppid
		}
		return false
	}
	for pid, p := range procs {
		if pid == self || !descends(pid) {
			continue
		}
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && target == exe {
			out.Runners += ticks(p.own + p.children)
		} else {
			out.Postgres += ticks(p.own + p.children)
		}
	}
	return out
}
