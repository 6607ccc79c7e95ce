//! Bounds on untrusted JSON checked before a recursive parser sees it.

/// The deepest nesting of arrays and objects in `json`, counted outside strings: one linear
/// pass with no recursion, so callers can refuse hostile nesting before `serde_json` (whose
/// own recursion limit is 128) parses it. Bytes that are not JSON still get a number;
/// the parser that follows refuses them.
pub fn nesting_depth(json: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in json {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::nesting_depth;

    #[test]
    fn brackets_inside_strings_and_after_escaped_quotes_do_not_count() {
        assert_eq!(nesting_depth(br#"{"a":[{"b":"[[[["}]}"#), 3);
        assert_eq!(nesting_depth(br#"["\"[[[", {"k": "\\"}]"#), 2);
        assert_eq!(nesting_depth(b"1"), 0);
        assert_eq!(nesting_depth(b""), 0);
    }

    #[test]
    fn the_deepest_point_counts_not_the_last() {
        assert_eq!(nesting_depth(b"[[[[]]],[]]"), 4);
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(nesting_depth(deep.as_bytes()), 100_000);
    }

    #[test]
    fn stray_closers_do_not_underflow() {
        assert_eq!(nesting_depth(b"]]]}}[["), 2);
    }
}
