//! Data the plugin lends: copying (pointer, length) strings and arrays out of it.

use std::ffi::c_char;

/// Copies a (pointer, length) string from the plugin into an owned `String` (lossy UTF-8).
///
/// # Safety
/// `ptr` must be null or point to `len` readable bytes.
pub(crate) unsafe fn str_from_raw(ptr: *const c_char, len: usize) -> String {
    if ptr.is_null() || len == 0 {
        return String::new();
    }
    // SAFETY: the caller guarantees `len` readable bytes at `ptr`.
    let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) };
    String::from_utf8_lossy(bytes).into_owned()
}

/// Copies a (pointer, length) array from the plugin into a `Vec`.
///
/// # Safety
/// `ptr` must be null or point to `len` readable, initialised `T`s.
pub(crate) unsafe fn vec_from_raw<T: Copy>(ptr: *const T, len: usize) -> Vec<T> {
    if ptr.is_null() || len == 0 {
        return Vec::new();
    }
    // SAFETY: the caller guarantees `len` readable elements.
    unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec()
}

/// Copies a (pointer, length) byte array out of the plugin.
///
/// # Safety
/// `ptr` must be null or point to `len` readable bytes.
pub(crate) unsafe fn bytes_from_raw(ptr: *const c_char, len: usize) -> Vec<u8> {
    // SAFETY: forwarded from the caller.
    unsafe { vec_from_raw(ptr.cast::<u8>(), len) }
}

/// Reads `n` (pointer, size) strings.
///
/// # Safety
/// `ptrs` and `sizes` must be null or point to `n` entries each, every string readable.
pub(crate) unsafe fn strings_from_raw(
    ptrs: *const *const c_char,
    sizes: *const usize,
    n: usize,
) -> Vec<String> {
    // SAFETY: forwarded from the caller.
    let p = unsafe { vec_from_raw(ptrs, n) };
    // SAFETY: forwarded from the caller.
    let s = unsafe { vec_from_raw(sizes, n) };
    p.into_iter()
        .zip(s)
        // SAFETY: each entry is a readable string of its size.
        .map(|(p, n)| unsafe { str_from_raw(p, n) })
        .collect()
}
