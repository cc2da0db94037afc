#![no_main]
// pvbench::fuzzing::import on each input (see src/fuzzing.rs).
libfuzzer_sys::fuzz_target!(|data: &[u8]| pvbench::fuzzing::import(data));
