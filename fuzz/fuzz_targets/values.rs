#![no_main]
// pvbench::fuzzing::values on each input (see src/fuzzing.rs).
libfuzzer_sys::fuzz_target!(|data: &[u8]| pvbench::fuzzing::values(data));
