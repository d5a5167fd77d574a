package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"

	"synack/capture"
)

type versionFlags struct{}

func versionHelp() string { return "usage: synack version (or synack --version)\n" }

func parseVersionFlags(args []string) (versionFlags, error) {
	if len(args) == 1 && (args[0] == "--help" || args[0] == "-h") {
		return versionFlags{}, errHelp
	}
	return versionFlags{}, noArgs(args)
}

// runVersion prints what a bug report needs: synack's version and the
// commit it was built from (Go's build information), the Go version,
// gopacket's version and libpcap's.
func runVersion(_ context.Context, _ versionFlags, stdout, _ io.Writer) error {
	fmt.Fprint(stdout, versionText(capture.LibpcapVersion()))
	return nil
}

func versionText(libpcap string) string {
	version, revision, gopacket, goVersion := "(devel)", "unknown", "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		if v := bi.Main.Version; v != "" {
			version = v
		}
		settings := map[string]string{}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		if r := settings["vcs.revision"]; r != "" {
			revision = r
			if t := settings["vcs.time"]; t != "" {
				revision += " (" + t + ")"
			}
			if settings["vcs.modified"] == "true" {
				revision += ", with uncommitted changes"
			}
		}
		for _, d := range bi.Deps {
			if d.Path == "github.com/google/gopacket" {
				gopacket = d.Version
			}
		}
	}
	return fmt.Sprintf("synack %s\nrevision %s\n%s\ngopacket %s\n%s\n", version, revision, goVersion, gopacket, libpcap)
}
