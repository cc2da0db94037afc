//! Time and CPU truth for guests: the clock the kernel keeps time with, and the CPU time a
//! hypervisor took from this machine (steal).

use serde::{Deserialize, Serialize};

use super::Probe;

/// The clocksource in use (`tsc`, `kvm-clock`, `xen`, `hpet`, ...).
pub fn clocksource(probe: &dyn Probe) -> Option<String> {
    probe.read("sys/devices/system/clocksource/clocksource0/current_clocksource")
}

/// How the kernel sets CPU 0's clock: absent where there is no cpufreq (the usual case in a
/// guest, whose hypervisor decides).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrequencyScaling {
    pub driver: Option<String>,
    /// `performance`, `powersave`, `ondemand`, `schedutil`, …
    pub governor: Option<String>,
}

pub fn frequency_scaling(probe: &dyn Probe) -> Option<FrequencyScaling> {
    let read = |file: &str| probe.read(&format!("sys/devices/system/cpu/cpu0/cpufreq/{file}"));
    let (driver, governor) = (read("scaling_driver"), read("scaling_governor"));
    (driver.is_some() || governor.is_some()).then_some(FrequencyScaling { driver, governor })
}

/// The first line of `/proc/stat`: every CPU's time, in clock ticks (USER_HZ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuTimes {
    pub total_ticks: u64,
    pub steal_ticks: u64,
    /// idle + iowait.
    pub idle_ticks: u64,
    /// CPUs counted (`cpuN` lines).
    pub cpus: u32,
}

impl CpuTimes {
    pub fn read(probe: &dyn Probe) -> Option<Self> {
        parse_stat(&probe.read("proc/stat")?)
    }

    /// The share of all CPUs' time between `earlier` and `self` that was not idle, in percent
    /// (netperf's `-c`/`-C` figure from `/proc/stat`). Steal counts as busy: the guest wanted
    /// the CPU.
    pub fn busy_percent_since(&self, earlier: &CpuTimes) -> f64 {
        let total = self.total_ticks.saturating_sub(earlier.total_ticks);
        let idle = self.idle_ticks.saturating_sub(earlier.idle_ticks);
        if total == 0 { 0.0 } else { 100.0 * (total - idle.min(total)) as f64 / total as f64 }
    }

    /// The steal between `earlier` and `self`.
    pub fn steal_since(&self, earlier: &CpuTimes) -> Steal {
        let total = self.total_ticks.saturating_sub(earlier.total_ticks);
        let steal = self.steal_ticks.saturating_sub(earlier.steal_ticks);
        Steal {
            seconds: steal as f64 / ticks_per_second(),
            share_percent: if total == 0 { 0.0 } else { 100.0 * steal as f64 / total as f64 },
        }
    }
}

/// A data (or unified) cache level of CPU 0, as `/sys/devices/system/cpu/cpu0/cache` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheLevel {
    pub level: u8,
    pub bytes: u64,
    /// How many CPUs share one instance of it.
    pub shared_by: u32,
}

/// CPU 0's data caches, innermost first; empty where the kernel does not say.
pub fn data_caches(probe: &dyn Probe) -> Vec<CacheLevel> {
    let mut levels: Vec<CacheLevel> = (0..16)
        .map_while(|index| {
            let read =
                |file: &str| probe.read(&format!("sys/devices/system/cpu/cpu0/cache/index{index}/{file}"));
            let level = read("level")?;
            Some((level, read("type"), read("size"), read("shared_cpu_list")))
        })
        .filter_map(|(level, kind, size, shared)| {
            if kind.as_deref() == Some("Instruction") {
                return None;
            }
            Some(CacheLevel {
                level: level.parse().ok()?,
                bytes: parse_cache_size(&size?)?,
                shared_by: shared.as_deref().map_or(1, count_cpus),
            })
        })
        .collect();
    levels.sort_by_key(|c| c.level);
    levels
}

/// `48K`, `1024K`, `32M` (sysfs's units are powers of 1024).
fn parse_cache_size(text: &str) -> Option<u64> {
    let (number, shift) = match text.as_bytes().last()? {
        b'K' => (&text[..text.len() - 1], 10),
        b'M' => (&text[..text.len() - 1], 20),
        b'G' => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    number.parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// The CPUs in a list like `0-3,8,10-11`.
fn count_cpus(list: &str) -> u32 {
    list.split(',')
        .filter_map(|part| match part.split_once('-') {
            Some((a, b)) => Some(b.parse::<u32>().ok()?.saturating_sub(a.parse().ok()?) + 1),
            None => part.parse::<u32>().ok().map(|_| 1),
        })
        .sum::<u32>()
        .max(1)
}

/// CPU time the hypervisor gave to others while this machine's CPUs wanted it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Steal {
    /// Summed over all CPUs.
    pub seconds: f64,
    /// Of all CPU time of all CPUs in the interval (idle included).
    pub share_percent: f64,
}

/// `cpu  user nice system idle iowait irq softirq steal guest guest_nice`; guest time is
/// already counted in user and nice, so it is left out of the total.
fn parse_stat(stat: &str) -> Option<CpuTimes> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line.split_whitespace().skip(1).map(|f| f.parse().ok()).collect::<Option<_>>()?;
    let steal_ticks = *fields.get(7)?;
    let cpus = stat
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count();
    Some(CpuTimes {
        total_ticks: fields.iter().take(8).sum(),
        steal_ticks,
        idle_ticks: fields[3] + fields[4],
        cpus: cpus as u32,
    })
}

/// USER_HZ, the unit of `/proc/stat` (100 on Linux).
fn ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a configuration value; Linux always answers _SC_CLK_TCK.
    unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steal_is_the_eighth_field_and_guest_time_is_not_counted_twice() {
        let before = parse_stat("cpu  100 0 50 800 10 0 5 35 20 0\ncpu0 1 2 3\n").unwrap();
        assert_eq!(before, CpuTimes { total_ticks: 1000, steal_ticks: 35, idle_ticks: 810, cpus: 1 });
        let after = CpuTimes { total_ticks: 2000, steal_ticks: 235, idle_ticks: 1210, cpus: 1 };
        assert!((after.busy_percent_since(&before) - 60.0).abs() < 1e-9, "400 of 1000 ticks idle");
        assert_eq!(before.busy_percent_since(&before), 0.0);
        let steal = after.steal_since(&before);
        assert!((steal.share_percent - 20.0).abs() < 1e-9);
        assert!((steal.seconds - 2.0).abs() < 1e-9, "200 ticks of USER_HZ = 100: {steal:?}");
        assert_eq!(parse_stat("cpu  1 2 3\n"), None, "a kernel without a steal field");
    }

    #[test]
    fn data_caches_skip_instruction_caches_and_count_sharing_cpus() {
        // The fixture's CPU 0 has L1d, L1i, L2 and an L3 shared by four CPUs.
        let probe = crate::env::fixture::Fixture::load("kvm-guest");
        let levels = data_caches(&probe);
        assert_eq!(
            levels,
            [
                CacheLevel { level: 1, bytes: 48 << 10, shared_by: 1 },
                CacheLevel { level: 2, bytes: 1 << 20, shared_by: 1 },
                CacheLevel { level: 3, bytes: 32 << 20, shared_by: 4 },
            ]
        );
    }
}
