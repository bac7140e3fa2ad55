package consultest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// consulVersion names the cache directory; it must match the Consul
	// version pinned in internal/tools/consul (go.mod and build.sh).
	consulVersion = "1.22.2"

	// rootModule identifies the repository root while walking up from a
	// package directory; internal/tools/consul has a go.mod of its own.
	rootModule = "github.com/atollgg/atoll"

	// buildScript is build.sh's path relative to the repository root.
	buildScript = "internal/tools/consul/build.sh"

	// buildTimeout bounds building the binary: a cold build takes 3–6
	// minutes on 2 cores; twice that covers a loaded machine (build.sh
	// itself waits up to 15 minutes for a concurrent build's lock).
	buildTimeout = 20 * time.Minute
)

// The binary is located (and built if need be) once per process.
var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary returns the path of the Consul binary to run.
func binary() (string, error) {
	binOnce.Do(func() { binPath, binErr = findBinary() })
	return binPath, binErr
}

func findBinary() (string, error) {
	if p := os.Getenv("ATOLL_CONSUL_BIN"); p != "" {
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("ATOLL_CONSUL_BIN: %w", err)
		}
		return p, nil
	}
	cached, err := cachedBinary()
	if err != nil {
		return "", err
	}
	if checkExecutable(cached) == nil {
		return cached, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", fmt.Errorf("consul binary not at %s and cannot build it: %w", cached, err)
	}
	return build(filepath.Join(root, buildScript))
}

// cachedBinary is where build.sh puts the binary.
func cachedBinary() (string, error) {
	dir := os.Getenv("ATOLL_CACHE_DIR")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("locate consul cache: set ATOLL_CACHE_DIR or HOME: %w", err)
		}
		dir = filepath.Join(home, ".cache", "atoll")
	}
	return filepath.Join(dir, "consul-"+consulVersion, "consul"), nil
}

func checkExecutable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}

// build runs build.sh, which builds under a lock shared with concurrent test
// binaries, and returns the path it prints.
func build(script string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	setBuildProcAttr(cmd)
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (gave up after %s)", err, buildTimeout)
		}
		return "", fmt.Errorf("build consul with %s: %w\n%s", script, err, stderr.Bytes())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	path := lines[len(lines)-1]
	if err := checkExecutable(path); err != nil {
		return "", fmt.Errorf("build consul with %s: printed path: %w", script, err)
	}
	return path, nil
}

// repoRoot finds the root of the Atoll repository by walking up from the
// working directory (go test runs in the package's directory) and, failing
// that, from this source file's directory.
func repoRoot() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		if root, ok := findModuleRoot(dir, rootModule); ok {
			return root, nil
		}
	}
	return "", fmt.Errorf("no go.mod declaring module %s above %s", rootModule, strings.Join(starts, " or "))
}

// findModuleRoot walks up from dir to the directory whose go.mod declares
// module want.
func findModuleRoot(dir, want string) (string, bool) {
	for {
		if mod, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modulePath(mod) == want {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// modulePath returns the module path a go.mod declares, or "" if it
// declares none.
func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		rest, ok := strings.CutPrefix(line, "module")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t' && rest[0] != '"') {
			continue
		}
		rest = strings.TrimSpace(rest)
		if unq, err := strconv.Unquote(rest); err == nil {
			return unq
		}
		return rest
	}
	return ""
}
