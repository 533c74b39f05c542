//! Criterion bench of sealing at storage time: one message's entries (its decision with
//! the obligations, one archive record, its tracking rows, one journal hand-over),
//! unsigned and with a signed checkpoint every 1 000 entries. The records are rendered
//! beforehand: this measures the seal, not the renderers (fixture: `common/seal.rs`).
//!
//! `cargo bench --features seal --bench seal`

#[path = "common/seal.rs"]
mod seal_case;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use seal_case::{seal_case_signed, seal_case_unsigned, seal_message};

fn seal_message_bench(c: &mut Criterion) {
    for (name, mut case) in [
        ("seal/message_unsigned", seal_case_unsigned()),
        ("seal/message_signed_every_1000", seal_case_signed()),
    ] {
        c.bench_function(name, |b| {
            b.iter(|| black_box(seal_message(black_box(&mut case))))
        });
    }
}

criterion_group!(benches, seal_message_bench);
criterion_main!(benches);
