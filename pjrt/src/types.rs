//! Element types of PJRT buffers, in the numbering of `PJRT_Buffer_Type` (header 0.114).

use std::fmt;

/// The element type of a buffer or tensor. Discriminants are `PJRT_Buffer_Type` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[repr(i32)]
pub enum ElementType {
    /// Boolean.
    Pred = 1,
    /// Signed 8-bit integer.
    S8 = 2,
    /// Signed 16-bit integer.
    S16 = 3,
    /// Signed 32-bit integer.
    S32 = 4,
    /// Signed 64-bit integer.
    S64 = 5,
    /// Unsigned 8-bit integer.
    U8 = 6,
    /// Unsigned 16-bit integer.
    U16 = 7,
    /// Unsigned 32-bit integer.
    U32 = 8,
    /// Unsigned 64-bit integer.
    U64 = 9,
    /// IEEE half float.
    F16 = 10,
    /// IEEE single float.
    F32 = 11,
    /// IEEE double float.
    F64 = 12,
    /// bfloat16.
    BF16 = 13,
    /// Complex of two f32.
    C64 = 14,
    /// Complex of two f64.
    C128 = 15,
    /// 8-bit float, 5 exponent bits, 2 mantissa bits.
    F8E5M2 = 16,
    /// 8-bit float E4M3, finite only.
    F8E4M3FN = 17,
    /// 8-bit float E4M3, bias 11, finite, unsigned zero.
    F8E4M3B11FNUZ = 18,
    /// 8-bit float E5M2, finite, unsigned zero.
    F8E5M2FNUZ = 19,
    /// 8-bit float E4M3, finite, unsigned zero.
    F8E4M3FNUZ = 20,
    /// Signed 4-bit integer.
    S4 = 21,
    /// Unsigned 4-bit integer.
    U4 = 22,
    /// An ordering token (no data).
    Token = 23,
    /// Signed 2-bit integer.
    S2 = 24,
    /// Unsigned 2-bit integer.
    U2 = 25,
    /// 8-bit float E4M3 (IEEE-like).
    F8E4M3 = 26,
    /// 8-bit float E3M4.
    F8E3M4 = 27,
    /// 8-bit exponent-only float (scale).
    F8E8M0FNU = 28,
    /// 4-bit float E2M1, finite only.
    F4E2M1FN = 29,
    /// Signed 1-bit integer.
    S1 = 30,
    /// Unsigned 1-bit integer.
    U1 = 31,
    /// 6-bit float E2M3, finite only.
    F6E2M3FN = 32,
    /// 6-bit float E3M2, finite only.
    F6E3M2FN = 33,
}

impl ElementType {
    /// Every element type, in `PJRT_Buffer_Type` order.
    pub const ALL: [ElementType; 33] = {
        use ElementType::*;
        [
            Pred,
            S8,
            S16,
            S32,
            S64,
            U8,
            U16,
            U32,
            U64,
            F16,
            F32,
            F64,
            BF16,
            C64,
            C128,
            F8E5M2,
            F8E4M3FN,
            F8E4M3B11FNUZ,
            F8E5M2FNUZ,
            F8E4M3FNUZ,
            S4,
            U4,
            Token,
            S2,
            U2,
            F8E4M3,
            F8E3M4,
            F8E8M0FNU,
            F4E2M1FN,
            S1,
            U1,
            F6E2M3FN,
            F6E3M2FN,
        ]
    };

    /// The type for a raw `PJRT_Buffer_Type` value, or `None` for INVALID and unknown values.
    pub fn from_raw(raw: i32) -> Option<ElementType> {
        if (1..=33).contains(&raw) {
            Some(Self::ALL[(raw - 1) as usize])
        } else {
            None
        }
    }

    /// The raw `PJRT_Buffer_Type` value.
    pub fn to_raw(self) -> i32 {
        self as i32
    }

    /// Bits per element (sub-byte types report their packed width; a token has none).
    pub fn bit_width(self) -> usize {
        use ElementType::*;
        match self {
            Token => 0,
            S1 | U1 => 1,
            S2 | U2 => 2,
            S4 | U4 | F4E2M1FN => 4,
            F6E2M3FN | F6E3M2FN => 6,
            Pred | S8 | U8 | F8E5M2 | F8E4M3FN | F8E4M3B11FNUZ | F8E5M2FNUZ | F8E4M3FNUZ
            | F8E4M3 | F8E3M4 | F8E8M0FNU => 8,
            S16 | U16 | F16 | BF16 => 16,
            S32 | U32 | F32 => 32,
            S64 | U64 | F64 | C64 => 64,
            C128 => 128,
        }
    }

    /// Bytes one element takes in a dense host array (`None` for sub-byte types and tokens,
    /// whose host layout is packed and plugin-specific).
    pub fn byte_size(self) -> Option<usize> {
        match self.bit_width() {
            8 | 16 | 32 | 64 | 128 => Some(self.bit_width() / 8),
            _ => None,
        }
    }

    /// True for floating-point types.
    pub fn is_float(self) -> bool {
        use ElementType::*;
        matches!(
            self,
            F16 | F32
                | F64
                | BF16
                | F8E5M2
                | F8E4M3FN
                | F8E4M3B11FNUZ
                | F8E5M2FNUZ
                | F8E4M3FNUZ
                | F8E4M3
                | F8E3M4
                | F8E8M0FNU
                | F4E2M1FN
                | F6E2M3FN
                | F6E3M2FN
        )
    }

    /// True for complex types.
    pub fn is_complex(self) -> bool {
        matches!(self, ElementType::C64 | ElementType::C128)
    }

    /// True for signed integer types.
    pub fn is_signed_int(self) -> bool {
        use ElementType::*;
        matches!(self, S1 | S2 | S4 | S8 | S16 | S32 | S64)
    }

    /// True for unsigned integer types.
    pub fn is_unsigned_int(self) -> bool {
        use ElementType::*;
        matches!(self, U1 | U2 | U4 | U8 | U16 | U32 | U64)
    }

    /// True for integer types (not `pred`).
    pub fn is_integer(self) -> bool {
        self.is_signed_int() || self.is_unsigned_int()
    }

    /// The name MLIR and StableHLO use for this type (`f32`, `i32`, `ui8`, `i1`, ...).
    pub fn mlir_name(self) -> &'static str {
        use ElementType::*;
        match self {
            Pred => "i1",
            S1 => "i1",
            S2 => "i2",
            S4 => "i4",
            S8 => "i8",
            S16 => "i16",
            S32 => "i32",
            S64 => "i64",
            U1 => "ui1",
            U2 => "ui2",
            U4 => "ui4",
            U8 => "ui8",
            U16 => "ui16",
            U32 => "ui32",
            U64 => "ui64",
            F16 => "f16",
            F32 => "f32",
            F64 => "f64",
            BF16 => "bf16",
            C64 => "complex<f32>",
            C128 => "complex<f64>",
            F8E5M2 => "f8E5M2",
            F8E4M3FN => "f8E4M3FN",
            F8E4M3B11FNUZ => "f8E4M3B11FNUZ",
            F8E5M2FNUZ => "f8E5M2FNUZ",
            F8E4M3FNUZ => "f8E4M3FNUZ",
            F8E4M3 => "f8E4M3",
            F8E3M4 => "f8E3M4",
            F8E8M0FNU => "f8E8M0FNU",
            F4E2M1FN => "f4E2M1FN",
            F6E2M3FN => "f6E2M3FN",
            F6E3M2FN => "f6E3M2FN",
            Token => "!stablehlo.token",
        }
    }

    /// The short name XLA prints in shapes (`f32`, `s32`, `pred`, `bf16`, ...).
    pub fn name(self) -> &'static str {
        use ElementType::*;
        match self {
            Pred => "pred",
            S1 => "s1",
            S2 => "s2",
            S4 => "s4",
            S8 => "s8",
            S16 => "s16",
            S32 => "s32",
            S64 => "s64",
            U1 => "u1",
            U2 => "u2",
            U4 => "u4",
            U8 => "u8",
            U16 => "u16",
            U32 => "u32",
            U64 => "u64",
            F16 => "f16",
            F32 => "f32",
            F64 => "f64",
            BF16 => "bf16",
            C64 => "c64",
            C128 => "c128",
            F8E5M2 => "f8e5m2",
            F8E4M3FN => "f8e4m3fn",
            F8E4M3B11FNUZ => "f8e4m3b11fnuz",
            F8E5M2FNUZ => "f8e5m2fnuz",
            F8E4M3FNUZ => "f8e4m3fnuz",
            F8E4M3 => "f8e4m3",
            F8E3M4 => "f8e3m4",
            F8E8M0FNU => "f8e8m0fnu",
            F4E2M1FN => "f4e2m1fn",
            F6E2M3FN => "f6e2m3fn",
            F6E3M2FN => "f6e3m2fn",
            Token => "token",
        }
    }
}

impl ElementType {
    /// The value of this type in XLA's `PrimitiveType` enum (used in XLA protos; the
    /// numbering differs from `PJRT_Buffer_Type`).
    pub fn to_xla_primitive(self) -> i32 {
        use ElementType::*;
        match self {
            Pred => 1,
            S8 => 2,
            S16 => 3,
            S32 => 4,
            S64 => 5,
            U8 => 6,
            U16 => 7,
            U32 => 8,
            U64 => 9,
            F16 => 10,
            F32 => 11,
            F64 => 12,
            C64 => 15,
            BF16 => 16,
            Token => 17,
            C128 => 18,
            F8E5M2 => 19,
            F8E4M3FN => 20,
            S4 => 21,
            U4 => 22,
            F8E4M3B11FNUZ => 23,
            F8E5M2FNUZ => 24,
            F8E4M3FNUZ => 25,
            S2 => 26,
            U2 => 27,
            F8E4M3 => 28,
            F8E3M4 => 29,
            S1 => 30,
            U1 => 31,
            F4E2M1FN => 32,
            F8E8M0FNU => 33,
            F6E3M2FN => 35,
            F6E2M3FN => 36,
        }
    }

    /// The type for an XLA `PrimitiveType` value (`None` for tuples, opaque and unknown values).
    pub fn from_xla_primitive(raw: i32) -> Option<ElementType> {
        Self::ALL
            .iter()
            .copied()
            .find(|t| t.to_xla_primitive() == raw)
    }
}

impl fmt::Display for ElementType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Rust types that can be copied element for element into a dense host array of one
/// [`ElementType`].
///
/// # Safety
/// `Self` must be plain data whose in-memory representation is exactly one element of
/// `ELEMENT_TYPE` (size and bit pattern), with no padding and every bit pattern valid.
pub unsafe trait NativeType: Copy + Send + Sync + 'static {
    /// The element type `Self` holds.
    const ELEMENT_TYPE: ElementType;
}

macro_rules! native {
    ($($t:ty => $e:ident),* $(,)?) => {
        $(
            // SAFETY: the Rust type has exactly the size and bit layout of the element type.
            unsafe impl NativeType for $t { const ELEMENT_TYPE: ElementType = ElementType::$e; }
        )*
    };
}
native!(
    i8 => S8, i16 => S16, i32 => S32, i64 => S64,
    u8 => U8, u16 => U16, u32 => U32, u64 => U64,
    half::f16 => F16, half::bf16 => BF16, f32 => F32, f64 => F64,
    [f32; 2] => C64, [f64; 2] => C128,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_values_round_trip() {
        for t in ElementType::ALL {
            assert_eq!(ElementType::from_raw(t.to_raw()), Some(t));
        }
        assert_eq!(ElementType::from_raw(0), None);
        assert_eq!(ElementType::from_raw(34), None);
        assert_eq!(ElementType::F32.to_raw(), 11);
        assert_eq!(ElementType::F6E3M2FN.to_raw(), 33);
    }

    #[test]
    fn xla_primitive_numbers() {
        for t in ElementType::ALL {
            assert_eq!(
                ElementType::from_xla_primitive(t.to_xla_primitive()),
                Some(t)
            );
        }
        assert_eq!(ElementType::BF16.to_xla_primitive(), 16);
        assert_eq!(ElementType::from_xla_primitive(13), None); // TUPLE
    }

    #[test]
    fn sizes() {
        assert_eq!(ElementType::F32.byte_size(), Some(4));
        assert_eq!(ElementType::C128.byte_size(), Some(16));
        assert_eq!(ElementType::Pred.byte_size(), Some(1));
        assert_eq!(ElementType::S4.byte_size(), None);
    }
}
