//! Loading: shipped files, operator directories, overrides and invalid definition files.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use crate::common;

use std::fs;

use common::*;
use schemas::{DocType, ErrorCode, Registry, SchemaError, BUILTIN_FILES, ISO3166_ALPHA2};
use serde_json::json;

#[test]
fn every_shipped_file_loads() {
    for (name, text) in BUILTIN_FILES {
        DocType::from_toml(name, text).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let reg = registry();
    let names: Vec<&str> = reg.doctypes().map(|d| d.doctype()).collect();
    assert_eq!(
        names,
        [
            "eu.europa.ec.eudi.pid.1",
            "jp.go.digital.mynumber.1",
            "org.iso.18013.5.1.mDL",
            "org.iso.23220.2.photoid.1",
            "org.iso.23220.photoID.1",
        ]
    );
    let mdl = reg.get(MDL).unwrap();
    assert_eq!(
        mdl.namespace_names().collect::<Vec<_>>(),
        ["org.iso.18013.5.1", "org.iso.18013.5.1.aamva"]
    );
    assert_eq!(mdl.source(), "builtin:mdl.toml");
}

#[test]
fn shipped_directory_matches_embedded_files() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/doctypes");
    let reg = Registry::load_dir(dir).unwrap();
    assert_eq!(reg.len(), BUILTIN_FILES.len());
    assert_eq!(fs::read_dir(dir).unwrap().count(), BUILTIN_FILES.len());
}

#[test]
fn iso3166_list_is_complete_and_sorted() {
    assert_eq!(ISO3166_ALPHA2.len(), 249);
    assert!(ISO3166_ALPHA2.windows(2).all(|w| w[0] < w[1]));
    for c in ["JP", "DE", "US", "SS", "BQ", "AX"] {
        assert!(schemas::is_iso3166_alpha2(c), "{c}");
    }
    for c in ["EU", "UK", "XK", "de", "DEU"] {
        assert!(!schemas::is_iso3166_alpha2(c), "{c}");
    }
}

const LIBRARY_CARD: &str = r#"
doctype = "org.example.library.1"
version = "1"
display_name = "Library card"

[[namespaces]]
name = "org.example.library.1"

[[namespaces.elements]]
identifier = "member_id"
type = "tstr"
mandatory = true
pattern = "LIB-[0-9]{6}"

[[namespaces.elements]]
identifier = "valid_until"
type = "full-date"
"#;

#[test]
fn operator_adds_a_doctype_by_dropping_a_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("library.toml"), LIBRARY_CARD).unwrap();
    fs::write(dir.path().join("README.md"), "ignored").unwrap();

    let reg = Registry::builtin_with_dir(dir.path()).unwrap();
    assert_eq!(reg.len(), BUILTIN_FILES.len() + 1);
    let ns = "org.example.library.1";
    let v = reg
        .validate(
            ns,
            &json!({ns: {"member_id": "LIB-004711", "valid_until": "2030-12-31"}}),
        )
        .unwrap();
    assert!(v.get(ns, "valid_until").is_some());
    let errs = reg
        .validate(ns, &json!({ns: {"member_id": "4711"}}))
        .unwrap_err();
    assert_error(
        &errs,
        "/org.example.library.1/member_id",
        ErrorCode::PatternMismatch,
    );

    // The directory alone has only the operator's file.
    assert_eq!(Registry::load_dir(dir.path()).unwrap().len(), 1);
}

#[test]
fn operator_overrides_a_builtin() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
doctype = "org.iso.18013.5.1.mDL"
version = "operator-2"
display_name = "Our mDL"
allow_unknown_elements = true

[[namespaces]]
name = "org.iso.18013.5.1"

[[namespaces.elements]]
identifier = "family_name"
type = "tstr"
mandatory = true
"#;
    fs::write(dir.path().join("mdl-override.toml"), text).unwrap();
    let reg = Registry::builtin_with_dir(dir.path()).unwrap();
    assert_eq!(reg.len(), BUILTIN_FILES.len());
    let mdl = reg.get(MDL).unwrap();
    assert_eq!(mdl.version(), "operator-2");
    assert!(mdl.source().ends_with("mdl-override.toml"));
    // allow_unknown_elements: extra elements are converted generically.
    let v = reg
        .validate(
            MDL,
            &json!({MDL_NS: {"family_name": "X", "extra": {"a": [1, -2, "s", true, null]}}}),
        )
        .unwrap();
    assert!(v.get(MDL_NS, "extra").is_some());

    // Generic conversion is depth-bounded.
    let mut deep = json!(1);
    for _ in 0..40 {
        deep = json!([deep]);
    }
    let errs = reg
        .validate(MDL, &json!({MDL_NS: {"family_name": "X", "deep": deep}}))
        .unwrap_err();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code, ErrorCode::TooDeep);
    assert!(errs[0].path.starts_with("/org.iso.18013.5.1/deep/0/0/"));
}

#[test]
fn duplicate_doctypes_in_one_directory_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.toml"), LIBRARY_CARD).unwrap();
    fs::write(dir.path().join("b.toml"), LIBRARY_CARD).unwrap();
    let err = Registry::load_dir(dir.path()).unwrap_err();
    match &err {
        SchemaError::DuplicateDoctype {
            doctype,
            first,
            second,
        } => {
            assert_eq!(doctype, "org.example.library.1");
            assert!(first.ends_with("a.toml") && second.ends_with("b.toml"));
        }
        other => panic!("{other}"),
    }
}

fn invalid(text: &str) -> String {
    DocType::from_toml("bad.toml", text)
        .unwrap_err()
        .to_string()
}

const HEAD: &str = "doctype = \"x.y\"\nversion = \"1\"\ndisplay_name = \"X\"\n[[namespaces]]\nname = \"x.y\"\n[[namespaces.elements]]\n";

#[test]
fn invalid_schema_files_are_refused_precisely() {
    // Unknown key (deny_unknown_fields), with line and column.
    let e = invalid(&format!(
        "{HEAD}identifier = \"a\"\ntype = \"tstr\"\nmax_lenght = 3\n"
    ));
    assert!(
        e.starts_with("bad.toml:9:1: unknown field `max_lenght`"),
        "{e}"
    );

    // Unknown type.
    let e = invalid(&format!("{HEAD}identifier = \"a\"\ntype = \"string\"\n"));
    assert!(
        e.starts_with("bad.toml:8:8: unknown variant `string`"),
        "{e}"
    );

    // Not TOML at all.
    let e = invalid("doctype = \n");
    assert!(e.starts_with("bad.toml:1:"), "{e}");

    // Bad regex.
    let e = invalid(&format!(
        "{HEAD}identifier = \"a\"\ntype = \"tstr\"\npattern = \"[a-\"\n"
    ));
    assert!(
        e.starts_with("bad.toml: x.y/a: invalid pattern regex"),
        "{e}"
    );

    // Limit on the wrong type.
    let e = invalid(&format!(
        "{HEAD}identifier = \"a\"\ntype = \"uint\"\nmax_chars = 3\n"
    ));
    assert_eq!(
        e,
        "bad.toml: x.y/a: min_chars/max_chars applies to tstr only, not uint"
    );

    // min > max.
    let e = invalid(&format!(
        "{HEAD}identifier = \"a\"\ntype = \"int\"\nmin = 5\nmax = 1\n"
    ));
    assert_eq!(e, "bad.toml: x.y/a: min > max");

    // Array without items, nested location.
    let e = invalid(&format!(
        "{HEAD}identifier = \"a\"\ntype = \"map\"\n[[namespaces.elements.fields]]\nidentifier = \"b\"\ntype = \"array\"\n"
    ));
    assert_eq!(e, "bad.toml: x.y/a/b: an array needs items");

    // Missing identifier; mandatory pattern family; duplicate element.
    let e = invalid(&format!("{HEAD}type = \"tstr\"\n"));
    assert!(e.contains("needs identifier or identifier_pattern"), "{e}");
    let e = invalid(&format!(
        "{HEAD}identifier_pattern = \"age_over_[0-9]{{2}}\"\ntype = \"bool\"\nmandatory = true\n"
    ));
    assert!(e.contains("cannot be mandatory"), "{e}");
    let e = invalid(&format!(
        "{HEAD}identifier = \"a\"\ntype = \"bool\"\n[[namespaces.elements]]\nidentifier = \"a\"\ntype = \"bool\"\n"
    ));
    assert_eq!(e, "bad.toml: x.y/a: element defined twice");

    // Allowed value of the wrong type; unknown value set.
    let e = invalid(&format!(
        "{HEAD}identifier = \"a\"\ntype = \"uint\"\nallowed = [\"x\"]\n"
    ));
    assert!(e.contains("does not fit type uint"), "{e}");
    let e = invalid(&format!(
        "{HEAD}identifier = \"a\"\ntype = \"tstr\"\nvalue_set = \"iso639\"\n"
    ));
    assert!(e.contains("unknown variant `iso639`"), "{e}");

    // No namespaces.
    let e = invalid("doctype = \"x\"\nversion = \"1\"\ndisplay_name = \"X\"\nnamespaces = []\n");
    assert_eq!(e, "bad.toml: namespaces: at least one namespace is needed");
}

#[test]
fn invalid_file_in_directory_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ok.toml"), LIBRARY_CARD).unwrap();
    fs::write(
        dir.path().join("broken.toml"),
        LIBRARY_CARD.replace("type = \"full-date\"", "type = \"date\""),
    )
    .unwrap();
    let e = Registry::builtin_with_dir(dir.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("broken.toml:17:8"), "{e}");

    let missing = Registry::load_dir(dir.path().join("nope")).unwrap_err();
    assert!(matches!(missing, SchemaError::Io { .. }));
}
