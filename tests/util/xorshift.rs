//! xorshift32: the generated scenarios (`tests/conformance/*_generated.js` and a few
//! more) draw their cases from it (`trace.js`'s `xorshift`), and their Rust tests draw
//! the same ones. Shared by `tests/util` and the HTTP crate's header-rules unit test.

/// The generator; `Xorshift(seed)`.
pub struct Xorshift(pub u32);

impl Xorshift {
    /// The next value.
    pub fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0 as usize
    }
}
