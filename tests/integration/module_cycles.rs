//! No two modules of a crate import each other in a loop.
//!
//! Reads every `src/**/*.rs` of the crates in [`CRATES`] as text (nothing is built), finds
//! each reference to another module of the same crate and the file that defines what it
//! names, and fails naming every group of files that reach each other (a strongly connected
//! component of more than one file), with the lines that make each import.
//!
//! What counts as an import: `use` trees, and paths in code that start with `crate::`,
//! `$crate::` (macro bodies count for the file that defines the macro), `super::`, `self::`,
//! a child module's name, or a name a `use` of the same module brought in. A path is
//! followed through re-exports (`pub use`, and the imports a child sees through `super::`)
//! to the file that defines the item, so `use crate::Client` is an import of the file that
//! defines `Client`, not of `lib.rs`. A glob import (`use crate::*`) imports the files that
//! define the names the module uses from it. `mod x;` declarations are not imports; a child
//! that uses its parent's items through `super::` imports its parent. Items are found by
//! their keyword (also inside macro invocations and `macro_rules!` bodies) and as the
//! arguments of macros that declare items named by them (`pjrt_opaque! { A, B }`).
//!
//! Left out: comments, doc comments and string literals, and test-only code (`#[cfg(test)]`
//! items and modules): a test may import anything. Inline modules (`mod tests { .. }`)
//! belong to their file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crates checked, by folder under the workspace root.
const CRATES: &[&str] = &["pjrt-sys", "pjrt", "hlo-builder", "autodiff"];

/// Crates that still have cycles and are being reorganized by someone else: their cycles are
/// printed, not failed on. Remove a crate once its cycles are gone (the test says so when a
/// listed crate has none).
const KNOWN_TO_FIX: &[&str] = &[];

#[test]
fn no_module_cycles_in_the_workspace_crates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut failures = Vec::new();
    for krate in CRATES {
        let files = read_crate(&root.join(krate).join("src"));
        assert!(!files.is_empty(), "{krate}: no source files found");
        let graph = graph(&files);
        // `MODULE_GRAPH=pjrt cargo test -p integration-tests module_cycles -- --nocapture`
        // prints every import edge of that crate.
        if std::env::var("MODULE_GRAPH").is_ok_and(|c| c == *krate) {
            println!("{krate} imports:\n  {}", graph.lines().join("\n  "));
        }
        let cycles = cycles(&graph);
        let report = describe(krate, &cycles);
        if KNOWN_TO_FIX.contains(krate) {
            if cycles.is_empty() {
                failures.push(format!(
                    "{krate} has no module cycles any more: remove it from KNOWN_TO_FIX"
                ));
            } else {
                println!("KNOWN_TO_FIX (not failing): {report}");
            }
        } else if !cycles.is_empty() {
            failures.push(report);
        } else {
            println!("{krate}: no module cycles ({} files)", files.len());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every `.rs` file under `src`, as (path relative to `src` with `/` separators, text).
pub(crate) fn read_crate(src: &Path) -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    walk(src, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(src).unwrap_or(&p);
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            (rel.join("/"), text)
        })
        .collect()
}

/// A module path inside a crate (`[]` is the crate root).
type ModPath = Vec<String>;

/// One import found in a file: where it is and what it names.
#[derive(Debug, Clone)]
struct Import {
    line: usize,
    text: String,
}

/// The cycles of a crate: each a list of files and the imports between them.
#[derive(Debug, Default)]
struct Cycle {
    files: Vec<String>,
    /// (from file, to file, first import making the edge).
    edges: Vec<(String, String, Import)>,
}

fn describe(krate: &str, cycles: &[Cycle]) -> String {
    if cycles.is_empty() {
        return format!("{krate}: no module cycles");
    }
    let mut s = format!("{krate}: {} module cycle(s)", cycles.len());
    for (n, c) in cycles.iter().enumerate() {
        s.push_str(&format!(
            "\n  cycle {}: {{{}}} import each other:",
            n + 1,
            c.files.join(", ")
        ));
        for (from, to, imp) in &c.edges {
            s.push_str(&format!("\n    {from}:{} -> {to} ({})", imp.line, imp.text));
        }
    }
    s
}

// ---------------------------------------------------------------------------------------
// Lexing: identifiers, `::` and punctuation, with comments and literals dropped.

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Tok {
    Ident(String),
    PathSep,
    Punct(char),
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Skips a string literal whose opening quote is at `i` (after any `r`/`b` prefix and `#`s);
/// returns the index after it.
fn skip_string(c: &[char], mut i: usize, hashes: usize, raw: bool, line: &mut usize) -> usize {
    i += 1;
    while i < c.len() {
        match c[i] {
            '\n' => *line += 1,
            '\\' if !raw => {
                if c.get(i + 1) == Some(&'\n') {
                    *line += 1;
                }
                i += 1;
            }
            '"' if (0..hashes).all(|k| c.get(i + 1 + k) == Some(&'#')) => {
                return i + 1 + hashes;
            }
            _ => {}
        }
        i += 1;
    }
    i
}

pub(crate) fn lex(src: &str) -> Vec<(Tok, usize)> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0usize, 1usize);
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && next == Some('*') {
            let mut depth = 0usize;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if ch == '"' {
            i = skip_string(&c, i, 0, false, &mut line);
        } else if ch == '\'' {
            if next == Some('\\') {
                // An escaped char literal: skip to its closing quote.
                i += 3;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                // A lifetime or label: its name lexes as an identifier next.
                out.push((Tok::Punct('\''), line));
                i += 1;
            }
        } else if ch == ':' && next == Some(':') {
            out.push((Tok::PathSep, line));
            i += 2;
        } else if ch.is_ascii_digit() {
            while i < c.len() && is_ident_char(c[i]) {
                i += 1;
            }
        } else if ch == '$' && next.is_some_and(is_ident_char) || is_ident_char(ch) {
            // String prefixes first: b"..", b'..', r"..", r#".."#, br"..", br#".."#.
            let (raw_at, byte) = match (ch, next) {
                ('b', Some('r')) => (Some(i + 2), true),
                ('r', _) => (Some(i + 1), false),
                _ => (None, ch == 'b'),
            };
            if let Some(j) = raw_at {
                let mut k = j;
                while c.get(k) == Some(&'#') {
                    k += 1;
                }
                if c.get(k) == Some(&'"') {
                    i = skip_string(&c, k, k - j, true, &mut line);
                    continue;
                }
            }
            if byte && next == Some('"') {
                i = skip_string(&c, i + 1, 0, false, &mut line);
                continue;
            }
            if byte && next == Some('\'') {
                i += 2;
                if c.get(i) == Some(&'\\') {
                    i += 2;
                }
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
                continue;
            }
            if ch == 'r' && next == Some('#') && c.get(i + 2).is_some_and(|&x| is_ident_char(x)) {
                i += 2; // a raw identifier: r#type
            }
            let start = i;
            i += 1;
            while i < c.len() && is_ident_char(c[i]) {
                i += 1;
            }
            out.push((Tok::Ident(c[start..i].iter().collect()), line));
        } else {
            out.push((Tok::Punct(ch), line));
            i += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Scanning one file: its inline modules, item names, `use` trees and paths.

/// What a `use` tree leaf brings into scope.
#[derive(Debug, Clone)]
enum Leaf {
    /// `path` (or `path as alias`), in scope as `alias`.
    Name(String),
    /// `path::*`.
    Glob,
}

#[derive(Debug, Clone)]
struct UseItem {
    module: ModPath,
    path: Vec<String>,
    leaf: Leaf,
    /// `pub use` (any `pub(..)`): seen from outside the module, not only by it and its
    /// children.
    public: bool,
    line: usize,
}

#[derive(Debug, Clone)]
struct PathRef {
    module: ModPath,
    path: Vec<String>,
    line: usize,
}

#[derive(Debug, Default)]
struct Scan {
    inline_modules: Vec<ModPath>,
    /// Child modules declared `#[cfg(test)] mod x;` (and this file, for `#![cfg(test)]`).
    test_modules: Vec<ModPath>,
    /// Names of module-level items (not methods, not locals).
    defs: BTreeMap<ModPath, BTreeSet<String>>,
    /// Every identifier used, per module (for what glob imports bring in).
    idents: BTreeMap<ModPath, BTreeSet<String>>,
    uses: Vec<UseItem>,
    refs: Vec<PathRef>,
}

/// What opened a brace.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Brace {
    /// A block, an impl, a function body, a struct's fields, an inline module.
    Block,
    /// A macro invocation's body: items in it belong to the module.
    MacroCall,
    /// A `macro_rules!` body: item names spelled out in it belong to the module that defines
    /// (and, in this workspace, invokes) the macro.
    MacroDef,
}

const ITEM_KEYWORDS: &[&str] = &[
    "fn",
    "struct",
    "enum",
    "union",
    "trait",
    "type",
    "const",
    "static",
    "macro_rules",
];

pub(crate) fn ident(t: Option<&(Tok, usize)>) -> Option<&str> {
    match t {
        Some((Tok::Ident(s), _)) => Some(s),
        _ => None,
    }
}

pub(crate) fn is(t: Option<&(Tok, usize)>, want: &Tok) -> bool {
    t.is_some_and(|(x, _)| x == want)
}

/// Whether the tokens at `i` are `#[cfg(test)]` (or `#![cfg(test)]` when `inner`).
pub(crate) fn is_cfg_test(toks: &[(Tok, usize)], i: usize, inner: bool) -> bool {
    let mut want: Vec<Tok> = vec![Tok::Punct('#')];
    if inner {
        want.push(Tok::Punct('!'));
    }
    want.extend([
        Tok::Punct('['),
        Tok::Ident("cfg".into()),
        Tok::Punct('('),
        Tok::Ident("test".into()),
        Tok::Punct(')'),
        Tok::Punct(']'),
    ]);
    want.iter().enumerate().all(|(k, w)| is(toks.get(i + k), w))
}

/// The index after the item starting at `i`: up to the `;` or the braced group that ends
/// it (bracketed groups before, such as attributes and argument lists, are skipped whole).
pub(crate) fn skip_item(toks: &[(Tok, usize)], mut i: usize) -> usize {
    while i < toks.len() {
        match &toks[i].0 {
            Tok::Punct('{') => return group_end(toks, i),
            Tok::Punct('[') | Tok::Punct('(') => i = group_end(toks, i),
            Tok::Punct(';') => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// Parses one `use` tree starting at `i` with the segments so far; returns the index after it.
fn parse_use_tree(
    toks: &[(Tok, usize)],
    mut i: usize,
    mut segs: Vec<String>,
    out: &mut Vec<(Vec<String>, Leaf)>,
) -> usize {
    loop {
        match toks.get(i).map(|t| &t.0) {
            Some(Tok::PathSep) => i += 1,
            Some(Tok::Punct('*')) => {
                out.push((segs, Leaf::Glob));
                return i + 1;
            }
            Some(Tok::Punct('{')) => {
                i += 1;
                loop {
                    match toks.get(i).map(|t| &t.0) {
                        None => return i,
                        Some(Tok::Punct('}')) => return i + 1,
                        Some(Tok::Punct(',')) => i += 1,
                        Some(_) => {
                            let before = i;
                            i = parse_use_tree(toks, i, segs.clone(), out);
                            if i == before {
                                i += 1;
                            }
                        }
                    }
                }
            }
            Some(Tok::Ident(name)) => {
                segs.push(name.clone());
                i += 1;
                if is(toks.get(i), &Tok::PathSep) {
                    i += 1;
                    continue;
                }
                if segs.last().is_some_and(|s| s == "self") {
                    segs.pop();
                }
                let mut alias = segs.last().cloned().unwrap_or_default();
                if ident(toks.get(i)) == Some("as") {
                    if let Some(a) = ident(toks.get(i + 1)) {
                        alias = a.to_string();
                    }
                    i += 2;
                }
                out.push((segs, Leaf::Name(alias)));
                return i;
            }
            _ => return i,
        }
    }
}

/// Macros that declare items named by their arguments (`pjrt_opaque! { A, B }` declares
/// `struct A` and `struct B`): macro name -> the tokens that follow such a name in its
/// matcher (`$name:ident` followed by `,` or `{`, ...). An argument followed by one of them
/// is an item the invoking module declares.
type Declarers = BTreeMap<String, BTreeSet<Tok>>;

/// Finds the declaring macros of one file's `macro_rules!`.
fn declaring_macros(text: &str, out: &mut Declarers) {
    let toks = lex(text);
    let mut i = 0;
    while i + 3 < toks.len() {
        let name = match (ident(toks.get(i)), is(toks.get(i + 1), &Tok::Punct('!'))) {
            (Some("macro_rules"), true) => ident(toks.get(i + 2)).map(str::to_string),
            _ => None,
        };
        let Some(name) = name else {
            i += 1;
            continue;
        };
        let end = skip_item(&toks, i + 3);
        // Each arm: `(matcher) => {transcriber}`. A `$x:ident` of the matcher that the
        // transcriber declares an item with (`struct $x`) names an item; the token after it
        // in the matcher tells such names apart in an invocation.
        let mut follows: BTreeSet<Tok> = BTreeSet::new();
        let mut k = i + 4;
        while k < end {
            let m_end = group_end(&toks, k);
            let t_start = m_end + 2; // after `=>`
            let t_end = group_end(&toks, t_start);
            if !is(toks.get(m_end), &Tok::Punct('=')) || t_end <= t_start {
                break;
            }
            let matcher = &toks[k..m_end];
            let transcriber = &toks[t_start..t_end];
            let declared: BTreeSet<&str> = transcriber
                .windows(2)
                .filter_map(|w| match (&w[0].0, &w[1].0) {
                    (Tok::Ident(kw), Tok::Ident(v))
                        if ITEM_KEYWORDS.contains(&kw.as_str()) && v.starts_with('$') =>
                    {
                        Some(v.as_str())
                    }
                    _ => None,
                })
                .collect();
            for w in matcher.windows(4) {
                if let (Tok::Ident(v), Tok::Punct(':'), Tok::Ident(kind)) =
                    (&w[0].0, &w[1].0, &w[2].0)
                {
                    if kind == "ident" && declared.contains(v.as_str()) {
                        follows.insert(w[3].0.clone());
                    }
                }
            }
            k = t_end;
            if is(toks.get(k), &Tok::Punct(';')) {
                k += 1;
            }
        }
        if !follows.is_empty() {
            out.entry(name).or_default().extend(follows);
        }
        i = end;
    }
}

/// The index after the bracketed group (`(..)`, `[..]` or `{..}`) that opens at `i`.
pub(crate) fn group_end(toks: &[(Tok, usize)], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < toks.len() {
        match &toks[i].0 {
            Tok::Punct('{') | Tok::Punct('[') | Tok::Punct('(') => depth += 1,
            Tok::Punct('}') | Tok::Punct(']') | Tok::Punct(')') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ if depth == 0 => return i,
            _ => {}
        }
        i += 1;
    }
    i
}

/// The items a declaring macro's invocation at `i` (`name ! {` or `name ! (`) declares.
fn declared_by(toks: &[(Tok, usize)], i: usize, follows: &BTreeSet<Tok>) -> Vec<String> {
    let end = skip_item(toks, i + 2);
    let mut out = Vec::new();
    let mut k = i + 3;
    while k + 1 < end {
        if is(toks.get(k), &Tok::Punct('#')) {
            k = group_end(toks, k + 1);
            continue;
        }
        if let Some(name) = ident(toks.get(k)) {
            let next = &toks[k + 1].0;
            // A name ending a repetition (`$( $name:ident ),*`) is followed by `,` or the
            // invocation's end.
            let closes = matches!(next, Tok::Punct(',') | Tok::Punct(')') | Tok::Punct('}'));
            if follows.contains(next) || (closes && follows.contains(&Tok::Punct(')'))) {
                out.push(name.to_string());
            }
        }
        k += 1;
    }
    out
}

fn scan_file(module: &ModPath, text: &str, declarers: &Declarers) -> Scan {
    let toks = lex(text);
    let mut scan = Scan::default();
    // Open braces, each marked when it is a macro invocation's (`name! { .. }`) or a macro
    // definition's (`macro_rules! name { .. }`): items named there are the module's own. Inline
    // modules, each with the index of its opening brace.
    let mut braces: Vec<Brace> = Vec::new();
    let mut stack: Vec<(String, usize)> = Vec::new();
    let current = |stack: &[(String, usize)]| -> ModPath {
        let mut m = module.clone();
        m.extend(stack.iter().map(|(n, _)| n.clone()));
        m
    };
    let at_module_level = |braces: &[Brace], stack: &[(String, usize)]| {
        let base = stack.last().map_or(0, |(_, b)| b + 1);
        for b in braces.get(base..).unwrap_or(&[]) {
            match b {
                Brace::Block => return false,
                Brace::MacroDef => return true,
                Brace::MacroCall => {}
            }
        }
        true
    };
    let mut i = 0;
    while i < toks.len() {
        let (tok, line) = (&toks[i].0, toks[i].1);
        let prev = if i > 0 { Some(&toks[i - 1].0) } else { None };
        if is_cfg_test(&toks, i, true) && braces.is_empty() {
            scan.test_modules.push(module.clone());
            return scan;
        }
        if is_cfg_test(&toks, i, false) {
            // Test-only code may import anything: it is not part of the module graph.
            let mut j = i + 7;
            while is(toks.get(j), &Tok::Punct('#')) {
                j = group_end(&toks, j + 1);
            }
            if ident(toks.get(j)) == Some("pub") {
                j += 1;
                if is(toks.get(j), &Tok::Punct('(')) {
                    j = group_end(&toks, j);
                }
            }
            if ident(toks.get(j)) == Some("mod") && is(toks.get(j + 2), &Tok::Punct(';')) {
                if let Some(name) = ident(toks.get(j + 1)) {
                    let mut m = current(&stack);
                    m.push(name.to_string());
                    scan.test_modules.push(m);
                }
            }
            i = skip_item(&toks, j);
            continue;
        }
        if let Tok::Ident(name) = tok {
            scan.idents
                .entry(current(&stack))
                .or_default()
                .insert(name.clone());
        }
        if let (Some(follows), true, true) = (
            ident(Some(&toks[i])).and_then(|n| declarers.get(n)),
            is(toks.get(i + 1), &Tok::Punct('!')),
            prev != Some(&Tok::PathSep) && at_module_level(&braces, &stack),
        ) {
            let names = declared_by(&toks, i, follows);
            scan.defs.entry(current(&stack)).or_default().extend(names);
        }
        match tok {
            Tok::Punct('{') => braces.push(if prev == Some(&Tok::Punct('!')) {
                Brace::MacroCall
            } else if i >= 3 && ident(toks.get(i - 3)) == Some("macro_rules") {
                Brace::MacroDef
            } else {
                Brace::Block
            }),
            Tok::Punct('}') => {
                braces.pop();
                if stack.last().is_some_and(|(_, b)| *b == braces.len()) {
                    stack.pop();
                }
            }
            Tok::Ident(kw) if kw == "mod" => {
                if let (Some(name), true) = (
                    ident(toks.get(i + 1)),
                    is(toks.get(i + 2), &Tok::Punct('{')),
                ) {
                    stack.push((name.to_string(), braces.len()));
                    braces.push(Brace::Block);
                    scan.inline_modules.push(current(&stack));
                    i += 3;
                    continue;
                }
            }
            // (`*const T` is a pointer type, not an item.)
            Tok::Ident(kw)
                if ITEM_KEYWORDS.contains(&kw.as_str())
                    && prev != Some(&Tok::Punct('*'))
                    && at_module_level(&braces, &stack) =>
            {
                let j = if is(toks.get(i + 1), &Tok::Punct('!')) {
                    i + 2
                } else {
                    i + 1
                };
                if let Some(name) = ident(toks.get(j)).filter(|n| !n.starts_with('$')) {
                    scan.defs
                        .entry(current(&stack))
                        .or_default()
                        .insert(name.to_string());
                }
            }
            Tok::Ident(kw) if kw == "use" && prev != Some(&Tok::PathSep) => {
                let mut leaves = Vec::new();
                let end = parse_use_tree(&toks, i + 1, Vec::new(), &mut leaves);
                // `pub use`, `pub(crate) use`, `pub(in a::b) use`.
                let public = match prev {
                    Some(Tok::Ident(p)) => p == "pub",
                    Some(Tok::Punct(')')) => {
                        let open = (0..i).rev().find(|&k| is(toks.get(k), &Tok::Punct('(')));
                        open.is_some_and(|k| k > 0 && ident(toks.get(k - 1)) == Some("pub"))
                    }
                    _ => false,
                };
                let m = current(&stack);
                for (path, leaf) in leaves {
                    if !path.is_empty() {
                        scan.uses.push(UseItem {
                            module: m.clone(),
                            path,
                            leaf,
                            public,
                            line,
                        });
                    }
                }
                i = end.max(i + 1);
                continue;
            }
            Tok::Ident(first)
                if prev != Some(&Tok::PathSep)
                    && prev != Some(&Tok::Punct('.'))
                    && is(toks.get(i + 1), &Tok::PathSep) =>
            {
                // `pub(in crate::x)` names a visibility, not an import.
                let in_vis = i >= 3
                    && ident(toks.get(i - 1)) == Some("in")
                    && is(toks.get(i - 2), &Tok::Punct('('))
                    && ident(toks.get(i - 3)) == Some("pub");
                let mut path = vec![first.clone()];
                let mut j = i + 1;
                while is(toks.get(j), &Tok::PathSep) {
                    match ident(toks.get(j + 1)) {
                        Some(s) => {
                            path.push(s.to_string());
                            j += 2;
                        }
                        None => break,
                    }
                }
                if !in_vis {
                    scan.refs.push(PathRef {
                        module: current(&stack),
                        path,
                        line,
                    });
                }
                i += 1;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    scan
}

// ---------------------------------------------------------------------------------------
// The crate: modules, name resolution through re-exports, the file graph and its cycles.

/// The module a file defines (`None` for binaries).
pub(crate) fn file_module(rel: &str) -> Option<ModPath> {
    let parts: Vec<&str> = rel.split('/').collect();
    if parts.first() == Some(&"bin") || rel == "main.rs" {
        return None;
    }
    let mut m: ModPath = parts.iter().map(|s| s.to_string()).collect();
    let last = m.pop()?;
    match last.as_str() {
        "lib.rs" | "mod.rs" => {}
        other => m.push(other.trim_end_matches(".rs").to_string()),
    }
    Some(m)
}

struct Crate {
    files: BTreeMap<ModPath, String>,
    modules: BTreeSet<ModPath>,
    defs: BTreeMap<ModPath, BTreeSet<String>>,
    /// Per module: name in scope -> absolute path it stands for, and whether the import is
    /// public.
    aliases: BTreeMap<ModPath, BTreeMap<String, (Vec<String>, bool)>>,
    /// Per module: modules glob-imported, and whether the import is public.
    globs: BTreeMap<ModPath, Vec<(Vec<String>, bool)>>,
}

impl Crate {
    /// The absolute path (inside the crate) a path written in module `m` stands for, or
    /// `None` when it leads outside the crate (std, another crate) or to a local name.
    fn absolute(&self, m: &ModPath, path: &[String], with_aliases: bool) -> Option<Vec<String>> {
        let first = path.first()?;
        match first.as_str() {
            "crate" | "$crate" => Some(path[1..].to_vec()),
            "self" => Some([m.as_slice(), &path[1..]].concat()),
            "super" => {
                let mut base = m.clone();
                let mut k = 0;
                while path.get(k).is_some_and(|s| s == "super") {
                    base.pop()?;
                    k += 1;
                }
                Some([base.as_slice(), &path[k..]].concat())
            }
            _ => {
                let child = [m.as_slice(), std::slice::from_ref(first)].concat();
                if self.modules.contains(&child) {
                    return Some([m.as_slice(), path].concat());
                }
                if with_aliases {
                    if let Some((t, _)) = self.aliases.get(m).and_then(|a| a.get(first)) {
                        return Some([t.as_slice(), &path[1..]].concat());
                    }
                }
                None
            }
        }
    }

    /// The module that defines `name` as seen from module `m` by code in module `from`:
    /// `m` itself, or where its import of that name (by name, or through a glob) leads;
    /// private imports count only when `from` is `m` or inside it. `None` when it is not
    /// found (a local name, or an item this text scan cannot see).
    fn locate(&self, m: &ModPath, name: &str, from: &ModPath, hops: usize) -> Option<ModPath> {
        let mut seen: BTreeSet<&ModPath> = BTreeSet::new();
        let mut todo = vec![m];
        while let Some(m) = todo.pop() {
            if !seen.insert(m) {
                continue;
            }
            if self.defs.get(m).is_some_and(|d| d.contains(name)) {
                return Some(m.clone());
            }
            let visible = |public: bool| public || from.starts_with(m);
            if let Some((t, _)) = self
                .aliases
                .get(m)
                .and_then(|a| a.get(name))
                .filter(|(_, p)| visible(*p))
            {
                return (hops < 32).then(|| self.resolve(t, from, hops + 1));
            }
            // Globs in the order written: the first that has the name wins.
            let globs = self.globs.get(m).into_iter().flatten().rev();
            todo.extend(globs.filter(|(_, p)| visible(*p)).map(|(g, _)| g));
        }
        None
    }

    /// The module that defines what an absolute path names, following imports and
    /// re-exports of the module it points into (the module itself when the item is not
    /// found).
    fn resolve(&self, abs: &[String], from: &ModPath, hops: usize) -> ModPath {
        let mut k = 0;
        while k < abs.len() && self.modules.contains(&abs[..=k]) {
            k += 1;
        }
        let m = abs[..k].to_vec();
        if k == abs.len() || hops >= 32 {
            return m;
        }
        let name = &abs[k];
        match self.locate(&m, name, from, hops) {
            // A module reached through an import: the rest of the path goes on from there.
            Some(d)
                if k + 1 < abs.len() && !self.defs.get(&d).is_some_and(|x| x.contains(name)) =>
            {
                let mut rest = d;
                rest.extend(abs[k + 1..].iter().cloned());
                self.resolve(&rest, from, hops + 1)
            }
            Some(d) => d,
            None => m,
        }
    }

    /// The file (by its module) that holds module `m`: inline modules belong to their file.
    fn file_of(&self, m: &ModPath) -> ModPath {
        let mut m = m.clone();
        while !self.files.contains_key(&m) && !m.is_empty() {
            m.pop();
        }
        m
    }
}

/// The file graph of a crate: file names by module, and per file the files it imports with
/// the first import that makes each edge.
struct Graph {
    names: BTreeMap<ModPath, String>,
    edges: BTreeMap<ModPath, BTreeMap<ModPath, Import>>,
}

impl Graph {
    /// One line per edge: `from -> to (import)`.
    fn lines(&self) -> Vec<String> {
        let name = |m: &ModPath| self.names.get(m).cloned().unwrap_or_default();
        self.edges
            .iter()
            .flat_map(|(from, tos)| {
                tos.iter().map(move |(to, imp)| {
                    format!("{}:{} -> {} ({})", name(from), imp.line, name(to), imp.text)
                })
            })
            .collect()
    }
}

fn find_cycles(files: &[(String, String)]) -> Vec<Cycle> {
    cycles(&graph(files))
}

fn graph(files: &[(String, String)]) -> Graph {
    let mut krate = Crate {
        files: BTreeMap::new(),
        modules: BTreeSet::new(),
        defs: BTreeMap::new(),
        aliases: BTreeMap::new(),
        globs: BTreeMap::new(),
    };
    let mut declarers = Declarers::new();
    for (_, text) in files {
        declaring_macros(text, &mut declarers);
    }
    let mut scans = Vec::new();
    let mut test_only: BTreeSet<ModPath> = BTreeSet::new();
    for (rel, text) in files {
        let Some(m) = file_module(rel) else {
            continue;
        };
        let scan = scan_file(&m, text, &declarers);
        test_only.extend(scan.test_modules.iter().cloned());
        krate.files.insert(m.clone(), rel.clone());
        krate.modules.insert(m.clone());
        krate.modules.extend(scan.inline_modules.iter().cloned());
        for (dm, names) in &scan.defs {
            krate
                .defs
                .entry(dm.clone())
                .or_default()
                .extend(names.iter().cloned());
        }
        scans.push((m, scan));
    }
    // Test-only files (`#[cfg(test)] mod x;`) may import anything: leave them out.
    scans.retain(|(m, _)| !test_only.iter().any(|t| m.starts_with(t)));
    krate
        .files
        .retain(|m, _| !test_only.iter().any(|t| m.starts_with(t)));
    // Imports in scope per module; a second round resolves `use` paths that start with a
    // name an earlier `use` of the same module brought in.
    for with_aliases in [false, true] {
        for (_, scan) in &scans {
            for u in &scan.uses {
                let Some(abs) = krate.absolute(&u.module, &u.path, with_aliases) else {
                    continue;
                };
                match &u.leaf {
                    Leaf::Name(alias) => {
                        krate
                            .aliases
                            .entry(u.module.clone())
                            .or_default()
                            .entry(alias.clone())
                            .or_insert((abs, u.public));
                    }
                    Leaf::Glob => {
                        let g = krate.globs.entry(u.module.clone()).or_default();
                        if !g.iter().any(|(p, _)| p == &abs) {
                            g.push((abs, u.public));
                        }
                    }
                }
            }
        }
    }
    // The file graph: an edge per file pair, with the first import that makes it.
    let mut edges: BTreeMap<ModPath, BTreeMap<ModPath, Import>> = BTreeMap::new();
    let mut add = |from: &ModPath, to: ModPath, line: usize, text: String| {
        if &to != from {
            edges
                .entry(from.clone())
                .or_default()
                .entry(to)
                .or_insert(Import { line, text });
        }
    };
    for (file, scan) in &scans {
        let imports = scan
            .uses
            .iter()
            .map(|u| (&u.module, &u.path, u.line, "use "))
            .chain(scan.refs.iter().map(|r| (&r.module, &r.path, r.line, "")));
        for (m, path, line, kind) in imports {
            let Some(abs) = krate.absolute(m, path, true) else {
                continue;
            };
            let target = krate.file_of(&krate.resolve(&abs, m, 0));
            let glob = kind == "use "
                && scan
                    .uses
                    .iter()
                    .any(|u| u.line == line && &u.path == path && matches!(u.leaf, Leaf::Glob));
            // A glob of an ancestor (`use super::*`, `use crate::*`) imports the names this
            // module uses from it, not the ancestor itself; those are added below.
            if glob && m.starts_with(&abs) {
                continue;
            }
            add(file, target, line, format!("{kind}{}", path.join("::")));
        }
        // What glob imports bring in: each identifier the module uses that the glob's module
        // defines or re-exports (and the module does not define or import by name).
        for u in scan.uses.iter().filter(|u| matches!(u.leaf, Leaf::Glob)) {
            let Some(g) = krate.absolute(&u.module, &u.path, true) else {
                continue;
            };
            let own = |x: &String| {
                krate.defs.get(&u.module).is_some_and(|d| d.contains(x))
                    || krate
                        .aliases
                        .get(&u.module)
                        .is_some_and(|a| a.contains_key(x))
            };
            for x in scan.idents.get(&u.module).into_iter().flatten() {
                if own(x) {
                    continue;
                }
                let Some(d) = krate.locate(&g, x, &u.module, 0) else {
                    continue;
                };
                let target = krate.file_of(&d);
                add(
                    file,
                    target,
                    u.line,
                    format!("use {}::* ({x})", u.path.join("::")),
                );
            }
        }
    }
    Graph {
        names: krate.files,
        edges,
    }
}

fn cycles(g: &Graph) -> Vec<Cycle> {
    let nodes: Vec<ModPath> = g.names.keys().cloned().collect();
    let name = |m: &ModPath| g.names.get(m).cloned().unwrap_or_default();
    strongly_connected(&nodes, &g.edges)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let set: BTreeSet<&ModPath> = c.iter().collect();
            let mut cycle = Cycle {
                files: c.iter().map(name).collect(),
                edges: Vec::new(),
            };
            cycle.files.sort();
            for from in &c {
                for (to, imp) in g.edges.get(from).into_iter().flatten() {
                    if set.contains(to) {
                        cycle.edges.push((name(from), name(to), imp.clone()));
                    }
                }
            }
            cycle.edges.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
            cycle
        })
        .collect()
}

/// Tarjan's algorithm: the strongly connected components of the graph.
fn strongly_connected(
    nodes: &[ModPath],
    edges: &BTreeMap<ModPath, BTreeMap<ModPath, Import>>,
) -> Vec<Vec<ModPath>> {
    struct State<'a> {
        edges: &'a BTreeMap<ModPath, BTreeMap<ModPath, Import>>,
        index: BTreeMap<&'a ModPath, usize>,
        low: BTreeMap<&'a ModPath, usize>,
        on_stack: BTreeSet<&'a ModPath>,
        stack: Vec<&'a ModPath>,
        out: Vec<Vec<ModPath>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a ModPath) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        let edges = s.edges;
        for w in edges.get(v).into_iter().flat_map(|e| e.keys()) {
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                comp.push(w.clone());
                if w == v {
                    break;
                }
            }
            s.out.push(comp);
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        on_stack: BTreeSet::new(),
        stack: Vec::new(),
        out: Vec::new(),
    };
    for v in nodes {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

// ---------------------------------------------------------------------------------------
// The checker on small made-up crates.

fn cycles_of(files: &[(&str, &str)]) -> Vec<Vec<String>> {
    let owned: Vec<(String, String)> = files
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect();
    find_cycles(&owned).into_iter().map(|c| c.files).collect()
}

#[test]
fn checker_finds_two_siblings_importing_each_other() {
    let c = cycles_of(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "use crate::b::B;\npub struct A;\n"),
        (
            "b.rs",
            "pub struct B;\nfn f() -> super::a::A { super::a::A }\n",
        ),
    ]);
    assert_eq!(c, vec![vec!["a.rs".to_string(), "b.rs".to_string()]]);
}

#[test]
fn checker_ignores_mod_declarations_but_counts_a_childs_super() {
    // The root declares `a` and `a` uses the root's item: one edge, no cycle.
    let files = [
        ("lib.rs", "mod a;\npub struct Root;\n"),
        ("a.rs", "use super::Root;\n"),
    ];
    assert!(cycles_of(&files).is_empty());
    // The root also re-exports an item of `a`: now they import each other.
    let c = cycles_of(&[
        ("lib.rs", "mod a;\npub use a::A;\npub struct Root;\n"),
        ("a.rs", "use super::Root;\npub struct A;\n"),
    ]);
    assert_eq!(c, vec![vec!["a.rs".to_string(), "lib.rs".to_string()]]);
}

#[test]
fn checker_follows_re_exports_to_the_defining_file() {
    // `crate::B` is `b::B`: `a` imports `b`, not the root; the root's re-exports make no loop.
    let files = [
        (
            "lib.rs",
            "mod a;\nmod b;\npub use a::A;\npub use b::{B, C as D};\n",
        ),
        ("a.rs", "use crate::{B, D};\npub struct A;\n"),
        ("b/mod.rs", "mod c;\npub use self::c::C;\npub struct B;\n"),
        ("b/c.rs", "pub struct C;\n"),
    ];
    assert!(cycles_of(&files).is_empty());
    // ... but when `b/c.rs` uses `crate::A` while `a` uses `crate::D` (= `b::c::C`), it loops
    // (through `b/mod.rs` too: `a` uses its `B`, and it re-exports `c`).
    let c = cycles_of(&[
        files[0],
        files[1],
        files[2],
        ("b/c.rs", "pub struct C(crate::A);\n"),
    ]);
    assert_eq!(
        c,
        vec![vec![
            "a.rs".to_string(),
            "b/c.rs".to_string(),
            "b/mod.rs".to_string()
        ]]
    );
}

#[test]
fn checker_skips_comments_strings_and_inline_test_modules() {
    let files = [
        ("lib.rs", "mod a;\nmod b;\n"),
        (
            "a.rs",
            "// use crate::b::B;\n/* crate::b::B */\nconst S: &str = \"crate::b::B\";\n\
             const R: &str = r#\"crate::b::B\"#;\nconst C: char = '\"';\npub struct A<'a>(&'a u8);\n\
             #[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
        ),
        ("b.rs", "use crate::a::A;\n"),
    ];
    assert!(cycles_of(&files).is_empty());
}

#[test]
fn checker_resolves_globs_by_the_names_used_and_items_declared_by_macros() {
    // pjrt-sys's shape: each area module globs the crate root and declares its handles with
    // a macro; `a` uses `b`'s handle and `b` uses `a`'s.
    let lib = "mod layout;\nmod a;\nmod b;\npub use a::*;\npub use b::*;\n\
               pub(crate) use layout::opaque;\n";
    let layout =
        "macro_rules! opaque {\n    ($($name:ident),* $(,)?) => { $(pub struct $name;)* };\n}\n\
                  pub(crate) use opaque;\n";
    let a = "use crate::*;\nopaque! { A }\npub struct UsesB(*mut B);\n";
    let files = |b: &'static str| {
        [
            ("lib.rs", lib),
            ("layout.rs", layout),
            ("a.rs", a),
            ("b.rs", b),
        ]
    };
    let c = cycles_of(&files(
        "use crate::*;\nopaque! { B }\npub struct UsesA(*mut A);\n",
    ));
    assert_eq!(c, vec![vec!["a.rs".to_string(), "b.rs".to_string()]]);
    // `b` no longer names `A`: the glob brings in nothing from `a`, so no loop.
    assert!(cycles_of(&files("use crate::*;\nopaque! { B }\n")).is_empty());
}

#[test]
fn checker_leaves_test_only_code_out() {
    let files = [
        ("lib.rs", "mod a;\nmod b;\n#[cfg(test)]\nmod tests;\n"),
        (
            "a.rs",
            "pub struct A;\n#[cfg(test)]\n#[allow(unused)]\nmod tests {\n    use crate::b::B;\n}\n\
             pub struct After(crate::b::B);\n",
        ),
        ("b.rs", "use crate::a::A;\npub struct B;\n"),
        ("tests.rs", "use crate::a::A;\nuse crate::b::B;\n"),
    ];
    // `a`'s test module imports `b`, which imports `a`: test code, left out. The item after
    // it is still read (its path into `b` makes the loop).
    let c = cycles_of(&files);
    assert_eq!(c, vec![vec!["a.rs".to_string(), "b.rs".to_string()]]);
    let mut without = files;
    without[1].1 =
        "pub struct A;\n#[cfg(test)]\n#[allow(unused)]\nmod tests {\n    use crate::b::B;\n}\n";
    assert!(cycles_of(&without).is_empty());
}
