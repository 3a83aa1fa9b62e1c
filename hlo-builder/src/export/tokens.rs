//! Tokens: the flat form a graph is written in, both for the artifact file and for comparing
//! the graphs recorded at several batch sizes position by position.
//!
//! Four kinds: `U` (structure: tags, counts, indices, flags, element types; never follows
//! the batch), `I` (an integer attribute or a dimension; may follow the batch), `B` (bytes:
//! names, dense constant data; never follows the batch) and `Splat` (the one element of a
//! splat constant; its value may follow the batch, as `mean`'s divisor does).
//!
//! In a file each token is a kind byte and its payload: `U` a LEB128 varint, `I` a zigzag
//! LEB128 varint, `B` a varint length and the bytes, `Splat` a varint element type
//! (`PJRT_Buffer_Type`), a varint length and the bytes. Reading checks every length against
//! the bytes left and never panics on damaged input.

use std::sync::Arc;

use crate::types::{ElementType, TensorType};

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    U(u64),
    I(i64),
    B(Arc<[u8]>),
    Splat(ElementType, Arc<[u8]>),
}

/// Appends tokens; `mark` notes what the tokens from here on describe (for messages).
#[derive(Debug, Default)]
pub(crate) struct Enc {
    pub(crate) toks: Vec<Tok>,
    /// (first token, what it describes), in token order.
    pub(crate) marks: Vec<(usize, String)>,
}

impl Enc {
    pub(crate) fn mark(&mut self, what: String) {
        self.marks.push((self.toks.len(), what));
    }
    pub(crate) fn u(&mut self, v: u64) {
        self.toks.push(Tok::U(v));
    }
    pub(crate) fn n(&mut self, v: usize) {
        self.u(v as u64);
    }
    pub(crate) fn flag(&mut self, v: bool) {
        self.u(u64::from(v));
    }
    pub(crate) fn i(&mut self, v: i64) {
        self.toks.push(Tok::I(v));
    }
    pub(crate) fn bytes(&mut self, b: Arc<[u8]>) {
        self.toks.push(Tok::B(b));
    }
    pub(crate) fn str(&mut self, s: &str) {
        self.bytes(Arc::from(s.as_bytes()));
    }
    pub(crate) fn splat(&mut self, ty: ElementType, b: &[u8]) {
        self.toks.push(Tok::Splat(ty, Arc::from(b)));
    }
    pub(crate) fn ty(&mut self, t: ElementType) {
        // PJRT_Buffer_Type numbers are positive.
        self.u(t.to_raw().max(0) as u64);
    }
    pub(crate) fn ints(&mut self, v: &[i64]) {
        self.n(v.len());
        for &x in v {
            self.i(x);
        }
    }
    pub(crate) fn pairs(&mut self, v: &[(i64, i64)]) {
        self.n(v.len());
        for &(a, b) in v {
            self.i(a);
            self.i(b);
        }
    }
    pub(crate) fn tensor(&mut self, t: &TensorType) {
        self.ty(t.ty);
        self.ints(&t.dims);
    }
    /// The description of the token at `pos` (the last mark at or before it).
    pub(crate) fn what(&self, pos: usize) -> String {
        let i = self.marks.partition_point(|(p, _)| *p <= pos);
        match i.checked_sub(1).and_then(|i| self.marks.get(i)) {
            Some((_, w)) => w.clone(),
            None => "the function's header".into(),
        }
    }
}

/// Reads tokens in order; every read says what it expected when the token is not there.
pub(crate) struct Dec<'a> {
    toks: &'a [Tok],
    pos: usize,
}

impl<'a> Dec<'a> {
    pub(crate) fn new(toks: &'a [Tok]) -> Dec<'a> {
        Dec { toks, pos: 0 }
    }
    pub(crate) fn done(&self) -> bool {
        self.pos == self.toks.len()
    }
    pub(crate) fn left(&self) -> usize {
        self.toks.len() - self.pos
    }
    fn next(&mut self, what: &str) -> Result<&'a Tok, String> {
        let t = self
            .toks
            .get(self.pos)
            .ok_or_else(|| format!("ends where {what} was expected"))?;
        self.pos += 1;
        Ok(t)
    }
    fn bad(&self, what: &str, got: &Tok) -> String {
        let kind = match got {
            Tok::U(_) => "a count or tag",
            Tok::I(_) => "an integer",
            Tok::B(_) => "bytes",
            Tok::Splat(..) => "a scalar",
        };
        format!("token {}: {what} expected, found {kind}", self.pos - 1)
    }
    pub(crate) fn u(&mut self, what: &str) -> Result<u64, String> {
        match self.next(what)? {
            Tok::U(v) => Ok(*v),
            t => Err(self.bad(what, t)),
        }
    }
    /// A count of items that each take at least one more token (so it is bounded by what
    /// is left).
    pub(crate) fn n(&mut self, what: &str) -> Result<usize, String> {
        let v = self.u(what)?;
        match usize::try_from(v) {
            Ok(n) if n <= self.left() => Ok(n),
            _ => Err(format!(
                "token {}: {what} {v} is more than the tokens left",
                self.pos - 1
            )),
        }
    }
    /// A small index or tag (no bound from the tokens left).
    pub(crate) fn index(&mut self, what: &str) -> Result<usize, String> {
        let v = self.u(what)?;
        usize::try_from(v).map_err(|_| format!("token {}: {what} {v} is too large", self.pos - 1))
    }
    pub(crate) fn flag(&mut self, what: &str) -> Result<bool, String> {
        match self.u(what)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(format!(
                "token {}: {what} must be 0 or 1, found {v}",
                self.pos - 1
            )),
        }
    }
    pub(crate) fn i(&mut self, what: &str) -> Result<i64, String> {
        match self.next(what)? {
            Tok::I(v) => Ok(*v),
            t => Err(self.bad(what, t)),
        }
    }
    pub(crate) fn bytes(&mut self, what: &str) -> Result<Arc<[u8]>, String> {
        match self.next(what)? {
            Tok::B(b) => Ok(b.clone()),
            t => Err(self.bad(what, t)),
        }
    }
    pub(crate) fn splat(&mut self, what: &str) -> Result<(ElementType, Arc<[u8]>), String> {
        match self.next(what)? {
            Tok::Splat(t, b) => Ok((*t, b.clone())),
            t => Err(self.bad(what, t)),
        }
    }
    pub(crate) fn str(&mut self, what: &str) -> Result<String, String> {
        let b = self.bytes(what)?;
        String::from_utf8(b.to_vec()).map_err(|_| format!("{what} is not UTF-8"))
    }
    pub(crate) fn ty(&mut self, what: &str) -> Result<ElementType, String> {
        let v = self.u(what)?;
        i32::try_from(v)
            .ok()
            .and_then(ElementType::from_raw)
            .ok_or_else(|| format!("{what}: unknown element type {v}"))
    }
    pub(crate) fn ints(&mut self, what: &str) -> Result<Vec<i64>, String> {
        let n = self.n(what)?;
        (0..n).map(|_| self.i(what)).collect()
    }
    pub(crate) fn pairs(&mut self, what: &str) -> Result<Vec<(i64, i64)>, String> {
        let n = self.n(what)?;
        (0..n).map(|_| Ok((self.i(what)?, self.i(what)?))).collect()
    }
    pub(crate) fn tensor(&mut self, what: &str) -> Result<TensorType, String> {
        let ty = self.ty(what)?;
        let dims = self.ints(what)?;
        Ok(TensorType::new(ty, dims))
    }
    /// The next `n` tokens as they are.
    pub(crate) fn raw(&mut self, n: usize, what: &str) -> Result<&'a [Tok], String> {
        if n > self.left() {
            return Err(format!("{what}: {n} tokens expected, {} left", self.left()));
        }
        let s = &self.toks[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
}

// ------------------------------------------------------------------ binary form

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends the binary form of `toks`.
pub(crate) fn write(toks: &[Tok], out: &mut Vec<u8>) {
    for t in toks {
        match t {
            Tok::U(v) => {
                out.push(0);
                varint(out, *v);
            }
            Tok::I(v) => {
                out.push(1);
                varint(out, ((*v << 1) ^ (*v >> 63)) as u64);
            }
            Tok::B(b) => {
                out.push(2);
                varint(out, b.len() as u64);
                out.extend_from_slice(b);
            }
            Tok::Splat(ty, b) => {
                out.push(3);
                varint(out, ty.to_raw().max(0) as u64);
                varint(out, b.len() as u64);
                out.extend_from_slice(b);
            }
        }
    }
}

/// Reads the binary form written by [`write`]; `Err` names the byte offset of the damage.
pub(crate) fn read(bytes: &[u8]) -> Result<Vec<Tok>, String> {
    let mut r = Bytes { b: bytes, pos: 0 };
    // Every token takes at least two bytes: no honest file has more than half its length.
    let mut toks = Vec::with_capacity(bytes.len() / 2);
    while r.pos < bytes.len() {
        let at = r.pos;
        let kind = r.byte()?;
        let t = match kind {
            0 => Tok::U(r.varint()?),
            1 => {
                let z = r.varint()?;
                Tok::I(((z >> 1) as i64) ^ -((z & 1) as i64))
            }
            2 => {
                let n = r.len()?;
                Tok::B(Arc::from(r.take(n)?))
            }
            3 => {
                let raw = r.varint()?;
                let ty = i32::try_from(raw)
                    .ok()
                    .and_then(ElementType::from_raw)
                    .ok_or_else(|| format!("byte {at}: unknown element type {raw}"))?;
                let n = r.len()?;
                Tok::Splat(ty, Arc::from(r.take(n)?))
            }
            k => return Err(format!("byte {at}: unknown token kind {k}")),
        };
        toks.push(t);
    }
    Ok(toks)
}

struct Bytes<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Bytes<'a> {
    fn byte(&mut self) -> Result<u8, String> {
        let v = *self
            .b
            .get(self.pos)
            .ok_or_else(|| format!("byte {}: truncated", self.pos))?;
        self.pos += 1;
        Ok(v)
    }
    fn varint(&mut self) -> Result<u64, String> {
        let start = self.pos;
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                if shift == 63 && b > 1 {
                    break;
                }
                return Ok(v);
            }
        }
        Err(format!("byte {start}: malformed varint"))
    }
    fn len(&mut self) -> Result<usize, String> {
        let at = self.pos;
        let v = self.varint()?;
        match usize::try_from(v) {
            Ok(n) if n <= self.b.len() - self.pos => Ok(n),
            _ => Err(format!("byte {at}: length {v} runs past the end")),
        }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let s = self
            .b
            .get(self.pos..self.pos + n)
            .ok_or_else(|| format!("byte {}: truncated", self.pos))?;
        self.pos += n;
        Ok(s)
    }
}

// Test code: `unwrap` and `panic!` here are the assertions.
#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Tok> {
        vec![
            Tok::U(0),
            Tok::U(u64::MAX),
            Tok::I(-1),
            Tok::I(i64::MIN),
            Tok::I(i64::MAX),
            Tok::I(300),
            Tok::B(Arc::from(&b"weights"[..])),
            Tok::B(Arc::from(&b""[..])),
            Tok::Splat(ElementType::F32, Arc::from(&64f32.to_le_bytes()[..])),
        ]
    }

    #[test]
    fn binary_round_trip() {
        let mut out = Vec::new();
        write(&sample(), &mut out);
        assert_eq!(read(&out).unwrap(), sample());
    }

    #[test]
    fn damaged_bytes_are_errors_not_panics() {
        let mut out = Vec::new();
        write(&sample(), &mut out);
        for n in 0..out.len() {
            // Every prefix either reads (it ends between tokens) or is an error.
            let _ = read(&out[..n]);
        }
        for i in 0..out.len() {
            for bit in 0..8 {
                let mut b = out.clone();
                b[i] ^= 1 << bit;
                let _ = read(&b);
            }
        }
        assert!(read(&[2, 0xff, 0xff, 0xff, 0xff, 0x0f])
            .unwrap_err()
            .contains("past the end"));
        assert!(
            read(&[0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])
                .unwrap_err()
                .contains("malformed varint")
        );
        assert!(read(&[9]).unwrap_err().contains("unknown token kind"));
    }

    #[test]
    fn counts_are_bounded_by_what_is_left() {
        let toks = vec![Tok::U(1 << 40), Tok::I(1)];
        let mut d = Dec::new(&toks);
        assert!(d
            .n("dims")
            .unwrap_err()
            .contains("more than the tokens left"));
    }
}
