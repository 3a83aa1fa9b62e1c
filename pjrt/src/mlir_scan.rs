//! Reading MLIR text before a plugin compiles it: call cycles, nesting too deep for the
//! compilers' stacks, and custom calls to the targets XLA reserves.
//!
//! Every CPU plugin's compiler inlines calls recursively, so a function that calls itself,
//! directly or through others, overflows the compiler's stack and kills the process. This
//! module reads MLIR text far enough to see which function refers to which: a small
//! tokenizer (strings, comments, `@symbols`, identifiers), function definitions in both the
//! custom form (`func.func private @f(...)`) and the generic form (`"func.func"() <{...
//! sym_name = "f" ...}> (...)`), and every `@symbol` naming a function that appears inside
//! another function. Any such reference counts as a call (`func.call`, a composite's
//! `decomposition`, a custom call's `called_computations`): over-approximating can only
//! refuse a module that refers to a function from inside itself without calling it.
//!
//! A function's text runs from its definition to the next function's definition, which is
//! exact for modules whose functions are siblings (all StableHLO modules); nested modules
//! with functions of the same names would merge. MLIR bytecode is not read: its symbol
//! references live in a string table whose decoding needs the MLIR bytecode reader.

use std::collections::HashMap;

/// One token of MLIR text (only what the call graph needs).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token<'a> {
    /// `@name` or `@"name"`.
    Symbol(&'a [u8]),
    /// A bare identifier or keyword (`func.func`, `sym_name`, `private`).
    Ident(&'a [u8]),
    /// The contents of a string literal, escapes left as written.
    Str(&'a [u8]),
    /// Any other single character.
    Punct(u8),
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$' | b'.' | b'-')
}

/// The end (exclusive) of the string literal whose opening quote is at `start`: the index
/// after the closing quote, or the text's end when unterminated.
fn string_end(text: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    text.len()
}

/// The tokens of `text`, with their byte offsets.
fn tokens(text: &[u8]) -> Vec<(usize, Token<'_>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'/' && text.get(i + 1) == Some(&b'/') {
            while i < text.len() && text[i] != b'\n' {
                i += 1;
            }
        } else if c == b'"' {
            let end = string_end(text, i);
            let inner_end = if end > i + 1 && text[end - 1] == b'"' {
                end - 1
            } else {
                end
            };
            out.push((i, Token::Str(&text[i + 1..inner_end.max(i + 1)])));
            i = end;
        } else if c == b'@' {
            if text.get(i + 1) == Some(&b'"') {
                let end = string_end(text, i + 1);
                let inner_end = if end > i + 2 && text[end - 1] == b'"' {
                    end - 1
                } else {
                    end
                };
                out.push((i, Token::Symbol(&text[i + 2..inner_end.max(i + 2)])));
                i = end;
            } else {
                let mut j = i + 1;
                while j < text.len() && is_ident_char(text[j]) {
                    j += 1;
                }
                out.push((i, Token::Symbol(&text[i + 1..j])));
                i = j;
            }
        } else if is_ident_start(c) {
            let mut j = i + 1;
            while j < text.len() && is_ident_char(text[j]) {
                j += 1;
            }
            out.push((i, Token::Ident(&text[i..j])));
            i = j;
        } else {
            out.push((i, Token::Punct(c)));
            i += 1;
        }
    }
    out
}

/// A function definition: its name and the index of its first token.
struct Definition<'a> {
    name: &'a [u8],
    /// Token index where the definition starts.
    start: usize,
    /// Token index of the defining symbol (custom form), which is not a reference.
    name_token: Option<usize>,
}

/// The function definitions among `toks`, in text order.
fn definitions<'a>(toks: &[(usize, Token<'a>)]) -> Vec<Definition<'a>> {
    let mut defs = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i].1 {
            Token::Ident(b"func.func") => {
                // func.func [private|public|nested] @name
                let mut j = i + 1;
                while let Some((_, Token::Ident(b"private" | b"public" | b"nested"))) = toks.get(j)
                {
                    j += 1;
                }
                if let Some((_, Token::Symbol(name))) = toks.get(j) {
                    defs.push(Definition {
                        name,
                        start: i,
                        name_token: Some(j),
                    });
                }
            }
            Token::Str(b"func.func") => {
                // "func.func"() <{... sym_name = "name" ...}>
                let mut j = i + 1;
                while j + 2 < toks.len() {
                    match (&toks[j].1, &toks[j + 1].1, &toks[j + 2].1) {
                        (Token::Ident(b"sym_name"), Token::Punct(b'='), Token::Str(name)) => {
                            defs.push(Definition {
                                name,
                                start: i,
                                name_token: None,
                            });
                            break;
                        }
                        (Token::Str(b"func.func") | Token::Ident(b"func.func"), _, _) => break,
                        _ => j += 1,
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    defs
}

/// Shows a symbol name for an error.
fn show(name: &[u8]) -> String {
    format!("@{}", String::from_utf8_lossy(name))
}

/// The deepest call chain (functions, counting the first) the text may have: XLA's compiler
/// recurses through calls (the 0.115 plugin's overflows a 2 MiB stack near 150 levels).
pub(crate) const MAX_CALL_DEPTH: usize = 64;

/// The most tokens of text a function may amount to once every call in it is inlined (XLA
/// inlines each call site; functions that each call the previous one twice double the program
/// per level, and 2^40 copies ran the compiler out of memory, aborting the process).
pub(crate) const MAX_INLINED_TOKENS: u64 = 100_000_000;

/// The deepest nesting of braces (regions, plus the module, functions and attribute
/// dictionaries) the text may have, for the same reason.
pub(crate) const MAX_BRACE_DEPTH: usize = 80;

/// `Err(description)` when a function of the module calls itself, directly or through
/// others (the description names the cycle: `@a -> @b -> @a`), or when calls or regions
/// nest deeper than [`MAX_CALL_DEPTH`] / [`MAX_BRACE_DEPTH`].
pub(crate) fn find_call_cycle(text: &[u8]) -> Result<(), String> {
    let toks = tokens(text);
    let mut depth = 0usize;
    for (at, t) in &toks {
        match t {
            Token::Punct(b'{') => {
                depth += 1;
                if depth > MAX_BRACE_DEPTH {
                    return Err(format!(
                        "regions nested more than {MAX_BRACE_DEPTH} braces deep (at byte {at}); \
                         the compilers recurse once per level and would overflow their stack"
                    ));
                }
            }
            Token::Punct(b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let defs = definitions(&toks);
    if defs.is_empty() {
        return Ok(());
    }
    let index: HashMap<&[u8], usize> = defs.iter().enumerate().map(|(k, d)| (d.name, k)).collect();
    // Edges: function k refers to function m (each distinct m once; `uses` counts the
    // references, since XLA inlines each call site), and each function's own size in tokens.
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); defs.len()];
    let mut uses: Vec<Vec<u64>> = vec![Vec::new(); defs.len()];
    let mut own = vec![0u64; defs.len()];
    for (k, d) in defs.iter().enumerate() {
        let end = defs.get(k + 1).map_or(toks.len(), |n| n.start);
        own[k] = end.saturating_sub(d.start) as u64;
        for (t, (_, tok)) in toks.iter().enumerate().take(end).skip(d.start) {
            if Some(t) == d.name_token {
                continue;
            }
            if let Token::Symbol(s) = tok {
                if let Some(&m) = index.get(s) {
                    match edges[k].iter().position(|&e| e == m) {
                        Some(i) => uses[k][i] += 1,
                        None => {
                            edges[k].push(m);
                            uses[k].push(1);
                        }
                    }
                }
            }
        }
    }
    let graph = CallGraph {
        names: defs.iter().map(|d| show(d.name)).collect(),
        own,
        edges,
        uses,
    };
    graph.check("tokens")
}

/// Functions that refer to each other: what [`find_call_cycle`] reads from MLIR text and
/// `hlo_scan` from an HLO proto, checked by one rule ([`CallGraph::check`]).
pub(crate) struct CallGraph {
    /// Each function's name as errors show it.
    pub names: Vec<String>,
    /// Each function's own size (tokens of text, or instructions).
    pub own: Vec<u64>,
    /// The distinct functions each function calls.
    pub edges: Vec<Vec<usize>>,
    /// How many call sites each edge stands for (XLA inlines each one).
    pub uses: Vec<Vec<u64>>,
}

impl CallGraph {
    /// `Err(description)` when a function calls itself, directly or through others (the
    /// description names the cycle: `@a -> @b -> @a`), when calls chain deeper than
    /// [`MAX_CALL_DEPTH`], or when a function amounts to more than [`MAX_INLINED_TOKENS`]
    /// `unit`s once every call in it is inlined. Iterative: a hostile program may chain a
    /// million functions.
    pub(crate) fn check(&self, unit: &str) -> Result<(), String> {
        let n = self.names.len();
        let (edges, uses, own) = (&self.edges, &self.uses, &self.own);
        let show = |k: usize| self.names[k].clone();
        // Size of each function once every call in it is inlined, known once Done.
        let mut inlined = vec![0u64; n];
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Open,
            Done,
        }
        let mut mark = vec![Mark::New; n];
        // The longest call chain starting at each function (1: it calls nothing), once Done.
        let mut chain = vec![1usize; n];
        for root in 0..n {
            if mark[root] != Mark::New {
                continue;
            }
            // (node, next edge to follow)
            let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
            mark[root] = Mark::Open;
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                if let Some(&m) = edges[node].get(*next) {
                    *next += 1;
                    match mark[m] {
                        Mark::New => {
                            mark[m] = Mark::Open;
                            stack.push((m, 0));
                        }
                        Mark::Open => {
                            // The cycle is the stack from `m` to `node`, then back to `m`.
                            let from = stack.iter().position(|&(f, _)| f == m).unwrap_or(0);
                            let mut path: Vec<String> =
                                stack[from..].iter().map(|&(f, _)| show(f)).collect();
                            path.push(show(m));
                            return Err(format!("a recursive call: {}", path.join(" -> ")));
                        }
                        Mark::Done => {}
                    }
                } else {
                    mark[node] = Mark::Done;
                    chain[node] = 1 + edges[node].iter().map(|&m| chain[m]).max().unwrap_or(0);
                    inlined[node] = edges[node]
                        .iter()
                        .zip(&uses[node])
                        .fold(own[node], |acc, (&m, &k)| {
                            acc.saturating_add(k.saturating_mul(inlined[m]))
                        });
                    if inlined[node] > MAX_INLINED_TOKENS {
                        return Err(format!(
                            "{} holds more than {MAX_INLINED_TOKENS} {unit} once its calls are \
                             inlined (each call site counts), as XLA does; the compiler would \
                             run out of memory",
                            show(node)
                        ));
                    }
                    if chain[node] > MAX_CALL_DEPTH {
                        return Err(format!(
                            "calls nested {} deep from {}, more than the {MAX_CALL_DEPTH} \
                             allowed; the compilers recurse through calls and would overflow \
                             their stack",
                            chain[node],
                            show(node)
                        ));
                    }
                    stack.pop();
                }
            }
        }
        Ok(())
    }
}

/// The first custom call in `text` to a target XLA reserves
/// ([`crate::RESERVED_CUSTOM_CALL_TARGETS`], [`crate::RESERVED_CUSTOM_CALL_PREFIXES`]), in
/// either form: `stablehlo.custom_call @Target(...)` or `call_target_name = "Target"`.
/// `Sharding` is left to the plugin: its annotation form is legitimate and which form a
/// call has is not read here. So is `annotate_device_placement` when the call names the
/// memory it moves to (`_xla_buffer_placement` among its next tokens): the form
/// `hlo-builder` emits for in-program moves, which the plugins compile (0.115) or refuse
/// with an error (0.81, 0.106).
pub(crate) fn find_reserved_custom_call(text: &[u8]) -> Option<String> {
    let toks = tokens(text);
    for (i, w) in toks.windows(3).enumerate() {
        let target: &[u8] = match (&w[0].1, &w[1].1, &w[2].1) {
            (Token::Ident(b"stablehlo.custom_call" | b"mhlo.custom_call"), Token::Symbol(t), _) => {
                t
            }
            (Token::Ident(b"call_target_name"), Token::Punct(b'='), Token::Str(t)) => t,
            _ => continue,
        };
        let Ok(name) = std::str::from_utf8(target) else {
            continue;
        };
        let placed_move = name == "annotate_device_placement"
            && toks[i..toks.len().min(i + 48)]
                .iter()
                .any(|t| matches!(t.1, Token::Ident(b"_xla_buffer_placement")));
        if name != "Sharding" && !placed_move && crate::reserved::reserved_target(name).is_some() {
            return Some(name.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placed_move_is_allowed_and_a_bare_placement_call_refused() {
        let placed = r#"%0 = "stablehlo.custom_call"(%x) {call_target_name = "annotate_device_placement", has_side_effect = true, mhlo.frontend_attributes = {_xla_buffer_placement = "pinned_host"}} : (tensor<f32>) -> tensor<f32>"#;
        assert_eq!(find_reserved_custom_call(placed.as_bytes()), None);
        let bare = "%0 = stablehlo.custom_call @annotate_device_placement(%x) : (tensor<f32>) -> tensor<f32>";
        assert_eq!(
            find_reserved_custom_call(bare.as_bytes()).as_deref(),
            Some("annotate_device_placement")
        );
    }

    #[test]
    fn custom_form_cycles() {
        let ok = r#"
            func.func @main(%x: tensor<f32>) -> tensor<f32> {
              %0 = func.call @f(%x) : (tensor<f32>) -> tensor<f32>
              return %0 : tensor<f32>
            }
            func.func private @f(%x: tensor<f32>) -> tensor<f32> {
              return %x : tensor<f32>
            }"#;
        assert_eq!(find_call_cycle(ok.as_bytes()), Ok(()));
        let direct = ok.replace(
            "return %x : tensor<f32>",
            "%1 = call @f(%x) : (tensor<f32>) -> tensor<f32>\n return %1 : tensor<f32>",
        );
        assert_eq!(
            find_call_cycle(direct.as_bytes()),
            Err("a recursive call: @f -> @f".into())
        );
        let mutual = r#"
            func.func @main(%x: tensor<f32>) -> tensor<f32> {
              %0 = func.call @a(%x) : (tensor<f32>) -> tensor<f32>
              return %0 : tensor<f32>
            }
            func.func private @a(%x: tensor<f32>) -> tensor<f32> {
              %0 = func.call @b(%x) : (tensor<f32>) -> tensor<f32>
              return %0 : tensor<f32>
            }
            func.func private @b(%x: tensor<f32>) -> tensor<f32> {
              %0 = func.call @a(%x) : (tensor<f32>) -> tensor<f32>
              return %0 : tensor<f32>
            }"#;
        assert_eq!(
            find_call_cycle(mutual.as_bytes()),
            Err("a recursive call: @a -> @b -> @a".into())
        );
    }

    #[test]
    fn generic_form_and_quoted_symbols() {
        let m = r#"
          "builtin.module"() ({
            "func.func"() <{function_type = (tensor<f32>) -> tensor<f32>, sym_name = "main"}> ({
            ^bb0(%arg0: tensor<f32>):
              %0 = "func.call"(%arg0) <{callee = @"g x"}> : (tensor<f32>) -> tensor<f32>
              "func.return"(%0) : (tensor<f32>) -> ()
            }) : () -> ()
            "func.func"() <{function_type = (tensor<f32>) -> tensor<f32>, sym_name = "g x", sym_visibility = "private"}> ({
            ^bb0(%arg0: tensor<f32>):
              %0 = "func.call"(%arg0) <{callee = @main}> : (tensor<f32>) -> tensor<f32>
              "func.return"(%0) : (tensor<f32>) -> ()
            }) : () -> ()
          }) : () -> ()"#;
        assert_eq!(
            find_call_cycle(m.as_bytes()),
            Err("a recursive call: @main -> @g x -> @main".into())
        );
    }

    #[test]
    fn strings_and_comments_are_not_calls() {
        let m = r#"
            // func.func @f calls @f in this comment
            func.func @f(%x: tensor<f32>) -> tensor<f32> {
              %0 = stablehlo.custom_call @target(%x) {backend_config = "@f"} : (tensor<f32>) -> tensor<f32>
              return %0 : tensor<f32>
            }"#;
        assert_eq!(find_call_cycle(m.as_bytes()), Ok(()));
    }

    #[test]
    fn reserved_custom_call_targets_in_both_forms() {
        let custom = "%0 = stablehlo.custom_call @TopK(%x) : (tensor<4xf32>) -> tensor<4xf32>";
        assert_eq!(
            find_reserved_custom_call(custom.as_bytes()),
            Some("TopK".into())
        );
        let generic = r#"%0 = "stablehlo.custom_call"(%x) <{call_target_name = "__gpu$TopK"}>"#;
        assert_eq!(
            find_reserved_custom_call(generic.as_bytes()),
            Some("__gpu$TopK".into())
        );
        let fine = "%0 = stablehlo.custom_call @my_target(%x) {backend_config = \"TopK\"}";
        assert_eq!(find_reserved_custom_call(fine.as_bytes()), None);
        let sharding = "%0 = stablehlo.custom_call @Sharding(%x)";
        assert_eq!(find_reserved_custom_call(sharding.as_bytes()), None);
    }

    #[test]
    fn long_chains_do_not_recurse() {
        let n = 200_000;
        let mut m = String::new();
        for i in 0..n {
            m.push_str(&format!(
                "func.func @f{i}() {{ call @f{}() : () -> () }}\n",
                i + 1
            ));
        }
        m.push_str(&format!("func.func @f{n}() {{ call @f0() : () -> () }}\n"));
        let e = find_call_cycle(m.as_bytes()).unwrap_err();
        assert!(
            e.starts_with("a recursive call: @f0 -> @f1 -> "),
            "{}",
            &e[..60]
        );
        assert!(e.ends_with(&format!("@f{n} -> @f0")));
    }

    #[test]
    fn exponential_inlining_is_refused() {
        // f0 calls f1 twice, f1 calls f2 twice, ...: 2^n copies of the last once inlined.
        let doubling = |n: usize| {
            let mut m = String::new();
            for i in 0..n {
                m.push_str(&format!(
                    "func.func @f{i}(%x: tensor<f32>) -> tensor<f32> {{ %0 = call @f{j}(%x) : (tensor<f32>) -> tensor<f32> %1 = call @f{j}(%0) : (tensor<f32>) -> tensor<f32> return %1 : tensor<f32> }}\n",
                    j = i + 1
                ));
            }
            m.push_str(&format!(
                "func.func @f{n}(%x: tensor<f32>) -> tensor<f32> {{ return %x : tensor<f32> }}\n"
            ));
            m
        };
        assert_eq!(find_call_cycle(doubling(10).as_bytes()), Ok(()));
        let e = find_call_cycle(doubling(40).as_bytes()).unwrap_err();
        assert!(e.contains("once its calls are inlined"), "{e}");
    }

    #[test]
    fn deep_call_chains_and_regions_are_refused() {
        let chain = |n: usize| {
            let mut m = String::new();
            for i in 0..n {
                m.push_str(&format!(
                    "func.func @f{i}() {{ call @f{}() : () -> () }}\n",
                    i + 1
                ));
            }
            m.push_str(&format!("func.func @f{n}() {{ return }}\n"));
            m
        };
        assert_eq!(
            find_call_cycle(chain(MAX_CALL_DEPTH - 1).as_bytes()),
            Ok(())
        );
        let e = find_call_cycle(chain(MAX_CALL_DEPTH).as_bytes()).unwrap_err();
        assert!(e.contains("calls nested 65 deep from @f0"), "{e}");
        let nest = |n: usize| format!("{}{}", "{".repeat(n), "}".repeat(n));
        assert_eq!(find_call_cycle(nest(MAX_BRACE_DEPTH).as_bytes()), Ok(()));
        let e = find_call_cycle(nest(MAX_BRACE_DEPTH + 1).as_bytes()).unwrap_err();
        assert!(e.contains("nested more than"), "{e}");
        // Braces inside strings do not count.
        let s = format!("\"{}\"", "{".repeat(1000));
        assert_eq!(find_call_cycle(s.as_bytes()), Ok(()));
    }
}
