//! Typed key/value pairs (`PJRT_NamedValue`): plugin and device attributes, client options,
//! cost analysis properties.

use std::fmt;

use pjrt_sys as sys;

use crate::plugin::c_data::{str_from_raw, vec_from_raw};

/// A typed value of a named attribute or option.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string.
    String(String),
    /// A 64-bit integer.
    Int64(i64),
    /// A list of 64-bit integers.
    Int64List(Vec<i64>),
    /// A 32-bit float.
    Float(f32),
    /// A boolean.
    Bool(bool),
}

impl Value {
    /// The value's type name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
            Value::Int64(_) => "int64",
            Value::Int64List(_) => "int64 list",
            Value::Float(_) => "float",
            Value::Bool(_) => "bool",
        }
    }

    /// The integer, if this is an `Int64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int64(v) => Some(*v),
            _ => None,
        }
    }

    /// The string, if this is a `String`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number as f64, for `Int64` and `Float`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int64(v) => Some(*v as f64),
            Value::Float(v) => Some(f64::from(*v)),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) => write!(f, "{s:?}"),
            Value::Int64(v) => write!(f, "{v}"),
            Value::Int64List(v) => write!(f, "{v:?}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int64(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}
impl From<f32> for Value {
    fn from(v: f32) -> Value {
        Value::Float(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::String(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::String(v)
    }
}
impl From<Vec<i64>> for Value {
    fn from(v: Vec<i64>) -> Value {
        Value::Int64List(v)
    }
}

/// A name and its typed value.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedValue {
    /// The name.
    pub name: String,
    /// The value.
    pub value: Value,
}

impl NamedValue {
    /// A named value.
    pub fn new(name: impl Into<String>, value: impl Into<Value>) -> NamedValue {
        NamedValue {
            name: name.into(),
            value: value.into(),
        }
    }
}

impl fmt::Display for NamedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}", self.name, self.value)
    }
}

/// Finds a value by name.
pub fn find<'a>(values: &'a [NamedValue], name: &str) -> Option<&'a Value> {
    values.iter().find(|v| v.name == name).map(|v| &v.value)
}

/// Copies `n` plugin-owned named values into Rust values (unknown types are skipped).
///
/// # Safety
/// `ptr` must be null or point to `n` valid `PJRT_NamedValue`s whose strings and lists are
/// readable.
pub(crate) unsafe fn read_named_values(
    ptr: *const sys::PJRT_NamedValue,
    n: usize,
) -> Vec<NamedValue> {
    // SAFETY: the caller's guarantee.
    let raw = unsafe { vec_from_raw(ptr, n) };
    let mut out = Vec::with_capacity(raw.len());
    for nv in raw {
        // SAFETY: name is `name_size` bytes; the union member read is the one `type_` names.
        let (name, value) = unsafe {
            let name = str_from_raw(nv.name, nv.name_size);
            let value = match nv.type_ {
                sys::PJRT_NamedValue_kString => {
                    Value::String(str_from_raw(nv.value.string_value, nv.value_size))
                }
                sys::PJRT_NamedValue_kInt64 => Value::Int64(nv.value.int64_value),
                sys::PJRT_NamedValue_kInt64List => {
                    Value::Int64List(vec_from_raw(nv.value.int64_array_value, nv.value_size))
                }
                sys::PJRT_NamedValue_kFloat => Value::Float(nv.value.float_value),
                sys::PJRT_NamedValue_kBool => Value::Bool(nv.value.bool_value),
                _ => continue,
            };
            (name, value)
        };
        out.push(NamedValue { name, value });
    }
    out
}

/// C views of named values; the `PJRT_NamedValue`s point into the borrowed Rust values.
pub(crate) fn to_raw(values: &[NamedValue]) -> Vec<sys::PJRT_NamedValue> {
    values
        .iter()
        .map(|v| {
            let mut nv = sys::PJRT_NamedValue::new();
            nv.name = v.name.as_ptr().cast();
            nv.name_size = v.name.len();
            match &v.value {
                Value::String(s) => {
                    nv.type_ = sys::PJRT_NamedValue_kString;
                    nv.value.string_value = s.as_ptr().cast();
                    nv.value_size = s.len();
                }
                Value::Int64(i) => {
                    nv.type_ = sys::PJRT_NamedValue_kInt64;
                    nv.value.int64_value = *i;
                    nv.value_size = 1;
                }
                Value::Int64List(l) => {
                    nv.type_ = sys::PJRT_NamedValue_kInt64List;
                    nv.value.int64_array_value = l.as_ptr();
                    nv.value_size = l.len();
                }
                Value::Float(x) => {
                    nv.type_ = sys::PJRT_NamedValue_kFloat;
                    nv.value.float_value = *x;
                    nv.value_size = 1;
                }
                Value::Bool(b) => {
                    nv.type_ = sys::PJRT_NamedValue_kBool;
                    nv.value.bool_value = *b;
                    nv.value_size = 1;
                }
            }
            nv
        })
        .collect()
}
