//! Every input a fuzz target once crashed on (or a known hang, abort or overflow of the same
//! class), run through the target's own entry (`pvbench::fuzzing`): each must return.
//! scripts/fuzz says where a new crash goes: tests/data/fuzz-regressions/TARGET/.

use std::path::Path;

#[test]
fn every_input_that_once_crashed_a_fuzz_target_is_answered() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz-regressions");
    type Entry = fn(&[u8]);
    let targets: [(&str, Entry); 4] = [
        ("import", pvbench::fuzzing::import),
        ("plan", pvbench::fuzzing::plan),
        ("document", pvbench::fuzzing::document),
        ("values", pvbench::fuzzing::values),
    ];
    let mut ran = 0;
    for (target, run) in targets {
        let Ok(entries) = std::fs::read_dir(root.join(target)) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            println!("{target}: {}", path.display());
            run(&std::fs::read(&path).unwrap());
            ran += 1;
        }
    }
    assert!(ran > 0, "no regression input under {}", root.display());
}
