//! Key-value store callbacks for multi-process clients (`kv_get`, `kv_try_get`, `kv_put`
//! of `PJRT_Client_Create`), and `PJRT_Client_UpdateGlobalProcessInfo`.

use std::collections::HashMap;
use std::ffi::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use pjrt_sys as sys;

use crate::client::handle::Client;
use crate::client::options::ClientOptions;
use crate::error::{Error, ErrorCode, Result};
use crate::plugin::{call, make_callback_error, vec_from_raw, Plugin};

/// A store the plugin uses to exchange data between the processes of a distributed client.
pub trait KeyValueStore: Send + Sync {
    /// The value of `key`, waiting up to `timeout` for it to appear (`NotFound` /
    /// `DeadlineExceeded` errors tell the plugin it did not).
    fn get(&self, key: &[u8], timeout: Duration) -> Result<Vec<u8>>;
    /// The value of `key` if present now.
    fn try_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Sets `key` to `value`.
    fn put(&self, key: &[u8], value: &[u8]) -> Result<()>;
}

/// An in-process [`KeyValueStore`] (for one process, or several clients in one process).
#[derive(Default)]
pub struct MemoryKeyValueStore {
    map: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
    changed: Condvar,
}

impl MemoryKeyValueStore {
    /// An empty store.
    pub fn new() -> MemoryKeyValueStore {
        MemoryKeyValueStore::default()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.map.lock().map_or(0, |m| m.len())
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl KeyValueStore for MemoryKeyValueStore {
    fn get(&self, key: &[u8], timeout: Duration) -> Result<Vec<u8>> {
        // A timeout past what `Instant` can hold waits for ever (in hour-long waits).
        let deadline = Instant::now().checked_add(timeout);
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(v) = m.get(key) {
                return Ok(v.clone());
            }
            let now = Instant::now();
            let wait = deadline.map_or(Duration::from_secs(3600), |d| {
                d.saturating_duration_since(now)
            });
            if wait.is_zero() {
                return Err(Error::Pjrt {
                    function: "KeyValueStore::get",
                    code: ErrorCode::DeadlineExceeded,
                    message: format!(
                        "key {:?} not set within {timeout:?}",
                        String::from_utf8_lossy(key)
                    ),
                });
            }
            m = self
                .changed
                .wait_timeout(m, wait)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    fn try_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        Ok(m.get(key).cloned())
    }

    fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        m.insert(key.to_vec(), value.to_vec());
        self.changed.notify_all();
        Ok(())
    }
}

/// The Rust side of the callbacks: the store, leaked for the life of the process (the
/// plugin's distributed runtime may call it from its own threads as long as it lives).
struct KvState {
    store: Arc<dyn KeyValueStore>,
}

/// Allocates a value the plugin frees with [`free_value`]: an 8-byte length header, then the
/// bytes. Returns the pointer to the bytes.
fn alloc_value(v: &[u8]) -> *mut c_char {
    let mut buf = Vec::with_capacity(8 + v.len());
    buf.extend_from_slice(&(v.len() as u64).to_ne_bytes());
    buf.extend_from_slice(v);
    let boxed: Box<[u8]> = buf.into_boxed_slice();
    let p = Box::into_raw(boxed).cast::<u8>();
    // SAFETY: the allocation holds at least 8 bytes.
    unsafe { p.add(8).cast() }
}

pub(crate) unsafe extern "C" fn free_value(value: *mut c_char) {
    let _ = catch_unwind(|| {
        if value.is_null() {
            return;
        }
        // SAFETY: `value` came from `alloc_value`: 8 bytes before it hold the length.
        unsafe {
            let start = value.cast::<u8>().sub(8);
            let mut len = [0u8; 8];
            std::ptr::copy_nonoverlapping(start, len.as_mut_ptr(), 8);
            let n = u64::from_ne_bytes(len) as usize;
            drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                start,
                8 + n,
            )));
        }
    });
}

fn error_code(e: &Error) -> ErrorCode {
    e.code().unwrap_or(ErrorCode::Internal)
}

pub(crate) unsafe extern "C" fn kv_get(
    args: *mut sys::PJRT_KeyValueGetCallback_Args,
) -> *mut sys::PJRT_Error {
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the plugin passes a valid args struct whose user_arg is our `KvState`.
        let a = unsafe { &mut *args };
        // SAFETY: as above.
        let st = unsafe { &*a.user_arg.cast::<KvState>() };
        // SAFETY: `key_size` readable bytes.
        let key = unsafe { vec_from_raw(a.key.cast::<u8>(), a.key_size) };
        let timeout = Duration::from_millis(a.timeout_in_ms.max(0) as u64);
        match st.store.get(&key, timeout) {
            Ok(v) => {
                a.value = alloc_value(&v);
                a.value_size = v.len();
                a.value_deleter_callback = Some(free_value);
                Ok(())
            }
            Err(e) => Err((error_code(&e), e.to_string(), a.callback_error)),
        }
    }));
    finish(r, std::ptr::null_mut())
}

pub(crate) unsafe extern "C" fn kv_try_get(
    args: *mut sys::PJRT_KeyValueTryGetCallback_Args,
) -> *mut sys::PJRT_Error {
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the plugin passes a valid args struct whose user_arg is our `KvState`.
        let a = unsafe { &mut *args };
        // SAFETY: as above.
        let st = unsafe { &*a.user_arg.cast::<KvState>() };
        // SAFETY: `key_size` readable bytes.
        let key = unsafe { vec_from_raw(a.key.cast::<u8>(), a.key_size) };
        match st.store.try_get(&key) {
            Ok(Some(v)) => {
                a.value = alloc_value(&v);
                a.value_size = v.len();
                a.value_deleter_callback = Some(free_value);
                Ok(())
            }
            Ok(None) => Err((
                ErrorCode::NotFound,
                format!("key {:?} not found", String::from_utf8_lossy(&key)),
                a.callback_error,
            )),
            Err(e) => Err((error_code(&e), e.to_string(), a.callback_error)),
        }
    }));
    finish(r, std::ptr::null_mut())
}

pub(crate) unsafe extern "C" fn kv_put(
    args: *mut sys::PJRT_KeyValuePutCallback_Args,
) -> *mut sys::PJRT_Error {
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the plugin passes a valid args struct whose user_arg is our `KvState`.
        let a = unsafe { &*args };
        // SAFETY: as above.
        let st = unsafe { &*a.user_arg.cast::<KvState>() };
        // SAFETY: readable key and value bytes.
        let key = unsafe { vec_from_raw(a.key.cast::<u8>(), a.key_size) };
        // SAFETY: as above.
        let value = unsafe { vec_from_raw(a.value.cast::<u8>(), a.value_size) };
        st.store
            .put(&key, &value)
            .map_err(|e| (error_code(&e), e.to_string(), a.callback_error))
    }));
    finish(r, std::ptr::null_mut())
}

type CbResult = std::result::Result<(), (ErrorCode, String, *mut sys::PJRT_CallbackError)>;

fn finish(
    r: std::thread::Result<CbResult>,
    none: *mut sys::PJRT_CallbackError,
) -> *mut sys::PJRT_Error {
    match r {
        Ok(Ok(())) => std::ptr::null_mut(),
        // SAFETY: the factory the plugin passed in this call's args.
        Ok(Err((code, msg, factory))) => unsafe { make_callback_error(factory, code, &msg) },
        // A panic: no factory is reachable any more; report through a null factory, which
        // yields null (success) — so report the panic as a `tracing` error event at least.
        Err(_) => {
            tracing::error!("a key-value store callback panicked; the panic was caught");
            // SAFETY: null factory gives null.
            unsafe { make_callback_error(none, ErrorCode::Internal, "panic") }
        }
    }
}

/// Leaks a store state and returns its address as `user_arg` (tests drive the trampolines
/// with it).
#[cfg(test)]
fn leak_state(store: Arc<dyn KeyValueStore>) -> *mut c_void {
    Box::into_raw(Box::new(KvState { store })).cast()
}

impl Client {
    /// Creates a client whose plugin exchanges data with other processes through `store`
    /// (the CPU plugins accept but do not use one). The client keeps the store until it is
    /// destroyed.
    pub fn with_key_value_store(
        plugin: &Plugin,
        options: &ClientOptions,
        store: Arc<dyn KeyValueStore>,
    ) -> Result<Client> {
        let owned = Box::new(KvState { store });
        // The box's heap block does not move when the box does: the client keeps it, and
        // frees it after PJRT_Client_Destroy (a failed creation frees it here).
        let state: *mut c_void = std::ptr::from_ref::<KvState>(&owned).cast_mut().cast();
        Client::create(
            plugin,
            options,
            |a| {
                a.kv_get_callback = Some(kv_get);
                a.kv_get_user_arg = state;
                a.kv_try_get_callback = Some(kv_try_get);
                a.kv_try_get_user_arg = state;
                a.kv_put_callback = Some(kv_put);
                a.kv_put_user_arg = state;
            },
            Some(owned),
        )
    }

    /// Tells the client the state of every process of a distributed job.
    pub fn update_global_process_info(&self, infos: &[ProcessInfo]) -> Result<()> {
        let mut raw: Vec<sys::PJRT_ProcessInfo> = infos
            .iter()
            .map(|i| {
                let mut r = sys::PJRT_ProcessInfo::new();
                r.task_id = i.task_id;
                r.incarnation_id = i.incarnation_id;
                r.state = i.state.to_raw();
                r.error_code = i.error_code.to_raw();
                r.error_message = i.error_message.as_ptr().cast();
                r.error_message_size = i.error_message.len();
                r
            })
            .collect();
        let mut a = sys::PJRT_Client_UpdateGlobalProcessInfo_Args::new();
        a.client = self.raw();
        a.process_infos = raw.as_mut_ptr();
        a.num_process_infos = raw.len();
        call!(self.api(), PJRT_Client_UpdateGlobalProcessInfo, &mut a)
    }
}

/// The state of one process (`PJRT_ProcessState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ProcessState {
    Unspecified,
    Uninitialized,
    Disconnected,
    Connected,
    Error,
}

impl ProcessState {
    fn to_raw(self) -> sys::PJRT_ProcessState {
        match self {
            ProcessState::Unspecified => 0,
            ProcessState::Uninitialized => 1,
            ProcessState::Disconnected => 2,
            ProcessState::Connected => 3,
            ProcessState::Error => 4,
        }
    }
}

/// One process of a distributed job, for [`Client::update_global_process_info`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Task id.
    pub task_id: i32,
    /// Incarnation id.
    pub incarnation_id: u64,
    /// State.
    pub state: ProcessState,
    /// Error code (`Ok` when none).
    pub error_code: ErrorCode,
    /// Error message.
    pub error_message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::str_from_raw;

    // A stand-in for the plugin's error factory: records what it was asked to make and
    // returns a recognisable non-null pointer.
    static LAST: Mutex<Option<(i32, String)>> = Mutex::new(None);
    unsafe extern "C" fn factory(code: i32, msg: *const c_char, n: usize) -> *mut sys::PJRT_Error {
        let m = unsafe { str_from_raw(msg, n) };
        *LAST.lock().unwrap() = Some((code, m));
        std::ptr::NonNull::<sys::PJRT_Error>::dangling().as_ptr()
    }

    #[test]
    fn trampolines_put_get_try_get_and_free() {
        let store: Arc<dyn KeyValueStore> = Arc::new(MemoryKeyValueStore::new());
        let state = leak_state(store.clone());
        let mut fac: sys::PJRT_CallbackError = Some(factory);

        let (k, v) = ("rank0", "hello");
        let mut p = sys::PJRT_KeyValuePutCallback_Args::new();
        p.key = k.as_ptr().cast();
        p.key_size = k.len();
        p.value = v.as_ptr().cast();
        p.value_size = v.len();
        p.callback_error = &mut fac;
        p.user_arg = state;
        assert!(unsafe { kv_put(&mut p) }.is_null());

        let mut g = sys::PJRT_KeyValueGetCallback_Args::new();
        g.key = k.as_ptr().cast();
        g.key_size = k.len();
        g.timeout_in_ms = 10;
        g.callback_error = &mut fac;
        g.user_arg = state;
        assert!(unsafe { kv_get(&mut g) }.is_null());
        assert_eq!(unsafe { str_from_raw(g.value, g.value_size) }, "hello");
        unsafe { (g.value_deleter_callback.unwrap())(g.value) };

        // A missing key: try_get reports NOT_FOUND through the plugin's factory.
        let missing = "rank9";
        let mut t = sys::PJRT_KeyValueTryGetCallback_Args::new();
        t.key = missing.as_ptr().cast();
        t.key_size = missing.len();
        t.callback_error = &mut fac;
        t.user_arg = state;
        assert_eq!(
            unsafe { kv_try_get(&mut t) },
            std::ptr::NonNull::dangling().as_ptr()
        );
        let (code, msg) = LAST.lock().unwrap().clone().unwrap();
        assert_eq!(code, ErrorCode::NotFound.to_raw());
        assert!(msg.contains("rank9"), "{msg}");

        // get with a timeout on a missing key: DEADLINE_EXCEEDED after ~10 ms.
        g.key = missing.as_ptr().cast();
        g.key_size = missing.len();
        assert_eq!(
            unsafe { kv_get(&mut g) },
            std::ptr::NonNull::dangling().as_ptr()
        );
        assert_eq!(
            LAST.lock().unwrap().clone().unwrap().0,
            ErrorCode::DeadlineExceeded.to_raw()
        );
        assert_eq!(
            store.try_get(b"rank0").unwrap().as_deref(),
            Some(&b"hello"[..])
        );
    }
}
