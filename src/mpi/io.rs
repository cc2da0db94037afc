//! Safe MPI-IO over `mpi::ffi`: the only place in pvbench that calls `MPI_File_*` or `MPI_Info_*`.
//!
//! rsmpi has no MPI-IO, so this module wraps the handful of calls the benchmarks need: an
//! [`Info`] builder for ROMIO hints, a [`File`] that closes on drop, explicit-offset reads and
//! writes (independent and collective), sync, size, delete, and the hints in effect. Every
//! failure becomes an [`MpiIoError`] that carries the MPI error *class* (stable across MPI
//! builds, unlike raw codes) and the library's `MPI_Error_string` text.
//!
//! Some drivers return codes that belong to no class at all (ROMIO's pvfs2 driver of MPICH
//! 4.0.2 returns -524286 from `MPI_File_delete` of a missing file; `MPI_Error_class` makes
//! 0x40000002 of it). Such a code becomes [`ErrorClass::Invalid`], never a guessed class, and
//! is never handed to `MPI_Error_string`.

use std::ffi::{CStr, CString};
use std::fmt;
use std::os::raw::{c_char, c_int, c_void};

use mpi::ffi;
use mpi::raw::AsRaw;
use mpi::topology::SimpleCommunicator;

/// The MPI error classes pvbench acts on (MPI standard, section 14.7 / 9.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    Access,
    BadFile,
    NoSuchFile,
    NoSpace,
    Io,
    Other(c_int),
    /// The library returned a code that is no error code of it: nothing can be read from it.
    Invalid,
}

impl ErrorClass {
    fn from_raw(class: c_int) -> Self {
        match class as u32 {
            ffi::MPI_ERR_ACCESS => ErrorClass::Access,
            ffi::MPI_ERR_BAD_FILE => ErrorClass::BadFile,
            ffi::MPI_ERR_NO_SUCH_FILE => ErrorClass::NoSuchFile,
            ffi::MPI_ERR_NO_SPACE => ErrorClass::NoSpace,
            ffi::MPI_ERR_IO => ErrorClass::Io,
            _ => ErrorClass::Other(class),
        }
    }

    /// The class's name in the MPI standard, e.g. `MPI_ERR_NO_SUCH_FILE`.
    pub fn name(self) -> String {
        match self {
            ErrorClass::Access => "MPI_ERR_ACCESS".into(),
            ErrorClass::BadFile => "MPI_ERR_BAD_FILE".into(),
            ErrorClass::NoSuchFile => "MPI_ERR_NO_SUCH_FILE".into(),
            ErrorClass::NoSpace => "MPI_ERR_NO_SPACE".into(),
            ErrorClass::Io => "MPI_ERR_IO".into(),
            ErrorClass::Other(class) => format!("error class {class}"),
            ErrorClass::Invalid => "an invalid error code".into(),
        }
    }
}

/// A failed MPI-IO call: which call, its error class, and the library's own explanation.
///
/// The text is fetched only when the error is displayed: ROMIO hands every rank of a failed
/// collective open the code of the rank that failed, and `MPI_Error_string` on a code from
/// another process's error ring prints "Invalid error code" to stderr.
#[derive(Debug, Clone)]
pub struct MpiIoError {
    pub call: &'static str,
    pub class: ErrorClass,
    detail: Detail,
}

#[derive(Debug, Clone)]
enum Detail {
    Code(c_int),
    Text(String),
}

impl MpiIoError {
    /// The library's explanation, on one line.
    pub fn message(&self) -> String {
        match (&self.detail, self.class) {
            (Detail::Text(text), _) => text.clone(),
            (Detail::Code(code), ErrorClass::Invalid) => {
                format!("the MPI library returned an invalid error code {code} from {}", self.call)
            }
            (Detail::Code(code), _) => error_string(*code),
        }
    }
}

#[cfg(test)]
impl MpiIoError {
    /// An error as a failed call would give it, for tests of how callers render it.
    pub fn for_test(call: &'static str, class: ErrorClass, text: &str) -> Self {
        let detail =
            if class == ErrorClass::Invalid { Detail::Code(-524286) } else { Detail::Text(text.into()) };
        MpiIoError { call, class, detail }
    }
}

impl fmt::Display for MpiIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.class {
            ErrorClass::Invalid => f.write_str(&self.message()),
            _ => write!(f, "{} failed: {}", self.call, self.message()),
        }
    }
}

impl std::error::Error for MpiIoError {}

fn error_string(code: c_int) -> String {
    let mut text = vec![0 as c_char; ffi::MPI_MAX_ERROR_STRING as usize + 1];
    let mut len: c_int = 0;
    // SAFETY: `text` has room for MPI_MAX_ERROR_STRING characters plus the terminating NUL.
    unsafe {
        if ffi::MPI_Error_string(code, text.as_mut_ptr(), &mut len) != ffi::MPI_SUCCESS as c_int {
            return format!("MPI error code {code}");
        }
        // MPICH's text spans lines (an "error stack"); keep it to one line.
        let raw = CStr::from_ptr(text.as_ptr()).to_string_lossy().into_owned();
        raw.split_whitespace().collect::<Vec<_>>().join(" ").replace(" ,", ",")
    }
}

/// Turns an MPI return code into `Ok` or an [`MpiIoError`] with its class.
fn check(call: &'static str, code: c_int) -> Result<(), MpiIoError> {
    if code == ffi::MPI_SUCCESS as c_int {
        return Ok(());
    }
    Err(MpiIoError { call, class: classify(code), detail: Detail::Code(code) })
}

/// The class of a failure code, or `Invalid` when the code is none of the library's: negative,
/// refused by `MPI_Error_class`, or mapped to a "class" beyond every class in use.
fn classify(code: c_int) -> ErrorClass {
    let mut class: c_int = 0;
    // SAFETY: only writes the out-parameter.
    let known = unsafe { ffi::MPI_Error_class(code, &mut class) } == ffi::MPI_SUCCESS as c_int;
    if !known || code < 0 || class <= 0 || i64::from(class) > last_used_code() {
        return ErrorClass::Invalid;
    }
    ErrorClass::from_raw(class)
}

/// `MPI_LASTUSEDCODE`: the largest error class or code in use, classes added at run time
/// included; `MPI_ERR_LASTCODE` if the attribute is missing.
fn last_used_code() -> i64 {
    let mut value: *mut c_int = std::ptr::null_mut();
    let mut flag: c_int = 0;
    // SAFETY: for a predefined attribute MPI stores a pointer to the int in `value`.
    let found = unsafe {
        ffi::MPI_Comm_get_attr(
            ffi::RSMPI_COMM_WORLD,
            ffi::MPI_LASTUSEDCODE as c_int,
            (&mut value as *mut *mut c_int).cast(),
            &mut flag,
        )
    } == ffi::MPI_SUCCESS as c_int;
    if found && flag != 0 && !value.is_null() {
        // SAFETY: MPI reported the attribute as set, so `value` points at its int.
        i64::from(unsafe { *value })
    } else {
        i64::from(ffi::MPI_ERR_LASTCODE)
    }
}

fn c_string(call: &'static str, s: &str) -> Result<CString, MpiIoError> {
    CString::new(s).map_err(|_| MpiIoError {
        call,
        class: ErrorClass::Other(ffi::MPI_ERR_ARG as c_int),
        detail: Detail::Text(format!("{s:?} contains a NUL byte")),
    })
}

/// An `MPI_Info` object holding hints (`key=value` strings); freed on drop.
pub struct Info {
    raw: ffi::MPI_Info,
}

impl Info {
    pub fn new() -> Result<Self, MpiIoError> {
        // SAFETY: RSMPI_INFO_NULL is a valid placeholder; MPI_Info_create overwrites it.
        let mut raw = unsafe { ffi::RSMPI_INFO_NULL };
        check("MPI_Info_create", unsafe { ffi::MPI_Info_create(&mut raw) })?;
        Ok(Info { raw })
    }

    /// Builds an info object from hint pairs, in order (a later key overrides an earlier one).
    pub fn from_hints<'a>(hints: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, MpiIoError> {
        let info = Info::new()?;
        for (key, value) in hints {
            let (k, v) = (c_string("MPI_Info_set", key)?, c_string("MPI_Info_set", value)?);
            // SAFETY: `info.raw` is a live info object; key and value are NUL-terminated.
            check("MPI_Info_set", unsafe { ffi::MPI_Info_set(info.raw, k.as_ptr(), v.as_ptr()) })?;
        }
        Ok(info)
    }

    /// All key/value pairs, in the library's order.
    pub fn entries(&self) -> Result<Vec<(String, String)>, MpiIoError> {
        let mut nkeys: c_int = 0;
        // SAFETY: `self.raw` is live; every buffer below is sized by the MPI limits.
        unsafe {
            check("MPI_Info_get_nkeys", ffi::MPI_Info_get_nkeys(self.raw, &mut nkeys))?;
            let mut entries = Vec::with_capacity(nkeys as usize);
            for n in 0..nkeys {
                let mut key = vec![0 as c_char; ffi::MPI_MAX_INFO_KEY as usize + 1];
                check("MPI_Info_get_nthkey", ffi::MPI_Info_get_nthkey(self.raw, n, key.as_mut_ptr()))?;
                let mut value = vec![0 as c_char; ffi::MPI_MAX_INFO_VAL as usize + 1];
                let mut flag: c_int = 0;
                check(
                    "MPI_Info_get",
                    ffi::MPI_Info_get(
                        self.raw,
                        key.as_ptr(),
                        ffi::MPI_MAX_INFO_VAL as c_int,
                        value.as_mut_ptr(),
                        &mut flag,
                    ),
                )?;
                if flag != 0 {
                    entries.push((
                        CStr::from_ptr(key.as_ptr()).to_string_lossy().into_owned(),
                        CStr::from_ptr(value.as_ptr()).to_string_lossy().trim().to_string(),
                    ));
                }
            }
            Ok(entries)
        }
    }
}

impl Drop for Info {
    fn drop(&mut self) {
        // SAFETY: `self.raw` was created by MPI_Info_create or returned by MPI_File_get_info
        // and is freed exactly once here.
        unsafe {
            ffi::MPI_Info_free(&mut self.raw);
        }
    }
}

/// How a file is opened; maps onto `MPI_MODE_*` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Create if missing, write only.
    CreateWrite,
    /// Create, failing if the file exists (`MPI_MODE_EXCL`), write only.
    CreateNew,
    ReadOnly,
}

impl Access {
    fn amode(self) -> c_int {
        (match self {
            Access::CreateWrite => ffi::MPI_MODE_CREATE | ffi::MPI_MODE_WRONLY,
            Access::CreateNew => ffi::MPI_MODE_CREATE | ffi::MPI_MODE_EXCL | ffi::MPI_MODE_WRONLY,
            Access::ReadOnly => ffi::MPI_MODE_RDONLY,
        }) as c_int
    }
}

/// An open MPI file; `MPI_File_close` runs on drop (collective: every rank of the opening
/// communicator must drop its handle at the same point, as with any collective call).
pub struct File {
    raw: ffi::MPI_File,
}

impl File {
    /// `MPI_File_open` (collective over `comm`). `path` may carry a ROMIO prefix (`ufs:`, `pvfs2:`).
    pub fn open(
        comm: &SimpleCommunicator,
        path: &str,
        access: Access,
        info: &Info,
    ) -> Result<Self, MpiIoError> {
        let c_path = c_string("MPI_File_open", path)?;
        // SAFETY: RSMPI_FILE_NULL is overwritten by a successful open; comm and info are live.
        let mut raw = unsafe { ffi::RSMPI_FILE_NULL };
        check("MPI_File_open", unsafe {
            ffi::MPI_File_open(comm.as_raw(), c_path.as_ptr(), access.amode(), info.raw, &mut raw)
        })?;
        Ok(File { raw })
    }

    /// Opens on `MPI_COMM_SELF`, for one file per process.
    pub fn open_self(path: &str, access: Access, info: &Info) -> Result<Self, MpiIoError> {
        Self::open(&mpi::topology::SimpleCommunicator::self_comm(), path, access, info)
    }

    /// Writes `buf` at byte `offset`; `collective` selects `MPI_File_write_at_all`.
    /// Returns the number of bytes the library reports as written.
    pub fn write_at(&mut self, offset: u64, buf: &[u8], collective: bool) -> Result<usize, MpiIoError> {
        let (call, write) = if collective {
            ("MPI_File_write_at_all", ffi::MPI_File_write_at_all as WriteFn)
        } else {
            ("MPI_File_write_at", ffi::MPI_File_write_at as WriteFn)
        };
        // SAFETY: `buf` is valid for `count` bytes for the duration of this blocking call.
        transfer(call, buf.len(), |count, status| unsafe {
            write(self.raw, offset as ffi::MPI_Offset, buf.as_ptr().cast(), count, ffi::RSMPI_UINT8_T, status)
        })
    }

    /// Reads into `buf` from byte `offset`; `collective` selects `MPI_File_read_at_all`.
    /// Returns the number of bytes read (less than `buf.len()` at end of file).
    pub fn read_at(&mut self, offset: u64, buf: &mut [u8], collective: bool) -> Result<usize, MpiIoError> {
        let (call, read) = if collective {
            ("MPI_File_read_at_all", ffi::MPI_File_read_at_all as ReadFn)
        } else {
            ("MPI_File_read_at", ffi::MPI_File_read_at as ReadFn)
        };
        let len = buf.len();
        // SAFETY: `buf` is valid and exclusively borrowed for `count` bytes during the call.
        transfer(call, len, |count, status| unsafe {
            read(
                self.raw,
                offset as ffi::MPI_Offset,
                buf.as_mut_ptr().cast(),
                count,
                ffi::RSMPI_UINT8_T,
                status,
            )
        })
    }

    /// `MPI_File_get_size`: the file's length in bytes (for a `pvfs2:` path, a getattr).
    pub fn size(&self) -> Result<u64, MpiIoError> {
        let mut size: ffi::MPI_Offset = 0;
        // SAFETY: `self.raw` is an open file; `size` is valid for one write.
        check("MPI_File_get_size", unsafe { ffi::MPI_File_get_size(self.raw, &mut size) })?;
        Ok(size.max(0) as u64)
    }

    /// `MPI_File_sync` (collective): flush to the storage device.
    pub fn sync(&mut self) -> Result<(), MpiIoError> {
        // SAFETY: `self.raw` is an open file.
        check("MPI_File_sync", unsafe { ffi::MPI_File_sync(self.raw) })
    }

    /// The hints in effect for this file (`MPI_File_get_info`), as ROMIO resolved them.
    pub fn hints_in_effect(&self) -> Result<Vec<(String, String)>, MpiIoError> {
        // SAFETY: MPI_File_get_info returns a new info object, which `Info` frees on drop.
        let mut raw = unsafe { ffi::RSMPI_INFO_NULL };
        check("MPI_File_get_info", unsafe { ffi::MPI_File_get_info(self.raw, &mut raw) })?;
        Info { raw }.entries()
    }

    /// `MPI_File_close`, reporting its error (drop closes too, but cannot report).
    pub fn close(mut self) -> Result<(), MpiIoError> {
        let result = self.close_raw();
        std::mem::forget(self);
        result
    }

    fn close_raw(&mut self) -> Result<(), MpiIoError> {
        // SAFETY: `self.raw` is open; MPI_File_close sets it to MPI_FILE_NULL.
        check("MPI_File_close", unsafe { ffi::MPI_File_close(&mut self.raw) })
    }
}

impl Drop for File {
    fn drop(&mut self) {
        let _ = self.close_raw();
    }
}

/// `MPI_File_delete` (not collective: call it from one rank per file).
pub fn delete(path: &str) -> Result<(), MpiIoError> {
    let c_path = c_string("MPI_File_delete", path)?;
    // SAFETY: `c_path` is NUL-terminated; MPI_INFO_NULL is a valid info argument.
    check("MPI_File_delete", unsafe { ffi::MPI_File_delete(c_path.as_ptr(), ffi::RSMPI_INFO_NULL) })
}

type WriteFn = unsafe extern "C" fn(
    ffi::MPI_File,
    ffi::MPI_Offset,
    *const c_void,
    c_int,
    ffi::MPI_Datatype,
    *mut ffi::MPI_Status,
) -> c_int;
type ReadFn = unsafe extern "C" fn(
    ffi::MPI_File,
    ffi::MPI_Offset,
    *mut c_void,
    c_int,
    ffi::MPI_Datatype,
    *mut ffi::MPI_Status,
) -> c_int;

/// Runs one read or write of `len` bytes and returns how many bytes it moved.
fn transfer(
    call: &'static str,
    len: usize,
    op: impl FnOnce(c_int, *mut ffi::MPI_Status) -> c_int,
) -> Result<usize, MpiIoError> {
    let count = count_of(call, len)?;
    // SAFETY: MPI_Status is a plain C struct; all-zero is a valid value that MPI overwrites.
    let mut status: ffi::MPI_Status = unsafe { std::mem::zeroed() };
    check(call, op(count, &mut status))?;
    let mut done: c_int = 0;
    // SAFETY: `status` was filled by the completed call; the datatype matches the transfer.
    check(call, unsafe { ffi::MPI_Get_count(&status, ffi::RSMPI_UINT8_T, &mut done) })?;
    Ok(done.max(0) as usize)
}

fn count_of(call: &'static str, len: usize) -> Result<c_int, MpiIoError> {
    c_int::try_from(len).map_err(|_| MpiIoError {
        call,
        class: ErrorClass::Other(ffi::MPI_ERR_COUNT as c_int),
        detail: Detail::Text(format!("{len} bytes exceed one call's limit of {} bytes", c_int::MAX)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one unit test that starts MPI (as a singleton, without a launcher): classes come
    /// from the real library, for a real failure and for a code no driver should return.
    #[test]
    fn codes_without_a_class_are_invalid() {
        let _universe = mpi::initialize().expect("MPI starts");
        let missing = delete("/nonexistent-pvbench-dir/file").unwrap_err();
        assert_eq!(missing.class, ErrorClass::NoSuchFile);
        assert_eq!(classify(ffi::MPI_ERR_IO as c_int), ErrorClass::Io);
        // 256 has class 0 (MPI_SUCCESS): a failure with the class of success is no class.
        for code in [-524286, 0x4000_0002, c_int::MAX, 256] {
            assert_eq!(classify(code), ErrorClass::Invalid, "code {code}");
        }
        // A class added at run time (by a library in the process) is a class, not garbage.
        let (mut added_class, mut added_code) = (0, 0);
        // SAFETY: both calls only write their out-parameters.
        unsafe {
            assert_eq!(ffi::MPI_Add_error_class(&mut added_class), ffi::MPI_SUCCESS as c_int);
            assert_eq!(ffi::MPI_Add_error_code(added_class, &mut added_code), ffi::MPI_SUCCESS as c_int);
        }
        assert_eq!(classify(added_code), ErrorClass::Other(added_class));
        let garbage =
            MpiIoError { call: "MPI_File_delete", class: classify(-524286), detail: Detail::Code(-524286) };
        assert_eq!(
            garbage.to_string(),
            "the MPI library returned an invalid error code -524286 from MPI_File_delete"
        );
    }
}
