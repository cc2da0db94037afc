//! What an iozone-style sweep covers: file sizes and record sizes doubling from a minimum to a
//! maximum, and the tests by iozone's numbers.

use serde::{Deserialize, Serialize};

use crate::error::UsageError;

/// iozone's tests that pvbench runs; each is a pair of passes over the whole file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Test {
    /// `-i 0`: write a new file, then rewrite it.
    Write,
    /// `-i 1`: read it, then read it again.
    Read,
    /// `-i 2`: random read, then random write (every record once, in a seeded order).
    Random,
    /// `-i 9`: pwrite at each record's offset, twice.
    Pwrite,
    /// `-i 10`: pread at each record's offset, twice.
    Pread,
}

impl Test {
    pub const ALL: [Test; 5] = [Test::Write, Test::Read, Test::Random, Test::Pwrite, Test::Pread];

    pub fn iozone_number(self) -> u8 {
        match self {
            Test::Write => 0,
            Test::Read => 1,
            Test::Random => 2,
            Test::Pwrite => 9,
            Test::Pread => 10,
        }
    }

    /// The two passes, with the names iozone's report gives them.
    pub fn passes(self) -> [&'static str; 2] {
        match self {
            Test::Write => ["write", "rewrite"],
            Test::Read => ["read", "reread"],
            Test::Random => ["random read", "random write"],
            Test::Pwrite => ["pwrite", "re-pwrite"],
            Test::Pread => ["pread", "re-pread"],
        }
    }

    /// `0`..`10` as iozone's `-i`, or a name.
    pub fn parse(text: &str) -> Result<Test, UsageError> {
        let text = text.trim();
        Test::ALL
            .into_iter()
            .find(|t| {
                text == t.iozone_number().to_string()
                    || text == t.passes()[0]
                    || text == format!("{t:?}").to_lowercase()
            })
            .ok_or_else(|| {
                UsageError(format!(
                    "--tests: {text:?} is none of 0 (write), 1 (read), 2 (random), 9 (pwrite), 10 (pread)"
                ))
            })
    }
}

/// `min`, `2 min`, `4 min`, … up to `max`.
pub fn doubling(min: u64, max: u64) -> Vec<u64> {
    std::iter::successors(Some(min), |&s| s.checked_mul(2)).take_while(|&s| s <= max).collect()
}

/// iozone leaves out records below 64 KiB on files above 16 MiB in automatic mode when no record
/// or file size range was given (`-z` keeps them): `iozone.c`, `LARGE_REC` and `CROSSOVER`.
pub const LARGE_RECORD: u64 = 64 << 10;
pub const CROSSOVER_FILE: u64 = 16 << 20;

/// Every (file size, record size) the sweep runs, file by file: records no larger than the
/// file, and without the small records on large files when `skip_small`.
pub fn cells(files: &[u64], records: &[u64], skip_small: bool) -> Vec<(u64, u64)> {
    files
        .iter()
        .flat_map(|&f| records.iter().map(move |&r| (f, r)))
        .filter(|&(f, r)| r <= f && !(skip_small && f > CROSSOVER_FILE && r < LARGE_RECORD))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;

    #[test]
    fn the_studys_grid() {
        // iozone -a -n 10m -g 5g -y 16k -q 10m: ten file sizes and ten record sizes (10 MiB is
        // not a doubling of 16 KiB, so records end at 8 MiB); -y/-q given, so nothing skipped.
        let files = doubling(10 * MIB, 5 << 30);
        assert_eq!(files.len(), 10);
        assert_eq!(*files.last().unwrap(), 5120 * MIB);
        let records = doubling(16 * KIB, 10 * MIB);
        assert_eq!((records.len(), *records.last().unwrap()), (10, 8 * MIB));
        assert_eq!(cells(&files, &records, false).len(), 100);
    }

    #[test]
    fn automatic_mode_skips_small_records_on_large_files() {
        let files = doubling(8 * MIB, 32 * MIB);
        let records = doubling(4 * KIB, 16 * MIB);
        let all = cells(&files, &records, false);
        let auto = cells(&files, &records, true);
        assert!(all.contains(&(32 * MIB, 4 * KIB)) && !auto.contains(&(32 * MIB, 4 * KIB)));
        assert!(auto.contains(&(16 * MIB, 4 * KIB)), "16 MiB is not above the crossover");
        assert!(auto.contains(&(32 * MIB, 64 * KIB)));
        assert!(!all.contains(&(8 * MIB, 16 * MIB)), "no record larger than the file");
    }

    #[test]
    fn passes_have_iozones_names() {
        let names: Vec<&str> = Test::ALL.iter().flat_map(|t| t.passes()).collect();
        assert_eq!(
            names,
            [
                "write",
                "rewrite",
                "read",
                "reread",
                "random read",
                "random write",
                "pwrite",
                "re-pwrite",
                "pread",
                "re-pread"
            ]
        );
    }

    #[test]
    fn tests_by_number_or_name() {
        assert_eq!(Test::parse("0").unwrap(), Test::Write);
        assert_eq!(Test::parse("10").unwrap(), Test::Pread);
        assert_eq!(Test::parse("random").unwrap(), Test::Random);
        assert!(Test::parse("3").is_err());
    }
}
