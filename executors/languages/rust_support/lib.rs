// Empty crate whose only purpose is to make cargo build the dependency rlibs.
pub use md5;
pub use rand;
pub use regex;
