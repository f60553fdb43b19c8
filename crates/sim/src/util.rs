//! Small deterministic helpers shared by the simulators: a seeded RNG, hashing,
//! reversible 16-character ids, calendar helpers and Brazilian/Ecuadorian tax-id
//! generators with valid check digits.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike};

/// SplitMix64: tiny, fast, deterministic. Good enough for synthetic data and
/// fault rolls; not for anything security related.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// A generator derived from several words (seed, resource, index, ...).
    pub fn from_parts(parts: &[u64]) -> Self {
        Rng(hash(parts))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// Uniform in `0..n` (n > 0). Returns 0 when n == 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Money-like value with two decimals in `lo..hi`.
    pub fn money(&mut self, lo: f64, hi: f64) -> f64 {
        let v = lo + self.unit() * (hi - lo);
        (v * 100.0).round() / 100.0
    }
}

/// The SplitMix64 finaliser.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Order-sensitive hash of a few words.
pub fn hash(parts: &[u64]) -> u64 {
    let mut h = 0x243F_6A88_85A3_08D3u64;
    for p in parts {
        h = mix64(h ^ p.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    }
    h
}

const B62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn b62_val(c: u8) -> Option<u64> {
    match c {
        b'0'..=b'9' => Some((c - b'0') as u64),
        b'A'..=b'Z' => Some((c - b'A') as u64 + 10),
        b'a'..=b'z' => Some((c - b'a') as u64 + 36),
        _ => None,
    }
}

fn push_b62(out: &mut String, mut v: u128, width: usize) {
    let mut buf = vec![b'0'; width];
    for slot in buf.iter_mut().rev() {
        *slot = B62[(v % 62) as usize];
        v /= 62;
    }
    out.push_str(std::str::from_utf8(&buf).expect("ascii"));
}

fn parse_b62(s: &[u8]) -> Option<u128> {
    let mut v: u128 = 0;
    for &c in s {
        v = v * 62 + b62_val(c)? as u128;
    }
    Some(v)
}

const MUL_A: u64 = 0xD6E8_FEB8_6659_FD93;
const MUL_B: u64 = 0xA076_1D64_78BD_642F;

const fn mul_inverse(m: u64) -> u64 {
    // Newton iteration for the inverse of an odd number modulo 2^64.
    let mut inv = m;
    let mut i = 0;
    while i < 6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(m.wrapping_mul(inv)));
        i += 1;
    }
    inv
}

const INV_A: u64 = mul_inverse(MUL_A);
const INV_B: u64 = mul_inverse(MUL_B);

/// Reversible mapping between (namespace, index) and a 16-character alphanumeric id
/// ("id de integración" style, e.g. `7DkPb3333kWd5Y9L`). The first 11 characters are a
/// bijective scramble of the pair; the last 5 are a seed-dependent check so that
/// made-up ids are rejected (404) instead of resolving to some record.
#[derive(Clone, Debug)]
pub struct IdCodec {
    k1: u64,
    k2: u64,
    seed: u64,
}

impl IdCodec {
    pub fn new(seed: u64) -> Self {
        IdCodec { k1: hash(&[seed, 0x1D]), k2: hash(&[seed, 0x2E]), seed }
    }

    fn scramble(&self, v: u64) -> u64 {
        let mut x = v ^ self.k1;
        x = x.wrapping_mul(MUL_A);
        x ^= x >> 29;
        x = x.wrapping_mul(MUL_B);
        x ^= x >> 32;
        x ^ self.k2
    }

    fn unscramble(&self, x: u64) -> u64 {
        let mut y = x ^ self.k2;
        y ^= y >> 32;
        y = y.wrapping_mul(INV_B);
        y = y ^ (y >> 29) ^ (y >> 58);
        y = y.wrapping_mul(INV_A);
        y ^ self.k1
    }

    /// `ns` < 2^16, `idx` < 2^40.
    pub fn encode(&self, ns: u16, idx: u64) -> String {
        let v = ((ns as u64) << 40) | (idx & ((1u64 << 40) - 1));
        let mut s = String::with_capacity(16);
        push_b62(&mut s, self.scramble(v) as u128, 11);
        push_b62(&mut s, (hash(&[self.seed, v, 0x7A6]) % 916_132_832) as u128, 5);
        s
    }

    pub fn decode(&self, id: &str) -> Option<(u16, u64)> {
        let b = id.as_bytes();
        if b.len() != 16 {
            return None;
        }
        let x = parse_b62(&b[..11])?;
        if x > u64::MAX as u128 {
            return None;
        }
        let v = self.unscramble(x as u64);
        if self.encode((v >> 40) as u16, v & ((1u64 << 40) - 1)) != id {
            return None;
        }
        Some(((v >> 40) as u16, v & ((1u64 << 40) - 1)))
    }
}

/// Local calendar time for a unix timestamp in a fixed UTC offset (hours).
pub fn local_naive(ts: i64, offset_hours: i64) -> NaiveDateTime {
    DateTime::from_timestamp(ts + offset_hours * 3600, 0).unwrap_or_default().naive_utc()
}

pub fn ddmmyyyy(d: NaiveDate) -> String {
    format!("{:02}/{:02}/{:04}", d.day(), d.month(), d.year())
}

pub fn yyyymmdd(d: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

pub fn hhmmss(t: NaiveDateTime) -> String {
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

/// Strict `dd/mm/yyyy`.
pub fn parse_ddmmyyyy(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[2] != b'/' || b[5] != b'/' {
        return None;
    }
    NaiveDate::parse_from_str(s, "%d/%m/%Y").ok()
}

/// Strict `yyyy-mm-dd`.
pub fn parse_yyyymmdd(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Unix timestamp of local midnight of `d` in a fixed UTC offset (hours).
pub fn local_midnight_ts(d: NaiveDate, offset_hours: i64) -> i64 {
    d.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp() - offset_hours * 3600
}

pub fn now_ts() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// A valid Brazilian CPF, formatted `000.000.000-00`.
pub fn cpf(rng: &mut Rng) -> String {
    let mut d: Vec<u32> = (0..9).map(|_| rng.below(10) as u32).collect();
    if d.iter().all(|x| *x == d[0]) {
        d[8] = (d[0] + 1) % 10;
    }
    for len in [9usize, 10] {
        let sum: u32 = d.iter().enumerate().map(|(i, v)| v * (len as u32 + 1 - i as u32)).sum();
        let r = (sum * 10) % 11;
        d.push(if r == 10 { 0 } else { r });
    }
    let s: String = d.iter().map(|v| char::from(b'0' + *v as u8)).collect();
    format!("{}.{}.{}-{}", &s[0..3], &s[3..6], &s[6..9], &s[9..11])
}

/// A valid Brazilian CNPJ (matriz, branch 0001), formatted `00.000.000/0001-00`.
pub fn cnpj(rng: &mut Rng) -> String {
    let root: Vec<u32> = (0..8).map(|_| rng.below(10) as u32).collect();
    cnpj_of(&root, 1)
}

/// The CNPJ of branch `branch` (1 = matriz) of the company with this 8-digit root, formatted.
pub fn cnpj_of(root: &[u32], branch: u32) -> String {
    let mut d: Vec<u32> = root.to_vec();
    d.extend_from_slice(&[branch / 1000 % 10, branch / 100 % 10, branch / 10 % 10, branch % 10]);
    for weights in [&[5u32, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2][..], &[6u32, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2][..]] {
        let sum: u32 = d.iter().zip(weights).map(|(a, b)| a * b).sum();
        let r = sum % 11;
        d.push(if r < 2 { 0 } else { 11 - r });
    }
    let s: String = d.iter().map(|v| char::from(b'0' + *v as u8)).collect();
    format!("{}.{}.{}/{}-{}", &s[0..2], &s[2..5], &s[5..8], &s[8..12], &s[12..14])
}

/// Check digits of a formatted CPF/CNPJ (used by tests and by clients of the sim).
pub fn valid_cpf_cnpj(formatted: &str) -> bool {
    let d: Vec<u32> = formatted.chars().filter_map(|c| c.to_digit(10)).collect();
    match d.len() {
        11 => {
            if d.iter().all(|x| *x == d[0]) {
                return false;
            }
            (9..11).all(|len| {
                let sum: u32 = d[..len].iter().enumerate().map(|(i, v)| v * (len as u32 + 1 - i as u32)).sum();
                let r = (sum * 10) % 11;
                (if r == 10 { 0 } else { r }) == d[len]
            })
        }
        14 => {
            let w1 = [5u32, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
            let w2 = [6u32, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
            let dv = |w: &[u32], n: usize| {
                let s: u32 = d[..n].iter().zip(w).map(|(a, b)| a * b).sum();
                let r = s % 11;
                if r < 2 {
                    0
                } else {
                    11 - r
                }
            };
            dv(&w1, 12) == d[12] && dv(&w2, 13) == d[13]
        }
        _ => false,
    }
}

/// A valid Ecuadorian cédula (10 digits, modulo-10 check digit).
pub fn cedula_ec(rng: &mut Rng) -> String {
    let prov = 1 + rng.below(24) as u32;
    let mut d = vec![prov / 10, prov % 10, rng.below(6) as u32];
    for _ in 0..6 {
        d.push(rng.below(10) as u32);
    }
    let sum: u32 = d
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let p = if i % 2 == 0 { v * 2 } else { *v };
            if p > 9 {
                p - 9
            } else {
                p
            }
        })
        .sum();
    d.push((10 - sum % 10) % 10);
    d.iter().map(|v| char::from(b'0' + *v as u8)).collect()
}

/// A 13-digit RUC for a company (third digit 9), check digit modulo 11.
pub fn ruc_sociedad(rng: &mut Rng) -> String {
    let prov = 1 + rng.below(24) as u32;
    let mut d = vec![prov / 10, prov % 10, 9];
    for _ in 0..6 {
        d.push(rng.below(10) as u32);
    }
    let w = [4u32, 3, 2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = d.iter().zip(w.iter()).map(|(a, b)| a * b).sum();
    let r = sum % 11;
    let dv = if r == 0 { 0 } else { 11 - r };
    if dv == 10 {
        // No valid check digit for this body: draw another one.
        return ruc_sociedad(rng);
    }
    d.push(dv);
    let mut s: String = d.iter().map(|v| char::from(b'0' + *v as u8)).collect();
    s.push_str("001");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_noise() {
        let c = IdCodec::new(42);
        for ns in [0u16, 3, 17] {
            for idx in [0u64, 1, 2, 999_999, (1 << 40) - 1] {
                let id = c.encode(ns, idx);
                assert_eq!(id.len(), 16);
                assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
                assert_eq!(c.decode(&id), Some((ns, idx)));
            }
        }
        assert_eq!(c.decode("7DkPb3333kWd5Y9L"), None);
        assert_ne!(c.encode(1, 5), IdCodec::new(43).encode(1, 5));
    }

    #[test]
    fn tax_ids_are_valid() {
        let mut r = Rng::new(7);
        for _ in 0..200 {
            assert!(valid_cpf_cnpj(&cpf(&mut r)));
            assert!(valid_cpf_cnpj(&cnpj(&mut r)));
            let c = cedula_ec(&mut r);
            assert_eq!(c.len(), 10);
            assert_eq!(ruc_sociedad(&mut r).len(), 13);
        }
        assert!(valid_cpf_cnpj("11.222.333/0001-81"));
        assert!(!valid_cpf_cnpj("11.222.333/0001-82"));
    }

    #[test]
    fn date_parsers_are_strict() {
        assert!(parse_ddmmyyyy("24/01/2019").is_some());
        assert!(parse_ddmmyyyy("2019-01-24").is_none());
        assert!(parse_yyyymmdd("2019-01-24").is_some());
        assert!(parse_yyyymmdd("24/01/2019").is_none());
    }
}
