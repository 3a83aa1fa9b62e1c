//! A sanity check of a plugin file's ELF headers before `dlopen` maps it.
//!
//! `dlopen` trusts the file: the program headers say which byte ranges to map, and a range
//! past the end of a truncated file maps pages that fault with SIGBUS when the loader touches
//! them, inside `dlopen`, before any symbol lookup (a half-copied or half-downloaded plugin
//! kills the process). So, before loading, the header and program headers are read and every
//! range they name is checked against the file's size, together with the class, byte order,
//! type and machine. This is a check of the file's shape, not of its contents: a file whose
//! bytes were changed in place still loads (the set-up's SHA-256 pins cover that), and the
//! file could change between this check and `dlopen`.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// ELF header size (64-bit).
const EHDR_SIZE: usize = 64;
/// Program header size (64-bit).
const PHDR_SIZE: usize = 56;
const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const ET_DYN: u16 = 3;

/// The `e_machine` of this build's target, when known.
fn this_machine() -> Option<u16> {
    if cfg!(target_arch = "x86_64") {
        Some(62)
    } else if cfg!(target_arch = "aarch64") {
        Some(183)
    } else {
        None
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

/// `Err(why)` when the file at `path` is not a whole shared library for this machine.
pub(crate) fn check_shared_library(path: &Path) -> Result<(), String> {
    if !cfg!(all(
        target_pointer_width = "64",
        target_endian = "little",
        unix
    )) {
        return Ok(());
    }
    let mut f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let size = f.metadata().map_err(|e| e.to_string())?.len();
    let mut h = [0u8; EHDR_SIZE];
    if size < EHDR_SIZE as u64 {
        return Err(format!(
            "not a shared library: {size} bytes, shorter than an ELF header"
        ));
    }
    f.read_exact(&mut h).map_err(|e| e.to_string())?;
    if &h[..4] != b"\x7fELF" {
        return Err("not a shared library: no ELF magic".into());
    }
    if h[4] != 2 || h[5] != 1 {
        return Err(format!(
            "not a 64-bit little-endian ELF file (class {}, data {})",
            h[4], h[5]
        ));
    }
    let e_type = u16_at(&h, 16);
    if e_type != ET_DYN {
        return Err(format!(
            "ELF type {e_type} is not a shared library (type {ET_DYN})"
        ));
    }
    let machine = u16_at(&h, 18);
    if let Some(m) = this_machine() {
        if machine != m {
            return Err(format!(
                "built for ELF machine {machine}, this process runs on machine {m}"
            ));
        }
    }
    let (phoff, shoff) = (u64_at(&h, 32), u64_at(&h, 40));
    let (phentsize, phnum) = (u16_at(&h, 54), u16_at(&h, 56));
    let (shentsize, shnum) = (u16_at(&h, 58), u16_at(&h, 60));
    let within = |what: &str, off: u64, len: u64| -> Result<(), String> {
        match off.checked_add(len) {
            Some(end) if end <= size => Ok(()),
            _ => Err(format!(
                "truncated or damaged: {what} at bytes [{off}, {off}+{len}) lies past the file's end ({size} bytes)"
            )),
        }
    };
    if usize::from(phentsize) != PHDR_SIZE || phnum == 0 {
        return Err(format!(
            "damaged ELF header: {phnum} program headers of {phentsize} bytes"
        ));
    }
    let ph_len = u64::from(phnum) * PHDR_SIZE as u64;
    within("the program header table", phoff, ph_len)?;
    if shnum > 0 {
        within(
            "the section header table",
            shoff,
            u64::from(shnum) * u64::from(shentsize),
        )?;
    }
    let mut ph = vec![0u8; ph_len as usize];
    f.seek(SeekFrom::Start(phoff)).map_err(|e| e.to_string())?;
    f.read_exact(&mut ph).map_err(|e| e.to_string())?;
    let mut loads = 0;
    let mut dynamic = false;
    for k in 0..usize::from(phnum) {
        let p = &ph[k * PHDR_SIZE..(k + 1) * PHDR_SIZE];
        let p_type = u32_at(p, 0);
        let (offset, filesz) = (u64_at(p, 8), u64_at(p, 32));
        if p_type == PT_LOAD || p_type == PT_DYNAMIC {
            within(&format!("segment {k} (type {p_type})"), offset, filesz)?;
        }
        loads += usize::from(p_type == PT_LOAD);
        dynamic |= p_type == PT_DYNAMIC;
    }
    if loads == 0 || !dynamic {
        return Err("not a shared library: no loadable or dynamic segment".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("pjrt-elf-{}-{name}", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn this_test_binary_passes_and_its_truncations_do_not() {
        // The test binary is an executable (ET_DYN for a PIE, else ET_EXEC): check the
        // range logic on it by pretending it is a library, then cut it.
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let mut lib = exe.clone();
        lib[16] = ET_DYN as u8;
        lib[17] = 0;
        let whole = scratch("whole", &lib);
        assert_eq!(check_shared_library(&whole), Ok(()));
        for cut in [lib.len() - 1, lib.len() / 2, 4096, 100, 63, 3, 0] {
            let p = scratch("cut", &lib[..cut]);
            let e = check_shared_library(&p).unwrap_err();
            assert!(
                e.contains("truncated") || e.contains("shorter") || e.contains("magic"),
                "cut at {cut}: {e}"
            );
        }
        let mut other = lib.clone();
        other[18] = 0x28; // ARM
        let p = scratch("machine", &other);
        assert!(check_shared_library(&p).unwrap_err().contains("machine"));
        let p = scratch(
            "text",
            b"#!/bin/sh\necho not a library, but long enough to read a header from it......\n",
        );
        assert!(check_shared_library(&p).unwrap_err().contains("magic"));
        std::fs::remove_file(whole).unwrap();
        std::fs::remove_file(p).unwrap();
    }
}
