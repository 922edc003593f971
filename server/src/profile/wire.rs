//! A streaming protobuf wire reader: reads keys, varints and length-delimited fields from
//! any `BufRead` while counting bytes against a limit, so a profile's top-level message is
//! never held in memory whole and a hostile length can never force a huge allocation.

use std::io::{self, BufRead, Read};

/// Protobuf wire types that appear in pprof profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireType {
    Varint,
    Fixed64,
    Len,
    Fixed32,
}

/// Why reading stopped: either the bytes are malformed, the underlying stream failed, or
/// a limit was hit.
#[derive(Debug)]
pub enum WireError {
    Malformed(String),
    Io(io::Error),
    Limit { what: &'static str, limit: u64 },
}

impl From<io::Error> for WireError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            WireError::Malformed("truncated: the data ends in the middle of a field".into())
        } else {
            WireError::Io(e)
        }
    }
}

pub type WireResult<T> = Result<T, WireError>;

/// Reads protobuf fields from a buffered stream, tracking the absolute position.
pub struct WireReader<R> {
    inner: R,
    pos: u64,
    max_total: u64,
    max_field: u64,
}

impl<R: BufRead> WireReader<R> {
    /// `max_total` bounds the bytes read overall (the decoded size); `max_field` bounds a
    /// single length-delimited field that is read into memory.
    pub fn new(inner: R, max_total: u64, max_field: u64) -> Self {
        Self {
            inner,
            pos: 0,
            max_total,
            max_field,
        }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    fn check_total(&self) -> WireResult<()> {
        if self.pos > self.max_total {
            return Err(WireError::Limit {
                what: "decoded profile size",
                limit: self.max_total,
            });
        }
        Ok(())
    }

    fn byte(&mut self) -> WireResult<Option<u8>> {
        let buf = self.inner.fill_buf()?;
        let Some(&b) = buf.first() else {
            return Ok(None);
        };
        self.inner.consume(1);
        self.pos += 1;
        Ok(Some(b))
    }

    /// Reads a varint; the stream must not end inside it.
    pub fn varint(&mut self) -> WireResult<u64> {
        let mut value = 0u64;
        for i in 0..10 {
            let b = self.byte()?.ok_or_else(|| {
                WireError::Malformed("truncated: the data ends inside a varint".into())
            })?;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(WireError::Malformed(format!(
            "varint longer than 10 bytes at offset {}",
            self.pos
        )))
    }

    /// Reads the next field key, or `None` at a clean end of stream.
    pub fn key(&mut self) -> WireResult<Option<(u32, WireType)>> {
        self.check_total()?;
        let at = self.pos;
        let first = match self.byte()? {
            None => return Ok(None),
            Some(b) => b,
        };
        let key = if first & 0x80 == 0 {
            u64::from(first)
        } else {
            let rest = self.varint()?;
            u64::from(first & 0x7f) | (rest << 7)
        };
        let field = key >> 3;
        if field == 0 || field > u64::from(u32::MAX >> 3) {
            return Err(WireError::Malformed(format!(
                "invalid field number {field} at offset {at}"
            )));
        }
        let wt = match key & 7 {
            0 => WireType::Varint,
            1 => WireType::Fixed64,
            2 => WireType::Len,
            5 => WireType::Fixed32,
            other => {
                return Err(WireError::Malformed(format!(
                    "unsupported wire type {other} for field {field} at offset {at}"
                )))
            }
        };
        Ok(Some((field as u32, wt)))
    }

    /// Reads a length prefix and checks it against the per-field limit.
    pub fn len_prefix(&mut self) -> WireResult<u64> {
        let len = self.varint()?;
        if len > self.max_field {
            return Err(WireError::Limit {
                what: "a single field's declared length",
                limit: self.max_field,
            });
        }
        if self.pos.saturating_add(len) > self.max_total {
            return Err(WireError::Limit {
                what: "decoded profile size",
                limit: self.max_total,
            });
        }
        Ok(len)
    }

    /// Reads a length-delimited field's body into `buf` (reused across calls).
    pub fn bytes_into(&mut self, buf: &mut Vec<u8>) -> WireResult<()> {
        let len = self.len_prefix()?;
        buf.clear();
        let got = (&mut self.inner).take(len).read_to_end(buf)? as u64;
        self.pos += got;
        if got != len {
            return Err(WireError::Malformed(format!(
                "truncated: a field declares {len} bytes but only {got} remain"
            )));
        }
        Ok(())
    }

    /// Skips a field of the given wire type.
    pub fn skip(&mut self, wt: WireType) -> WireResult<()> {
        let n = match wt {
            WireType::Varint => {
                self.varint()?;
                return Ok(());
            }
            WireType::Fixed64 => 8,
            WireType::Fixed32 => 4,
            WireType::Len => self.len_prefix()?,
        };
        let got = io::copy(&mut (&mut self.inner).take(n), &mut io::sink())?;
        self.pos += got;
        if got != n {
            return Err(WireError::Malformed(format!(
                "truncated: a field declares {n} bytes but only {got} remain"
            )));
        }
        Ok(())
    }
}

/// Decodes a varint from a byte slice, advancing it.
pub fn slice_varint(buf: &mut &[u8]) -> Result<u64, WireError> {
    let mut value = 0u64;
    for i in 0..10 {
        let (&b, rest) = buf.split_first().ok_or_else(|| {
            WireError::Malformed("truncated: a message ends inside a varint".into())
        })?;
        *buf = rest;
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(WireError::Malformed("varint longer than 10 bytes".into()))
}

/// Decodes a field key from a byte slice.
pub fn slice_key(buf: &mut &[u8]) -> Result<(u32, WireType), WireError> {
    let key = slice_varint(buf)?;
    let field = key >> 3;
    if field == 0 || field > u64::from(u32::MAX >> 3) {
        return Err(WireError::Malformed(format!(
            "invalid field number {field}"
        )));
    }
    let wt = match key & 7 {
        0 => WireType::Varint,
        1 => WireType::Fixed64,
        2 => WireType::Len,
        5 => WireType::Fixed32,
        other => {
            return Err(WireError::Malformed(format!(
                "unsupported wire type {other} for field {field}"
            )))
        }
    };
    Ok((field as u32, wt))
}

/// Splits a length-delimited body off the front of a slice.
pub fn slice_len<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], WireError> {
    let len = slice_varint(buf)?;
    if len > buf.len() as u64 {
        return Err(WireError::Malformed(format!(
            "truncated: a field declares {len} bytes but only {} remain",
            buf.len()
        )));
    }
    let (body, rest) = buf.split_at(len as usize);
    *buf = rest;
    Ok(body)
}

/// Skips one field of a slice-held message.
pub fn slice_skip(buf: &mut &[u8], wt: WireType) -> Result<(), WireError> {
    let n = match wt {
        WireType::Varint => {
            slice_varint(buf)?;
            return Ok(());
        }
        WireType::Fixed64 => 8,
        WireType::Fixed32 => 4,
        WireType::Len => {
            slice_len(buf)?;
            return Ok(());
        }
    };
    if buf.len() < n {
        return Err(WireError::Malformed("truncated fixed-width field".into()));
    }
    *buf = &buf[n..];
    Ok(())
}

/// Appends the values of a repeated varint field, packed or not, to `out`.
pub fn slice_repeated_varint(
    buf: &mut &[u8],
    wt: WireType,
    out: &mut Vec<u64>,
) -> Result<(), WireError> {
    match wt {
        WireType::Varint => out.push(slice_varint(buf)?),
        WireType::Len => {
            let mut body = slice_len(buf)?;
            while !body.is_empty() {
                out.push(slice_varint(&mut body)?);
            }
        }
        _ => {
            return Err(WireError::Malformed(
                "repeated integer field with a fixed-width wire type".into(),
            ))
        }
    }
    Ok(())
}
