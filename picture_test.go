package main

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSVGIsXML parses the SVG of every fixture, and checks the arrows.
func TestSVGIsXML(t *testing.T) {
	fixtures, _ := filepath.Glob("fixtures/*.pcap*")
	for _, f := range fixtures {
		if ext := filepath.Ext(f); ext != ".pcap" && ext != ".pcapng" {
			continue
		}
		code, out, stderr := runCLI("read", "--format", "svg", f)
		if code != exitOK && !strings.Contains(f, "truncated") {
			t.Fatalf("%s: exit %d: %s", f, code, stderr)
		}
		dec := xml.NewDecoder(strings.NewReader(out))
		lines, svgs := 0, 0
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: SVG is not XML: %v", f, err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				switch se.Name.Local {
				case "svg":
					svgs++
				case "line":
					lines++
				}
			}
		}
		if svgs != 1 || lines == 0 {
			t.Errorf("%s: %d svg elements, %d lines", f, svgs, lines)
		}
	}
}

func TestSelectionAppliesToEveryFormat(t *testing.T) {
	for _, format := range []string{"text", "json", "ndjson", "zeek", "svg", "html", "mermaid"} {
		code, out, stderr := runCLI("read", "--format", format, "--conn", "2", "fixtures/port-reuse.pcap")
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", format, code, stderr)
		}
		_, all, _ := runCLI("read", "--format", format, "fixtures/port-reuse.pcap")
		if len(out) >= len(all) {
			t.Errorf("%s: --conn 2 did not select (%d bytes, all %d)", format, len(out), len(all))
		}
	}
	code, out, _ := runCLI("read", "--format", "json", "--where", "verdict=no-answer", "fixtures/port-reuse.pcap")
	if code != exitOK || strings.Count(out, `"verdict": "no-answer"`) != 1 || strings.Count(out, `"id":`) != 1 {
		t.Errorf("--where verdict=no-answer:\n%s", out)
	}
}

// TestHTMLRendersInChromium renders the HTML report in headless Chromium
// and checks that the screenshot is not blank: it holds the arrows' blue.
func TestHTMLRendersInChromium(t *testing.T) {
	browser := ""
	for _, b := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(b); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Skip("no Chromium installed (apt-get install chromium): the HTML rendering test needs it")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	_, out, _ := runCLI("read", "--format", "html", "fixtures/greeting.pcap")
	if err := os.WriteFile(page, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "shot.png")
	cmd := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--window-size=1200,900", "--screenshot="+shot, "file://"+page)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	colors, blue := map[[3]uint32]bool{}, 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colors[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			if bl>>8 > 150 && r>>8 < 90 && g>>8 < 140 {
				blue++
			}
		}
	}
	if len(colors) < 20 || blue < 50 {
		t.Errorf("the screenshot looks blank: %d colours, %d blue pixels", len(colors), blue)
	}
}
