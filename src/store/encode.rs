//! Compact binary encoding of stored entries and changelog records: LEB128 lengths, no padding.
//! Decoding checks every length against the remaining bytes, so a damaged record is an error,
//! never a panic or a huge allocation.

use crate::core::entry::{Attribute, Entry};

const ENTRY_FORMAT: u8 = 1;

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct DecodeError(pub &'static str);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "corrupt record: {}", self.0)
    }
}

pub(crate) fn put_uvar(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

pub(crate) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_uvar(out, b.len() as u64);
    out.extend_from_slice(b);
}

pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        let (&b, rest) = self.buf.split_first().ok_or(DecodeError("truncated"))?;
        self.buf = rest;
        Ok(b)
    }
    pub(crate) fn uvar(&mut self) -> Result<u64, DecodeError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError("varint too long"))
    }
    /// A count of following items, each at least one byte: bounded by what is left.
    pub(crate) fn count(&mut self) -> Result<usize, DecodeError> {
        let n = self.uvar()?;
        if n > self.buf.len() as u64 {
            return Err(DecodeError("count exceeds record"));
        }
        Ok(n as usize)
    }
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.uvar()?;
        if n > self.buf.len() as u64 {
            return Err(DecodeError("length exceeds record"));
        }
        let (a, b) = self.buf.split_at(n as usize);
        self.buf = b;
        Ok(a)
    }
    pub(crate) fn string(&mut self) -> Result<String, DecodeError> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError("invalid UTF-8"))
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

pub(crate) fn encode_entry(e: &Entry) -> Vec<u8> {
    let mut out = Vec::with_capacity(e.size() + 16);
    out.push(ENTRY_FORMAT);
    put_bytes(&mut out, e.dn.as_bytes());
    put_uvar(&mut out, e.attrs.len() as u64);
    for a in &e.attrs {
        put_bytes(&mut out, a.name.as_bytes());
        put_uvar(&mut out, a.values.len() as u64);
        for v in &a.values {
            put_bytes(&mut out, v);
        }
    }
    out
}

pub(crate) fn decode_entry(buf: &[u8]) -> Result<Entry, DecodeError> {
    let mut r = Reader::new(buf);
    if r.u8()? != ENTRY_FORMAT {
        return Err(DecodeError("unknown entry format"));
    }
    let dn = r.string()?;
    let n = r.count()?;
    let mut attrs = Vec::with_capacity(n);
    for _ in 0..n {
        let name = r.string()?;
        let nv = r.count()?;
        let mut values = Vec::with_capacity(nv);
        for _ in 0..nv {
            values.push(r.bytes()?.to_vec());
        }
        attrs.push(Attribute { name, values });
    }
    if !r.is_empty() {
        return Err(DecodeError("trailing bytes"));
    }
    Ok(Entry { dn, attrs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut e = Entry::new("cn=Jürgen,dc=example");
        e.set("cn", vec!["Jürgen".into(), b"J".to_vec()]);
        e.set("jpegPhoto", vec![vec![0u8; 300], vec![]]);
        let b = encode_entry(&e);
        assert_eq!(decode_entry(&b).unwrap(), e);
    }

    #[test]
    fn damaged_records_are_errors() {
        let mut e = Entry::new("cn=x");
        e.set("cn", vec![b"x".to_vec()]);
        let b = encode_entry(&e);
        for i in 0..b.len() {
            let _ = decode_entry(&b[..i]);
        }
        assert!(decode_entry(&[1, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
        assert!(decode_entry(&[2]).is_err());
    }
}
