package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// readmeExample is a command the README shows, and the exit code it
// shows for it (0 unless an "exit N" line follows).
type readmeExample struct {
	line    int
	command string
	exit    int
}

// readmeExamples finds the README's commands that run on the fixtures:
// lines of its code blocks that start with synack (or "$ synack",
// "./synack") and name fixtures/, and the folded `run: >` commands of its
// CI job.
func readmeExamples(t *testing.T) []readmeExample {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	exitLine := regexp.MustCompile(`^exit (\d+)$`)
	var out []readmeExample
	inBlock := false
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "```") {
			inBlock = !inBlock
			continue
		}
		if !inBlock {
			continue
		}
		cmd := strings.TrimSpace(l)
		if strings.HasPrefix(cmd, "- run: >") { // a YAML folded block: its lines are one command
			var parts []string
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "          ") {
				i++
				parts = append(parts, strings.TrimSpace(lines[i]))
			}
			cmd = strings.Join(parts, " ")
		}
		cmd = strings.TrimPrefix(cmd, "$ ")
		if !(strings.HasPrefix(cmd, "synack ") || strings.HasPrefix(cmd, "./synack ")) {
			continue
		}
		// Usage lines name their files FILE (or FILE...) and DIR: those
		// run on fixtures; synopses ([FLAGS]) and pipelines into other
		// tools do not run here.
		if !strings.Contains(cmd, "fixtures/") {
			code, _, _ := strings.Cut(cmd, "#")
			if strings.ContainsAny(code, "[|>") || !regexp.MustCompile(`\bFILE\b`).MatchString(code) {
				continue
			}
			code = strings.ReplaceAll(code, "FILE...", "fixtures/greeting.pcap fixtures/dumpcap.pcapng")
			code = regexp.MustCompile(`\bFILE\b`).ReplaceAllString(code, "fixtures/greeting.pcap")
			cmd = strings.ReplaceAll(code, "DIR", "$TMPDIR/out")
		}
		ex := readmeExample{line: i + 1, command: strings.TrimPrefix(cmd, "./")}
		for j := i + 1; j < len(lines) && !strings.HasPrefix(lines[j], "```") && !strings.HasPrefix(lines[j], "$ "); j++ {
			if m := exitLine.FindStringSubmatch(lines[j]); m != nil {
				ex.exit, _ = strconv.Atoi(m[1])
			}
		}
		out = append(out, ex)
	}
	return out
}

// TestReadmeExamples runs the README's examples on the fixtures through
// the shell, as a reader pastes them, so that the README cannot drift
// from what synack does.
func TestReadmeExamples(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to run the examples with")
	}
	bin := synackBinary(t)
	examples := readmeExamples(t)
	if len(examples) < 5 {
		t.Fatalf("only %d examples found in the README", len(examples))
	}
	path := filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")
	for _, ex := range examples {
		t.Run(strconv.Itoa(ex.line), func(t *testing.T) {
			t.Log(ex.command)
			dir := t.TempDir()
			// Run from the repository (fixtures/ is relative), writing
			// any file the example asks for (--junit, -o) in a temporary
			// directory.
			cmd := exec.Command(sh, "-c", ex.command)
			cmd.Env = append(os.Environ(), "PATH="+path, "TMPDIR="+dir)
			cmd.Dir = "."
			out, _ := cmd.CombinedOutput()
			for _, f := range []string{"check.xml"} {
				os.Rename(f, filepath.Join(dir, f))
			}
			if code := cmd.ProcessState.ExitCode(); code != ex.exit {
				t.Errorf("README line %d: %s\nexit %d, the README says %d:\n%s", ex.line, ex.command, code, ex.exit, out)
			}
		})
	}
}
