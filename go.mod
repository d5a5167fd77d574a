module synack

go 1.26.0

require (
	github.com/google/gopacket v1.1.19
	github.com/spf13/pflag v1.1.0
	golang.org/x/net v0.62.0
)

require golang.org/x/sys v0.50.0
