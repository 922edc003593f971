//! Checks the function names of the summaries against real profiles: every function of a
//! workspace frame in the profiles of `tests/fixtures/<case>/profiles` must be named by a
//! summary of that case's files, and the summary's function must start on the profile's
//! start line and span every line the profile records for it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::profile::{Limits, Profile};

use super::constraint::BuildContext;
use super::index::{LoadOptions, Workspace};
use super::model::DeclKind;
use super::names::{inlined_closure_names, normalize_symbol, split_function_name};

/// Names the compiler invents that no source position names, as `(case, full name)`.
/// Closures of a function that was inlined get the caller's name in front
/// (`main.caller.callee.func1`, in `blind-tenantgw`); they resolve through
/// [`inlined_closure_names`] and need no entry here.
const INVENTED: &[(&str, &str)] = &[];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

#[test]
fn every_workspace_frame_of_every_fixture_profile_is_named_by_a_summary() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("go.mod").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 6, "fixture cases: {cases:?}");
    let options = LoadOptions {
        build: BuildContext::new("linux", "amd64"),
        ..LoadOptions::default()
    };
    let mut missing = Vec::new();
    let mut checked = 0;
    let mut lines_checked = 0;
    for case in &cases {
        let case_name = case.file_name().unwrap().to_string_lossy().into_owned();
        let ws = Workspace::load_with(case, &options).unwrap();
        let module = ws.modules()[0].path.clone();
        // Names per package as pprof qualifies them (`main` for package main).
        let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        // Packages with package-level variables, whose initializer is `pkg.init`.
        let mut initializers: BTreeSet<String> = BTreeSet::new();
        for f in ws.files() {
            let qualifier = if f.package == "main" {
                "main".to_string()
            } else {
                f.import_path.clone()
            };
            if f.decls.iter().any(|d| d.kind == DeclKind::Var) {
                initializers.insert(qualifier.clone());
            }
            let set = names.entry(qualifier).or_default();
            set.extend(f.functions.iter().map(|func| func.name.clone()));
        }
        let mut profiles: Vec<PathBuf> = std::fs::read_dir(case.join("profiles"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        profiles.sort();
        let mut frames = BTreeSet::new();
        for p in &profiles {
            let profile = Profile::from_path(p, Limits::default()).unwrap();
            for f in &profile.functions {
                let Some((package, _)) = split_function_name(&f.name) else {
                    continue;
                };
                // Standard library generic code instantiated by a package (the closure of
                // `sync.OnceValue` in a package-level initializer is named
                // `main.init.OnceValue[...].func2`) carries the package's name but lives in
                // GOROOT: only frames in the build directory (or module-relative, with
                // -trimpath) are the workspace's.
                let in_goroot = f.filename.starts_with('/')
                    && !f.filename.starts_with("/tmp/heapspot-fixture-build/");
                if !in_goroot
                    && (package == "main"
                        || package == module
                        || package.starts_with(&format!("{module}/")))
                {
                    frames.insert(f.name.to_string());
                }
            }
        }
        assert!(!frames.is_empty(), "{case_name}: no workspace frames");
        // Every recorded line lies in the span of the function of that name in that file.
        for p in &profiles {
            let profile = Profile::from_path(p, Limits::default()).unwrap();
            for loc in &profile.locations {
                for ln in &loc.lines {
                    let Some(f) = profile.functions.get(ln.function as usize) else {
                        continue;
                    };
                    if !frames.contains(f.name.as_ref()) {
                        continue;
                    }
                    let Some((_, symbol)) = split_function_name(&f.name) else {
                        continue;
                    };
                    let symbol = normalize_symbol(symbol);
                    let file = ws.files().find(|s| {
                        let rel = s.path.strip_prefix(ws.root()).unwrap();
                        f.filename.ends_with(&format!("/{}", rel.display()))
                    });
                    let Some(file) = file else {
                        missing.push(format!("{case_name}: no file for {}", f.filename));
                        continue;
                    };
                    let func = file
                        .functions
                        .iter()
                        .find(|x| x.name == symbol)
                        .or_else(|| {
                            inlined_closure_names(&symbol)
                                .find_map(|n| file.functions.iter().find(|x| x.name == n))
                        })
                        .or_else(|| {
                            // The renumbered closure whose span holds the recorded line.
                            renumbered_candidates(&symbol).iter().find_map(|n| {
                                file.functions.iter().find(|x| {
                                    x.name == *n
                                        && i64::from(x.span.start_line) <= ln.line
                                        && ln.line <= i64::from(x.span.end_line)
                                })
                            })
                        });
                    let Some(func) = func else {
                        // The package initializer (`main.init`) runs the package-level
                        // variable initializers; it has no declaration to name it.
                        let initializer = symbol == "init"
                            && file.decls.iter().any(|d| {
                                d.kind == DeclKind::Var
                                    && i64::from(d.span.start_line) <= ln.line
                                    && ln.line <= i64::from(d.span.end_line)
                            });
                        if !initializer {
                            missing.push(format!("{case_name}: {} not in {}", f.name, f.filename));
                        }
                        continue;
                    };
                    let (first, last) = (
                        i64::from(func.span.start_line),
                        i64::from(func.span.end_line),
                    );
                    // A range-over-func body (`F-range1`) records its loop's start line.
                    let start_ok = if f.name.contains("-range") {
                        first <= f.start_line && f.start_line <= last
                    } else {
                        f.start_line == first
                    };
                    if !start_ok || ln.line < first || ln.line > last {
                        missing.push(format!(
                            "{case_name}: {} starts at {} and records line {}, summary spans {first}-{last}",
                            f.name, f.start_line, ln.line
                        ));
                    }
                    lines_checked += 1;
                }
            }
        }
        for full in frames {
            if INVENTED.contains(&(case_name.as_str(), full.as_str())) {
                continue;
            }
            checked += 1;
            let Some((package, symbol)) = split_function_name(&full) else {
                continue;
            };
            let symbol = normalize_symbol(symbol);
            let found = names.get(package).is_some_and(|set| {
                set.contains(&symbol)
                    || symbol == "init" && initializers.contains(package)
                    || inlined_closure_names(&symbol).any(|n| set.contains(n))
                    || renumbered_inlined_closure(&symbol, set)
            }) || {
                // A closure of another package's method inlined here, renumbered by the
                // outer function (`server.New.(*Registry).Middleware.func2` for metrics'
                // `(*Registry).Middleware.func1`), carries this package's name but is
                // declared in the other package.
                names.values().any(|set| {
                    inlined_closure_names(&symbol).any(|n| set.contains(n))
                        || renumbered_inlined_closure(&symbol, set)
                })
            };
            if !found {
                missing.push(format!("{case_name}: {full}"));
            }
        }
    }
    assert!(missing.is_empty(), "not named by any summary: {missing:#?}");
    assert!(checked > 50, "only {checked} frames checked");
    assert!(lines_checked > 500, "only {lines_checked} lines checked");
}

/// A closure of a function inlined into another one is numbered by the outer function's
/// closure counter: in `(*Server).Handler.(*Server).rateLimit.func3` the one closure of
/// `rateLimit` comes after `Handler`'s own `func1` and `func2`. The summaries name it
/// `(*Server).rateLimit.func1`; the number depends on where the call was inlined, so the
/// candidates are the inlined function's closures numbered at most `N` (the mapper places
/// such frames by file and line, which `tests/mapping.rs` checks).
fn renumbered_candidates(symbol: &str) -> Vec<String> {
    let mut out = Vec::new();
    for n in inlined_closure_names(symbol) {
        let Some((inner, num)) = n.rsplit_once(".func") else {
            continue;
        };
        let Ok(num) = num.parse::<u32>() else {
            continue;
        };
        out.extend((1..=num).map(|k| format!("{inner}.func{k}")));
    }
    out
}

fn renumbered_inlined_closure(symbol: &str, set: &std::collections::BTreeSet<String>) -> bool {
    renumbered_candidates(symbol)
        .iter()
        .any(|c| set.contains(c))
}
