//! Decoder tests on hand-built profiles: every kind of bad input gets a clear error that
//! names the input, never a panic or an unbounded allocation.

use std::io::Write;

use prost::Message;

use super::decode::{Limits, Profile};
use super::pb;
use super::Aggregate;

/// A small valid heap-like profile: two functions, main.leak inlined into main.main's
/// location 1, and a second location in main.main.
fn sample_profile() -> pb::Profile {
    let strings = [
        "",
        "alloc_space",
        "bytes",
        "inuse_space",
        "main.leak",
        "main.main",
        "/src/main.go",
    ];
    pb::Profile {
        sample_type: vec![
            pb::ValueType { r#type: 1, unit: 2 },
            pb::ValueType { r#type: 3, unit: 2 },
        ],
        sample: vec![
            pb::Sample {
                location_id: vec![1, 2],
                value: vec![100, 40],
                label: vec![],
            },
            pb::Sample {
                location_id: vec![2],
                value: vec![7, 7],
                label: vec![],
            },
        ],
        mapping: vec![pb::Mapping {
            id: 1,
            ..Default::default()
        }],
        location: vec![
            pb::Location {
                id: 1,
                mapping_id: 1,
                address: 0x1000,
                line: vec![
                    pb::Line {
                        function_id: 1,
                        line: 12,
                        column: 0,
                    },
                    pb::Line {
                        function_id: 2,
                        line: 30,
                        column: 0,
                    },
                ],
                is_folded: false,
            },
            pb::Location {
                id: 2,
                mapping_id: 1,
                address: 0x2000,
                line: vec![pb::Line {
                    function_id: 2,
                    line: 40,
                    column: 0,
                }],
                is_folded: false,
            },
        ],
        function: vec![
            pb::Function {
                id: 1,
                name: 4,
                system_name: 4,
                filename: 6,
                start_line: 10,
            },
            pb::Function {
                id: 2,
                name: 5,
                system_name: 5,
                filename: 6,
                start_line: 25,
            },
        ],
        string_table: strings.iter().map(|s| s.to_string()).collect(),
        time_nanos: 1_700_000_000_000_000_000,
        period_type: Some(pb::ValueType { r#type: 1, unit: 2 }),
        period: 524288,
        ..Default::default()
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn load(bytes: Vec<u8>) -> Result<Profile, String> {
    load_with(bytes, Limits::default())
}

/// Loads and streams every sample, as every user of a profile does.
fn load_with(bytes: Vec<u8>, limits: Limits) -> Result<Profile, String> {
    let p = Profile::from_bytes("test.pb.gz", bytes, limits).map_err(|e| e.to_string())?;
    p.for_each_sample(|_, _| {}).map_err(|e| e.to_string())?;
    Ok(p)
}

fn expect_err(bytes: Vec<u8>, needle: &str) {
    let err = load(bytes).expect_err("the input must be rejected");
    assert!(
        err.starts_with("test.pb.gz: "),
        "error must name the input: {err}"
    );
    assert!(
        err.contains(needle),
        "error {err:?} should mention {needle:?}"
    );
}

#[test]
fn decodes_raw_and_gzip_alike() {
    let raw = sample_profile().encode_to_vec();
    let a = load(raw.clone()).unwrap();
    let b = load(gzip(&raw)).unwrap();
    assert!(!a.gzipped && b.gzipped);
    assert_eq!(a.sample_count, 2);
    assert_eq!(a.functions, b.functions);
    assert_eq!(a.locations, b.locations);
    assert_eq!(a.sample_index(None).unwrap(), 1, "default is the last type");
    assert_eq!(a.sample_index(Some("alloc_space")).unwrap(), 0);
    assert_eq!(a.sample_index(Some("0")).unwrap(), 0);
    let err = a.sample_index(Some("cpu")).unwrap_err().to_string();
    assert!(err.contains("alloc_space, inuse_space"), "{err}");
}

#[test]
fn folds_flat_and_cum_with_inlined_frames() {
    let p = load(sample_profile().encode_to_vec()).unwrap();
    let agg = Aggregate::from_profile(&p).unwrap();
    let f = |name: &str| {
        agg.functions
            .sites()
            .iter()
            .find(|s| &*s.key.function == name)
            .unwrap()
            .clone()
    };
    // main.leak is the innermost frame of the first sample only.
    assert_eq!(&*f("main.leak").flat, &[100, 40]);
    assert_eq!(&*f("main.leak").cum, &[100, 40]);
    // main.main appears twice in the first sample's stack but is counted once.
    assert_eq!(&*f("main.main").flat, &[7, 7]);
    assert_eq!(&*f("main.main").cum, &[107, 47]);
    assert_eq!(f("main.leak").called_inline, 0b11);
    assert_eq!(&*agg.total, &[107, 47]);
    let line = |n: i64| {
        agg.lines
            .sites()
            .iter()
            .find(|s| s.key.line == n)
            .unwrap()
            .clone()
    };
    assert_eq!(&*line(12).flat, &[100, 40]);
    assert_eq!(&*line(30).cum, &[100, 40]);
    assert_eq!(&*line(30).flat, &[0, 0]);
    assert_eq!(&*line(40).cum, &[107, 47]);
}

#[test]
fn diff_and_merge_are_exact() {
    let p = load(sample_profile().encode_to_vec()).unwrap();
    let a = Aggregate::from_profile(&p).unwrap();
    let merged = Aggregate::merge(vec![a.clone(), a.clone()]).unwrap();
    let d = merged.diff(&a).unwrap();
    for (x, y) in d.functions.sites().iter().zip(a.functions.sites()) {
        assert_eq!(x.key, y.key);
        assert_eq!(x.flat, y.flat);
        assert_eq!(x.cum, y.cum);
    }
    assert_eq!(&*merged.total, &[214, 94]);
}

#[test]
fn empty_input() {
    expect_err(Vec::new(), "empty");
}

#[test]
fn not_a_profile() {
    expect_err(
        b"<html>Not found</html>\n".to_vec(),
        "not a valid pprof profile",
    );
}

#[test]
fn truncated_raw_profile() {
    let raw = sample_profile().encode_to_vec();
    for cut in [1, raw.len() / 3, raw.len() / 2, raw.len() - 1] {
        let err = load(raw[..cut].to_vec()).expect_err("truncated input must fail");
        assert!(err.contains("test.pb.gz"), "{err}");
        assert!(
            err.contains("truncated") || err.contains("invalid") || err.contains("not a valid"),
            "cut at {cut}: {err}"
        );
    }
}

#[test]
fn truncated_gzip() {
    let gz = gzip(&sample_profile().encode_to_vec());
    for cut in [3, gz.len() / 2, gz.len() - 4] {
        let err = load(gz[..cut].to_vec()).expect_err("truncated gzip must fail");
        assert!(err.starts_with("test.pb.gz: "), "{err}");
    }
}

#[test]
fn corrupted_gzip() {
    let mut gz = gzip(&sample_profile().encode_to_vec());
    let mid = gz.len() / 2;
    for b in &mut gz[mid..mid + 8] {
        *b ^= 0x5a;
    }
    let err = load(gz).expect_err("corrupt gzip must fail");
    assert!(err.starts_with("test.pb.gz: "), "{err}");
}

#[test]
fn bad_string_index() {
    let mut p = sample_profile();
    p.function[0].name = 999;
    expect_err(p.encode_to_vec(), "refers to string 999");
}

#[test]
fn negative_string_index() {
    let mut p = sample_profile();
    p.sample_type[0].r#type = -3;
    expect_err(p.encode_to_vec(), "refers to string -3");
}

#[test]
fn missing_function() {
    let mut p = sample_profile();
    p.location[0].line[0].function_id = 77;
    expect_err(p.encode_to_vec(), "function 77, which does not exist");
}

#[test]
fn missing_mapping() {
    let mut p = sample_profile();
    p.location[1].mapping_id = 9;
    expect_err(p.encode_to_vec(), "mapping 9, which does not exist");
}

#[test]
fn missing_location() {
    let mut p = sample_profile();
    p.sample[1].location_id = vec![2, 12345];
    expect_err(p.encode_to_vec(), "location 12345, which does not exist");
}

#[test]
fn huge_location_id_is_not_an_allocation() {
    let mut p = sample_profile();
    p.location[1].id = u64::MAX;
    p.sample[1].location_id = vec![u64::MAX];
    p.sample[0].location_id = vec![1, u64::MAX];
    let prof = load(p.encode_to_vec()).unwrap();
    assert_eq!(prof.locations.len(), 2);
}

#[test]
fn value_count_mismatch() {
    let mut p = sample_profile();
    p.sample[1].value = vec![1, 2, 3];
    expect_err(p.encode_to_vec(), "has 3 values but the profile declares 2");
}

#[test]
fn duplicate_ids() {
    let mut p = sample_profile();
    p.function[1].id = 1;
    expect_err(p.encode_to_vec(), "function id 1 appears twice");
    let mut p = sample_profile();
    p.location[1].id = 1;
    expect_err(p.encode_to_vec(), "location id 1 appears twice");
}

#[test]
fn first_string_must_be_empty() {
    let mut p = sample_profile();
    p.string_table[0] = "x".into();
    expect_err(p.encode_to_vec(), "string_table[0]");
}

#[test]
fn huge_declared_length() {
    // Field 6 (string table), wire type 2, declared length 2^40, then nothing.
    let mut bytes = vec![(6 << 3) | 2];
    let mut len: u64 = 1 << 40;
    while len >= 0x80 {
        bytes.push((len as u8) | 0x80);
        len >>= 7;
    }
    bytes.push(len as u8);
    expect_err(bytes, "exceeds the limit");
}

#[test]
fn gzip_bomb_hits_the_decoded_limit() {
    // 64 Ki string-table entries of 1000 zero bytes each (about 64 MiB) compress to a
    // few tens of KiB.
    let mut entry = vec![(6 << 3) | 2, 0xe8, 0x07];
    entry.extend([0u8; 1000]);
    let bomb: Vec<u8> = entry
        .iter()
        .copied()
        .cycle()
        .take(entry.len() << 16)
        .collect();
    let gz = gzip(&bomb);
    assert!(gz.len() < 1 << 20);
    let limits = Limits {
        max_decoded_bytes: 1 << 20,
        ..Limits::default()
    };
    let err = load_with(gz, limits).expect_err("must stop at the limit");
    assert!(
        err.contains("decoded profile size exceeds the limit"),
        "{err}"
    );
}

#[test]
fn one_huge_field_hits_the_decoded_limit() {
    // An unknown field declaring 32 MiB of zeros.
    let mut bomb = vec![0xa2, 0x06, 0x80, 0x80, 0x80, 0x10];
    bomb.extend(vec![0u8; 32 << 20]);
    let limits = Limits {
        max_decoded_bytes: 1 << 20,
        ..Limits::default()
    };
    let err = load_with(gzip(&bomb), limits).expect_err("must stop at the limit");
    assert!(
        err.contains("decoded profile size exceeds the limit"),
        "{err}"
    );
}

#[test]
fn input_size_limit() {
    let raw = sample_profile().encode_to_vec();
    let limits = Limits {
        max_input_bytes: 16,
        ..Limits::default()
    };
    let err = load_with(raw, limits).expect_err("must reject a large input");
    assert!(err.contains("exceeds the limit of 16 bytes"), "{err}");
}

#[test]
fn unknown_fields_are_skipped() {
    let mut raw = sample_profile().encode_to_vec();
    // Field 100, varint 5; field 101, 3 bytes.
    raw.extend([0xa0, 0x06, 5, 0xaa, 0x06, 3, 1, 2, 3]);
    assert!(load(raw).is_ok());
}

#[test]
fn bad_wire_type_for_a_known_field() {
    // Field 2 (sample) as a varint.
    let mut raw = sample_profile().encode_to_vec();
    raw.extend([2 << 3, 1]);
    expect_err(raw, "field 2 of Profile has wire type Varint");
}

#[test]
fn non_utf8_strings_do_not_fail() {
    let mut raw = sample_profile().encode_to_vec();
    // Another string table entry with invalid UTF-8.
    raw.extend([(6 << 3) | 2, 2, 0xff, 0xfe]);
    assert!(load(raw).is_ok());
}

#[test]
fn missing_file_names_the_path() {
    let err = Profile::from_path(
        std::path::Path::new("/nonexistent/heap.pb.gz"),
        Limits::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("/nonexistent/heap.pb.gz: cannot read"),
        "{err}"
    );
}
