//! The stand-in PVFS2 server of tests/pvfs2-standin (OrangeFS 2.10's command line): a test
//! server on a free loopback port, with config, pid file and storage in a temporary directory,
//! reset through scripts/pvfs2-reset and stopped when the test ends.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use super::stack::repo;
use super::{stderr, stdout};

pub fn standin() -> PathBuf {
    repo().join("tests/pvfs2-standin")
}

/// The file system ID of the test configs; the collection directory is its 8 hex digits.
pub const FS_ID: u32 = 1684431396;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn answers(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)).is_ok()
}

pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.split_whitespace().nth(2) != Some("Z"))
}

/// A test server: config, pid file and storage in a temporary directory; stopped on drop.
pub struct Server {
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl Server {
    pub fn new() -> Self {
        let server = Server { dir: tempfile::tempdir().unwrap(), port: free_port() };
        server.write_config(&format!("{}/storage", server.path().display()));
        server
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn conf(&self) -> PathBuf {
        self.path().join("fs.conf")
    }

    pub fn pidfile(&self) -> PathBuf {
        self.path().join("server.pid")
    }

    pub fn write_config(&self, storage: &str) {
        let text = format!(
            "<Defaults>\n\tLogFile {dir}/server.log\n\tDataStorageSpace {storage}\n\tMetadataStorageSpace {storage}\n</Defaults>\n\
             <Aliases>\n\tAlias node6 tcp://127.0.0.1:{port}\n</Aliases>\n<Filesystem>\n\tName pvfs2-fs\n\tID {FS_ID}\n</Filesystem>\n",
            dir = self.path().display(),
            port = self.port
        );
        std::fs::write(self.conf(), text).unwrap();
    }

    pub fn reset_command(&self) -> Vec<String> {
        [
            repo().join("scripts/pvfs2-reset").display().to_string(),
            "-c".into(),
            self.conf().display().to_string(),
            "-a".into(),
            "node6".into(),
            "--bin".into(),
            standin().display().to_string(),
            "--pidfile".into(),
            self.pidfile().display().to_string(),
            "--timeout".into(),
            "10".into(),
        ]
        .to_vec()
    }

    pub fn reset(&self, extra: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = assert_cmd::Command::new("bash");
        cmd.args(self.reset_command()).args(extra).timeout(Duration::from_secs(60));
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.pidfile()).ok()?.trim().parse().ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            let _ = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
    }
}

#[track_caller]
pub fn assert_steps(out: &Output, steps: &[&str]) {
    let text = stdout(out);
    for step in steps {
        assert!(text.contains(&format!("{step:<7} ok")), "no '{step} ok' in:\n{text}\n{}", stderr(out));
    }
}
