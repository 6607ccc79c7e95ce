//! Checking applicant data (JSON) against a [`DocType`] and converting it to typed CBOR.

use std::collections::BTreeMap;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use ciborium::Value;
use mso::cbor::{FullDate, TDate, ToCbor};
use serde_json::Value as Json;

use crate::error::{ErrorCode, ValidationError};
use crate::model::{AllowedValue, Charset, ElementType, ValueSet};
use crate::registry::{Compiled, DocType, Registry};
use crate::value_sets::{check_iso3166_2, is_iso3166_alpha2, ISO5218};

/// Most errors reported for one input; past it a single `too_many_errors` closes the list.
pub const MAX_ERRORS: usize = 200;

/// Deepest nesting converted for elements accepted without a definition.
pub const MAX_GENERIC_DEPTH: usize = 16;

/// base64url, padding optional.
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Settings of one validation that the issuer's configuration supplies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ValidateOptions {
    /// When set, replaces `max_bytes` of every image element (a `bstr` with `formats`, e.g.
    /// `portrait`): the operator's portrait size limit.
    pub image_max_bytes: Option<usize>,
    /// Rebuilding the answer to a retried request that was accepted before (the issuer
    /// matched its hash): images are taken as they are, without the format and size checks,
    /// so a policy tightened since cannot turn a recorded success into a refusal.
    pub replay: bool,
}

/// Applicant data that passed validation, as CBOR values ready for the MSO.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    /// The doctype.
    pub doctype: String,
    /// namespace → (element identifier, value), in input order within a namespace.
    pub namespaces: BTreeMap<String, Vec<(String, Value)>>,
}

impl Validated {
    /// The value of one element.
    pub fn get(&self, namespace: &str, identifier: &str) -> Option<&Value> {
        self.namespaces
            .get(namespace)?
            .iter()
            .find(|(id, _)| id == identifier)
            .map(|(_, v)| v)
    }

    /// Every (namespace, identifier, value).
    pub fn elements(&self) -> impl Iterator<Item = (&str, &str, &Value)> {
        self.namespaces
            .iter()
            .flat_map(|(ns, els)| els.iter().map(move |(id, v)| (ns.as_str(), id.as_str(), v)))
    }

    /// Adds every element to an mdoc builder.
    pub fn apply(&self, mut builder: mso::issue::MdocBuilder) -> mso::issue::MdocBuilder {
        for (ns, id, v) in self.elements() {
            builder = builder.element(ns, id, v.clone());
        }
        builder
    }
}

impl Registry {
    /// Validates `data` (`{namespace: {element: value}}`) for `doctype` with default options.
    pub fn validate(&self, doctype: &str, data: &Json) -> Result<Validated, Vec<ValidationError>> {
        self.validate_with(doctype, data, &ValidateOptions::default())
    }

    /// Validates `data` for `doctype`; an unknown doctype is a single `unknown_doctype` error.
    pub fn validate_with(
        &self,
        doctype: &str,
        data: &Json,
        options: &ValidateOptions,
    ) -> Result<Validated, Vec<ValidationError>> {
        match self.get(doctype) {
            Some(dt) => dt.validate_with(data, options),
            None => Err(vec![ValidationError {
                path: String::new(),
                code: ErrorCode::UnknownDoctype,
                message: format!("doctype {doctype:?} is not configured on this issuer"),
            }]),
        }
    }
}

impl DocType {
    /// Validates `data` with default options.
    pub fn validate(&self, data: &Json) -> Result<Validated, Vec<ValidationError>> {
        self.validate_with(data, &ValidateOptions::default())
    }

    /// Validates `data`: every error is reported (up to [`MAX_ERRORS`]), not just the first.
    pub fn validate_with(
        &self,
        data: &Json,
        options: &ValidateOptions,
    ) -> Result<Validated, Vec<ValidationError>> {
        let mut cx = Cx {
            errors: Vec::new(),
            options,
        };
        let mut out: BTreeMap<String, Vec<(String, Value)>> = BTreeMap::new();
        let Json::Object(input) = data else {
            cx.push(
                String::new(),
                ErrorCode::WrongType,
                format!(
                    "expected an object of namespaces, found {}",
                    json_kind(data)
                ),
            );
            return Err(cx.errors);
        };
        for (ns_name, ns_value) in input {
            let ns_path = pointer("", ns_name);
            let Some(ns) = self.namespaces.iter().find(|n| &n.name == ns_name) else {
                let known: Vec<&str> = self.namespace_names().collect();
                cx.push(
                    ns_path,
                    ErrorCode::UnknownNamespace,
                    format!(
                        "namespace {ns_name:?} is not part of {}; expected one of {}",
                        self.doctype(),
                        known.join(", ")
                    ),
                );
                continue;
            };
            let Json::Object(elements) = ns_value else {
                cx.push(
                    ns_path,
                    ErrorCode::WrongType,
                    format!(
                        "expected an object of elements, found {}",
                        json_kind(ns_value)
                    ),
                );
                continue;
            };
            let mut values = Vec::new();
            for (id, value) in elements {
                let path = pointer(&ns_path, id);
                let def = ns
                    .elements
                    .iter()
                    .find(|e| e.def.identifier.as_deref() == Some(id.as_str()))
                    .or_else(|| {
                        ns.elements.iter().find(|e| {
                            e.identifier_pattern
                                .as_ref()
                                .is_some_and(|r| r.is_match(id))
                        })
                    });
                let converted = match def {
                    Some(def) => cx.check(def, value, &path),
                    None if self.allow_unknown_elements() => cx.generic(value, &path, 0),
                    None => {
                        cx.push(
                            path,
                            ErrorCode::UnknownElement,
                            format!("element {id:?} is not defined in namespace {ns_name:?}"),
                        );
                        None
                    }
                };
                if let Some(v) = converted {
                    values.push((id.clone(), v));
                }
            }
            if !values.is_empty() {
                out.insert(ns_name.clone(), values);
            }
        }
        for ns in &self.namespaces {
            let present = input.get(&ns.name);
            if present.is_none() && !ns.required {
                continue;
            }
            let given = present.and_then(Json::as_object);
            if present.is_some() && given.is_none() {
                continue; // already reported as wrong_type
            }
            for el in ns.elements.iter().filter(|e| e.def.mandatory) {
                let id = el.identifier();
                if given.is_none_or(|g| !g.contains_key(id)) {
                    cx.push(
                        pointer(&pointer("", &ns.name), id),
                        ErrorCode::MissingMandatory,
                        format!("mandatory element {id:?} is missing"),
                    );
                }
            }
        }
        if cx.errors.is_empty() {
            Ok(Validated {
                doctype: self.doctype().to_owned(),
                namespaces: out,
            })
        } else {
            Err(cx.errors)
        }
    }
}

/// Appends one JSON-pointer segment (RFC 6901 escaping).
fn pointer(base: &str, segment: &str) -> String {
    format!("{base}/{}", segment.replace('~', "~0").replace('/', "~1"))
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(n) if n.is_f64() => "a non-integer number",
        Json::Number(_) => "an integer",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn expected(ty: ElementType) -> &'static str {
    match ty {
        ElementType::Tstr => "a string",
        ElementType::Uint => "a non-negative integer",
        ElementType::Int => "an integer",
        ElementType::Bool => "true or false",
        ElementType::Bstr => "a base64url string",
        ElementType::FullDate => "a \"YYYY-MM-DD\" string",
        ElementType::Tdate => "an RFC 3339 date-time string",
        ElementType::FullDateOrTdate => "a \"YYYY-MM-DD\" or RFC 3339 date-time string",
        ElementType::Array => "an array",
        ElementType::Map => "an object",
    }
}

struct Cx<'a> {
    errors: Vec<ValidationError>,
    options: &'a ValidateOptions,
}

impl Cx<'_> {
    fn push(&mut self, path: String, code: ErrorCode, message: String) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(ValidationError {
                path,
                code,
                message,
            });
        } else if self.errors.len() == MAX_ERRORS {
            self.errors.push(ValidationError {
                path: String::new(),
                code: ErrorCode::TooManyErrors,
                message: format!("more than {MAX_ERRORS} errors; the rest are not listed"),
            });
        }
    }

    /// Checks one value; `None` when it is wrong (errors pushed).
    fn check(&mut self, el: &Compiled, v: &Json, path: &str) -> Option<Value> {
        let before = self.errors.len();
        let out = self.check_inner(el, v, path);
        if self.errors.len() == before {
            out
        } else {
            None
        }
    }

    fn wrong_type(&mut self, el: &Compiled, v: &Json, path: &str) -> Option<Value> {
        self.push(
            path.to_owned(),
            ErrorCode::WrongType,
            format!(
                "expected {} ({}), found {}",
                expected(el.def.ty),
                el.def.ty.as_str(),
                json_kind(v)
            ),
        );
        None
    }

    fn check_inner(&mut self, el: &Compiled, v: &Json, path: &str) -> Option<Value> {
        match el.def.ty {
            ElementType::Tstr => match v {
                Json::String(s) => {
                    self.check_text(el, s, path);
                    Some(Value::Text(s.clone()))
                }
                _ => self.wrong_type(el, v, path),
            },
            ElementType::Uint | ElementType::Int => self.check_int(el, v, path),
            ElementType::Bool => match v {
                Json::Bool(b) => Some(Value::Bool(*b)),
                _ => self.wrong_type(el, v, path),
            },
            ElementType::Bstr => match v {
                Json::String(s) => self.check_bytes(el, s, path),
                _ => self.wrong_type(el, v, path),
            },
            ElementType::FullDate => match v {
                Json::String(s) => self.full_date(s, path),
                _ => self.wrong_type(el, v, path),
            },
            ElementType::Tdate => match v {
                Json::String(s) => self.tdate(s, path),
                _ => self.wrong_type(el, v, path),
            },
            ElementType::FullDateOrTdate => match v {
                Json::String(s) if s.len() == 10 => self.full_date(s, path),
                Json::String(s) => self.tdate(s, path),
                _ => self.wrong_type(el, v, path),
            },
            ElementType::Array => match v {
                Json::Array(items) => self.check_array(el, items, path),
                _ => self.wrong_type(el, v, path),
            },
            ElementType::Map => match v {
                Json::Object(map) => self.check_map(el, map, path),
                _ => self.wrong_type(el, v, path),
            },
        }
    }

    fn check_text(&mut self, el: &Compiled, s: &str, path: &str) {
        let d = &el.def;
        let chars = s.chars().count();
        if let Some(min) = d.min_chars {
            if chars < min {
                self.push(
                    path.to_owned(),
                    ErrorCode::TooShort,
                    format!("{chars} characters, at least {min} required"),
                );
            }
        }
        if let Some(max) = d.max_chars {
            if chars > max {
                self.push(
                    path.to_owned(),
                    ErrorCode::TooLong,
                    format!("{chars} characters, at most {max} allowed"),
                );
            }
        }
        if d.charset == Some(Charset::Latin1) {
            if let Some((i, c)) = s
                .chars()
                .enumerate()
                .find(|(_, c)| !matches!(*c, '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{FF}'))
            {
                self.push(
                    path.to_owned(),
                    ErrorCode::InvalidCharacter,
                    format!(
                        "character {c:?} (U+{:04X}) at position {i} is outside the ISO/IEC \
                         8859-1 (Latin-1) repertoire required here; national characters go in \
                         the *_national_character elements",
                        u32::from(c)
                    ),
                );
            }
        }
        if let Some(re) = &el.pattern {
            if !re.is_match(s) {
                self.push(
                    path.to_owned(),
                    ErrorCode::PatternMismatch,
                    format!(
                        "{s:?} does not match the pattern {:?}",
                        d.pattern.as_deref().unwrap_or_default()
                    ),
                );
            }
        }
        if let Some(allowed) = &d.allowed {
            if !allowed
                .iter()
                .any(|a| matches!(a, AllowedValue::Text(t) if t == s))
            {
                self.push(
                    path.to_owned(),
                    ErrorCode::NotAllowedValue,
                    format!("{s:?} is not one of {}", list_allowed(allowed)),
                );
            }
        }
        match d.value_set {
            Some(ValueSet::Iso3166Alpha2) if !is_iso3166_alpha2(s) => self.push(
                path.to_owned(),
                ErrorCode::NotAllowedValue,
                format!("{s:?} is not an ISO 3166-1 alpha-2 country code"),
            ),
            Some(ValueSet::Iso3166_2) => {
                if let Err(m) = check_iso3166_2(s) {
                    self.push(path.to_owned(), ErrorCode::PatternMismatch, m);
                }
            }
            _ => {}
        }
    }

    fn check_int(&mut self, el: &Compiled, v: &Json, path: &str) -> Option<Value> {
        let d = &el.def;
        let Json::Number(n) = v else {
            return self.wrong_type(el, v, path);
        };
        let n: i128 = if let Some(u) = n.as_u64() {
            i128::from(u)
        } else if let Some(i) = n.as_i64() {
            i128::from(i)
        } else {
            return self.wrong_type(el, v, path);
        };
        if d.ty == ElementType::Uint && n < 0 {
            self.push(
                path.to_owned(),
                ErrorCode::OutOfRange,
                format!("{n} is negative; a uint is required"),
            );
            return None;
        }
        let min = d.min.map(i128::from);
        let max = d.max.map(i128::from);
        if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
            let range = match (d.min, d.max) {
                (Some(a), Some(b)) => format!("{a}..={b}"),
                (Some(a), None) => format!(">= {a}"),
                (None, Some(b)) => format!("<= {b}"),
                (None, None) => String::new(),
            };
            self.push(
                path.to_owned(),
                ErrorCode::OutOfRange,
                format!("{n} is outside {range}"),
            );
        }
        if let Some(allowed) = &d.allowed {
            if !allowed
                .iter()
                .any(|a| matches!(a, AllowedValue::Int(i) if i128::from(*i) == n))
            {
                self.push(
                    path.to_owned(),
                    ErrorCode::NotAllowedValue,
                    format!("{n} is not one of {}", list_allowed(allowed)),
                );
            }
        }
        if d.value_set == Some(ValueSet::Iso5218) && !ISO5218.iter().any(|c| i128::from(*c) == n) {
            self.push(
                path.to_owned(),
                ErrorCode::NotAllowedValue,
                format!("{n} is not an ISO/IEC 5218 sex code (0, 1, 2 or 9)"),
            );
        }
        let value = if n >= 0 {
            u64::try_from(n).ok().map(|u| Value::Integer(u.into()))
        } else {
            i64::try_from(n).ok().map(|i| Value::Integer(i.into()))
        };
        value.or_else(|| self.wrong_type(el, v, path))
    }

    fn check_bytes(&mut self, el: &Compiled, s: &str, path: &str) -> Option<Value> {
        let d = &el.def;
        let image = d.formats.is_some();
        let max = match (image, self.options.replay) {
            (true, true) => None,
            (true, false) => self.options.image_max_bytes.or(d.max_bytes),
            (false, _) => d.max_bytes,
        };
        // Refuse before decoding when even the shortest reading of `s` is too large.
        if let Some(max) = max {
            let lower_bound = s.len().saturating_sub(3) / 4 * 3;
            if lower_bound > max {
                self.push(
                    path.to_owned(),
                    ErrorCode::TooLarge,
                    format!("about {lower_bound} bytes, at most {max} allowed"),
                );
                return None;
            }
        }
        let bytes = match B64.decode(s) {
            Ok(b) => b,
            Err(e) => {
                self.push(
                    path.to_owned(),
                    ErrorCode::InvalidEncoding,
                    format!("not valid base64url: {e}"),
                );
                return None;
            }
        };
        if let Some(max) = max {
            if bytes.len() > max {
                self.push(
                    path.to_owned(),
                    ErrorCode::TooLarge,
                    format!("{} bytes, at most {max} allowed", bytes.len()),
                );
            }
        }
        if let Some(min) = d.min_bytes {
            if bytes.len() < min {
                self.push(
                    path.to_owned(),
                    ErrorCode::TooShort,
                    format!("{} bytes, at least {min} required", bytes.len()),
                );
            }
        }
        if let Some(formats) = d.formats.as_ref().filter(|_| !self.options.replay) {
            let checked: Vec<Result<(), String>> =
                formats.iter().map(|f| f.check(&bytes)).collect();
            if !checked.iter().any(Result::is_ok) {
                let reasons: Vec<String> = checked.into_iter().filter_map(Result::err).collect();
                let names: Vec<&str> = formats.iter().map(|f| f.as_str()).collect();
                self.push(
                    path.to_owned(),
                    ErrorCode::NotJpeg,
                    format!(
                        "the bytes are not a {} image: {}",
                        names.join(" or "),
                        reasons.join("; ")
                    ),
                );
            }
        }
        Some(Value::Bytes(bytes))
    }

    fn full_date(&mut self, s: &str, path: &str) -> Option<Value> {
        match FullDate::parse(s) {
            Ok(d) => Some(d.to_value()),
            Err(e) => {
                self.push(
                    path.to_owned(),
                    ErrorCode::InvalidDate,
                    format!("not a full-date (YYYY-MM-DD): {e}"),
                );
                None
            }
        }
    }

    fn tdate(&mut self, s: &str, path: &str) -> Option<Value> {
        match TDate::parse(s) {
            Ok(d) => Some(d.to_value()),
            Err(e) => {
                self.push(
                    path.to_owned(),
                    ErrorCode::InvalidDate,
                    format!("not a tdate (RFC 3339 date-time): {e}"),
                );
                None
            }
        }
    }

    fn check_array(&mut self, el: &Compiled, items: &[Json], path: &str) -> Option<Value> {
        let d = &el.def;
        if let Some(min) = d.min_items {
            if items.len() < min {
                self.push(
                    path.to_owned(),
                    ErrorCode::TooShort,
                    format!("{} items, at least {min} required", items.len()),
                );
            }
        }
        if let Some(max) = d.max_items {
            if items.len() > max {
                self.push(
                    path.to_owned(),
                    ErrorCode::TooLong,
                    format!("{} items, at most {max} allowed", items.len()),
                );
                return None;
            }
        }
        let item_def = el.items.as_deref()?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if let Some(v) = self.check(item_def, item, &pointer(path, &i.to_string())) {
                out.push(v);
            }
        }
        Some(Value::Array(out))
    }

    fn check_map(
        &mut self,
        el: &Compiled,
        map: &serde_json::Map<String, Json>,
        path: &str,
    ) -> Option<Value> {
        let mut out = Vec::new();
        for f in &el.fields {
            let id = f.identifier();
            match map.get(id) {
                Some(v) => {
                    if let Some(v) = self.check(f, v, &pointer(path, id)) {
                        out.push((Value::Text(id.to_owned()), v));
                    }
                }
                None if f.def.mandatory => self.push(
                    pointer(path, id),
                    ErrorCode::MissingMandatory,
                    format!("mandatory field {id:?} is missing"),
                ),
                None => {}
            }
        }
        for (k, v) in map {
            if el.fields.iter().any(|f| f.identifier() == k) {
                continue;
            }
            let p = pointer(path, k);
            if el.def.allow_unknown_fields {
                if let Some(v) = self.generic(v, &p, 0) {
                    out.push((Value::Text(k.clone()), v));
                }
            } else {
                let known: Vec<&str> = el.fields.iter().map(Compiled::identifier).collect();
                self.push(
                    p,
                    ErrorCode::UnknownElement,
                    format!("field {k:?} is not defined; expected {}", known.join(", ")),
                );
            }
        }
        Some(Value::Map(out))
    }

    /// Converts a value without a definition: strings stay text, integers stay integers.
    fn generic(&mut self, v: &Json, path: &str, depth: usize) -> Option<Value> {
        if depth > MAX_GENERIC_DEPTH {
            self.push(
                path.to_owned(),
                ErrorCode::TooDeep,
                format!("nested deeper than {MAX_GENERIC_DEPTH} levels"),
            );
            return None;
        }
        Some(match v {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => {
                if let Some(u) = n.as_u64() {
                    Value::Integer(u.into())
                } else if let Some(i) = n.as_i64() {
                    Value::Integer(i.into())
                } else {
                    Value::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Json::String(s) => Value::Text(s.clone()),
            Json::Array(a) => {
                let mut out = Vec::with_capacity(a.len());
                for (i, x) in a.iter().enumerate() {
                    out.push(self.generic(x, &pointer(path, &i.to_string()), depth + 1)?);
                }
                Value::Array(out)
            }
            Json::Object(m) => {
                let mut out = Vec::with_capacity(m.len());
                for (k, x) in m {
                    let x = self.generic(x, &pointer(path, k), depth + 1)?;
                    out.push((Value::Text(k.clone()), x));
                }
                Value::Map(out)
            }
        })
    }
}

fn list_allowed(allowed: &[AllowedValue]) -> String {
    let items: Vec<String> = allowed
        .iter()
        .map(|a| match a {
            AllowedValue::Int(i) => i.to_string(),
            AllowedValue::Text(t) => format!("{t:?}"),
        })
        .collect();
    items.join(", ")
}
