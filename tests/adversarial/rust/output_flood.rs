use std::io::Write;

fn main() {}

#[test]
fn output_flood() {
    let line = "x".repeat(1000) + "\n";
    let mut out = std::io::stdout().lock();
    loop {
        out.write_all(line.as_bytes()).unwrap();
    }
}
