//! The FFI extension: register Rust functions as XLA FFI custom-call handlers
//! (`stablehlo.custom_call @name(...) {api_version = 4 : i32}`), register user-data types,
//! and attach user data to an execution.
//!
//! ```no_run
//! use std::sync::Arc;
//! # #[allow(unused_imports)]
//! use pjrt::ext::ffi::{Ffi, CallFrame};
//! # fn main() -> pjrt::Result<()> {
//! let client = pjrt::Client::default_cpu()?;
//! let ffi: Ffi = client.plugin().extension().expect("plugin has FFI");
//! // out = 2 * x, for f32 buffers on a host (CPU) device.
//! ffi.register_handler("double_it", client.platform_name(), Arc::new(|f: &CallFrame| {
//!     let x = f.arg(0)?;
//!     let out = f.ret(0)?;
//!     // SAFETY: CPU buffers are host memory, valid during the call.
//!     let (x, out) = unsafe { (x.as_slice::<f32>()?, out.as_mut_slice::<f32>()?) };
//!     for (o, v) in out.iter_mut().zip(x) { *o = 2.0 * v; }
//!     Ok(())
//! }))?;
//! # Ok(()) }
//! ```

use std::any::Any;
use std::ffi::{c_void, CString};
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use pjrt_sys as sys;
use sys::ext::ffi as f;
use sys::ext::ffi::PJRT_FFI_Extension;
use sys::ext::xla_ffi as x;

use crate::error::{Error, ErrorCode, Result};
use crate::plugin::vec_from_raw;
use crate::plugin::{ext_call, extension_struct};
use crate::{ElementType, ExecuteContext, NativeType};

extension_struct!(
    /// The FFI extension of a plugin.
    Ffi,
    sys::PJRT_Extension_Type_FFI
);

/// A Rust custom-call handler: reads arguments and attributes, writes results.
pub type FfiHandler = Arc<dyn Fn(&CallFrame<'_>) -> Result<()> + Send + Sync>;

/// A registered user-data type: its id in one plugin, tied to the Rust type `T`.
#[derive(Debug)]
pub struct FfiTypeId<T> {
    id: i64,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for FfiTypeId<T> {
    fn clone(&self) -> Self {
        FfiTypeId {
            id: self.id,
            _t: PhantomData,
        }
    }
}

impl<T> FfiTypeId<T> {
    /// The numeric type id.
    pub fn id(&self) -> i64 {
        self.id
    }
}

impl Ffi {
    /// Registers a user-data type named `name` (`type_register`); the plugin assigns the id.
    /// Data of this type is owned by Rust (the plugin never frees it).
    pub fn register_type<T: Any + Send + Sync>(&self, name: &str) -> Result<FfiTypeId<T>> {
        let mut info = f::PJRT_FFI_Type_Info::new();
        let mut a = f::PJRT_FFI_Type_Register_Args::new();
        a.type_name = name.as_ptr().cast();
        a.type_name_size = name.len();
        a.type_id = 0;
        // The 0.106+ plugins read `type_info` unconditionally: always pass one.
        info.deleter = None;
        a.type_info = &mut info;
        ext_call!(&self.h, PJRT_FFI_Extension, type_register, &mut a)?;
        if a.type_id <= 0 {
            return Err(Error::InvalidArgument(format!(
                "FFI type_register for `{name}` returned type id {}",
                a.type_id
            )));
        }
        Ok(FfiTypeId {
            id: a.type_id,
            _t: PhantomData,
        })
    }

    /// Attaches `value` to an execute context under its type (`user_data_add`); a handler
    /// reads it with [`CallFrame::user_data`]. The context owns the value.
    pub fn add_user_data<T: Any + Send + Sync>(
        &self,
        context: &mut ExecuteContext,
        type_id: &FfiTypeId<T>,
        value: T,
    ) -> Result<()> {
        let boxed: Box<T> = Box::new(value);
        let ptr = (&*boxed as *const T).cast_mut().cast::<c_void>();
        let mut a = f::PJRT_FFI_UserData_Add_Args::new();
        crate::plugin::check_owner(&self.h, "Ffi::add_user_data", "`context`", context)?;
        a.context = context.raw;
        a.user_data.type_id = type_id.id;
        a.user_data.data = ptr;
        ext_call!(&self.h, PJRT_FFI_Extension, user_data_add, &mut a)?;
        context.keep.push(boxed);
        Ok(())
    }

    /// Registers `handler` as the custom-call target `name` on `platform` (the client's
    /// platform name, e.g. `cpu`). Register before compiling programs that call it. Each
    /// registration uses one of a fixed number of handler slots per process.
    pub fn register_handler(&self, name: &str, platform: &str, handler: FfiHandler) -> Result<()> {
        let h = allocate_trampoline(name, handler)?;
        let mut a = f::PJRT_FFI_Register_Handler_Args::new();
        a.target_name = name.as_ptr().cast();
        a.target_name_size = name.len();
        a.handler = h;
        a.platform_name = platform.as_ptr().cast();
        a.platform_name_size = platform.len();
        a.traits = 0;
        ext_call!(&self.h, PJRT_FFI_Extension, register_handler, &mut a)
    }
}

/// Binds `handler` to a free C trampoline (an `XLA_FFI_Handler`) and returns its address.
pub(crate) fn allocate_trampoline(name: &str, handler: FfiHandler) -> Result<*mut c_void> {
    let slot = NEXT_SLOT.fetch_add(1, Ordering::AcqRel);
    if slot >= SLOTS {
        return Err(Error::InvalidArgument(format!(
            "FFI handler `{name}`: all {SLOTS} Rust handler slots of this process are used"
        )));
    }
    if HANDLERS[slot].set(handler).is_err() {
        return Err(Error::InvalidArgument(
            "FFI handler slot already in use".into(),
        ));
    }
    Ok(TRAMPOLINES[slot] as *mut c_void)
}

const SLOTS: usize = 32;
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);
static HANDLERS: [OnceLock<FfiHandler>; SLOTS] = [const { OnceLock::new() }; SLOTS];

macro_rules! trampolines {
    ($($i:literal => $name:ident),* $(,)?) => {
        $(
            unsafe extern "C" fn $name(cf: *mut x::XLA_FFI_CallFrame) -> *mut x::XLA_FFI_Error {
                // SAFETY: XLA passes a valid call frame for the duration of the call.
                unsafe { dispatch($i, cf) }
            }
        )*
        static TRAMPOLINES: [x::XLA_FFI_Handler; SLOTS] = [$($name),*];
    };
}

trampolines! {
    0 => t0, 1 => t1, 2 => t2, 3 => t3, 4 => t4, 5 => t5, 6 => t6, 7 => t7,
    8 => t8, 9 => t9, 10 => t10, 11 => t11, 12 => t12, 13 => t13, 14 => t14, 15 => t15,
    16 => t16, 17 => t17, 18 => t18, 19 => t19, 20 => t20, 21 => t21, 22 => t22, 23 => t23,
    24 => t24, 25 => t25, 26 => t26, 27 => t27, 28 => t28, 29 => t29, 30 => t30, 31 => t31,
}

/// Answers XLA's metadata query (API version 0.1, no traits). True when it was one.
unsafe fn answer_metadata(cf: &x::XLA_FFI_CallFrame) -> bool {
    let ext = cf.extension_start;
    if ext.is_null() {
        return false;
    }
    // SAFETY: a non-null extension node starts with its base.
    if unsafe { (*ext).type_ } != x::XLA_FFI_Extension_Metadata {
        return false;
    }
    // SAFETY: a metadata node is an `XLA_FFI_Metadata_Extension`.
    let md = unsafe { (*ext.cast::<x::XLA_FFI_Metadata_Extension>()).metadata };
    if !md.is_null() {
        // SAFETY: XLA owns `md` and lets the handler fill it.
        unsafe {
            (*md).api_version.struct_size = x::XLA_FFI_Api_Version_STRUCT_SIZE;
            (*md).api_version.extension_start = std::ptr::null_mut();
            (*md).api_version.major_version = 0;
            (*md).api_version.minor_version = 1;
            (*md).traits = 0;
        }
    }
    true
}

/// Makes an XLA FFI error through the call frame's API (null when impossible).
unsafe fn ffi_error(
    api: *const x::XLA_FFI_Api,
    code: ErrorCode,
    msg: &str,
) -> *mut x::XLA_FFI_Error {
    if api.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: `api` is XLA's live table; read `struct_size` then the slot if inside.
    let create = unsafe {
        if (*api).struct_size < std::mem::offset_of!(x::XLA_FFI_Api, XLA_FFI_Error_Create) + 8 {
            return std::ptr::null_mut();
        }
        (*api).XLA_FFI_Error_Create
    };
    let Some(create) = create else {
        return std::ptr::null_mut();
    };
    let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    let mut a = x::XLA_FFI_Error_Create_Args::new();
    a.message = c.as_ptr();
    a.errc = code.to_raw();
    // SAFETY: XLA copies the message.
    unsafe { create(&mut a) }
}

unsafe fn dispatch(slot: usize, cf: *mut x::XLA_FFI_CallFrame) -> *mut x::XLA_FFI_Error {
    if cf.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: XLA's call frame, valid for the call.
    let frame = unsafe { &*cf };
    // SAFETY: as above.
    if unsafe { answer_metadata(frame) } {
        return std::ptr::null_mut();
    }
    if frame.stage != x::XLA_FFI_ExecutionStage_EXECUTE {
        return std::ptr::null_mut();
    }
    let r = catch_unwind(AssertUnwindSafe(|| match HANDLERS[slot].get() {
        Some(h) => h(&CallFrame { raw: frame }),
        None => Err(Error::InvalidArgument(format!(
            "no Rust handler in FFI slot {slot}"
        ))),
    }));
    let (code, msg) = match r {
        Ok(Ok(())) => return std::ptr::null_mut(),
        Ok(Err(e)) => (e.code().unwrap_or(ErrorCode::Internal), e.to_string()),
        Err(_) => (
            ErrorCode::Internal,
            "the Rust FFI handler panicked".to_string(),
        ),
    };
    // SAFETY: the frame's API table.
    unsafe { ffi_error(frame.api, code, &msg) }
}

/// The element type for an XLA FFI data type (the numbering differs from PJRT's).
pub fn element_type_of(dtype: i32) -> Option<ElementType> {
    use x::data_type as d;
    let pjrt_raw = match dtype {
        d::PRED => 1,
        d::S8 => 2,
        d::S16 => 3,
        d::S32 => 4,
        d::S64 => 5,
        d::U8 => 6,
        d::U16 => 7,
        d::U32 => 8,
        d::U64 => 9,
        d::F16 => 10,
        d::F32 => 11,
        d::F64 => 12,
        d::BF16 => 13,
        d::C64 => 14,
        d::C128 => 15,
        _ => return None,
    };
    ElementType::from_raw(pjrt_raw)
}

/// What a handler sees: arguments, results, attributes, user data.
pub struct CallFrame<'a> {
    raw: &'a x::XLA_FFI_CallFrame,
}

/// One buffer argument or result of a call.
#[derive(Debug)]
pub struct FfiBuffer<'a> {
    raw_dtype: i32,
    dims: Vec<i64>,
    data: *mut c_void,
    _l: PhantomData<&'a mut ()>,
}

impl<'a> FfiBuffer<'a> {
    /// The element type (`None` for types without a PJRT counterpart here).
    pub fn element_type(&self) -> Option<ElementType> {
        element_type_of(self.raw_dtype)
    }

    /// The dims.
    pub fn dims(&self) -> &[i64] {
        &self.dims
    }

    /// The data's address (device memory; host memory on CPU plugins).
    pub fn data_ptr(&self) -> *mut c_void {
        self.data
    }

    fn check<T: NativeType>(&self) -> Result<usize> {
        let et = self.element_type();
        if et != Some(T::ELEMENT_TYPE) {
            return Err(Error::InvalidArgument(format!(
                "FFI buffer is of XLA FFI data type {} ({:?}), not {}",
                self.raw_dtype,
                et,
                T::ELEMENT_TYPE
            )));
        }
        crate::literal::element_count("FfiBuffer", &self.dims)
    }

    /// The elements as a slice.
    ///
    /// # Safety
    /// Only for host-memory buffers (CPU plugins), and only during the handler call.
    pub unsafe fn as_slice<T: NativeType>(&self) -> Result<&'a [T]> {
        let n = self.check::<T>()?;
        if n == 0 {
            return Ok(&[]);
        }
        // SAFETY: the caller guarantees host memory of `n` elements, live for the call.
        Ok(unsafe { std::slice::from_raw_parts(self.data.cast::<T>(), n) })
    }

    /// The elements as a mutable slice (for results).
    ///
    /// # Safety
    /// As for [`as_slice`](Self::as_slice); also no other slice of the same buffer may live.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn as_mut_slice<T: NativeType>(&self) -> Result<&'a mut [T]> {
        let n = self.check::<T>()?;
        if n == 0 {
            return Ok(&mut []);
        }
        // SAFETY: as above.
        Ok(unsafe { std::slice::from_raw_parts_mut(self.data.cast::<T>(), n) })
    }
}

/// A custom-call attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum FfiAttr {
    /// A boolean scalar.
    Bool(bool),
    /// A signed integer scalar (any width).
    Int(i64),
    /// An unsigned integer scalar (any width).
    UInt(u64),
    /// A float scalar (f32 or f64).
    Float(f64),
    /// An integer array.
    IntArray(Vec<i64>),
    /// A float array.
    FloatArray(Vec<f64>),
    /// A string.
    String(String),
    /// A nested dictionary.
    Dictionary(Vec<(String, FfiAttr)>),
    /// A kind this crate does not decode (the XLA FFI type and data type).
    Other(i32, i32),
}

/// Reads one scalar of XLA FFI data type `dt` at `p`.
unsafe fn scalar(dt: i32, p: *const c_void) -> FfiAttr {
    use x::data_type as d;
    // SAFETY: the caller guarantees `p` points to a value of `dt`.
    unsafe {
        match dt {
            d::PRED => FfiAttr::Bool(*p.cast::<u8>() != 0),
            d::S8 => FfiAttr::Int(i64::from(*p.cast::<i8>())),
            d::S16 => FfiAttr::Int(i64::from(p.cast::<i16>().read_unaligned())),
            d::S32 => FfiAttr::Int(i64::from(p.cast::<i32>().read_unaligned())),
            d::S64 => FfiAttr::Int(p.cast::<i64>().read_unaligned()),
            d::U8 => FfiAttr::UInt(u64::from(*p.cast::<u8>())),
            d::U16 => FfiAttr::UInt(u64::from(p.cast::<u16>().read_unaligned())),
            d::U32 => FfiAttr::UInt(u64::from(p.cast::<u32>().read_unaligned())),
            d::U64 => FfiAttr::UInt(p.cast::<u64>().read_unaligned()),
            d::F32 => FfiAttr::Float(f64::from(p.cast::<f32>().read_unaligned())),
            d::F64 => FfiAttr::Float(p.cast::<f64>().read_unaligned()),
            other => FfiAttr::Other(x::XLA_FFI_AttrType_SCALAR, other),
        }
    }
}

fn elem_size(dt: i32) -> Option<usize> {
    use x::data_type as d;
    Some(match dt {
        d::PRED | d::S8 | d::U8 => 1,
        d::S16 | d::U16 | d::F16 | d::BF16 => 2,
        d::S32 | d::U32 | d::F32 => 4,
        d::S64 | d::U64 | d::F64 => 8,
        _ => return None,
    })
}

/// Decodes an attribute dictionary.
unsafe fn decode_attrs(attrs: &x::XLA_FFI_Attrs) -> Vec<(String, FfiAttr)> {
    let n = attrs.size.max(0) as usize;
    // SAFETY: `n` entries in each array (XLA's contract).
    let (types, names, values) = unsafe {
        (
            vec_from_raw(attrs.types.cast_const(), n),
            vec_from_raw(attrs.names.cast_const(), n),
            vec_from_raw(attrs.attrs.cast_const(), n),
        )
    };
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        // SAFETY: each name is a byte span.
        let name = unsafe {
            let s = &*names[i];
            String::from_utf8_lossy(&vec_from_raw(s.ptr.cast::<u8>(), s.len)).into_owned()
        };
        let v = values[i];
        // SAFETY: each value has the layout its type says.
        let attr = unsafe {
            match types[i] {
                x::XLA_FFI_AttrType_SCALAR => {
                    let s = &*v.cast::<x::XLA_FFI_Scalar>();
                    scalar(s.dtype, s.value)
                }
                x::XLA_FFI_AttrType_STRING => {
                    let s = &*v.cast::<x::XLA_FFI_ByteSpan>();
                    FfiAttr::String(
                        String::from_utf8_lossy(&vec_from_raw(s.ptr.cast::<u8>(), s.len))
                            .into_owned(),
                    )
                }
                x::XLA_FFI_AttrType_DICTIONARY => {
                    FfiAttr::Dictionary(decode_attrs(&*v.cast::<x::XLA_FFI_Attrs>()))
                }
                x::XLA_FFI_AttrType_ARRAY => {
                    let a = &*v.cast::<x::XLA_FFI_Array>();
                    match elem_size(a.dtype) {
                        Some(sz) => {
                            let items: Vec<FfiAttr> = (0..a.size)
                                .map(|k| scalar(a.dtype, a.data.cast::<u8>().add(k * sz).cast()))
                                .collect();
                            if items.iter().all(|i| matches!(i, FfiAttr::Float(_)))
                                && !items.is_empty()
                            {
                                FfiAttr::FloatArray(
                                    items
                                        .iter()
                                        .map(|i| if let FfiAttr::Float(f) = i { *f } else { 0.0 })
                                        .collect(),
                                )
                            } else {
                                FfiAttr::IntArray(
                                    items
                                        .iter()
                                        .map(|i| match i {
                                            FfiAttr::Int(v) => *v,
                                            FfiAttr::UInt(v) => *v as i64,
                                            FfiAttr::Bool(b) => i64::from(*b),
                                            _ => 0,
                                        })
                                        .collect(),
                                )
                            }
                        }
                        None => FfiAttr::Other(x::XLA_FFI_AttrType_ARRAY, a.dtype),
                    }
                }
                other => FfiAttr::Other(other, 0),
            }
        };
        out.push((name, attr));
    }
    out
}

impl<'a> CallFrame<'a> {
    fn buffer(
        &self,
        kind: &str,
        i: usize,
        n: i64,
        types: *mut i32,
        ptrs: *mut *mut c_void,
    ) -> Result<FfiBuffer<'a>> {
        if i as i64 >= n {
            return Err(Error::InvalidArgument(format!(
                "FFI call has {n} {kind}s, asked for {kind} {i}"
            )));
        }
        // SAFETY: `n` entries in each array.
        let (t, p) = unsafe { (*types.add(i), *ptrs.add(i)) };
        if t != x::XLA_FFI_ArgType_BUFFER {
            return Err(Error::InvalidArgument(format!(
                "FFI {kind} {i} is not a buffer (type {t})"
            )));
        }
        // SAFETY: a buffer entry points to an `XLA_FFI_Buffer`.
        let b = unsafe { &*p.cast::<x::XLA_FFI_Buffer>() };
        Ok(FfiBuffer {
            raw_dtype: b.dtype,
            // SAFETY: `rank` dims.
            dims: unsafe { vec_from_raw(b.dims.cast_const(), b.rank.max(0) as usize) },
            data: b.data,
            _l: PhantomData,
        })
    }

    /// Number of arguments.
    pub fn num_args(&self) -> usize {
        self.raw.args.size.max(0) as usize
    }

    /// Argument `i` (a buffer).
    pub fn arg(&self, i: usize) -> Result<FfiBuffer<'a>> {
        let a = &self.raw.args;
        self.buffer("argument", i, a.size, a.types, a.args)
    }

    /// Number of results.
    pub fn num_rets(&self) -> usize {
        self.raw.rets.size.max(0) as usize
    }

    /// Result `i` (a buffer to write).
    pub fn ret(&self, i: usize) -> Result<FfiBuffer<'a>> {
        let r = &self.raw.rets;
        self.buffer("result", i, r.size, r.types, r.rets)
    }

    /// All attributes, by name.
    pub fn attrs(&self) -> Vec<(String, FfiAttr)> {
        // SAFETY: XLA's attribute arrays, valid for the call.
        unsafe { decode_attrs(&self.raw.attrs) }
    }

    /// One attribute by name.
    pub fn attr(&self, name: &str) -> Option<FfiAttr> {
        self.attrs()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// The user data of type `T` attached to this execution (see [`Ffi::add_user_data`]).
    ///
    /// Refused (without calling XLA) when no execution with an [`ExecuteContext`] is in
    /// flight in this process.
    ///
    /// # Safety
    /// Every execution of the calling program must be given an execute context
    /// ([`crate::LoadedExecutable::execute_with_context`] with `Some`): for an execution
    /// without one, XLA dereferences the missing context (the 0.81 plugin segfaults).
    pub unsafe fn user_data<T: Any + Send + Sync>(&self, type_id: &FfiTypeId<T>) -> Result<&'a T> {
        if crate::executable::contexts_in_flight() == 0 {
            return Err(Error::InvalidArgument(
                "FFI user data: this execution has no execute context (use execute_with_context)"
                    .into(),
            ));
        }
        let api = self.raw.api;
        if api.is_null() {
            return Err(Error::InvalidArgument("FFI call frame has no API".into()));
        }
        // SAFETY: XLA's live table; the slot is read only if inside `struct_size`.
        let get = unsafe {
            if (*api).struct_size
                < std::mem::offset_of!(x::XLA_FFI_Api, XLA_FFI_ExecutionContext_Get) + 8
            {
                None
            } else {
                (*api).XLA_FFI_ExecutionContext_Get
            }
        };
        let Some(get) = get else {
            return Err(Error::InvalidArgument(
                "XLA FFI runtime has no ExecutionContext_Get".into(),
            ));
        };
        let mut tid = x::XLA_FFI_TypeId::new();
        tid.type_id = type_id.id;
        let mut a = x::XLA_FFI_ExecutionContext_Get_Args::new();
        a.ctx = self.raw.ctx;
        a.type_id = &mut tid;
        // SAFETY: valid args for the call.
        let err = unsafe { get(&mut a) };
        if !err.is_null() {
            // SAFETY: an error XLA just made; read its message and destroy it.
            let msg = unsafe { take_ffi_error(api, err) };
            return Err(Error::InvalidArgument(format!(
                "FFI user data of type id {}: {msg}",
                type_id.id
            )));
        }
        if a.data.is_null() {
            return Err(Error::InvalidArgument(format!(
                "no FFI user data of type id {}",
                type_id.id
            )));
        }
        // SAFETY: the data was attached as a `T` under this type id by `add_user_data`
        // (the `FfiTypeId<T>` ties the id to `T`) and lives as long as the context.
        Ok(unsafe { &*a.data.cast::<T>() })
    }
}

/// Reads and destroys an XLA FFI error.
unsafe fn take_ffi_error(api: *const x::XLA_FFI_Api, err: *mut x::XLA_FFI_Error) -> String {
    // SAFETY: `api` is XLA's table (both slots exist since FFI 0.1).
    unsafe {
        let mut msg = String::from("(no message)");
        if let Some(get) = (*api).XLA_FFI_Error_GetMessage {
            let mut g = x::XLA_FFI_Error_GetMessage_Args::new();
            g.error = err;
            get(&mut g);
            if !g.message.is_null() {
                msg = std::ffi::CStr::from_ptr(g.message)
                    .to_string_lossy()
                    .into_owned();
            }
        }
        if let Some(d) = (*api).XLA_FFI_Error_Destroy {
            let mut a = x::XLA_FFI_Error_Destroy_Args::new();
            a.error = err;
            d(&mut a);
        }
        msg
    }
}
