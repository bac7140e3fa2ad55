package fleet

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// processStartTime returns field 22 of /proc/<pid>/stat (start time in clock
// ticks since boot), or 0 if it cannot be read.
func processStartTime(pid int) uint64 {
	st, _, ok := readStat(pid)
	if !ok {
		return 0
	}
	return st
}

// processAlive reports whether ref's process runs: it exists, is not a
// zombie, and (when recorded) started at the recorded time, so a recycled
// pid is not mistaken for it.
func processAlive(ref ProcessRef) bool {
	st, state, ok := readStat(ref.PID)
	if !ok || state == 'Z' || state == 'X' {
		return false
	}
	return ref.StartTime == 0 || st == ref.StartTime
}

// readStat parses /proc/<pid>/stat. The command name (field 2) may contain
// spaces and parentheses, so fields are counted from the last ')'.
func readStat(pid int) (startTime uint64, state byte, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, false
	}
	fields := bytes.Fields(data[i+1:])
	// fields[0] is field 3 (state); field 22 is fields[19].
	if len(fields) < 20 || len(fields[0]) != 1 {
		return 0, 0, false
	}
	st, err := strconv.ParseUint(string(fields[19]), 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return st, fields[0][0], true
}
