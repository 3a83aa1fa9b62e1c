//! A minimal protobuf wire-format writer and reader: just what the XLA messages we exchange
//! with plugins need (varints, length-delimited fields, packed repeated integers).

use crate::error::{Error, Result};

/// Appends protobuf fields to a byte vector.
#[derive(Debug, Default, Clone)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;
const FIXED32: u32 = 5;

impl Writer {
    pub(crate) fn new() -> Writer {
        Writer { buf: Vec::new() }
    }

    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u32) {
        self.varint(u64::from(field << 3 | wire));
    }

    /// An int32/int64/enum field, always written (even when zero).
    pub(crate) fn int(&mut self, field: u32, v: i64) {
        self.key(field, VARINT);
        self.varint(v as u64);
    }

    /// A bool field, skipped when false.
    pub(crate) fn bool_true(&mut self, field: u32, v: bool) {
        if v {
            self.int(field, 1);
        }
    }

    /// A double field (fixed64), always written.
    pub(crate) fn double(&mut self, field: u32, v: f64) {
        self.key(field, FIXED64);
        self.buf.extend_from_slice(&v.to_bits().to_le_bytes());
    }

    /// A bytes/string/message field.
    pub(crate) fn bytes(&mut self, field: u32, v: &[u8]) {
        self.key(field, LEN);
        self.varint(v.len() as u64);
        self.buf.extend_from_slice(v);
    }

    /// A nested message field.
    pub(crate) fn message(&mut self, field: u32, m: &Writer) {
        self.bytes(field, &m.buf);
    }

    /// A packed repeated int64 field (skipped when empty).
    pub(crate) fn packed_ints(&mut self, field: u32, vs: &[i64]) {
        if vs.is_empty() {
            return;
        }
        let mut inner = Writer::new();
        for &v in vs {
            inner.varint(v as u64);
        }
        self.bytes(field, &inner.buf);
    }
}

/// One decoded field value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Bytes(&'a [u8]),
}

impl<'a> Value<'a> {
    pub(crate) fn as_i64(self) -> Option<i64> {
        match self {
            Value::Varint(v) | Value::Fixed64(v) => Some(v as i64),
            Value::Fixed32(v) => Some(i64::from(v)),
            Value::Bytes(_) => None,
        }
    }

    pub(crate) fn as_bytes(self) -> Option<&'a [u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// A repeated integer field: either one varint or a packed run.
    pub(crate) fn ints(self, message: &'static str) -> Result<Vec<i64>> {
        match self {
            Value::Bytes(b) => {
                let mut r = Reader {
                    buf: b,
                    pos: 0,
                    message,
                };
                let mut out = Vec::new();
                while r.pos < r.buf.len() {
                    out.push(r.varint()? as i64);
                }
                Ok(out)
            }
            other => Ok(other.as_i64().into_iter().collect()),
        }
    }
}

/// Iterates over the fields of one encoded message.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    message: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], message: &'static str) -> Reader<'a> {
        Reader {
            buf,
            pos: 0,
            message,
        }
    }

    fn err(&self, reason: &str) -> Error {
        Error::Decode {
            message: self.message,
            reason: format!("{reason} at byte {}", self.pos),
        }
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| self.err("truncated varint"))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(self.err("varint too long"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| self.err("truncated field"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// The next field as (field number, value), or `None` at the end.
    pub(crate) fn next_field(&mut self) -> Result<Option<(u32, Value<'a>)>> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let field = (key >> 3) as u32;
        let value = match (key & 7) as u32 {
            VARINT => Value::Varint(self.varint()?),
            FIXED64 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Value::Fixed64(u64::from_le_bytes(a))
            }
            LEN => {
                let n = self.varint()? as usize;
                Value::Bytes(self.take(n)?)
            }
            FIXED32 => {
                let b = self.take(4)?;
                let mut a = [0u8; 4];
                a.copy_from_slice(b);
                Value::Fixed32(u32::from_le_bytes(a))
            }
            w => return Err(self.err(&format!("unsupported wire type {w}"))),
        };
        Ok(Some((field, value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_packed() {
        let mut w = Writer::new();
        w.int(1, 300);
        w.packed_ints(2, &[1, 2, 150]);
        w.int(3, -1);
        assert_eq!(&w.buf[..3], &[0x08, 0xac, 0x02]);
        let mut r = Reader::new(&w.buf, "test");
        assert_eq!(r.next_field().unwrap(), Some((1, Value::Varint(300))));
        let (f, v) = r.next_field().unwrap().unwrap();
        assert_eq!((f, v.ints("t").unwrap()), (2, vec![1, 2, 150]));
        let (f, v) = r.next_field().unwrap().unwrap();
        assert_eq!((f, v.as_i64()), (3, Some(-1)));
        assert_eq!(r.next_field().unwrap(), None);
    }

    #[test]
    fn truncated_input_is_an_error() {
        let mut r = Reader::new(&[0x0a, 0x05, 0x01], "test");
        assert!(matches!(r.next_field(), Err(Error::Decode { .. })));
    }
}
