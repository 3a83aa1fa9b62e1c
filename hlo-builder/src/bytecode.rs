//! MLIR bytecode from elsewhere, read with MLIR and checked before any compiler sees it.
//!
//! `pjrt-runtime` does not read MLIR bytecode, so its `Program::validate` refuses bytecode it
//! did not get from a trusted source. This crate links MLIR: [`program_from_bytecode`] parses
//! the bytecode (the `func` dialect registered, every other dialect's ops kept generic), prints
//! the module as text and returns a text program, which `Client::compile` checks like any
//! other (call cycles, nesting, reserved custom-call targets).

use std::io::{Read, Seek, SeekFrom, Write};
use std::time::{Duration, Instant};

use melior::dialect::DialectHandle;
use melior::ir::Module as MlirModule;
use melior::Context;

use crate::error::{Error, Result};

/// The most bytes [`program_from_bytecode`] reads: MLIR's reader holds the whole module (and
/// its text) in memory several times over.
pub const MAX_BYTECODE_BYTES: usize = 1 << 30;

/// Reads an MLIR bytecode module (from `jax.jit(...).lower(...)`'s bytecode, `mlir-opt
/// --emit-bytecode`, or this crate's [`Module::bytecode`](crate::Module::bytecode)) and
/// returns it as a checked text program for `pjrt::Client::compile`.
///
/// The bytecode is parsed by MLIR in a child process (a `fork` of this one: MLIR's bytecode
/// reader trusts its input, and a corrupt file corrupted its heap when tried), with the
/// `func` dialect registered and other dialects' ops kept generic; a reader that crashes or
/// runs past 30 s (plus 1 s per MiB) is an error, never the caller's crash or hang. Bytecode that MLIR cannot
/// read that way is an error naming MLIR's diagnostics: truncated or corrupt bytes, and
/// attributes or types encoded by a dialect this crate does not link (StableHLO's own
/// attribute encodings, VHLO portable artifacts); export such programs as text instead. The
/// text is then checked by `pjrt::Program::validate`, so a recursive, too deeply nested or
/// reserved-target program is refused here rather than crashing a compiler.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use hlo_builder::{program_from_bytecode, Builder, ElementType::F32};
///
/// let mut b = Builder::new("double");
/// let x = b.parameter("x", F32, [4])?;
/// let y = b.add(x, x)?;
/// let module = b.build(&[y])?;
/// let program = program_from_bytecode(module.bytecode())?;
/// assert!(!program.is_mlir_bytecode());
///
/// // Bytes that are not MLIR bytecode are refused before any compiler sees them.
/// assert!(program_from_bytecode(b"ML\xefR\x00\x01garbage").is_err());
/// # Ok(())
/// # }
/// ```
pub fn program_from_bytecode(bytes: &[u8]) -> Result<pjrt::Program> {
    const FUNC: &str = "program_from_bytecode";
    if !bytes.starts_with(b"ML\xefR") {
        return Err(Error::Bytecode(format!(
            "{FUNC}: the {} bytes do not start with MLIR bytecode's magic `ML\\xefR`",
            bytes.len()
        )));
    }
    if bytes.len() > MAX_BYTECODE_BYTES {
        return Err(Error::Bytecode(format!(
            "{FUNC}: {} bytes of bytecode is more than the {MAX_BYTECODE_BYTES} read",
            bytes.len()
        )));
    }
    let text = read_in_child(bytes)?;
    let program = pjrt::Program::mlir_text(text);
    program.validate()?;
    Ok(program)
}

/// How long the reading process may take: 30 s, plus 1 s per MiB of bytecode.
fn reading_time(bytes: &[u8]) -> Duration {
    Duration::from_secs(30 + (bytes.len() >> 20) as u64)
}

/// Parses `bytes` with MLIR in a child process and returns the module's text. MLIR's bytecode
/// reader trusts its input (a flipped byte corrupted the heap and aborted the process when
/// tried here), so it runs where a crash costs only the child: a `fork` of this process, which
/// writes the text (or MLIR's diagnostics) to a temporary file and exits. A child that dies by
/// a signal, or runs past [`reading_time`] (a lock another thread held at the fork, or a
/// reader that loops), is an error; the parent never waits longer.
fn read_in_child(bytes: &[u8]) -> Result<String> {
    const FUNC: &str = "program_from_bytecode";
    let io = |what: &str, e: std::io::Error| Error::Bytecode(format!("{FUNC}: {what}: {e}"));
    let mut out = tempfile::tempfile().map_err(|e| io("cannot make the temporary file", e))?;
    // The reader recurses on nested attributes and regions: the child forks from a thread
    // with the lowering's stack (room for the builder's deepest modules); deeper nesting
    // overflows the child's stack only, which is an error here like any crash of the child.
    let stack = crate::lower::LOWERING_STACK;
    let child_out = out
        .try_clone()
        .map_err(|e| io("cannot share the temporary file", e))?;
    let status = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("hlo-builder-read-bytecode".into())
            .stack_size(stack)
            .spawn_scoped(s, move || fork_and_wait(bytes, child_out))
            .map_err(|e| Error::Bytecode(format!("{FUNC}: cannot start the reading thread: {e}")))?
            .join()
            .unwrap_or_else(|_| {
                Err(Error::Bytecode(format!(
                    "{FUNC}: the reading thread panicked"
                )))
            })
    })?;
    out.seek(SeekFrom::Start(0))
        .map_err(|e| io("cannot read the temporary file", e))?;
    let mut text = Vec::new();
    out.read_to_end(&mut text)
        .map_err(|e| io("cannot read the temporary file", e))?;
    match status {
        0 => String::from_utf8(text).map_err(|e| {
            Error::Bytecode(format!(
                "{FUNC}: MLIR read the {} bytes but printed text that is not UTF-8 (at byte {})",
                bytes.len(),
                e.utf8_error().valid_up_to()
            ))
        }),
        1 => Err(Error::Bytecode(format!(
            "{FUNC}: the {} bytes: {}",
            bytes.len(),
            String::from_utf8_lossy(&text)
        ))),
        code => Err(Error::Bytecode(format!(
            "{FUNC}: the reading process exited with {code} on the {} bytes",
            bytes.len()
        ))),
    }
}

/// Forks; the child reads `bytes` into `out` and exits 0 (text written) or 1 (diagnostics
/// written). Returns the child's exit code, or an error when it died or ran too long.
fn fork_and_wait(bytes: &[u8], mut out: std::fs::File) -> Result<i32> {
    const FUNC: &str = "program_from_bytecode";
    // SAFETY: fork has no memory-safety preconditions. The child runs only this thread: it
    // parses, writes the file and leaves with `_exit`, running no destructors or exit
    // handlers of the parent's state; a lock another thread held at the fork can only make
    // it hang, which the parent's time limit ends.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(Error::Bytecode(format!(
            "{FUNC}: cannot fork the reading process: {}",
            std::io::Error::last_os_error()
        )));
    }
    if pid == 0 {
        // Whatever happens, the child must not return into the parent's code.
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let (code, written) = match parse_to_text(bytes) {
                Ok(text) => (0, out.write_all(&text)),
                Err(diagnostics) => (1, out.write_all(diagnostics.as_bytes())),
            };
            if written.is_ok() && out.flush().is_ok() {
                code
            } else {
                3
            }
        }))
        .unwrap_or(4);
        // SAFETY: ends the child at once, as the comment on fork says.
        unsafe { libc::_exit(code) }
    }
    let limit = reading_time(bytes);
    let start = Instant::now();
    let mut nap = Duration::from_micros(200);
    loop {
        let mut status = 0;
        // SAFETY: `pid` is our child and `status` a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            if libc::WIFEXITED(status) {
                return Ok(libc::WEXITSTATUS(status));
            }
            let signal = if libc::WIFSIGNALED(status) {
                libc::WTERMSIG(status)
            } else {
                0
            };
            return Err(Error::Bytecode(format!(
                "{FUNC}: MLIR's bytecode reader crashed on the {} bytes (signal {signal} in the \
                 reading process): the bytecode is corrupt or hostile",
                bytes.len()
            )));
        }
        if r < 0 {
            return Err(Error::Bytecode(format!(
                "{FUNC}: cannot wait for the reading process: {}",
                std::io::Error::last_os_error()
            )));
        }
        if start.elapsed() > limit {
            // SAFETY: `pid` is our child, not yet reaped.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return Err(Error::Bytecode(format!(
                "{FUNC}: the reading process ran past {limit:?} on the {} bytes; stopped",
                bytes.len()
            )));
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(20));
    }
}

fn parse_to_text(bytes: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let ctx = Context::new();
    ctx.enable_multi_threading(false);
    DialectHandle::func().load_dialect(&ctx);
    ctx.set_allow_unregistered_dialects(true);
    // Diagnostics are collected as bytes (a corrupt file's names need not be UTF-8).
    let mut diags: Vec<u8> = Vec::new();
    // SAFETY: `ctx` is live; `diagnostic` receives `&mut diags` as its user data, which
    // outlives the handler (detached below, before `diags` is read or dropped); no destructor
    // is given for the user data, which `diags` owns.
    let handler = unsafe {
        mlir_sys::mlirContextAttachDiagnosticHandler(
            ctx.to_raw(),
            Some(diagnostic),
            (&mut diags as *mut Vec<u8>).cast(),
            None,
        )
    };
    let source = mlir_sys::MlirStringRef {
        data: bytes.as_ptr().cast(),
        length: bytes.len(),
    };
    // SAFETY: `ctx` is a live context and `source` points at `bytes`, which outlive the call;
    // MLIR copies what it keeps (the parser reads the buffer without requiring a NUL).
    let raw = unsafe { mlir_sys::mlirModuleCreateParse(ctx.to_raw(), source) };
    let result = if raw.ptr.is_null() {
        Err(None)
    } else {
        read_back(raw, bytes).map_err(Some)
    };
    // SAFETY: `handler` was attached to `ctx` above and is detached once.
    unsafe { mlir_sys::mlirContextDetachDiagnosticHandler(ctx.to_raw(), handler) };
    result.map_err(|m| {
        m.unwrap_or_else(|| {
            format!(
                "MLIR cannot read them: {}",
                if diags.is_empty() {
                    "no diagnostic".into()
                } else {
                    String::from_utf8_lossy(&diags)
                }
            )
        })
    })
}

/// The text of the module `raw` MLIR parsed from `bytes`, if writing it back gives `bytes`.
fn read_back(raw: mlir_sys::MlirModule, bytes: &[u8]) -> std::result::Result<Vec<u8>, String> {
    // SAFETY: `raw` is a non-null module just created in `ctx`, owned by nobody else; the
    // wrapper destroys it when dropped, before `ctx`.
    let module = unsafe { MlirModule::from_raw(raw) };
    // Ops of a dialect this process does not link are read generically; when the writer
    // had that dialect registered, their properties were encoded by it and are misread
    // (tried on JAX's bytecode: a dot_general's dimension numbers came back as
    // `loc(unknown)`). Only a module whose bytecode MLIR writes back byte for byte was
    // read faithfully.
    let mut again: Vec<u8> = Vec::new();
    // SAFETY: as for the print below.
    unsafe {
        mlir_sys::mlirOperationWriteBytecode(
            module.as_operation().to_raw(),
            Some(collect),
            (&mut again as *mut Vec<u8>).cast(),
        )
    };
    if again != bytes {
        return Err(
            "writing the module MLIR read back as bytecode does not give the same bytes: it \
             was written by another MLIR version, or with dialects registered (StableHLO, \
             VHLO) whose encodings this crate cannot decode faithfully; pass the module as \
             MLIR text instead"
                .to_string(),
        );
    }
    let mut text: Vec<u8> = Vec::new();
    // SAFETY: the operation is alive for the call; `collect` receives `&mut text` as its
    // user data, only during the call.
    unsafe {
        mlir_sys::mlirOperationPrint(
            module.as_operation().to_raw(),
            Some(collect),
            (&mut text as *mut Vec<u8>).cast(),
        )
    };
    Ok(text)
}

/// MLIR's diagnostic handler: prints the diagnostic into the `Vec<u8>` behind `user`.
unsafe extern "C" fn diagnostic(
    d: mlir_sys::MlirDiagnostic,
    user: *mut std::ffi::c_void,
) -> mlir_sys::MlirLogicalResult {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: `user` is the `Vec<u8>` `parse_to_text` lent while the handler is attached.
        let diags = unsafe { &mut *user.cast::<Vec<u8>>() };
        if !diags.is_empty() {
            diags.extend_from_slice(b"; ");
        }
        // SAFETY: `d` is live for the handler's call; `collect` appends to the same vector.
        unsafe { mlir_sys::mlirDiagnosticPrint(d, Some(collect), user) };
    });
    mlir_sys::MlirLogicalResult { value: 1 }
}

/// MLIR's print callback: appends each chunk to the `Vec<u8>` behind `user`.
unsafe extern "C" fn collect(chunk: mlir_sys::MlirStringRef, user: *mut std::ffi::c_void) {
    let _ = std::panic::catch_unwind(|| {
        if chunk.data.is_null() || chunk.length == 0 {
            return;
        }
        // SAFETY: MLIR passes `length` readable bytes at `data` for the call, and `user` is
        // the `Vec<u8>` that `parse_to_text` lent for the print, used by nobody else.
        let (bytes, text) = unsafe {
            (
                std::slice::from_raw_parts(chunk.data.cast::<u8>(), chunk.length),
                &mut *user.cast::<Vec<u8>>(),
            )
        };
        text.extend_from_slice(bytes);
    });
}
