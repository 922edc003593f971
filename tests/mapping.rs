//! Mapping tests on the real fixture profiles: their sources are copied to another
//! directory (the profiles were recorded under /tmp/heapspot-fixture-build, or with
//! `-trimpath`), loaded as a workspace, and every workspace frame must land on the line
//! whose text is the recorded line's text; edits that move functions keep the numbers on
//! the moved lines, changed bodies become stale, two modules under go.work, vendored
//! code as an external producer, and ambiguity resolved by a path mapping.

// Test helpers fail the test on any error, which is what unwrap does.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use heapspot::mapping::{normalize_symbol, AllocKind, Mapper, MatchKind, PathMapping, Resolution};
use heapspot::profile::{Limits, Profile};
use heapspot::source::index::Workspace;
use heapspot::source::locate::locate;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .canonicalize()
        .unwrap()
}

fn cases() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("profiles").is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("heapspot-mapping-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Copies a fixture's sources (not its profiles) into `dst`.
fn copy_sources(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap();
        if name == "profiles" {
            continue;
        }
        if p.is_dir() {
            copy_sources(&p, &dst.join(name));
        } else {
            std::fs::copy(&p, dst.join(name)).unwrap();
        }
    }
}

fn profiles(case: &str) -> Vec<Profile> {
    let dir = fixtures().join(case).join("profiles");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v.iter()
        .map(|p| Profile::from_path(p, Limits::default()).unwrap())
        .collect()
}

fn line_of(path: &Path, n: i64) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .nth((n - 1) as usize)
        .unwrap_or_else(|| panic!("{} has no line {n}", path.display()))
        .to_string()
}

/// Every (function, file, line, start) frame of a profile's locations.
fn frames(p: &Profile) -> Vec<(String, String, i64, i64)> {
    let mut v: Vec<_> = p
        .locations
        .iter()
        .flat_map(|l| l.lines.iter())
        .map(|ln| {
            let f = &p.functions[ln.function as usize];
            (
                f.name.to_string(),
                f.filename.to_string(),
                ln.line,
                f.start_line,
            )
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// For every workspace frame of every profile of `case`: the text of the line it maps to
/// in the copy equals the text of the recorded line in the original fixture, shifted by
/// `shift(function)`. Returns the number of frames checked.
fn check_case(case: &str, ws_root: &Path, mapper: &Mapper, shift: &dyn Fn(&str) -> i64) -> usize {
    let original = fixtures().join(case);
    let mut checked = 0;
    let mut external = 0;
    for p in profiles(case) {
        let prefer = mapper.profile_modules(&p);
        for (func, file, line, start) in frames(&p) {
            if !mapper.is_workspace_frame(&func, &file) {
                external += 1;
                continue;
            }
            let res = mapper.resolve_with(&prefer, &func, &file, line, start);
            let Resolution::Mapped(m) = &res else {
                panic!(
                    "{case} {}: frame {func} {file}:{line} did not map: {res:?}",
                    p.name
                );
            };
            assert!(
                m.file.starts_with(ws_root),
                "{case}: {func} mapped outside the checkout: {}",
                m.file.display()
            );
            let src = locate(&file, Some(&original))
                .unwrap_or_else(|| panic!("{case}: no original source for {file}"));
            let want = line_of(&src, line);
            let got = line_of(&m.file, i64::from(m.line));
            assert_eq!(
                got,
                want,
                "{case} {}: {func} {file}:{line} -> {}:{}",
                p.name,
                m.file.display(),
                m.line
            );
            assert_eq!(m.shift, shift(&func), "{case}: {func} shift");
            checked += 1;
        }
    }
    assert!(checked > 0, "{case}: no workspace frame checked");
    assert!(external > 0, "{case}: no external frame seen");
    checked
}

#[test]
fn every_workspace_frame_maps_in_another_checkout() {
    let all = cases();
    assert!(all.len() >= 7, "{all:?}");
    let root = scratch("elsewhere");
    let mut total = 0;
    for case in &all {
        let dst = root.join("checkout").join(case);
        copy_sources(&fixtures().join(case), &dst);
        let ws = Workspace::load(&dst).unwrap();
        let mapper = Mapper::from_workspace(&ws, Vec::new());
        let n = check_case(case, &dst, &mapper, &|_| 0);
        eprintln!("{case}: {n} workspace frames map to the right lines");
        total += n;
    }
    assert!(total > 100, "{total}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn trimpath_frames_map_by_function_identity() {
    let root = scratch("trimpath");
    copy_sources(&fixtures().join("trimpath"), &root);
    let ws = Workspace::load(&root).unwrap();
    let mapper = Mapper::from_workspace(&ws, Vec::new());
    let p = &profiles("trimpath")[0];
    let (func, file, line, start) = frames(p)
        .into_iter()
        .find(|f| f.0.ends_with("(*Registry).Add"))
        .unwrap();
    assert!(file.starts_with("example.com/trimmed/"), "{file}");
    match mapper.resolve(&func, &file, line, start) {
        Resolution::Mapped(m) => {
            assert_eq!(m.how, MatchKind::Function);
            assert_eq!(m.file, root.join("registry/registry.go"));
        }
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&root).unwrap();
}

/// Inserts `lines` comment lines before the line starting with `marker`.
fn insert_above(path: &Path, marker: &str, lines: usize) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = String::new();
    let mut done = false;
    for l in text.lines() {
        if !done && l.starts_with(marker) {
            for i in 0..lines {
                out.push_str(&format!("// inserted line {i}\n"));
            }
            done = true;
        }
        out.push_str(l);
        out.push('\n');
    }
    assert!(done, "{marker} not found in {}", path.display());
    std::fs::write(path, out).unwrap();
}

#[test]
fn lines_inserted_above_a_hot_function_shift_its_numbers() {
    let root = scratch("edited");
    copy_sources(&fixtures().join("globalmap"), &root);
    let main = root.join("main.go");
    let text = std::fs::read_to_string(&main).unwrap();
    let marker = "func newEntry(";
    let at = text.lines().position(|l| l.starts_with(marker)).unwrap();
    insert_above(&main, marker, 3);
    let ws = Workspace::load(&root).unwrap();
    let mapper = Mapper::from_workspace(&ws, Vec::new());
    // Functions declared after the insertion point moved down by three lines.
    let moved: Vec<String> = ws
        .files()
        .flat_map(|f| f.functions.clone())
        .filter(|f| f.span.start_line as usize > at + 1)
        .map(|f| format!("main.{}", f.name))
        .collect();
    assert!(moved.iter().any(|f| f == "main.newEntry"), "{moved:?}");
    let checked = check_case("globalmap", &root, &mapper, &|func| {
        let func = normalize_symbol(func);
        let base = func.split(".func").next().unwrap_or(&func);
        if moved.iter().any(|m| m == base || *m == func) {
            3
        } else {
            0
        }
    });
    assert!(checked > 5);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_rewritten_body_is_stale_not_misplaced() {
    let root = scratch("rewritten");
    copy_sources(&fixtures().join("globalmap"), &root);
    let main = root.join("main.go");
    let text = std::fs::read_to_string(&main).unwrap();
    // Replace newEntry's body with one statement.
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        out.push(l.to_string());
        if l.starts_with("func newEntry(") {
            for inner in lines.by_ref() {
                if inner == "}" {
                    break;
                }
            }
            out.push("\treturn nil".into());
            out.push("}".into());
        }
    }
    std::fs::write(&main, out.join("\n") + "\n").unwrap();
    let ws = Workspace::load(&root).unwrap();
    let mapper = Mapper::from_workspace(&ws, Vec::new());
    let mut stale = 0;
    for p in profiles("globalmap") {
        for (func, file, line, start) in frames(&p) {
            if func != "main.newEntry" {
                continue;
            }
            match mapper.resolve(&func, &file, line, start) {
                Resolution::Stale { reason, .. } => {
                    assert!(reason.contains("main.newEntry"), "{reason}");
                    stale += 1;
                }
                other => panic!("newEntry:{line} must be stale, got {other:?}"),
            }
        }
    }
    assert!(stale > 0);
    std::fs::remove_dir_all(&root).unwrap();
}

/// A deferred call runs at the `return` that ends the call, so a profile records
/// `Thumbnail`'s `return data, nil` line (the deferred `putBuffer`); the same line in a
/// body that no longer defers cannot allocate, so the frame is stale.
#[test]
fn a_return_line_allocates_only_through_a_defer() {
    let case = "blind2-clean-thumbnailer";
    let func = "example.com/thumbnailer/thumb.(*Service).Thumbnail";
    let returns_in_frames = |root: &Path| {
        let ws = Workspace::load(root).unwrap();
        let mapper = Mapper::from_workspace(&ws, Vec::new());
        let mut out = Vec::new();
        for p in profiles(case) {
            for (f, file, line, start) in frames(&p) {
                let text = std::fs::read_to_string(root.join("thumb/service.go")).unwrap();
                let is_return = text
                    .lines()
                    .nth(line as usize - 1)
                    .is_some_and(|l| l.trim_start().starts_with("return"));
                if f == func && is_return {
                    out.push(mapper.resolve(&f, &file, line, start));
                }
            }
        }
        out
    };
    let root = scratch("deferred-return");
    copy_sources(&fixtures().join(case), &root);
    let deferred = returns_in_frames(&root);
    assert!(!deferred.is_empty(), "no frame at a return line of {func}");
    for r in &deferred {
        assert!(matches!(r, Resolution::Mapped(_)), "{r:?}");
    }
    let path = root.join("thumb/service.go");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\tdefer putBuffer(buf)\n"));
    std::fs::write(
        &path,
        text.replace("\tdefer putBuffer(buf)\n", "\tputBuffer(buf)\n"),
    )
    .unwrap();
    let undeferred = returns_in_frames(&root);
    assert_eq!(undeferred.len(), deferred.len());
    for r in &undeferred {
        assert!(
            matches!(r, Resolution::Stale { reason, .. } if reason.contains("cannot allocate")),
            "{r:?}"
        );
    }
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn two_modules_under_go_work() {
    let root = scratch("gowork");
    copy_sources(&fixtures().join("service"), &root.join("svc"));
    copy_sources(&fixtures().join("trimpath"), &root.join("libs/trimmed"));
    std::fs::write(
        root.join("go.work"),
        "go 1.26\n\nuse (\n\t./svc\n\t./libs/trimmed\n)\n",
    )
    .unwrap();
    let ws = Workspace::load(&root).unwrap();
    assert_eq!(ws.modules().len(), 2, "{:?}", ws.modules());
    let mapper = Mapper::from_workspace(&ws, Vec::new());
    let a = check_case("service", &root, &mapper, &|_| 0);
    let b = check_case("trimpath", &root, &mapper, &|_| 0);
    assert!(a > 0 && b > 0);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn vendored_code_is_an_external_producer() {
    let root = scratch("vendored");
    copy_sources(&fixtures().join("vendored"), &root);
    let ws = Workspace::load(&root).unwrap();
    let mapper = Mapper::from_workspace(&ws, Vec::new());
    let p = profiles("vendored").pop().unwrap();
    let render_line = |n: u32| line_of(&root.join("main.go"), i64::from(n));
    let mut by_vendor = 0;
    p.for_each_sample(|locs, values| {
        let leaf = &p.functions[p.locations[locs[0] as usize].lines[0].function as usize];
        let Some(a) = mapper.attribute(&p, locs) else {
            return;
        };
        if leaf.name.starts_with("example.org/textbuf.") && values[3] > 0 {
            assert_eq!(a.function, "main.render");
            assert_eq!(a.kind, AllocKind::Call(leaf.name.to_string()));
            let Resolution::Mapped(m) = &a.resolution else {
                panic!("{a:?}");
            };
            let text = render_line(m.line);
            assert!(
                text.contains("textbuf.New") || text.contains("WriteString"),
                "{text}"
            );
            by_vendor += 1;
        }
    })
    .unwrap();
    assert!(by_vendor > 0);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn ambiguity_is_said_and_a_path_mapping_resolves_it() {
    let root = scratch("ambiguous");
    copy_sources(&fixtures().join("globalmap"), &root.join("a"));
    copy_sources(&fixtures().join("globalmap"), &root.join("b"));
    let ws = Workspace::load(&root).unwrap();
    let p = &profiles("globalmap")[3];
    let (func, file, line, start) = frames(p)
        .into_iter()
        .find(|f| f.0 == "main.newEntry")
        .unwrap();
    let plain = Mapper::from_workspace(&ws, Vec::new());
    match plain.resolve(&func, &file, line, start) {
        Resolution::Unmatched { reason } => assert!(reason.contains("2 places"), "{reason}"),
        other => panic!("two copies must be ambiguous, got {other:?}"),
    }
    let mapped = Mapper::from_workspace(
        &ws,
        vec![PathMapping {
            from: "/tmp/heapspot-fixture-build/globalmap".into(),
            to: root.join("b"),
        }],
    );
    match mapped.resolve(&func, &file, line, start) {
        Resolution::Mapped(m) => {
            assert_eq!(m.how, MatchKind::PathMapping);
            assert_eq!(m.file, root.join("b/main.go"));
        }
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&root).unwrap();
}
