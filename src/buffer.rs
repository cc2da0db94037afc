//! Page-aligned I/O buffers: the one allocator every benchmark's data buffer comes from.
//!
//! Why: a `Vec<u8>` of many MiB starts 16 bytes past a page boundary, and on AMD EPYC the
//! kernel copies from the page cache into a destination 16 bytes off a 64-byte boundary at
//! ~2 GB/s instead of ~8 GB/s: cached reads measured 3x too slow. IOR and fio align to the page,
//! mpi-io-test to 128 bytes; O_DIRECT needs the page (or the device's block) too.

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// The alignment of every buffer: a page on the machines pvbench runs on.
pub const ALIGNMENT: usize = 4096;

/// A zeroed, page-aligned byte buffer of a fixed length.
pub struct AlignedBuffer {
    ptr: NonNull<u8>,
    len: usize,
}

impl AlignedBuffer {
    /// `len` zero bytes starting at a page boundary; `None` if the allocation fails (callers
    /// check sizes against memory first, so this is the last line, not the first).
    pub fn zeroed(len: usize) -> Option<Self> {
        if len == 0 {
            return Some(AlignedBuffer { ptr: NonNull::<u8>::dangling(), len: 0 });
        }
        let layout = Layout::from_size_align(len, ALIGNMENT).ok()?;
        // SAFETY: the layout has a non-zero size.
        let ptr = NonNull::new(unsafe { alloc_zeroed(layout) })?;
        Some(AlignedBuffer { ptr, len })
    }
}

impl Deref for AlignedBuffer {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: `ptr` is valid for `len` initialised bytes (or dangling with `len` 0).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl DerefMut for AlignedBuffer {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`, and `&mut self` makes the borrow exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for AlignedBuffer {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: allocated in `zeroed` with exactly this layout.
            unsafe { dealloc(self.ptr.as_ptr(), Layout::from_size_align_unchecked(self.len, ALIGNMENT)) }
        }
    }
}

// SAFETY: the buffer owns its memory exclusively, like a Vec<u8>.
unsafe impl Send for AlignedBuffer {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_aligned_zeroed_and_writable() {
        for len in [1, 4096, 16 << 20, 3 * 4096 + 17] {
            let mut buf = AlignedBuffer::zeroed(len).unwrap();
            assert_eq!(buf.as_ptr() as usize % ALIGNMENT, 0, "len {len}");
            assert_eq!(buf.len(), len);
            assert!(buf.iter().all(|&b| b == 0));
            buf[len - 1] = 7;
            assert_eq!(buf[len - 1], 7);
        }
        assert!(AlignedBuffer::zeroed(0).unwrap().is_empty());
    }
}
