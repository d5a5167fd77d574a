//go:build unix

package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"synack/capture"
	"synack/greet"
)

// needCapture skips a test where this process may not capture on the
// loopback interface (not root, no CAP_NET_RAW). CI runs as root, so there
// these tests run.
func needCapture(t *testing.T) {
	t.Helper()
	l, err := capture.OpenLive(capture.LiveConfig{})
	if errors.Is(err, capture.ErrPermission) {
		t.Skipf("live capture not permitted here (run as root or with CAP_NET_RAW): %v", err)
	}
	if err != nil {
		t.Fatalf("open loopback capture: %v", err)
	}
	l.Close()
}

// demoPorts hands each test its own port, so that a TIME-WAIT left by one
// scenario cannot meet the next.
var demoPorts atomic.Int32

func demoPort() string { return fmt.Sprint(23450 + demoPorts.Add(1)) }

type demoDoc struct {
	Connections []struct {
		ID      int
		Proto   string
		Verdict string
		Client  struct{ Port int }
		Events  []struct {
			Dir, Flags, Note, Preview string
			Len                       int
			Seq                       uint32
		}
	}
	Totals   struct{ TCP, UDP int }
	Capture  *struct{ Received uint64 }
	Programs []string
}

func demoJSON(t *testing.T, args ...string) (demoDoc, string) {
	t.Helper()
	code, out, stderr := runCLI(append([]string{"demo", "--format", "json"}, args...)...)
	if code != exitOK {
		t.Fatalf("demo %v: exit %d\nstderr: %s\nstdout: %s", args, code, stderr, out)
	}
	var doc demoDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("demo JSON: %v\n%s", err, out)
	}
	return doc, out
}

// flagsOf lists a connection's events as tcpdump flags with direction.
func sequence(doc demoDoc, i int) []string {
	var s []string
	for _, e := range doc.Connections[i].Events {
		s = append(s, e.Dir+" "+e.Flags)
	}
	return s
}

func has(seq []string, want ...string) bool {
	i := 0
	for _, s := range seq {
		if i < len(want) && s == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestDemoScenarios(t *testing.T) {
	needCapture(t)
	for _, tc := range []struct {
		scenario string
		verdict  string
		check    func(t *testing.T, doc demoDoc)
	}{
		{"greeting", "complete", func(t *testing.T, doc demoDoc) {
			seq := sequence(doc, 0)
			if !has(seq, "c2s S", "s2c S.", "c2s .") {
				t.Errorf("no three-way handshake: %v", seq)
			}
			var greeting, fins, lastAck bool
			for i, e := range doc.Connections[0].Events {
				if e.Dir == "s2c" && e.Len == 15 && strings.Contains(e.Preview, "Hello, Client!") {
					greeting = true
				}
				if strings.Contains(e.Flags, "F") {
					fins = fins || strings.Contains(e.Note, "client closes")
				}
				if i == len(doc.Connections[0].Events)-1 {
					lastAck = e.Flags == "." && e.Note == "connection closed"
				}
			}
			if !greeting || !fins || !lastAck || !has(seq, "s2c F.", "c2s F.") {
				t.Errorf("greeting %v, FIN each way %v, final ACK %v: %v", greeting, fins, lastAck, seq)
			}
		}},
		{"client-closes", "complete", func(t *testing.T, doc demoDoc) {
			if seq := sequence(doc, 0); !has(seq, "c2s S", "s2c S.", "c2s .", "s2c P.", "c2s F.", "s2c F.") {
				t.Errorf("client did not close first: %v", seq)
			}
		}},
		{"refused", "refused", func(t *testing.T, doc demoDoc) {
			if seq := sequence(doc, 0); strings.Join(seq, ",") != "c2s S,s2c R." {
				t.Errorf("want [S] then [R.], got %v", seq)
			}
			if !strings.Contains(strings.Join(doc.Programs, "\n"), "connection refused") {
				t.Errorf("the client's error is not shown: %v", doc.Programs)
			}
		}},
		{"reset", "reset", func(t *testing.T, doc demoDoc) {
			if seq := sequence(doc, 0); !has(seq, "c2s S", "s2c S.", "c2s .", "s2c P.", "s2c R.") || strings.Contains(strings.Join(seq, ","), "F") {
				t.Errorf("want data then RST and no FIN: %v", seq)
			}
		}},
		{"half-close", "complete", func(t *testing.T, doc demoDoc) {
			if seq := sequence(doc, 0); !has(seq, "c2s P.", "c2s F.", "s2c P.", "s2c F.") {
				t.Errorf("server did not keep sending after the client's FIN: %v", seq)
			}
		}},
		{"udp", "complete", func(t *testing.T, doc demoDoc) {
			if len(doc.Connections) != 2 || doc.Connections[1].Proto != "udp" || doc.Connections[1].Verdict != "udp" {
				t.Fatalf("want the TCP greeting and one UDP flow: %+v", doc.Connections)
			}
			udp := doc.Connections[1]
			if len(udp.Events) != 2 || udp.Events[0].Dir != "c2s" || udp.Events[1].Dir != "s2c" || udp.Events[0].Flags != "" ||
				!strings.Contains(udp.Events[1].Preview, "Hello, Client!") {
				t.Errorf("want two datagrams, request and greeting: %+v", udp.Events)
			}
			if tcp := doc.Connections[0]; tcp.Proto != "tcp" || tcp.Client.Port != udp.Client.Port {
				t.Errorf("want the TCP greeting and the UDP flow from the demo's one client port: %+v", doc.Connections)
			}
		}},
		{"data", "complete", func(t *testing.T, doc demoDoc) {
			// The highest byte sent, not the sum of the segments: on a
			// loaded machine loopback retransmits now and then.
			var sent int
			for _, e := range doc.Connections[0].Events {
				if e.Dir == "s2c" && e.Len > 0 {
					sent = max(sent, int(e.Seq)-1+e.Len)
				}
			}
			if sent != 15+greet.DataSize {
				t.Errorf("the server sent %d bytes, want the greeting and %d more", sent, greet.DataSize)
			}
		}},
		{"time-wait", "complete", func(t *testing.T, doc demoDoc) {
			lines := strings.Join(doc.Programs, "\n")
			for _, want := range []string{"is in TIME-WAIT now", "without SO_REUSEADDR: bind() failed: address already in use",
				"with SO_REUSEADDR (what Go and most servers set): bound"} {
				if !strings.Contains(lines, want) {
					t.Errorf("the programs do not say %q:\n%s", want, lines)
				}
			}
		}},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			doc, _ := demoJSON(t, "--scenario", tc.scenario, "--port", demoPort())
			if len(doc.Connections) == 0 || doc.Connections[0].Verdict != tc.verdict {
				t.Fatalf("want a %s connection first: %+v", tc.verdict, doc.Connections)
			}
			if doc.Capture == nil || doc.Capture.Received == 0 {
				t.Errorf("libpcap counters missing: %+v", doc.Capture)
			}
			tc.check(t, doc)
		})
	}
}

// TestDemoWriteRoundTrip checks that the -w file holds what the demo saw:
// `synack read` of it reports the same connections.
func TestDemoWriteRoundTrip(t *testing.T) {
	needCapture(t)
	path := filepath.Join(t.TempDir(), "demo.pcap")
	_, live := demoJSON(t, "--port", demoPort(), "-w", path)
	code, offline, stderr := runCLI("read", "--format", "json", path)
	if code != exitOK {
		t.Fatalf("read %s: exit %d: %s", path, code, stderr)
	}
	// The connections, without the demo's socket calls: a file holds
	// packets only.
	conns := func(doc string) string {
		var d struct{ Connections []map[string]any }
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			t.Fatal(err)
		}
		for _, c := range d.Connections {
			delete(c, "calls")
		}
		out, _ := json.Marshal(d.Connections)
		return string(out)
	}
	if a, b := conns(live), conns(offline); a != b {
		t.Errorf("connections differ:\nlive:    %s\noffline: %s", a, b)
	}
	if tcpdump, err := exec.LookPath("tcpdump"); err == nil {
		out, err := exec.Command(tcpdump, "-nn", "-r", path).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Flags [S]") {
			t.Errorf("tcpdump cannot read the -w file: %v\n%s", err, out)
		}
	}
}

// TestLiveStopsOnSIGINT runs `synack live -w` as a process, makes a
// connection, interrupts it, and checks the exit code, the report and the
// written file.
func TestLiveStopsOnSIGINT(t *testing.T) {
	needCapture(t)
	dir := t.TempDir()
	bin := synackBinary(t)
	port := demoPort()
	pcap := filepath.Join(dir, "live.pcap")
	var stdout strings.Builder
	cmd, stderr := startLive(t, &stdout, "live", "-w", pcap, "tcp", "port", port)
	srv := exec.Command(bin, "serve", "--once", "--port", port)
	srvOut, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	// The server prints "server: listening on …" once it listens.
	if line, err := bufio.NewReader(srvOut).ReadString('\n'); !strings.Contains(line, "listening") {
		t.Fatalf("serve: %q %v", line, err)
	}
	out, err := exec.Command(bin, "connect", "--port", port).Output()
	srv.Wait()
	if !strings.Contains(string(out), "Hello, Client!") {
		t.Fatalf("connect: %v: %s", err, out)
	}
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	rest, _ := io.ReadAll(stderr)
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Errorf("exit %v, want 130\nstderr: %s", err, rest)
	}
	if got := stdout.String(); !strings.Contains(got, "handshake complete") || !strings.Contains(got, "totals: 1 connection (1 complete)") {
		t.Errorf("live output lacks the connection:\n%s", got)
	}
	code, rep, errs := runCLI("read", "--no-timeline", pcap)
	if code != exitOK || !strings.Contains(rep, "1 complete") {
		t.Errorf("the -w file after SIGINT: exit %d %s\n%s", code, errs, rep)
	}
	if _, err := os.Stat(pcap); err != nil {
		t.Error(err)
	}
}

func TestLiveErrors(t *testing.T) {
	needCapture(t)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"missing interface", []string{"live", "-i", "nosuch0", "-c", "1"}, exitCapture, "no such interface"},
		{"bad filter", []string{"live", "-c", "1", "tcp", "prot", "80"}, exitUsage, `bad filter "tcp prot 80"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d stderr %q; want %d and %q", code, stderr, tc.code, tc.stderr)
			}
		})
	}
}

// TestPrivilegeDrop runs `synack live -w` as root under a pretend sudo
// by the real unprivileged user nobody (SUDO_UID 65534): once capturing,
// the process runs as nobody and the -w file is created by nobody, so it
// can be written only where nobody could write, and never through a
// symbolic link; with -Z root it stays root, and still refuses a link
// unless --follow-symlinks says otherwise.
func TestPrivilegeDrop(t *testing.T) {
	needCapture(t)
	if os.Geteuid() != 0 {
		t.Skip("dropping privileges needs root to start from")
	}
	const nobody = 65534
	// A directory nobody may write to (t.TempDir's parents are root's
	// and closed), and one only root may.
	open, err := os.MkdirTemp("", "synack-privdrop-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(open) })
	if err := os.Chown(open, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	closed := t.TempDir()
	victim := filepath.Join(closed, "victim") // root's, 0644: nobody may read it, not write it
	const secret = "root's file\n"
	if err := os.WriteFile(victim, []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(open, "link.pcap")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	bin := synackBinary(t)
	for _, tc := range []struct {
		name   string
		path   string
		extra  []string
		uid    int    // who runs the capture
		owner  int    // who owns the -w file; -1: it must not be written
		stderr string // for a refusal
	}{
		{"default under sudo", filepath.Join(open, "nobody.pcap"), nil, nobody, nobody, ""},
		{"-Z root", filepath.Join(open, "root.pcap"), []string{"-Z", "root"}, 0, 0, ""},
		{"where nobody may not write", filepath.Join(closed, "x.pcap"), nil, nobody, -1, "permission denied"},
		{"a symbolic link to root's file", link, nil, nobody, -1, "is a symbolic link"},
		{"a symbolic link under -Z root", link, []string{"-Z", "root"}, 0, -1, "is a symbolic link (--follow-symlinks writes through it)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"live", "--duration", "1s", "-w", tc.path}, tc.extra...)
			cmd := exec.Command(bin, append(args, "tcp", "port", demoPort())...)
			cmd.Env = append(os.Environ(), "SUDO_UID=65534", "SUDO_GID=65534", "SUDO_USER=nobody")
			var stderr strings.Builder
			errPipe, _ := cmd.StderrPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(errPipe)
			for sc.Scan() {
				stderr.WriteString(sc.Text() + "\n")
				if strings.Contains(sc.Text(), "capturing on") {
					status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
					if err != nil {
						t.Fatal(err)
					}
					want := fmt.Sprintf("Uid:\t%d\t%d\t%d\t%d", tc.uid, tc.uid, tc.uid, tc.uid)
					if !strings.Contains(string(status), want) {
						t.Errorf("while capturing, /proc status lacks %q:\n%s", want, status)
					}
				}
			}
			cmd.Wait()
			code := cmd.ProcessState.ExitCode()
			if tc.owner < 0 {
				if code != exitCapture || !strings.Contains(stderr.String(), tc.stderr) {
					t.Errorf("exit %d, want %d and %q in:\n%s", code, exitCapture, tc.stderr, stderr.String())
				}
				if got, _ := os.ReadFile(victim); string(got) != secret {
					t.Errorf("root's file was changed: %q", got)
				}
				if st, _ := os.Stat(victim); st.Sys().(*syscall.Stat_t).Uid != 0 {
					t.Errorf("root's file changed hands")
				}
				return
			}
			st, err := os.Stat(tc.path)
			if err != nil {
				t.Fatalf("%v (exit %d: %s)", err, code, stderr.String())
			}
			if owner := int(st.Sys().(*syscall.Stat_t).Uid); owner != tc.owner {
				t.Errorf("the -w file belongs to uid %d, want %d", owner, tc.owner)
			}
			if code, _, stderr := runCLI("read", tc.path); code != exitOK {
				t.Errorf("the -w file does not read back: %s", stderr)
			}
		})
	}
	t.Run("--follow-symlinks under -Z root", func(t *testing.T) {
		code, _, stderr := runCLI("live", "--duration", "200ms", "-Z", "root", "--follow-symlinks", "-w", link, "tcp", "port", demoPort())
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if code, _, stderr := runCLI("read", victim); code != exitOK {
			t.Errorf("written through the link, the file does not read back: %s", stderr)
		}
	})
}

// TestCapabilitiesDropped runs a setcap'd copy of synack as the real
// unprivileged user nobody, as `make setcap` sets it up: CAP_NET_RAW and
// CAP_NET_ADMIN open the handle, and once it is open no thread of the
// process holds any capability (/proc/PID/task/*/status), while the
// capture still sees the traffic.
func TestCapabilitiesDropped(t *testing.T) {
	needCapture(t)
	if os.Geteuid() != 0 {
		t.Skip("setting file capabilities and becoming nobody need root")
	}
	setcap, err := exec.LookPath("setcap")
	if err != nil {
		t.Skip("setcap not installed (Debian: libcap2-bin; make deps installs it)")
	}
	dir, err := os.MkdirTemp("", "synack-caps-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "synack")
	data, err := os.ReadFile(synackBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	if out, err := exec.Command(setcap, "cap_net_raw,cap_net_admin=eip", bin).CombinedOutput(); err != nil {
		t.Skipf("setcap on %s: %v: %s (a file system without extended attributes?)", dir, err, out)
	}
	addr := greetingListener(t)
	_, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command(bin, "live", "--duration", "2s", "--no-timeline", "tcp", "port", port)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stdout strings.Builder
	cmd.Stdout = &stdout
	errPipe, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(errPipe)
	var stderr strings.Builder
	for sc.Scan() {
		stderr.WriteString(sc.Text() + "\n")
		if !strings.Contains(sc.Text(), "capturing on") {
			continue
		}
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", cmd.Process.Pid))
		for _, task := range tasks {
			status, err := os.ReadFile(task)
			if err != nil {
				continue // the thread ended
			}
			for _, set := range []string{"CapEff", "CapPrm", "CapInh"} {
				if want := set + ":\t0000000000000000"; !strings.Contains(string(status), want) {
					t.Errorf("%s lacks %q while capturing:\n%s", task, want, status)
				}
			}
		}
		if len(tasks) < 2 {
			t.Errorf("only %d threads seen", len(tasks))
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			io.ReadAll(c)
			c.Close()
		}
	}
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "1 complete") {
		t.Errorf("the greeting was not captured after the capabilities were dropped:\n%s", stdout.String())
	}
}

// TestDemoIsolation: a demo shows its own connection and nothing else —
// not other clients of its port (another demo's, a straggler's), not a
// refused SYN of someone else's; a default port that is taken makes it
// pick another and say so; a capture interface that cannot see loopback
// traffic is refused with the reason.
func TestDemoIsolation(t *testing.T) {
	needCapture(t)
	t.Run("others on the same port are not shown", func(t *testing.T) {
		port := demoPort()
		stop := make(chan struct{})
		var others atomic.Int32
		go func() { // someone else keeps connecting to the demo's port
			for {
				select {
				case <-stop:
					return
				default:
				}
				if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
					c.Close()
				}
				others.Add(1)
				time.Sleep(2 * time.Millisecond)
			}
		}()
		doc, _ := demoJSON(t, "--port", port)
		close(stop)
		if others.Load() < 10 {
			t.Fatalf("only %d other connections tried", others.Load())
		}
		var client string
		for _, p := range doc.Programs {
			if rest, ok := strings.CutPrefix(p, "client: 127.0.0.1:"); ok {
				client, _, _ = strings.Cut(rest, " ")
			}
		}
		if len(doc.Connections) != 1 || fmt.Sprint(doc.Connections[0].Client.Port) != client {
			t.Errorf("want only the demo's own connection (client port %s), got %d connections: %+v", client, len(doc.Connections), doc.Connections)
		}
	})
	t.Run("a default port that is taken", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:12345")
		if err != nil {
			t.Skipf("cannot hold port 12345 for the test: %v", err)
		}
		defer ln.Close()
		code, out, stderr := runCLI("demo", "--format", "json")
		if code != exitOK || !strings.Contains(stderr, "synack demo: port 12345 is taken; the server listens on ") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		var doc demoDoc
		if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Connections) != 1 || doc.Connections[0].Verdict != "complete" {
			t.Errorf("want the greeting on another port: %v\n%s", err, out)
		}
	})
	t.Run("an interface that does not carry loopback", func(t *testing.T) {
		devs, err := capture.Devices()
		if err != nil {
			t.Fatal(err)
		}
		iface := ""
		for _, d := range devs {
			if !d.Loopback && d.Name != "any" && !strings.HasPrefix(d.Name, "nf") && !strings.HasPrefix(d.Name, "bluetooth") && !strings.HasPrefix(d.Name, "dbus") {
				iface = d.Name
				break
			}
		}
		if iface == "" {
			t.Skip("no interface here other than loopback")
		}
		code, _, stderr := runCLI("demo", "-i", iface, "--port", demoPort())
		if code != exitUsage || !strings.Contains(stderr, "talk over loopback (127.0.0.1), which "+iface+" does not carry") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

// TestLivePrintsPromptly: per-packet lines are buffered (one write for
// many packets), yet a packet's line shows within a moment of its
// capture while synack goes on capturing: the buffer is flushed when the
// capture goes idle.
func TestLivePrintsPromptly(t *testing.T) {
	needCapture(t)
	addr := greetingListener(t)
	_, port, _ := strings.Cut(addr, ":")
	pr, pw := io.Pipe()
	cmd, _ := startLive(t, pw, "live", "--color", "never", "tcp", "port", port)
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if c, err := net.Dial("tcp", addr); err == nil {
		io.ReadAll(c)
		c.Close()
	}
	seen := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Hello, Client!") {
				seen <- sc.Text()
				return
			}
		}
	}()
	select {
	case line := <-seen:
		t.Logf("shown while capturing: %s", line)
	case <-time.After(2 * time.Second):
		t.Fatal("the greeting's packet was not shown within 2 s while capturing")
	}
}

// TestDemoExplains: the demo, a learner's first run, explains by default
// (each kind of segment once, and why the connection ended), and
// --explain=false turns it off.
func TestDemoExplains(t *testing.T) {
	needCapture(t)
	code, out, stderr := runCLI("demo", "--color", "never", "--port", demoPort())
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"↳ The client's SYN opens the connection", "↳ The server's SYN-ACK does two things at once",
		"↳ TIME-WAIT: the side that closed first", "Why it ended so: complete."} {
		if strings.Count(out, want) != 1 {
			t.Errorf("%q shown %d times, want once:\n%s", want, strings.Count(out, want), out)
		}
	}
	_, plain, _ := runCLI("demo", "--color", "never", "--explain=false", "--port", demoPort())
	if strings.Contains(plain, "↳") || strings.Contains(plain, "Why it ended so") {
		t.Errorf("--explain=false still explains:\n%s", plain)
	}
	code, page, _ := runCLI("read", "--format", "html", "--explain", "fixtures/greeting.pcap")
	if code != exitOK || !strings.Contains(page, `<ol class="explain">`) || !strings.Contains(page, "Why it ended so: complete.") {
		t.Errorf("HTML --explain: exit %d, no explanations", code)
	}
}

// TestLiveStreamsAsConnectionsEnd: with --format ndjson or zeek, a
// connection is written within about a second of its close timeout (10 s
// after its last packet) while the capture goes on, even when no other
// packet comes to move the decoder's clock; before, nothing was written
// until the capture stopped.
func TestLiveStreamsAsConnectionsEnd(t *testing.T) {
	needCapture(t)
	if testing.Short() {
		t.Skip("-short: waits out the 10 s close timeout")
	}
	for _, tc := range []struct{ format, want string }{{"ndjson", `"type":"connection"`}, {"zeek", "\tSF\t"}} {
		t.Run(tc.format, func(t *testing.T) {
			t.Parallel()
			addr := greetingListener(t)
			_, port, _ := strings.Cut(addr, ":")
			pr, pw := io.Pipe()
			cmd, _ := startLive(t, pw, "live", "--format", tc.format, "tcp", "port", port)
			defer func() { cmd.Process.Kill(); cmd.Wait() }()
			if c, err := net.Dial("tcp", addr); err == nil {
				io.ReadAll(c)
				c.Close()
			}
			closed := time.Now()
			seen := make(chan struct{})
			go func() {
				sc := bufio.NewScanner(pr)
				for sc.Scan() {
					if strings.Contains(sc.Text(), tc.want) {
						close(seen)
						return
					}
				}
			}()
			select {
			case <-seen:
				t.Logf("%s: written %v after the connection closed", tc.format, time.Since(closed).Round(100*time.Millisecond))
			case <-time.After(14 * time.Second):
				t.Fatalf("%s: the connection was not written within 14 s of its close, the capture still running", tc.format)
			}
		})
	}
}

// TestDemoSocketCalls: the demo sets its programs' socket calls beside
// the segments they cause, dated by the clock that dates the packets, and
// the order is TCP's: connect() is called before the SYN and returns
// after the SYN-ACK; accept() returns after the handshake's ACK; each
// close() is called before its side's FIN.
func TestDemoSocketCalls(t *testing.T) {
	needCapture(t)
	code, out, stderr := runCLI("demo", "--format", "json", "--port", demoPort())
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkCallOrder(t, out, "client", "server")
	_, text, _ := runCLI("demo", "--color", "never", "--explain=false", "--port", demoPort())
	if !strings.Contains(text, "· client: connect() called") || !strings.Contains(text, "· server: accept() returns") {
		t.Errorf("the timeline does not show the calls:\n%s", text)
	}
}

// checkCallOrder checks, in the JSON document out of one greeting
// connection, that the socket calls of sides ("client", "server") sit
// where TCP puts them among the segments: connect() called before the
// SYN and returning after the SYN-ACK; accept() returning after the
// handshake's ACK; each close() called before its side's FIN.
func checkCallOrder(t *testing.T, out string, sides ...string) {
	t.Helper()
	var doc struct {
		Connections []struct {
			Events []struct {
				Tus   int64 `json:"t_us"`
				Dir   string
				Flags string
			}
			Calls []struct {
				Side, Call string
				Start      int64 `json:"start_us"`
				Return     int64 `json:"return_us"`
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Connections) != 1 {
		t.Fatalf("want one connection: %v\n%s", err, out)
	}
	c := doc.Connections[0]
	at := func(dir, flags string) int64 {
		for _, e := range c.Events {
			if e.Dir == dir && e.Flags == flags {
				return e.Tus
			}
		}
		t.Fatalf("no %s %s", dir, flags)
		return 0
	}
	call := func(side, name string) (start, ret int64) {
		for _, k := range c.Calls {
			if k.Side == side && k.Call == name {
				return k.Start, k.Return
			}
		}
		t.Fatalf("no %s %s() in %+v", side, name, c.Calls)
		return 0, 0
	}
	for _, k := range c.Calls {
		if !slices.Contains(sides, k.Side) {
			t.Errorf("a call of the %s, which is not in this capture's program: %+v", k.Side, k)
		}
	}
	syn, synack, ack := at("c2s", "S"), at("s2c", "S."), at("c2s", ".")
	type order struct {
		what          string
		before, after int64
	}
	var orders []order
	if slices.Contains(sides, "client") {
		connectStart, connectReturn := call("client", "connect")
		clientClose, _ := call("client", "close")
		orders = append(orders,
			order{"connect() called before the SYN", connectStart, syn},
			order{"connect() returns after the SYN-ACK", synack, connectReturn},
			order{"the client's close() before its FIN", clientClose, at("c2s", "F.")})
	}
	if slices.Contains(sides, "server") {
		_, acceptReturn := call("server", "accept")
		serverClose, _ := call("server", "close")
		orders = append(orders,
			order{"accept() returns after the handshake's ACK", ack, acceptReturn},
			order{"the server's close() before its FIN", serverClose, at("s2c", "F.")})
	}
	for _, o := range orders {
		if o.before > o.after {
			t.Errorf("%s: %d µs, then %d µs", o.what, o.before, o.after)
		}
	}
}

// TestDemoSYNDrop: with the server's accept queue full, the kernel drops
// the client's SYNs; the demo shows them retransmitted until connect()
// times out, which is the scenario's point (exit 0).
func TestDemoSYNDrop(t *testing.T) {
	needCapture(t)
	doc, _ := demoJSON(t, "--scenario", "syn-drop", "--timeout", "2500ms", "--port", demoPort())
	if len(doc.Connections) != 1 || doc.Connections[0].Verdict != "no-answer" {
		t.Fatalf("want one unanswered connection: %+v", doc.Connections)
	}
	seq := sequence(doc, 0)
	if len(seq) < 2 || !has(seq, "c2s S") || strings.Contains(strings.Join(seq, ","), "s2c") {
		t.Errorf("want SYNs only, retransmitted: %v", seq)
	}
	if !strings.Contains(strings.Join(doc.Programs, "\n"), "timed out") {
		t.Errorf("the client's timeout is not shown: %v", doc.Programs)
	}
}

// TestLiveNFLOG captures on an NFLOG group (nftables' `log group`):
// libpcap's NFLOG reader fails on a non-blocking read, so this handle is
// read only once poll says a message is there; the kernel batches logged
// packets for up to a second, so a stop waits for them; and a small -s
// must not cut the sixth packet of a batch (libpcap sizes its buffer by
// the snaplen). A greeting logged both ways must come out as one complete
// connection of 8 packets, none malformed.
func TestLiveNFLOG(t *testing.T) {
	needCapture(t)
	nft, err := exec.LookPath("nft")
	if err != nil {
		t.Skip("nft (nftables) is not installed: no NFLOG group to capture on")
	}
	addr := greetingListener(t)
	_, port, _ := net.SplitHostPort(addr)
	table := "synack_nflog_test_" + port
	const group = "17"
	for _, cmd := range [][]string{
		{"add", "table", "inet", table},
		{"add", "chain", "inet", table, "out", "{ type filter hook output priority 0; }"},
		{"add", "rule", "inet", table, "out", "tcp", "dport", port, "log", "group", group},
		{"add", "rule", "inet", table, "out", "tcp", "sport", port, "log", "group", group},
	} {
		if out, err := exec.Command(nft, cmd...).CombinedOutput(); err != nil {
			t.Skipf("nft %v: %v: %s (no nftables in this kernel?)", cmd, err, out)
		}
	}
	t.Cleanup(func() { exec.Command(nft, "delete", "table", "inet", table).Run() })

	var stdout strings.Builder
	written := filepath.Join(t.TempDir(), "nflog.pcap")
	cmd, stderr := startLive(t, &stdout, "live", "-i", "nflog:"+group, "--format", "json", "-s", "96", "-w", written)
	const conns = 50 // 400 packets: the kernel batches them, up to 100 a datagram
	for range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, c)
		c.Close()
	}
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	rest, _ := io.ReadAll(stderr)
	if err := cmd.Wait(); cmd.ProcessState.ExitCode() != 130 {
		t.Fatalf("live -i nflog:%s: %v\n%s", group, err, rest)
	}
	var doc struct {
		Source struct {
			LinkType string `json:"link_type"`
		}
		Totals struct {
			Frames, Malformed, Connections int
			Verdicts                       map[string]int
		}
	}
	if err := json.Unmarshal([]byte(stdout.String()), &doc); err != nil {
		t.Fatalf("%v\n%.300s", err, stdout.String())
	}
	if doc.Source.LinkType != "NFLOG" || doc.Totals.Connections != conns || doc.Totals.Verdicts["complete"] != conns ||
		doc.Totals.Frames != 8*conns || doc.Totals.Malformed != 0 {
		t.Errorf("link type %q, totals %+v; want NFLOG, %d complete, %d frames, none malformed\n%s",
			doc.Source.LinkType, doc.Totals, conns, 8*conns, rest)
	}
	// The -w file's header must not claim a snaplen below its records'
	// lengths (NFLOG records are whole messages, whatever -s says).
	raw, err := os.ReadFile(written)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) < 24 || binary.LittleEndian.Uint32(raw[16:]) < 262144 {
		t.Errorf("-w file header: %x; want a snaplen of 262144", raw[:min(len(raw), 24)])
	}
	if got := runBinary(t, synackBinary(t), "read", "--summary", written); !strings.Contains(string(got.stdout), fmt.Sprintf("%d frames: %d TCP, 0 non-TCP, 0 malformed", 8*conns, 8*conns)) {
		t.Errorf("the -w file read back:\n%s%s", got.stdout, got.stderr)
	}
}

// TestDemoNDJSONNamesItsSource: the demo's NDJSON rows name the interface
// they were captured on, as a file's name its file: the rows of a capture
// whose source is known only once it is open are written in turn, not
// rendered ahead.
func TestDemoNDJSONNamesItsSource(t *testing.T) {
	needCapture(t)
	code, out, stderr := runCLI("demo", "--format", "ndjson", "--port", demoPort())
	if code != exitOK {
		t.Fatalf("demo: exit %d\nstderr: %s", code, stderr)
	}
	rows := 0
	for line := range strings.Lines(out) {
		var row struct{ Type, Source string }
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			continue // the programs' lines
		}
		if row.Type == "connection" {
			rows++
			if row.Source == "" {
				t.Errorf("a connection row names no source: %s", line)
			}
		}
	}
	if rows == 0 {
		t.Errorf("no connection row:\n%s", out)
	}
}
