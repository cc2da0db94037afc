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
}
