//! Instructions per sealed message, for Callgrind: seals `N` messages (default 1 000)
//! with the fixture of `benches/common/seal.rs` (one decision, archive record, tracking
//! range and journal hand-over each; unsigned, or `--signed`: a signed checkpoint every
//! 1 000 entries). Run it twice and divide the difference:
//!
//! ```text
//! cargo build --release --features seal --example seal_cost
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/seal_cost 100
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/seal_cost 1100
//! # (Ir of the second - Ir of the first) / 1000 = instructions per message
//! ```

#[path = "../benches/common/seal.rs"]
mod seal_case;

use std::hint::black_box;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut n = 1000usize;
    let mut signed = false;
    for a in args.by_ref() {
        match a.as_str() {
            "--signed" => signed = true,
            s => n = s.parse().expect("N: a number of messages"),
        }
    }
    let mut case = if signed {
        seal_case::seal_case_signed()
    } else {
        seal_case::seal_case_unsigned()
    };
    let mut bytes = 0usize;
    for _ in 0..n {
        let lines = seal_case::seal_message(black_box(&mut case));
        bytes += lines.iter().map(|l| l.as_bytes().len()).sum::<usize>();
    }
    println!(
        "{n} messages sealed, {bytes} bytes of chain lines, seq {}",
        case.chain.seq()
    );
}
