fn main() {}

#[test]
fn memory_bomb() {
    let mut hoard = Vec::new();
    loop {
        hoard.push(vec![1u8; 64 << 20]);
    }
}
