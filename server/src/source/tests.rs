//! Snapshot tests of the workspace index: fixture texts with Go files by path, loaded and
//! dumped (see `fixture.rs`); `UPDATE_EXPECT=1 cargo test` regenerates the snapshots.

use std::path::Path;

use expect_test::expect;

use super::constraint::BuildContext;
use super::fixture::{check, dump, load};
use super::index::{LoadOptions, Update, Workspace};

fn linux() -> LoadOptions {
    LoadOptions {
        build: BuildContext::new("linux", "amd64"),
        ..LoadOptions::default()
    }
}

#[test]
fn methods_generics_and_struct_fields() {
    check(
        r#"
-- go.mod --
module example.com/shop

go 1.22
-- cache/store.go --
package cache

import "sync"

// Store keeps pages.
type Store struct {
	sync.Mutex
	*Stats
	items      map[string][]byte
	hits, miss int
}

type Box[T any] struct{ v []T }

func (s *Store) Put(k string, v []byte) {
	s.items[k] = v
}

func (s Store) Len() int { return len(s.items) }

func (b *Box[T]) Add(x T) {
	b.v = append(b.v, x)
	func() { b.v = b.v[:0] }()
}

func (Box[T]) Zero() {}

func Collect[T any](items []T, keep func(T) bool) []T {
	var out []T
	for _, it := range items {
		if keep(it) {
			out = append(out, it)
		}
	}
	sort := func() {}
	sort()
	return out
}
"#,
        expect![[r#"
            module example.com/shop at . go 1.22
            cache/store.go: package cache (example.com/shop/cache)
              method (*Store).Put 15-17 body 15-17
              method Store.Len 19-19 body 19-19
              method (*Box[...]).Add 21-24 body 21-24
              closure (*Box[...]).Add.func1 23-23 body 23-23 in (*Box[...]).Add
              method Box[...].Zero 26-26 body 26-26
              func Collect[...] 28-38 body 28-38
              closure Collect[...].func1 35-35 body 35-35 in Collect[...]
              struct Store @6-11 { Mutex sync.Mutex; Stats *Stats; items map[string][]byte; hits int; miss int }
              struct Box @13-13 { v []T }
              index-write s.items @16 in (*Store).Put
              call len @19 in Store.Len
              append b.v @22 in (*Box[...]).Add
              call append @22 in (*Box[...]).Add
              call func @23 in (*Box[...]).Add
              assign b.v @23 in (*Box[...]).Add.func1
              call keep @31 in Collect[...]
              call append @32 in Collect[...]
              call sort @36 in Collect[...]
        "#]],
    );
}

#[test]
fn closures_nested_three_deep_and_in_package_initializers() {
    check(
        r#"
-- go.mod --
module example.com/c
-- main.go --
package main

var hooks = []func(){
	func() { println("a") },
	func() {
		func() {}()
	},
}

var single = func() int { return 1 }

func startWorkers(n int) {
	for w := 0; w < n; w++ {
		go func() {
			render := func() []byte {
				return func() []byte {
					return make([]byte, 10)
				}()
			}
			tag := func() {}
			render()
			tag()
		}()
	}
}

func main() {
	startWorkers(2)
	defer func() {}()
}
"#,
        expect![[r#"
            module example.com/c at .
            main.go: package main (example.com/c)
              closure init.func1 4-4 body 4-4
              closure init.func2 5-7 body 5-7
              closure init.func2.1 6-6 body 6-6 in init.func2
              closure init.func3 10-10 body 10-10
              func startWorkers 12-25 body 12-25
              closure startWorkers.func1 14-23 body 14-23 in startWorkers
              closure startWorkers.func1.1 15-19 body 15-19 in startWorkers.func1
              closure startWorkers.func1.1.1 16-18 body 16-18 in startWorkers.func1.1
              closure startWorkers.func1.2 20-20 body 20-20 in startWorkers.func1
              func main 27-30 body 27-30
              closure main.func1 29-29 body 29-29 in main
              var hooks []func() = []func(){⏎	func() { println("a") },⏎	func() {⏎		func() {}()⏎	},⏎} @3
              var single = func() int { return 1 } @10
              call println @4 in init.func1
              call func @6 in init.func2
              call func @14 in startWorkers
              call func @16 in startWorkers.func1.1
              call make @17 in startWorkers.func1.1.1
              call render @21 in startWorkers.func1
              call tag @22 in startWorkers.func1
              call startWorkers @28 in main
              call func @29 in main
        "#]],
    );
}

#[test]
fn init_functions_and_initializer_closures_are_numbered_across_files() {
    check(
        r#"
-- go.mod --
module example.com/inits
-- b.go --
package inits

var b = func() int { return 2 }

func init() { func() {}() }
func init() {}
-- a.go --
package inits

var a = func() int { return 1 }

func init() {}
-- c_windows.go --
package inits

func init() {}
-- d_test.go --
package inits

func init() {}
-- x_test.go --
package inits_test

func init() {}
"#,
        expect![[r#"
            module example.com/inits at .
            a.go: package inits (example.com/inits)
              closure init.func1 3-3 body 3-3
              func init.0 5-5 body 5-5
              var a = func() int { return 1 } @3
            b.go: package inits (example.com/inits)
              closure init.func2 3-3 body 3-3
              func init.1 5-5 body 5-5
              closure init.1.func1 5-5 body 5-5 in init.1
              func init.2 6-6 body 6-6
              var b = func() int { return 2 } @3
              call func @5 in init.1
            c_windows.go: package inits (example.com/inits) [not-in-build]
              func init.4 3-3 body 3-3
            d_test.go: package inits (example.com/inits) [test]
              func init.3 3-3 body 3-3
            x_test.go: package inits_test (example.com/inits_test) [test]
              func init.0 3-3 body 3-3
        "#]],
    );
}

#[test]
fn go_work_with_two_modules() {
    check(
        r#"
-- go.work --
go 1.23

use (
	./api // the API
	"./svc"
)
-- api/go.mod --
module example.com/api

go 1.23
-- api/types.go --
package api

type Request struct{ ID string }
-- svc/go.mod --
module example.com/svc // the service

go 1.22.4
-- svc/main.go --
package main

func main() {}
-- svc/internal/store/store.go --
package store

var sessions = make(map[string]*Session)

func Touch(id string) { sessions[id] = &Session{} }
-- tools/gen.go --
package main

func main() {}
"#,
        expect![[r#"
            module example.com/api at api go 1.23
            module example.com/svc at svc go 1.22.4
            api/types.go: package api (example.com/api)
              struct Request @3-3 { ID string }
            svc/internal/store/store.go: package store (example.com/svc/internal/store)
              func Touch 5-5 body 5-5
              var sessions map[string]*Session = make(map[string]*Session) @3
              call make @3 in -
              index-write sessions @5 in Touch
            svc/main.go: package main (example.com/svc)
              func main 3-3 body 3-3
            tools/gen.go: package main (tools)
              func main 3-3 body 3-3
        "#]],
    );
}

const VENDORED: &str = r#"
-- go.mod --
module example.com/app
-- main.go --
package main

import "github.com/acme/lru"

func main() { lru.New(10) }
-- vendor/modules.txt --
# github.com/acme/lru v1.0.0
## explicit
github.com/acme/lru
-- vendor/github.com/acme/lru/lru.go --
package lru

type Cache struct{ items map[string]any }

func New(n int) *Cache { return &Cache{items: make(map[string]any, n)} }
-- testdata/skip.go --
package skip
-- .hidden/skip.go --
package skip
-- _tools/skip.go --
package skip
"#;

#[test]
fn vendor_is_skipped_until_asked_for() {
    let (dir, mut ws) = load(VENDORED, &linux());
    expect![[r#"
        module example.com/app at .
        main.go: package main (example.com/app)
          func main 5-5 body 5-5
          call lru.New @5 in main
    "#]]
    .assert_eq(&dump(&ws));
    let added = ws.index_vendor_dir(&dir.path.join("vendor")).unwrap();
    assert_eq!(added, 1);
    expect![[r#"
        module example.com/app at .
        main.go: package main (example.com/app)
          func main 5-5 body 5-5
          call lru.New @5 in main
        vendor/github.com/acme/lru/lru.go: package lru (github.com/acme/lru) [vendor]
          func New 5-5 body 5-5
          struct Cache @3-3 { items map[string]any }
          call make @5 in New
    "#]]
    .assert_eq(&dump(&ws));
    assert_eq!(ws.package("github.com/acme/lru").len(), 1);
    assert_eq!(ws.index_vendor_dir(&dir.path.join("vendor")).unwrap(), 0);

    let all = Workspace::load_with(
        &dir.path,
        &LoadOptions {
            include_vendor: true,
            ..linux()
        },
    )
    .unwrap();
    assert_eq!(all.file_count(), 2);
    assert_eq!(all.vendor_dirs(), [all.root().join("vendor")]);
}

#[test]
fn generated_test_and_broken_files() {
    check(
        r#"
-- go.mod --
module example.com/flags
-- gen.pb.go --
// Code generated by protoc-gen-go. DO NOT EDIT.
// source: x.proto

package flags

func (x *Msg) Reset() { *x = Msg{} }
-- notgen.go --
package flags

// Code generated by hand. DO NOT EDIT.
func Hand() {}
-- store_test.go --
package flags

import "testing"

func TestPut(t *testing.T) { t.Fatal("x") }
-- broken.go --
package flags

func Before() { before() }

func Broken( {
	x := 
}

func After() { after() }

type T struct { a int }
"#,
        expect![[r#"
            module example.com/flags at .
            broken.go: package flags (example.com/flags) [errors]
              func Before 3-3 body 3-3
              func Broken 5-7 body 5-7
              func After 9-9 body 9-9
              struct T @11-11 { a int }
              call before @3 in Before
              call after @9 in After
            gen.pb.go: package flags (example.com/flags) [generated]
              method (*Msg).Reset 6-6 body 6-6
            notgen.go: package flags (example.com/flags)
              func Hand 4-4 body 4-4
            store_test.go: package flags (example.com/flags) [test]
              func TestPut 5-5 body 5-5
              call t.Fatal @5 in TestPut
        "#]],
    );
}

#[test]
fn container_operations_and_calls() {
    check(
        r#"
-- go.mod --
module example.com/ops
-- ops.go --
package ops

import (
	"runtime"
	"time"
)

type Entry struct{}

var (
	sessions       = map[string]*Entry{}
	history        []string
	byID, byName   = make(map[int]*Entry), make(map[string]*Entry)
	cfg            *Config = new(Config)
	def                    = &Entry{}
	mu             sync.Mutex
	_              = check()
)

const (
	maxItems = 100
	a, b     = iota, iota
	c
)

type Store struct{ items map[string]*Entry; log []string }

func (s *Store) Put(k string, e *Entry) {
	s.items[k] = e
	s.log = append(s.log, k)
	s.items[k+"x"] += 1
	sessions[k] = e
	history = append(history, k)
	history = append(history[:0], k)
	history = nil
	delete(sessions, k)
	clear(s.items)
	byID[1], byName["x"] = e, e
	local := map[string]int{}
	local["x"] = 1
	local = nil
	delete(local, "x")
	var buf []byte
	buf = append(buf, 'x')
	t := time.NewTicker(time.Second)
	defer t.Stop()
	runtime.SetFinalizer(e, func(*Entry) {})
	f := func() {
		local["y"] = 2
		sessions = nil
	}
	f()
	s.items[k] = e
	if history := []string{}; true {
		history = append(history, k)
	}
}

func shadow() {
	delete := func(m map[string]int, k string) {}
	delete(nil, "x")
	counts["a"]++
}
"#,
        expect![[r#"
            module example.com/ops at .
            ops.go: package ops (example.com/ops)
              method (*Store).Put 28-57 body 28-57
              closure (*Store).Put.deferwrap1 46-46 body 46-46 in (*Store).Put
              closure (*Store).Put.func1 47-47 body 47-47 in (*Store).Put
              closure (*Store).Put.func2 48-51 body 48-51 in (*Store).Put
              func shadow 59-63 body 59-63
              closure shadow.func1 60-60 body 60-60 in shadow
              var sessions map[string]*Entry = map[string]*Entry{} @11
              var history []string @12
              var byID map[int]*Entry = make(map[int]*Entry) @13
              var byName map[string]*Entry = make(map[string]*Entry) @13
              var cfg *Config = new(Config) @14
              var def *Entry = &Entry{} @15
              var mu sync.Mutex @16
              const maxItems = 100 @21
              const a = iota @22
              const b = iota @22
              const c @23
              struct Entry @8-8 {}
              struct Store @26-26 { items map[string]*Entry; log []string }
              call make @13 in -
              call make @13 in -
              call new @14 in -
              call check @17 in -
              index-write s.items @29 in (*Store).Put
              append s.log @30 in (*Store).Put
              call append @30 in (*Store).Put
              index-write s.items @31 in (*Store).Put
              index-write sessions @32 in (*Store).Put
              append history @33 in (*Store).Put
              call append @33 in (*Store).Put
              assign history @34 in (*Store).Put
              call append @34 in (*Store).Put
              assign history @35 in (*Store).Put
              delete sessions @36 in (*Store).Put
              clear s.items @37 in (*Store).Put
              index-write byID @38 in (*Store).Put
              index-write byName @38 in (*Store).Put
              call append @44 in (*Store).Put
              call time.NewTicker @45 in (*Store).Put
              call t.Stop @46 in (*Store).Put
              call runtime.SetFinalizer @47 in (*Store).Put
              index-write local @49 in (*Store).Put.func2
              assign sessions @50 in (*Store).Put.func2
              call f @52 in (*Store).Put
              index-write s.items @53 in (*Store).Put
              call append @55 in (*Store).Put
              call delete @61 in shadow
              index-write counts @62 in shadow
        "#]],
    );
}

#[test]
fn updates_are_incremental_and_renumber_the_package() {
    let (dir, mut ws) = load(
        r#"
-- go.mod --
module example.com/inc
-- a.go --
package inc

func init() {}
-- b.go --
package inc

func init() { func() {}() }
"#,
        &linux(),
    );
    let names = |ws: &Workspace, file: &str| -> Vec<String> {
        ws.file(Path::new(file))
            .unwrap()
            .functions
            .iter()
            .map(|f| f.name.clone())
            .collect()
    };
    assert_eq!(ws.parse_count(), 2);
    assert_eq!(names(&ws, "b.go"), ["init.1", "init.1.func1"]);

    // The same text again is not parsed.
    let a = std::fs::read_to_string(dir.path.join("a.go")).unwrap();
    assert_eq!(ws.update_file(Path::new("a.go"), &a), Update::Unchanged);
    assert_eq!(ws.parse_count(), 2);

    // A second init in a.go shifts b.go's numbers without parsing b.go.
    let a2 = format!("{a}\nfunc init() {{}}\n");
    assert_eq!(ws.update_file(Path::new("a.go"), &a2), Update::Updated);
    assert_eq!(ws.parse_count(), 3);
    assert_eq!(names(&ws, "a.go"), ["init.0", "init.1"]);
    assert_eq!(names(&ws, "b.go"), ["init.2", "init.2.func1"]);
    assert_eq!(ws.update_file(Path::new("a.go"), &a2), Update::Unchanged);
    assert_eq!(ws.parse_count(), 3);

    // An open document's incremental summary goes through the same renumbering.
    let mut doc = ws.open_document(Path::new("a.go"), a2.clone());
    let at = doc.text().len();
    doc.apply_edit(at, at, "func init() {}\n").unwrap();
    assert_eq!(ws.update_document(&doc), Update::Updated);
    assert_eq!(ws.parse_count(), 3, "the document parsed, not the index");
    assert_eq!(names(&ws, "b.go"), ["init.3", "init.3.func1"]);

    // Removing a.go brings b.go back to init.0.
    assert!(ws.remove_file(&dir.path.join("a.go")));
    assert!(!ws.remove_file(&dir.path.join("a.go")));
    assert_eq!(names(&ws, "b.go"), ["init.0", "init.0.func1"]);
    assert_eq!(ws.package("example.com/inc").len(), 1);

    // A new file is added to its package.
    let c = "package inc\n\nfunc C() {}\n";
    assert_eq!(ws.update_file(&dir.path.join("sub/c.go"), c), Update::Added);
    assert_eq!(
        ws.file(Path::new("sub/c.go")).unwrap().import_path,
        "example.com/inc/sub"
    );
    assert_eq!(
        ws.module_for(Path::new("sub/c.go"))
            .map(|m| m.path.as_str()),
        Some("example.com/inc")
    );
}

#[test]
fn load_errors_name_the_file() {
    let (dir, _) = load("-- go.mod --\nmodule example.com/ok\n", &linux());
    std::fs::write(dir.path.join("go.mod"), "go 1.22\n").unwrap();
    let e = Workspace::load(&dir.path).unwrap_err().to_string();
    assert!(e.ends_with("go.mod: no module directive"), "{e}");
    let e = Workspace::load(dir.path.join("missing"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing"), "{e}");
}

#[test]
fn odd_input_never_panics() {
    let (dir, ws) = load(
        "-- go.mod --\nmodule example.com/odd\n-- ok.go --\npackage odd\n\nfunc OK() {}\n",
        &linux(),
    );
    // Invalid UTF-8 is replaced and flagged; what parses is kept.
    std::fs::write(
        dir.path.join("bad.go"),
        b"package odd\n\nfunc Bad() { _ = \"\xff\xfe\" }\n",
    )
    .unwrap();
    let ws2 = Workspace::load(&dir.path).unwrap();
    let bad = ws2.file(Path::new("bad.go")).unwrap();
    assert!(bad.has_errors);
    assert_eq!(bad.functions[0].name, "Bad");
    drop(ws);

    // Every prefix of a real file, and some noise, summarizes without panicking.
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/closures/main.go"),
    )
    .unwrap();
    let mut cut = 0;
    while cut < text.len() {
        if text.is_char_boundary(cut) {
            let s = super::parse::summarize(Path::new("/x/p.go"), &text[..cut], "p");
            assert!(s.functions.iter().all(|f| f.span.end_byte <= cut));
        }
        cut += 97;
    }
    let noise = [
        "",
        "package",
        "func",
        "}}}}{{{{",
        "package p\nfunc (",
        "package p\nvar x = func( { go defer",
        "package p\nfunc F() { m[ = append(; delete() clear }",
        "\u{feff}package p\nfunc F() {}",
    ];
    for n in noise {
        let _ = super::parse::summarize(Path::new("/x/p.go"), n, "p");
    }
    let deep = format!(
        "package p\nvar x = {}1{}\n",
        "(".repeat(50_000),
        ")".repeat(50_000)
    );
    let s = super::parse::summarize(Path::new("/x/p.go"), &deep, "p");
    assert_eq!(s.decls.len(), 1);
    let nested = format!(
        "package p\nfunc F() {{ {} }}\n",
        "func() {".repeat(2_000) + &"}()".repeat(2_000)
    );
    let s = super::parse::summarize(Path::new("/x/p.go"), &nested, "p");
    assert!(s.functions.len() > 1);
}

#[test]
fn go_work_modules_outside_the_root_and_modules_above_it() {
    let dir = super::fixture::write_fixture(
        r#"
-- repo/go.work --
go 1.23
use ./app
use ../shared
-- repo/app/go.mod --
module example.com/app
-- repo/app/internal/x/x.go --
package x
-- shared/go.mod --
module example.com/shared
-- shared/util/util.go --
package util

func Util() {}
"#,
    );
    let ws = Workspace::load_with(dir.path.join("repo"), &linux()).unwrap();
    let mods: Vec<&str> = ws.modules().iter().map(|m| m.path.as_str()).collect();
    assert_eq!(mods, ["example.com/app", "example.com/shared"]);
    let util = ws.package("example.com/shared/util");
    assert_eq!(util.len(), 1);
    assert_eq!(util[0].functions[0].name, "Util");

    // Loading a directory inside a module finds the module above it.
    let ws = Workspace::load_with(dir.path.join("repo/app/internal"), &linux()).unwrap();
    assert_eq!(
        ws.modules().len(),
        2,
        "the go.work above names both modules"
    );
    assert_eq!(ws.file_count(), 1, "only the root is walked");
    assert_eq!(
        ws.files().next().unwrap().import_path,
        "example.com/app/internal/x"
    );
}
