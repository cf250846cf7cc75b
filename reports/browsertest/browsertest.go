// Package browsertest opens a page in a real headless Chromium (Debian's
// chromium, which .ci/run installs) for the tests of what people look at.
// Without a browser the test is skipped, and fails when CI is set.
package browsertest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Page is a file opened in the browser at one viewport width.
type Page struct {
	t   *testing.T
	Ctx context.Context
	mu  sync.Mutex
	// problems are what the browser logged as errors: console errors,
	// uncaught exceptions, refused requests (the page's Content-Security-
	// Policy, a network fetch).
	problems []string
	requests []string
}

// Executable finds Chromium, or skips (fails under CI).
func Executable(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	msg := "no chromium on PATH: install Debian's chromium (apt-get install chromium), as .ci/run does"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Open loads file in a fresh headless Chromium with a viewport width×height
// and waits until it has loaded. The browser is closed when the test ends.
func Open(t *testing.T, file string, width, height int64) *Page {
	t.Helper()
	exe := Executable(t)
	// Not t.TempDir: Chromium may still be writing its profile when the
	// test's own cleanup would remove it.
	profile, err := os.MkdirTemp("", "eventaudit-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	// The flags keep a headless Chromium from reaching for Google's
	// services, which a closed network refuses noisily.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(int(width), int(height)),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() {
		_ = chromedp.Cancel(ctx) // closes the browser and waits for it
		cancelTime()
		cancel()
		cancelAlloc()
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	p := &Page{t: t, Ctx: ctx}
	chromedp.ListenTarget(ctx, func(ev any) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError || ev.Type == runtime.APITypeWarning || ev.Type == runtime.APITypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				p.problems = append(p.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			p.problems = append(p.problems, "exception: "+ev.ExceptionDetails.Error())
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.LevelError || ev.Entry.Level == log.LevelWarning {
				p.problems = append(p.problems, fmt.Sprintf("log %s (%s): %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		case *network.EventRequestWillBeSent:
			p.requests = append(p.requests, ev.Request.URL)
		}
	})
	u := url.URL{Scheme: "file", Path: file}
	if err := chromedp.Run(ctx,
		log.Enable(), runtime.Enable(), network.Enable(),
		chromedp.EmulateViewport(width, height),
		chromedp.Navigate(u.String()),
		chromedp.WaitReady("body", chromedp.ByQuery),
	); err != nil {
		t.Fatalf("open %s in chromium: %v", file, err)
	}
	return p
}

// Problems are the errors and warnings the browser logged so far.
func (p *Page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

// Requests are the URLs the page asked for, itself included.
func (p *Page) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// Eval evaluates a JavaScript expression in the page (the test's, not the
// page's: the page runs none) into out.
func (p *Page) Eval(expr string, out any) {
	p.t.Helper()
	if err := chromedp.Run(p.Ctx, chromedp.Evaluate(expr, out)); err != nil {
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
}

// Visible reports whether the element matched by a CSS selector is laid
// out with a non-empty box, inside the page's width, and not hidden.
func (p *Page) Visible(selector string) bool {
	p.t.Helper()
	var ok bool
	p.Eval(fmt.Sprintf(`(() => {
  const el = document.querySelector(%q);
  if (!el) return false;
  const r = el.getBoundingClientRect(), s = getComputedStyle(el);
  return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none" &&
    r.left >= 0 && r.left < document.documentElement.clientWidth;
})()`, selector), &ok)
	return ok
}

// Screenshot captures the whole page as a PNG.
func (p *Page) Screenshot() []byte {
	p.t.Helper()
	var png []byte
	if err := chromedp.Run(p.Ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		p.t.Fatalf("screenshot: %v", err)
	}
	return png
}

// Nodes are the elements matched by a CSS selector.
func (p *Page) Nodes(selector string) []*cdp.Node {
	p.t.Helper()
	var nodes []*cdp.Node
	if err := chromedp.Run(p.Ctx, chromedp.Nodes(selector, &nodes, chromedp.ByQueryAll, chromedp.AtLeast(0))); err != nil {
		p.t.Fatalf("query %s: %v", selector, err)
	}
	return nodes
}
