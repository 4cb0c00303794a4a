fn main() {}

#[test]
fn read_host_files() {
    let readable = "__READ_TARGETS__".split(':').filter(|path| std::fs::read(path).is_ok()).count();
    assert!(readable > 0, "contained");
}
