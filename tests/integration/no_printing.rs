//! Library code prints nothing: no `println!`, `eprintln!`, `print!`, `eprint!` or `dbg!` in
//! the library sources of `pjrt-sys`, `pjrt`, `hlo-builder`, `autodiff` and its derive macro.
//! Libraries report through return values and `tracing` events; what reaches a terminal is
//! the application's choice.
//!
//! Reads every `src/**/*.rs` as text with the module-cycle checker's lexer, so comments, doc
//! comments (and the examples in them) and string literals do not count. Left out as well:
//! `src/bin/` (the `pjrt-plugins` command prints on purpose), `#[cfg(test)]` items and
//! modules, and files that only a `#[cfg(test)] mod x;` brings in. Fails naming each call as
//! `crate/src/file.rs:line`.

use std::collections::BTreeSet;
use std::path::Path;

use crate::module_cycles::{
    file_module, group_end, ident, is, is_cfg_test, lex, read_crate, skip_item, Tok,
};

/// The library crates checked, by folder under the workspace root.
const CRATES: &[&str] = &[
    "pjrt-sys",
    "pjrt",
    "hlo-builder",
    "autodiff",
    "autodiff/derive",
];

/// The macros that write to stdout or stderr.
const PRINTING: &[&str] = &["println", "eprintln", "print", "eprint", "dbg"];

/// One file's printing calls outside test code, and the child modules it declares test-only.
#[derive(Debug, Default, PartialEq)]
struct FileScan {
    /// `(line, macro name)` of each call.
    calls: Vec<(usize, String)>,
    /// Child modules declared `#[cfg(test)] mod name;`.
    test_children: Vec<String>,
    /// The whole file is `#![cfg(test)]`.
    test_only: bool,
}

fn scan(text: &str) -> FileScan {
    let toks = lex(text);
    let mut out = FileScan::default();
    let mut i = 0;
    while i < toks.len() {
        if is_cfg_test(&toks, i, true) {
            out.test_only = true;
            out.calls.clear();
            return out;
        }
        if is_cfg_test(&toks, i, false) {
            // Skip the attributes that follow, then the item they all apply to.
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
                    out.test_children.push(name.to_string());
                }
            }
            i = skip_item(&toks, j);
            continue;
        }
        // A call is `name!` (also as `std::name!`); `macro_rules! name {` declares one.
        if let Some(name) = ident(toks.get(i)) {
            if PRINTING.contains(&name) && is(toks.get(i + 1), &Tok::Punct('!')) {
                out.calls.push((toks[i].1, name.to_string()));
            }
        }
        i += 1;
    }
    out
}

/// `krate/src/<rel>:line: name!` for each printing call in the crate's library code.
fn printing_calls(root: &Path, krate: &str) -> Vec<String> {
    let files = read_crate(&root.join(krate).join("src"));
    assert!(
        !files.is_empty(),
        "{krate}: no source files found under src/"
    );
    let mut test_only: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut scans = Vec::new();
    for (rel, text) in &files {
        // `None`: src/bin/ and main.rs, which are programs, not the library.
        let Some(module) = file_module(rel) else {
            continue;
        };
        let s = scan(text);
        if s.test_only {
            test_only.insert(module.clone());
        }
        for child in &s.test_children {
            let mut m = module.clone();
            m.push(child.clone());
            test_only.insert(m);
        }
        scans.push((module, rel, s));
    }
    let mut found = Vec::new();
    for (module, rel, s) in scans {
        if test_only.iter().any(|t| module.starts_with(t)) {
            continue;
        }
        for (line, name) in s.calls {
            found.push(format!("{krate}/src/{rel}:{line}: {name}!"));
        }
    }
    found
}

#[test]
fn library_code_prints_nothing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let found: Vec<String> = CRATES
        .iter()
        .flat_map(|k| printing_calls(&root, k))
        .collect();
    assert!(
        found.is_empty(),
        "library code must not print (return values, or emit `tracing` events):\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn the_check_sees_calls_and_skips_comments_strings_and_test_code() {
    let src = r##"
//! println!("in a crate doc");
/// ```
/// println!("in an example");
/// ```
fn f() {
    let s = "println!(\"in a string\")";
    let r = r#"eprintln!("raw")"#;
    /* dbg!(s) in a block comment */
    print!("counted");
    std::eprintln!("counted too");
    let c = '"'; dbg!(c);
}
macro_rules! print { () => {} }
#[cfg(test)]
#[allow(unused)]
mod tests {
    fn t() { println!("in a test module"); }
}
#[cfg(test)]
mod more_tests;
#[cfg(test)]
fn helper() { eprint!("a test helper"); }
fn g() { eprint!("counted last"); }
"##;
    let s = scan(src);
    let names: Vec<(usize, &str)> = s.calls.iter().map(|(l, n)| (*l, n.as_str())).collect();
    assert_eq!(
        names,
        vec![(10, "print"), (11, "eprintln"), (12, "dbg"), (24, "eprint")]
    );
    assert_eq!(s.test_children, vec!["more_tests".to_string()]);
    assert!(!s.test_only);

    let whole = scan("#![cfg(test)]\nfn t() { println!(\"x\"); }\n");
    assert!(whole.test_only && whole.calls.is_empty());
}
