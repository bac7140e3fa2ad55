// Package pglocal runs a throwaway PostgreSQL server from the installed
// binaries, for tests and `atoll dev`.
package pglocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Start-up and shutdown bounds. initdb plus first start take 1–3 s on this
// class of machine; 60 s only trips when something is really wrong.
const (
	startTimeout = 60 * time.Second
	stopTimeout  = 15 * time.Second
	// maxConnections: a test binary may run many tests in parallel, each with a pool.
	maxConnections = 400
)

// ErrNotInstalled means no PostgreSQL server binaries were found.
var ErrNotInstalled = errors.New("PostgreSQL server binaries (initdb, postgres) not found: install the Debian package postgresql, or set ATOLL_TEST_DATABASE_URL")

// Server is a running throwaway PostgreSQL.
type Server struct {
	// URL connects as the superuser to the postgres database.
	URL  string
	Port int
	dir  string
	cmd  *exec.Cmd
	done chan error
	log  *os.File
}

// Options configure Start.
type Options struct {
	// Dir holds the cluster; empty means a new temporary directory removed by Stop.
	Dir string
	// Durable keeps fsync on (for `atoll dev` data that should survive a crash);
	// the zero value turns it off, which tests want for speed.
	Durable bool
}

// BinDir finds the directory holding initdb and postgres.
func BinDir() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		d := strings.TrimSpace(string(out))
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(matches)))
	for _, d := range matches {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if isFile(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", ErrNotInstalled
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Start initialises (if needed) and starts a server on a free loopback port.
// As root it runs the server as the postgres OS user, since PostgreSQL
// refuses to run as root.
func Start(ctx context.Context, opts Options) (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "atoll-pg-"); err != nil {
			return nil, fmt.Errorf("pglocal: temp dir: %w", err)
		}
	}
	cred, err := credential()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pglocal: %w", err)
	}
	data := filepath.Join(dir, "data")
	if cred != nil {
		if err := chownTree(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("pglocal: initdb: %w: %s", err, bytes.TrimSpace(out))
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		return nil, fmt.Errorf("pglocal: %w", err)
	}
	args := []string{"-D", data, "-p", strconv.Itoa(port), "-h", "127.0.0.1", "-k", dir,
		"-c", "max_connections=" + strconv.Itoa(maxConnections),
		"-c", "shared_buffers=128MB",
		"-c", "listen_addresses=127.0.0.1",
	}
	if !opts.Durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Pdeathsig: if the test binary dies without cleanup the server goes too
	// instead of lingering on the machine.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("pglocal: start postgres: %w", err)
	}
	s := &Server{
		URL:  fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port),
		Port: port, dir: dir, cmd: cmd, done: make(chan error, 1), log: logf,
	}
	go func() { s.done <- cmd.Wait() }()
	if err := s.waitReady(ctx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		c, err := pgx.Connect(ctx, s.URL)
		if err == nil {
			c.Close(ctx)
			return nil
		}
		select {
		case werr := <-s.done:
			s.done <- werr
			return fmt.Errorf("pglocal: postgres exited during start-up: %v; log: %s", werr, s.LogTail())
		case <-ctx.Done():
			return fmt.Errorf("pglocal: postgres not ready after %s: %v; log: %s", startTimeout, err, s.LogTail())
		case <-t.C:
		}
	}
}

// LogTail returns the end of the server log, for failure messages.
func (s *Server) LogTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
	const tail = 2000
	if len(b) > tail {
		b = b[len(b)-tail:]
	}
	return string(b)
}

// Stop shuts the server down (fast mode) and, for a temporary directory,
// removes it.
func (s *Server) Stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	var err error
	select {
	case err = <-s.done:
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		err = <-s.done
	}
	s.log.Close()
	if strings.HasPrefix(filepath.Base(s.dir), "atoll-pg-") {
		_ = os.RemoveAll(s.dir)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return nil // exit after a signal is the expected outcome
	}
	return err
}

func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pglocal: running as root needs the postgres OS user (installed with the postgresql package): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func chownTree(dir string, uid, gid int) error {
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pglocal: free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
