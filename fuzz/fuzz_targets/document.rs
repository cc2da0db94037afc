#![no_main]
// pvbench::fuzzing::document on each input (see src/fuzzing.rs).
libfuzzer_sys::fuzz_target!(|data: &[u8]| pvbench::fuzzing::document(data));
