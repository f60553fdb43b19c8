//! Looking for secret bytes in files the app wrote.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Every regular file under `dir` (recursively), sorted.
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("listing {}", d.display()))? {
            let entry = entry?;
            let ft = entry.file_type()?;
            if ft.is_dir() {
                stack.push(entry.path());
            } else if ft.is_file() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The encodings a string may be stored in: UTF-8 (SQLite, logs) and UTF-16LE (WebKit's
/// localStorage and other browser storage).
pub fn encodings(needle: &str) -> Vec<(&'static str, Vec<u8>)> {
    let utf16: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
    vec![("UTF-8", needle.as_bytes().to_vec()), ("UTF-16LE", utf16)]
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// `(file, encoding)` for each file among `files` that holds `needle`.
pub fn find_in_files(files: &[PathBuf], needle: &str) -> Result<Vec<(PathBuf, &'static str)>> {
    let mut hits = Vec::new();
    let forms = encodings(needle);
    for f in files {
        // A file may vanish between listing and reading (e.g. a -shm file); that is not a hit.
        let Ok(bytes) = std::fs::read(f) else { continue };
        for (enc, form) in &forms {
            if contains(&bytes, form) {
                hits.push((f.clone(), *enc));
            }
        }
    }
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_both_encodings() {
        let needle = "canary-ñ";
        let utf16: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert!(contains(b"xxcanary-\xc3\xb1yy", &encodings(needle)[0].1));
        let mut hay = b"..".to_vec();
        hay.extend(&utf16);
        assert!(contains(&hay, &encodings(needle)[1].1));
        assert!(!contains(b"canary", &encodings(needle)[0].1));
        assert!(!contains(b"abc", b""));
    }
}
