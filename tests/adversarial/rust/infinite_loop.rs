fn main() {}

#[test]
fn infinite_loop() {
    let mut spins: u64 = 0;
    loop {
        spins = std::hint::black_box(spins + 1);
    }
}
