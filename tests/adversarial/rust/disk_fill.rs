use std::io::Write;

fn main() {}

#[test]
fn disk_fill() {
    let mut file = std::fs::File::create("fill.bin").unwrap();
    let chunk = vec![0u8; 1 << 20];
    loop {
        file.write_all(&chunk).unwrap();
    }
}
