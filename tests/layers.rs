//! The crate's import graph: layers a newcomer reads bottom-up, no module importing from a
//! layer above its own, and no circle anywhere.
//!
//! Reads every file under `src/` (tests inside `#[cfg(test)]` modules and comments
//! excluded), resolves each `crate::…`, `super::…` and child-module path to the file that
//! defines the module, and checks the graph. `cargo test --test layers` prints the layer of
//! every module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layer of each top-level module. A new top-level module must be given one here.
const LAYERS: &[(&str, u8, &str)] = &[
    ("ids", 0, "leaf types"),
    ("address", 0, "leaf types"),
    ("proptag", 0, "leaf types"),
    ("time", 0, "leaf types"),
    ("reply", 0, "leaf types"),
    ("hash", 0, "leaf helpers"),
    ("headers", 0, "leaf helpers"),
    ("text", 0, "leaf helpers"),
    ("config", 1, "inputs: configuration"),
    ("ldif", 1, "inputs: configuration"),
    ("envelope", 1, "inputs: the envelope"),
    ("policy", 2, "compiled policy"),
    ("decide", 3, "deciding"),
    ("render", 4, "rendering"),
    ("transport", 5, "outputs for the transport"),
    ("seal", 6, "sealing and verification"),
    ("demo", 7, "sample data"),
];

fn layer_of(module: &str) -> Option<(u8, &'static str)> {
    let top = module.split("::").next().unwrap_or_default();
    LAYERS
        .iter()
        .find(|(name, ..)| *name == top)
        .map(|&(_, layer, what)| (layer, what))
}

/// A source file and the module path it defines (`policy::directory`).
struct Module {
    path: String,
    file: PathBuf,
    text: String,
}

fn collect(dir: &Path, prefix: &str, out: &mut Vec<Module>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            let sub = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}::{name}")
            };
            collect(&p, &sub, out);
            continue;
        }
        if p.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let path = match (prefix.is_empty(), name.as_str()) {
            (true, "lib") => String::new(),
            (_, "mod") => prefix.to_owned(),
            (true, _) => name,
            (false, _) => format!("{prefix}::{name}"),
        };
        let raw = std::fs::read_to_string(&p).unwrap();
        out.push(Module {
            path,
            file: p,
            text: code_only(&raw),
        });
    }
}

/// The file without its unit tests and without comments.
fn code_only(raw: &str) -> String {
    let mut out = String::new();
    let mut lines = raw.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]")
            && lines
                .peek()
                .is_some_and(|n| n.trim_start().starts_with("mod tests"))
        {
            break;
        }
        if t.starts_with("//") {
            continue;
        }
        let code = match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Every `a::b::c` path in the text that starts with `start` (`crate`, `super`, …).
fn paths_from<'a>(text: &'a str, start: &str) -> Vec<Vec<&'a str>> {
    let mut out = Vec::new();
    let needle = format!("{start}::");
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(i) = text[from..].find(&needle) {
        let at = from + i;
        from = at + needle.len();
        let before = at.checked_sub(1).map(|j| bytes[j]);
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':') {
            continue;
        }
        let rest = &text[at + needle.len()..];
        let mut segs = Vec::new();
        let mut r = rest;
        loop {
            let end = r
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(r.len());
            if end == 0 {
                break;
            }
            segs.push(&r[..end]);
            match r[end..].strip_prefix("::") {
                Some(next) => r = next,
                None => break,
            }
        }
        out.push(segs);
    }
    out
}

/// The child modules a file declares (`mod x;`, `pub(crate) mod x;`).
fn children(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let t = l.trim();
            let t = t.strip_suffix(';')?;
            let name = t.rsplit(' ').next()?;
            (t.starts_with("mod ") || t.contains(" mod ")).then(|| name.to_owned())
        })
        .collect()
}

/// The longest prefix of `segs` (below `base`) that names a module.
fn resolve(known: &BTreeSet<String>, base: &str, segs: &[&str]) -> Option<String> {
    let mut best = None;
    let mut cur = base.to_owned();
    for s in segs {
        cur = if cur.is_empty() {
            (*s).to_owned()
        } else {
            format!("{cur}::{s}")
        };
        if known.contains(&cur) {
            best = Some(cur.clone());
        } else {
            break;
        }
    }
    best
}

fn parent(path: &str) -> String {
    path.rsplit_once("::")
        .map(|(p, _)| p.to_owned())
        .unwrap_or_default()
}

#[test]
fn no_module_imports_from_a_layer_above_it_and_there_is_no_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = Vec::new();
    collect(&root, "", &mut modules);
    let known: BTreeSet<String> = modules.iter().map(|m| m.path.clone()).collect();
    let mut problems = Vec::new();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();

    for m in modules.iter().filter(|m| !m.path.is_empty()) {
        let Some((layer, _)) = layer_of(&m.path) else {
            problems.push(format!(
                "{}: top-level module has no layer (add it to LAYERS in tests/layers.rs)",
                m.file.display()
            ));
            continue;
        };
        let mut targets = BTreeSet::new();
        for segs in paths_from(&m.text, "crate") {
            match resolve(&known, "", &segs) {
                Some(t) => {
                    targets.insert(t);
                }
                // `crate::Name`: a root re-export hides the real dependency.
                None if !segs.is_empty() => problems.push(format!(
                    "{}: `crate::{}` goes through the crate root; import from the defining module",
                    m.file.display(),
                    segs.join("::")
                )),
                None => {}
            }
        }
        // `super::` from `a::b` (a file) or from `a` (a `mod.rs`) means the parent module.
        for segs in paths_from(&m.text, "super") {
            let base = parent(&m.path);
            match resolve(&known, &base, &segs) {
                Some(t) => {
                    targets.insert(t);
                }
                None => {
                    targets.insert(base);
                }
            }
        }
        // `use child::…` in a module with child modules.
        for child in children(&m.text) {
            let full = format!("{}::{child}", m.path);
            let used = m.text.lines().any(|l| {
                let t = l.trim_start();
                (t.starts_with("use ")
                    || t.starts_with("pub use ")
                    || t.starts_with("pub(crate) use "))
                    && t.contains(&format!("use {child}::"))
            });
            if used {
                targets.insert(full);
            }
        }
        targets.remove(&m.path);
        for t in &targets {
            if t.is_empty() {
                problems.push(format!("{}: imports from the crate root", m.file.display()));
                continue;
            }
            let (tl, what) = layer_of(t).unwrap_or((u8::MAX, "?"));
            if tl > layer {
                problems.push(format!(
                    "{} (layer {layer}) imports {t} from layer {tl} ({what}) above it",
                    m.path
                ));
            }
        }
        edges.insert(m.path.clone(), targets);
    }

    // Circles: depth-first search with colours.
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        colour: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
        problems: &mut Vec<String>,
    ) {
        colour.insert(n.to_owned(), 1);
        stack.push(n.to_owned());
        for t in edges.get(n).into_iter().flatten() {
            match colour.get(t.as_str()).copied().unwrap_or(0) {
                0 => visit(t, edges, colour, stack, problems),
                1 => {
                    let from = stack.iter().position(|s| s == t).unwrap_or(0);
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(t.clone());
                    problems.push(format!("import circle: {}", cycle.join(" -> ")));
                }
                _ => {}
            }
        }
        stack.pop();
        colour.insert(n.to_owned(), 2);
    }
    let mut colour = BTreeMap::new();
    for n in edges.keys() {
        if colour.get(n.as_str()).copied().unwrap_or(0) == 0 {
            visit(n, &edges, &mut colour, &mut Vec::new(), &mut problems);
        }
    }

    for (m, ts) in &edges {
        let (l, what) = layer_of(m).unwrap_or((u8::MAX, "?"));
        println!(
            "layer {l} ({what}) {m} -> {}",
            ts.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn the_checker_sees_upward_imports_and_circles() {
    // The checker's own parts, on made-up text, so a broken checker cannot pass silently.
    let text = code_only(
        "use crate::policy::compiled::Policy;\n// use crate::render::x;\nfn f() { super::g(); }\n#[cfg(test)]\nmod tests { use crate::demo; }\n",
    );
    let paths = paths_from(&text, "crate");
    assert_eq!(paths, vec![vec!["policy", "compiled", "Policy"]]);
    assert_eq!(paths_from(&text, "super"), vec![vec!["g"]]);
    let known: BTreeSet<String> = ["policy", "policy::compiled"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        resolve(&known, "", &paths[0]).as_deref(),
        Some("policy::compiled")
    );
    assert_eq!(layer_of("render::mime"), Some((4, "rendering")));
    assert!(layer_of("nowhere").is_none());
    assert_eq!(children("mod a;\npub(crate) mod b;\n"), vec!["a", "b"]);
}
