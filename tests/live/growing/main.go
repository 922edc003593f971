// Command growing is a live service for heapspot's integration tests: it serves
// net/http/pprof on 127.0.0.1 (a free port, printed on stdout as the base URL) and keeps
// every chunk allocated by a request to /grow in a package-level map, so its heap grows
// by exactly 256 KiB per request and never shrinks. The memory profile rate is 1, so
// every allocation is sampled and the profile's in-use bytes are exact.
//
// It exits when its standard input closes (the test that started it has gone) or after
// -lifetime, so a killed test run leaves nothing behind.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"sync"
	"time"
)

const (
	chunkSize     = 4096
	chunksPerGrow = 64 // 256 KiB per request to /grow
)

var (
	mu       sync.Mutex
	retained = map[int][]byte{}
)

// grow retains chunksPerGrow more chunks and answers with the bytes retained so far.
func grow(w http.ResponseWriter, _ *http.Request) {
	mu.Lock()
	defer mu.Unlock()
	for i := 0; i < chunksPerGrow; i++ {
		chunk := make([]byte, chunkSize) // growing: the leak the tests watch
		retained[len(retained)] = chunk  // the map's own growth is counted here, not above
	}
	fmt.Fprintf(w, "%d\n", len(retained)*chunkSize)
}

func main() {
	runtime.MemProfileRate = 1
	lifetime := flag.Duration("lifetime", 5*time.Minute, "exit after this long")
	flag.Parse()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "growing:", err)
		os.Exit(1)
	}
	http.HandleFunc("/grow", grow)
	fmt.Printf("http://%s\n", ln.Addr())

	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	go func() {
		time.Sleep(*lifetime)
		fmt.Fprintln(os.Stderr, "growing: lifetime over")
		os.Exit(0)
	}()
	if err := http.Serve(ln, nil); err != nil {
		fmt.Fprintln(os.Stderr, "growing:", err)
		os.Exit(1)
	}
}
