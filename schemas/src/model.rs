//! The definition-file format: what a `schemas/doctypes/*.toml` file deserializes into.
//!
//! Every struct refuses unknown keys, so a misspelt limit (`max_lenght`) is an error when the
//! file loads rather than a silently missing check.

use serde::{Deserialize, Serialize};

/// One doc type, as written in one definition file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DocTypeDef {
    /// The doctype string, e.g. `org.iso.18013.5.1.mDL`.
    pub doctype: String,
    /// Version of this definition (free text, e.g. `"1"` or `"2024-06"`).
    pub version: String,
    /// Name shown to people.
    pub display_name: String,
    /// Free-text notes.
    #[serde(default)]
    pub description: Option<String>,
    /// When true, elements not listed in a namespace are accepted and converted generically
    /// from JSON; when false (the default) they are `unknown_element` errors.
    #[serde(default)]
    pub allow_unknown_elements: bool,
    /// The namespaces of the doc type.
    pub namespaces: Vec<NamespaceDef>,
}

/// One namespace of a doc type.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NamespaceDef {
    /// Namespace string, e.g. `org.iso.18013.5.1`.
    pub name: String,
    /// Name shown to people.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Free-text notes.
    #[serde(default)]
    pub description: Option<String>,
    /// When true (the default) the namespace's mandatory elements are always required; when
    /// false they are required only if the applicant data has this namespace at all (an
    /// extension namespace such as AAMVA's).
    #[serde(default = "default_true")]
    pub required: bool,
    /// The data elements.
    #[serde(default)]
    pub elements: Vec<ElementDef>,
}

fn default_true() -> bool {
    true
}

/// A data element, a field of a map, or the item type of an array.
///
/// The same shape serves the three roles: a namespace element has `identifier` (or
/// `identifier_pattern` for a family such as `age_over_NN`), a map field has `identifier`, an
/// array's `items` has neither.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ElementDef {
    /// Element (or map field) identifier.
    #[serde(default)]
    pub identifier: Option<String>,
    /// A regular expression (whole-string) naming a family of elements, e.g.
    /// `age_over_[0-9]{2}`. Only on namespace elements; never mandatory.
    #[serde(default)]
    pub identifier_pattern: Option<String>,
    /// Name shown to people.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Free-text notes.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether the element must be present.
    #[serde(default)]
    pub mandatory: bool,
    /// The CBOR type.
    #[serde(rename = "type")]
    pub ty: ElementType,
    /// Fewest characters (Unicode scalar values) of a `tstr`.
    #[serde(default)]
    pub min_chars: Option<usize>,
    /// Most characters (Unicode scalar values) of a `tstr`.
    #[serde(default)]
    pub max_chars: Option<usize>,
    /// Fewest bytes of a `bstr`.
    #[serde(default)]
    pub min_bytes: Option<usize>,
    /// Most bytes of a `bstr` (for portraits, overridable by
    /// [`ValidateOptions::image_max_bytes`](crate::ValidateOptions::image_max_bytes)).
    #[serde(default)]
    pub max_bytes: Option<usize>,
    /// Smallest value of a `uint`/`int`.
    #[serde(default)]
    pub min: Option<i64>,
    /// Largest value of a `uint`/`int`.
    #[serde(default)]
    pub max: Option<i64>,
    /// A regular expression the whole `tstr` must match (anchoring is implied).
    #[serde(default)]
    pub pattern: Option<String>,
    /// The only values accepted (strings for `tstr`, integers for `uint`/`int`).
    #[serde(default)]
    pub allowed: Option<Vec<AllowedValue>>,
    /// A named set of values, see [`ValueSet`].
    #[serde(default)]
    pub value_set: Option<ValueSet>,
    /// A restricted character repertoire for a `tstr`.
    #[serde(default)]
    pub charset: Option<Charset>,
    /// Image formats a `bstr` must be in (checked by magic bytes).
    #[serde(default)]
    pub formats: Option<Vec<ImageFormat>>,
    /// Fewest items of an `array`.
    #[serde(default)]
    pub min_items: Option<usize>,
    /// Most items of an `array`.
    #[serde(default)]
    pub max_items: Option<usize>,
    /// Item type of an `array` (required for arrays).
    #[serde(default)]
    pub items: Option<Box<ElementDef>>,
    /// Fields of a `map` (required for maps; may be empty only with `allow_unknown_fields`).
    #[serde(default)]
    pub fields: Option<Vec<ElementDef>>,
    /// For a `map`: accept fields not listed in `fields`.
    #[serde(default)]
    pub allow_unknown_fields: bool,
}

/// CBOR types an element can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ElementType {
    /// Text string (JSON string).
    #[default]
    Tstr,
    /// Unsigned integer (JSON non-negative integer).
    Uint,
    /// Signed integer (JSON integer).
    Int,
    /// Boolean (JSON `true`/`false`).
    Bool,
    /// Byte string (JSON base64url string, padding optional).
    Bstr,
    /// `full-date`, tag 1004 (JSON `"YYYY-MM-DD"`).
    FullDate,
    /// `tdate`, tag 0 (JSON RFC 3339 date-time).
    Tdate,
    /// Either: a 10-character `YYYY-MM-DD` gives a full-date, anything else must be a tdate.
    FullDateOrTdate,
    /// Array of `items`.
    Array,
    /// Map with named `fields`.
    Map,
}

impl ElementType {
    /// The name used in definition files and error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ElementType::Tstr => "tstr",
            ElementType::Uint => "uint",
            ElementType::Int => "int",
            ElementType::Bool => "bool",
            ElementType::Bstr => "bstr",
            ElementType::FullDate => "full-date",
            ElementType::Tdate => "tdate",
            ElementType::FullDateOrTdate => "full-date-or-tdate",
            ElementType::Array => "array",
            ElementType::Map => "map",
        }
    }
}

/// A value in an `allowed` list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum AllowedValue {
    /// An integer (for `uint`/`int`).
    Int(i64),
    /// A string (for `tstr`).
    Text(String),
}

/// Named value sets, checked in code so files need not repeat long lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueSet {
    /// ISO 3166-1 alpha-2 country code (`tstr`), see [`crate::ISO3166_ALPHA2`].
    Iso3166Alpha2,
    /// ISO 3166-2 subdivision code `CC-XXX` (`tstr`): an alpha-2 country, `-`, 1–3 letters or
    /// digits.
    Iso3166_2,
    /// ISO/IEC 5218 sex code (`uint`): 0 not known, 1 male, 2 female, 9 not applicable.
    Iso5218,
}

/// Character repertoires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Charset {
    /// The graphic characters of ISO/IEC 8859-1 (U+0020–U+007E, U+00A0–U+00FF), as 18013-5
    /// requires of e.g. `family_name` and `given_name`.
    Latin1,
}

/// Image formats, recognised by their structure ([`crate::image`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageFormat {
    /// JPEG (ISO/IEC 10918-1).
    Jpeg,
    /// JPEG 2000, either a JP2 file or a raw codestream (ISO/IEC 15444-1).
    Jpeg2000,
}

impl ImageFormat {
    /// Whether `bytes` are a file of this format, or why not.
    pub fn check(self, bytes: &[u8]) -> Result<(), String> {
        match self {
            ImageFormat::Jpeg => crate::image::check_jpeg(bytes).map(drop),
            ImageFormat::Jpeg2000 => crate::image::check_jpeg2000(bytes).map(drop),
        }
    }

    /// Name for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "JPEG",
            ImageFormat::Jpeg2000 => "JPEG 2000",
        }
    }
}
