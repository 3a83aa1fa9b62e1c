//! Layout descriptions of every struct in this crate, and the macros that declare them.
//!
//! Each struct declared through `pjrt_structs!` gets, besides its `#[repr(C)]` definition:
//! - `pub const <Name>_STRUCT_SIZE: usize`: the end of its last field, without tail padding
//!   (what the C header's `PJRT_STRUCT_SIZE` macro computes), which is what goes in
//!   `struct_size`;
//! - `impl <Name> { pub const STRUCT_SIZE; pub const LAYOUT; pub fn new() }`: `new()` returns
//!   the struct zeroed with `struct_size` (when it has one) set to `STRUCT_SIZE`;
//! - `Default` (same as `new()`).
//!
//! The [`StructLayout`] tables let tests compare these layouts with a C compiler's.

/// Offset and size of one field of a `#[repr(C)]` struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldLayout {
    /// The field's name as in the C header (`type_` for C's `type`).
    pub name: &'static str,
    /// Byte offset from the start of the struct.
    pub offset: usize,
    /// `size_of` the field's type.
    pub size: usize,
}

/// The layout of one struct or union declared in this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StructLayout {
    /// The C name of the type.
    pub name: &'static str,
    /// `size_of` the Rust type (includes tail padding).
    pub size: usize,
    /// `align_of` the Rust type.
    pub align: usize,
    /// The header's `<Name>_STRUCT_SIZE`: end of the last field, no tail padding.
    pub struct_size: usize,
    /// Fields in declaration order.
    pub fields: &'static [FieldLayout],
}

impl StructLayout {
    /// The field called `name`, if the struct has one.
    pub fn field(&self, name: &str) -> Option<&FieldLayout> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// The largest `offset + size` of a list of `(offset, size)` pairs: the end of the last field.
#[doc(hidden)]
pub const fn end_of_fields(fields: &[(usize, usize)]) -> usize {
    let mut end = 0;
    let mut i = 0;
    while i < fields.len() {
        let e = fields[i].0 + fields[i].1;
        if e > end {
            end = e;
        }
        i += 1;
    }
    end
}

/// Declares `#[repr(C)]` structs with their `_STRUCT_SIZE` constant, `new()`, `Default`
/// and layout table, and collects the tables into a module-level `LAYOUTS` slice.
///
/// Syntax: `pub struct Name / Name_STRUCT_SIZE { pub field: Type, ... }`.
macro_rules! pjrt_structs {
    ($(
        $(#[$m:meta])*
        pub struct $name:ident / $size:ident {
            $( $(#[$fm:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
    )*) => {
        $(
            $(#[$m])*
            #[doc = ""]
            #[doc = concat!("Mirrors the C struct `", stringify!($name), "`: same fields, same order.")]
            #[repr(C)]
            #[derive(Debug, Clone, Copy)]
            pub struct $name {
                // The fields are the C header's, one for one; what each means is written
                // there (and, for what it uses, in the safe crate), so an undocumented field
                // is not an omission here.
                $( $(#[$fm])* #[allow(missing_docs)] pub $field : $ty, )*
            }

            #[doc = concat!("`", stringify!($name), "`'s `struct_size`: the end of its last field (no tail padding).")]
            pub const $size: usize = $crate::layout::end_of_fields(&[
                $( (::core::mem::offset_of!($name, $field), ::core::mem::size_of::<$ty>()), )*
            ]);

            impl $name {
                /// The value `struct_size` must hold: the end of the last field.
                pub const STRUCT_SIZE: usize = $size;

                /// Offsets and sizes of every field.
                pub const LAYOUT: $crate::layout::StructLayout = $crate::layout::StructLayout {
                    name: stringify!($name),
                    size: ::core::mem::size_of::<$name>(),
                    align: ::core::mem::align_of::<$name>(),
                    struct_size: $size,
                    fields: &[
                        $( $crate::layout::FieldLayout {
                            name: stringify!($field),
                            offset: ::core::mem::offset_of!($name, $field),
                            size: ::core::mem::size_of::<$ty>(),
                        }, )*
                    ],
                };

                /// All fields zero (null pointers, `None` callbacks, `false`, 0), with
                /// `struct_size` set to [`Self::STRUCT_SIZE`] when the struct has that field.
                #[inline]
                pub fn new() -> Self {
                    // SAFETY: every field type used in this crate (integers, floats, bool, raw
                    // pointers, `Option` of function pointers, unions and structs of those) is
                    // valid when all its bytes are zero.
                    #[allow(unused_mut)]
                    let mut s: Self = unsafe { ::core::mem::zeroed() };
                    $crate::layout::pjrt_structs!(@set_size s, $size, $($field)*);
                    s
                }
            }

            impl ::core::default::Default for $name {
                #[inline]
                fn default() -> Self {
                    Self::new()
                }
            }
        )*

        /// Layout tables of the structs declared in this module.
        #[doc(hidden)]
        pub(crate) const LAYOUTS: &[$crate::layout::StructLayout] = &[ $( $name::LAYOUT, )* ];
    };
    (@set_size $s:ident, $size:ident, struct_size $($rest:ident)*) => {
        $s.struct_size = $size;
    };
    (@set_size $s:ident, $size:ident, $($rest:ident)*) => {};
}

/// Declares `#[repr(C)]` unions (zero-initialisable, `Copy`, opaque `Debug`) with layout tables
/// collected into a module-level `UNION_LAYOUTS` slice.
macro_rules! pjrt_unions {
    ($(
        $(#[$m:meta])*
        pub union $name:ident {
            $( $(#[$fm:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
    )*) => {
        $(
            $(#[$m])*
            #[doc = ""]
            #[doc = concat!("Mirrors the C union `", stringify!($name), "`: same members.")]
            #[repr(C)]
            #[derive(Clone, Copy)]
            pub union $name {
                // Members as in the C header (see the struct fields above).
                $( $(#[$fm])* #[allow(missing_docs)] pub $field : $ty, )*
            }

            impl $name {
                /// Offsets and sizes of every member.
                pub const LAYOUT: $crate::layout::StructLayout = $crate::layout::StructLayout {
                    name: stringify!($name),
                    size: ::core::mem::size_of::<$name>(),
                    align: ::core::mem::align_of::<$name>(),
                    struct_size: ::core::mem::size_of::<$name>(),
                    fields: &[
                        $( $crate::layout::FieldLayout {
                            name: stringify!($field),
                            offset: ::core::mem::offset_of!($name, $field),
                            size: ::core::mem::size_of::<$ty>(),
                        }, )*
                    ],
                };
            }

            impl ::core::fmt::Debug for $name {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    // Which member is live depends on a tag stored elsewhere.
                    f.write_str(concat!(stringify!($name), " { .. }"))
                }
            }
        )*

        /// Layout tables of the unions declared in this module.
        #[doc(hidden)]
        pub(crate) const UNION_LAYOUTS: &[$crate::layout::StructLayout] = &[ $( $name::LAYOUT, )* ];
    };
}

/// Declares opaque handle types: zero-sized, `!Send`, `!Sync`, `!Unpin`, only used behind
/// pointers.
macro_rules! pjrt_opaque {
    ($( $(#[$m:meta])* $name:ident ),* $(,)?) => {
        $(
            $(#[$m])*
            #[repr(C)]
            pub struct $name {
                _data: [u8; 0],
                _marker: ::core::marker::PhantomData<(*mut u8, ::core::marker::PhantomPinned)>,
            }

            impl ::core::fmt::Debug for $name {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.write_str(stringify!($name))
                }
            }
        )*
    };
}

/// Declares a C enum as `pub type $ty = i32` plus one `pub const` per enumerator.
macro_rules! pjrt_enum {
    ($(#[$m:meta])* $ty:ident { $( $(#[$vm:meta])* $name:ident = $val:expr ),* $(,)? }) => {
        $(#[$m])*
        pub type $ty = i32;
        $(
            $(#[$vm])*
            #[doc = ""]
            #[doc = concat!("The C enumerator `", stringify!($name), "` (", stringify!($val), ").")]
            pub const $name: $ty = $val;
        )*
    };
}

pub(crate) use pjrt_enum;
pub(crate) use pjrt_opaque;
pub(crate) use pjrt_structs;
pub(crate) use pjrt_unions;
