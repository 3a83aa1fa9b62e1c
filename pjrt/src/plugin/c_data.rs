//! Data the plugin lends: copying (pointer, length) strings and arrays out of it, and giving
//! lent data back through the deleter the plugin handed out with it.

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

/// A deleter the plugin hands out with data it lends: `fn(data)`, or `fn(data, arg)` for
/// chunks and host allocations.
pub(crate) trait Deleter: Copy {
    /// What the deleter is called with: the data pointer, or (data, arg).
    type Data;

    /// Calls the deleter.
    ///
    /// # Safety
    /// As for [`call_deleter`].
    unsafe fn call(self, data: Self::Data);
}

impl<P> Deleter for unsafe extern "C" fn(P) {
    type Data = P;

    unsafe fn call(self, data: P) {
        // SAFETY: the contract of `call_deleter`, passed on by the caller.
        unsafe { self(data) }
    }
}

impl<P, A> Deleter for unsafe extern "C" fn(P, A) {
    type Data = (P, A);

    unsafe fn call(self, (data, arg): (P, A)) {
        // SAFETY: the contract of `call_deleter`, passed on by the caller.
        unsafe { self(data, arg) }
    }
}

/// Gives data the plugin lent back to it: calls the deleter that came with the data, when
/// the plugin gave one (no deleter: the plugin keeps ownership itself).
///
/// # Safety
/// `deleter` and `data` must come together from the plugin (the same output struct or
/// chunk), the data must not have been given back already, and nothing may read it
/// afterwards: call this once, after copying out what is needed.
pub(crate) unsafe fn call_deleter<D: Deleter>(deleter: Option<D>, data: D::Data) {
    if let Some(d) = deleter {
        // SAFETY: the caller's contract above.
        unsafe { d.call(data) }
    }
}
