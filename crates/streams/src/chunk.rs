//! What flows through a stream.
//!
//! Node streams carry either bytes (`Buffer`, counted by length toward the
//! highWaterMark) or, in object mode, any value (each counts 1). Here a stream is generic
//! over its chunk type: [`Bytes`] streams count bytes unless made object-mode; every
//! other [`Chunk`] type is always object mode. Implementing `Chunk` for your own type
//! takes one line: `impl Chunk for MyEvent {}`.

use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;

/// A value a stream can carry.
pub trait Chunk: Clone + 'static {
    /// The length counted toward the highWaterMark outside object mode, or `None` for
    /// types that are always object mode (each chunk counts 1).
    fn byte_len(&self) -> Option<usize> {
        None
    }

    /// The chunk as bytes, for byte streams (`Bytes` only).
    #[doc(hidden)]
    fn into_bytes(self) -> Result<Bytes, Self> {
        Err(self)
    }

    /// A chunk from bytes, for byte streams (`Bytes` only).
    #[doc(hidden)]
    fn from_bytes(_b: Bytes) -> Option<Self> {
        None
    }
}

impl Chunk for Bytes {
    fn byte_len(&self) -> Option<usize> {
        Some(self.len())
    }

    fn into_bytes(self) -> Result<Bytes, Self> {
        Ok(self)
    }

    fn from_bytes(b: Bytes) -> Option<Self> {
        Some(b)
    }
}

macro_rules! object_chunks {
    ($($t:ty),*) => { $(impl Chunk for $t {})* };
}

object_chunks!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    String,
    &'static str,
    Vec<u8>
);

impl<T: Chunk> Chunk for Option<T> {}
impl<T: 'static> Chunk for Rc<T> {}
impl<T: 'static> Chunk for Arc<T> {}
impl<T: Clone + 'static> Chunk for Box<T> {}
impl<A: Chunk, B: Chunk> Chunk for (A, B) {}
impl<A: Chunk, B: Chunk, C: Chunk> Chunk for (A, B, C) {}

/// The side a stream does not have: `Readable<T>` is `Stream<T, Absent>`, `Writable<T>`
/// is `Stream<Absent, T>`. It has no values, so no chunk of it can exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Absent {}

/// Either side of a stream: a [`Chunk`] type or [`Absent`]. The state machines are
/// written against `Side`, so one implementation serves Readable, Writable and Duplex;
/// the public methods of a side ask for `Chunk`, so they exist only where the side does.
pub trait Side: Clone + 'static {
    #[doc(hidden)]
    fn side_byte_len(&self) -> Option<usize>;
    #[doc(hidden)]
    fn side_into_bytes(self) -> Result<Bytes, Self>;
    #[doc(hidden)]
    fn side_from_bytes(b: Bytes) -> Option<Self>;
    /// Whether this type can ever count bytes (false: always object mode).
    #[doc(hidden)]
    fn counts_bytes() -> bool;
}

impl<T: Chunk> Side for T {
    #[inline]
    fn side_byte_len(&self) -> Option<usize> {
        self.byte_len()
    }

    #[inline]
    fn side_into_bytes(self) -> Result<Bytes, Self> {
        self.into_bytes()
    }

    #[inline]
    fn side_from_bytes(b: Bytes) -> Option<Self> {
        T::from_bytes(b)
    }

    fn counts_bytes() -> bool {
        T::from_bytes(Bytes::new()).is_some()
    }
}

impl Side for Absent {
    fn side_byte_len(&self) -> Option<usize> {
        match *self {}
    }

    fn side_into_bytes(self) -> Result<Bytes, Self> {
        match self {}
    }

    fn side_from_bytes(_b: Bytes) -> Option<Self> {
        None
    }

    fn counts_bytes() -> bool {
        false
    }
}
