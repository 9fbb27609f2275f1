//! Any bytes as the files of a published inspection bundle (its rosters and
//! its draw), read as `xinyong inspection verify` reads them.
#![no_main]

use inspection::{draw, roster};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = roster::read_objects(bytes, "objects.csv");
    let _ = roster::read_inspectors(bytes, "inspectors.csv");
    let _ = roster::read_relationships(bytes, "relationships.csv");
    let _ = roster::read_history(bytes, "history.csv");
    let _ = draw::read_draw_picks(bytes, "draw.csv");
});
