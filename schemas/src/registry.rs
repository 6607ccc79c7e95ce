//! Loading definition files into a [`Registry`] of checked, compiled [`DocType`]s.

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;

use crate::error::SchemaError;
use crate::model::{AllowedValue, DocTypeDef, ElementDef, ElementType, NamespaceDef, ValueSet};

/// The definition files shipped in `schemas/doctypes/`, embedded at compile time.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    ("mdl.toml", include_str!("../doctypes/mdl.toml")),
    ("eu_pid.toml", include_str!("../doctypes/eu_pid.toml")),
    (
        "iso23220_photoid.toml",
        include_str!("../doctypes/iso23220_photoid.toml"),
    ),
    (
        "iso23220_2_photoid.toml",
        include_str!("../doctypes/iso23220_2_photoid.toml"),
    ),
    (
        "jp_mynumber_example.toml",
        include_str!("../doctypes/jp_mynumber_example.toml"),
    ),
];

/// Largest definition file accepted, in bytes.
pub const MAX_SCHEMA_FILE_BYTES: u64 = 1024 * 1024;

/// Deepest nesting of `items`/`fields` accepted in a definition.
pub const MAX_SCHEMA_DEPTH: usize = 16;

/// An element definition with its regular expressions compiled.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub(crate) def: ElementDef,
    pub(crate) pattern: Option<Regex>,
    pub(crate) identifier_pattern: Option<Regex>,
    pub(crate) items: Option<Box<Compiled>>,
    pub(crate) fields: Vec<Compiled>,
}

impl Compiled {
    /// The element or field identifier ("" for array items).
    pub(crate) fn identifier(&self) -> &str {
        self.def.identifier.as_deref().unwrap_or("")
    }
}

/// A namespace with compiled elements.
#[derive(Debug, Clone)]
pub(crate) struct CompiledNamespace {
    pub(crate) name: String,
    pub(crate) required: bool,
    pub(crate) elements: Vec<Compiled>,
}

/// A checked doc type definition, ready to validate applicant data.
#[derive(Debug, Clone)]
pub struct DocType {
    def: DocTypeDef,
    source: String,
    pub(crate) namespaces: Vec<CompiledNamespace>,
}

impl DocType {
    /// Parses and checks one definition file; `file` names it in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<DocType, SchemaError> {
        let def: DocTypeDef = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            SchemaError::Parse {
                file: file.to_owned(),
                line,
                column,
                message: e.message().to_owned(),
            }
        })?;
        DocType::from_def(file, def)
    }

    /// Checks an already deserialized definition; `file` names it in errors.
    pub fn from_def(file: &str, def: DocTypeDef) -> Result<DocType, SchemaError> {
        let invalid = |location: &str, message: String| SchemaError::Invalid {
            file: file.to_owned(),
            location: location.to_owned(),
            message,
        };
        if def.doctype.trim().is_empty() {
            return Err(invalid("doctype", "doctype must not be empty".into()));
        }
        if def.namespaces.is_empty() {
            return Err(invalid(
                "namespaces",
                "at least one namespace is needed".into(),
            ));
        }
        let mut namespaces: Vec<CompiledNamespace> = Vec::new();
        for ns in &def.namespaces {
            if ns.name.trim().is_empty() {
                return Err(invalid(
                    "namespaces",
                    "namespace name must not be empty".into(),
                ));
            }
            if namespaces.iter().any(|n| n.name == ns.name) {
                return Err(invalid(&ns.name, "namespace defined twice".into()));
            }
            namespaces.push(compile_namespace(ns).map_err(|(loc, msg)| invalid(&loc, msg))?);
        }
        Ok(DocType {
            def,
            source: file.to_owned(),
            namespaces,
        })
    }

    /// The doctype string.
    pub fn doctype(&self) -> &str {
        &self.def.doctype
    }

    /// The definition's version.
    pub fn version(&self) -> &str {
        &self.def.version
    }

    /// Name shown to people.
    pub fn display_name(&self) -> &str {
        &self.def.display_name
    }

    /// The file this definition came from (`builtin:mdl.toml` for shipped ones).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The full definition as written.
    pub fn definition(&self) -> &DocTypeDef {
        &self.def
    }

    /// Whether elements not in the definition are accepted.
    pub fn allow_unknown_elements(&self) -> bool {
        self.def.allow_unknown_elements
    }

    /// Namespace names, in definition order.
    pub fn namespace_names(&self) -> impl Iterator<Item = &str> {
        self.namespaces.iter().map(|n| n.name.as_str())
    }

    /// The definition of element `identifier` of `namespace`: the element of that name, else
    /// the first `identifier_pattern` family it belongs to (e.g. `age_over_21`).
    pub fn element(&self, namespace: &str, identifier: &str) -> Option<&ElementDef> {
        let ns = self.namespaces.iter().find(|n| n.name == namespace)?;
        ns.elements
            .iter()
            .find(|e| e.def.identifier.as_deref() == Some(identifier))
            .or_else(|| {
                ns.elements.iter().find(|e| {
                    e.identifier_pattern
                        .as_ref()
                        .is_some_and(|p| p.is_match(identifier))
                })
            })
            .map(|e| &e.def)
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

type CompileError = (String, String);

fn compile_namespace(ns: &NamespaceDef) -> Result<CompiledNamespace, CompileError> {
    let mut elements: Vec<Compiled> = Vec::new();
    for (i, el) in ns.elements.iter().enumerate() {
        let name = el
            .identifier
            .clone()
            .or_else(|| el.identifier_pattern.clone())
            .unwrap_or_else(|| format!("elements[{i}]"));
        let loc = format!("{}/{}", ns.name, name);
        match (&el.identifier, &el.identifier_pattern) {
            (Some(_), Some(_)) => {
                return Err((
                    loc,
                    "give identifier or identifier_pattern, not both".into(),
                ))
            }
            (None, None) => {
                return Err((
                    loc,
                    "an element needs identifier or identifier_pattern".into(),
                ))
            }
            (Some(id), None) => {
                if elements
                    .iter()
                    .any(|e| e.def.identifier.as_deref() == Some(id))
                {
                    return Err((loc, "element defined twice".into()));
                }
            }
            (None, Some(_)) => {
                if el.mandatory {
                    return Err((
                        loc,
                        "an identifier_pattern family cannot be mandatory".into(),
                    ));
                }
            }
        }
        elements.push(compile_element(el, &loc, Role::Element, 0)?);
    }
    Ok(CompiledNamespace {
        name: ns.name.clone(),
        required: ns.required,
        elements,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Element,
    Field,
    Items,
}

fn anchored(loc: &str, what: &str, pattern: &str) -> Result<Regex, CompileError> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
        (
            loc.to_owned(),
            format!("invalid {what} regex {pattern:?}: {e}"),
        )
    })
}

fn compile_element(
    el: &ElementDef,
    loc: &str,
    role: Role,
    depth: usize,
) -> Result<Compiled, CompileError> {
    let err = |msg: String| (loc.to_owned(), msg);
    if depth > MAX_SCHEMA_DEPTH {
        return Err(err(format!("nested deeper than {MAX_SCHEMA_DEPTH} levels")));
    }
    match role {
        Role::Element => {}
        Role::Field => {
            if el.identifier.as_deref().is_none_or(str::is_empty) {
                return Err(err("a map field needs an identifier".into()));
            }
            if el.identifier_pattern.is_some() {
                return Err(err(
                    "identifier_pattern is only for namespace elements".into()
                ));
            }
        }
        Role::Items => {
            if el.identifier.is_some() || el.identifier_pattern.is_some() || el.mandatory {
                return Err(err(
                    "array items take no identifier, identifier_pattern or mandatory".into(),
                ));
            }
        }
    }
    if let Some(id) = &el.identifier {
        if id.is_empty() {
            return Err(err("identifier must not be empty".into()));
        }
    }
    let ty = el.ty;
    let only = |present: bool, key: &str, types: &[ElementType]| -> Result<(), CompileError> {
        if present && !types.contains(&ty) {
            let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
            return Err(err(format!(
                "{key} applies to {} only, not {}",
                names.join("/"),
                ty.as_str()
            )));
        }
        Ok(())
    };
    use ElementType as T;
    only(
        el.min_chars.is_some() || el.max_chars.is_some(),
        "min_chars/max_chars",
        &[T::Tstr],
    )?;
    only(
        el.min_bytes.is_some() || el.max_bytes.is_some(),
        "min_bytes/max_bytes",
        &[T::Bstr],
    )?;
    only(
        el.min.is_some() || el.max.is_some(),
        "min/max",
        &[T::Uint, T::Int],
    )?;
    only(el.pattern.is_some(), "pattern", &[T::Tstr])?;
    only(el.charset.is_some(), "charset", &[T::Tstr])?;
    only(el.formats.is_some(), "formats", &[T::Bstr])?;
    only(
        el.min_items.is_some() || el.max_items.is_some() || el.items.is_some(),
        "items/min_items/max_items",
        &[T::Array],
    )?;
    only(
        el.fields.is_some() || el.allow_unknown_fields,
        "fields/allow_unknown_fields",
        &[T::Map],
    )?;
    only(el.allowed.is_some(), "allowed", &[T::Tstr, T::Uint, T::Int])?;
    for (lo, hi, what) in [
        (el.min_chars, el.max_chars, "min_chars > max_chars"),
        (el.min_bytes, el.max_bytes, "min_bytes > max_bytes"),
        (el.min_items, el.max_items, "min_items > max_items"),
    ] {
        if let (Some(lo), Some(hi)) = (lo, hi) {
            if lo > hi {
                return Err(err(what.into()));
            }
        }
    }
    if let (Some(lo), Some(hi)) = (el.min, el.max) {
        if lo > hi {
            return Err(err("min > max".into()));
        }
    }
    if ty == T::Uint && el.min.is_some_and(|m| m < 0) {
        return Err(err("min of a uint cannot be negative".into()));
    }
    if let Some(allowed) = &el.allowed {
        if allowed.is_empty() {
            return Err(err("allowed must not be empty".into()));
        }
        for v in allowed {
            let fits = match (v, ty) {
                (AllowedValue::Text(_), T::Tstr) => true,
                (AllowedValue::Int(_), T::Int) => true,
                (AllowedValue::Int(i), T::Uint) => *i >= 0,
                _ => false,
            };
            if !fits {
                return Err(err(format!(
                    "allowed value {v:?} does not fit type {}",
                    ty.as_str()
                )));
            }
        }
    }
    if let Some(set) = el.value_set {
        let ok = match set {
            ValueSet::Iso3166Alpha2 | ValueSet::Iso3166_2 => ty == T::Tstr,
            ValueSet::Iso5218 => matches!(ty, T::Uint | T::Int),
        };
        if !ok {
            return Err(err(format!(
                "value_set {} does not apply to {}",
                set.as_str(),
                ty.as_str()
            )));
        }
    }
    if let Some(f) = &el.formats {
        if f.is_empty() {
            return Err(err("formats must not be empty".into()));
        }
    }
    let pattern = el
        .pattern
        .as_deref()
        .map(|p| anchored(loc, "pattern", p))
        .transpose()?;
    let identifier_pattern = el
        .identifier_pattern
        .as_deref()
        .map(|p| anchored(loc, "identifier_pattern", p))
        .transpose()?;
    let items = match (ty, &el.items) {
        (T::Array, None) => return Err(err("an array needs items".into())),
        (T::Array, Some(items)) => Some(Box::new(compile_element(
            items,
            &format!("{loc}/items"),
            Role::Items,
            depth + 1,
        )?)),
        _ => None,
    };
    let mut fields: Vec<Compiled> = Vec::new();
    if ty == T::Map {
        let defs = el.fields.as_deref().unwrap_or_default();
        if defs.is_empty() && !el.allow_unknown_fields {
            return Err(err(
                "a map needs fields (or allow_unknown_fields = true)".into()
            ));
        }
        for (i, f) in defs.iter().enumerate() {
            let name = f
                .identifier
                .clone()
                .unwrap_or_else(|| format!("fields[{i}]"));
            let floc = format!("{loc}/{name}");
            if fields.iter().any(|c| c.def.identifier == f.identifier) {
                return Err((floc, "field defined twice".into()));
            }
            fields.push(compile_element(f, &floc, Role::Field, depth + 1)?);
        }
    }
    Ok(Compiled {
        def: el.clone(),
        pattern,
        identifier_pattern,
        items,
        fields,
    })
}

/// A set of doc types, keyed by doctype string.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    doctypes: BTreeMap<String, DocType>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// The shipped definitions ([`BUILTIN_FILES`]), needing no files on disk.
    pub fn builtin() -> Result<Registry, SchemaError> {
        let mut reg = Registry::new();
        for (name, text) in BUILTIN_FILES {
            let dt = DocType::from_toml(&format!("builtin:{name}"), text)?;
            reg.insert_new(dt)?;
        }
        Ok(reg)
    }

    /// Loads every `*.toml` file of `dir` (not recursing; other files are ignored). Two files
    /// defining one doctype, or any invalid file, is an error naming the file.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Registry, SchemaError> {
        let mut reg = Registry::new();
        for dt in read_dir_doctypes(dir.as_ref())? {
            reg.insert_new(dt)?;
        }
        Ok(reg)
    }

    /// The built-in definitions plus those of `dir`; a file in `dir` whose doctype is a
    /// built-in one replaces it (the operator's override). Duplicates within `dir` are errors.
    pub fn builtin_with_dir(dir: impl AsRef<Path>) -> Result<Registry, SchemaError> {
        let mut reg = Registry::builtin()?;
        reg.overlay(Registry::load_dir(dir)?);
        Ok(reg)
    }

    /// Adds every doc type of `other`, replacing any of `self` with the same doctype.
    pub fn overlay(&mut self, other: Registry) {
        self.doctypes.extend(other.doctypes);
    }

    /// Adds `doctype`, refusing one already present.
    pub fn insert_new(&mut self, doctype: DocType) -> Result<(), SchemaError> {
        if let Some(existing) = self.doctypes.get(doctype.doctype()) {
            return Err(SchemaError::DuplicateDoctype {
                doctype: doctype.doctype().to_owned(),
                first: existing.source().to_owned(),
                second: doctype.source().to_owned(),
            });
        }
        self.doctypes.insert(doctype.doctype().to_owned(), doctype);
        Ok(())
    }

    /// Adds `doctype`, replacing any with the same doctype string.
    pub fn insert_or_replace(&mut self, doctype: DocType) {
        self.doctypes.insert(doctype.doctype().to_owned(), doctype);
    }

    /// The doc type with this doctype string.
    pub fn get(&self, doctype: &str) -> Option<&DocType> {
        self.doctypes.get(doctype)
    }

    /// All doc types, sorted by doctype string.
    pub fn doctypes(&self) -> impl Iterator<Item = &DocType> {
        self.doctypes.values()
    }

    /// Number of doc types.
    pub fn len(&self) -> usize {
        self.doctypes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.doctypes.is_empty()
    }
}

fn read_dir_doctypes(dir: &Path) -> Result<Vec<DocType>, SchemaError> {
    let io = |path: &Path, source| SchemaError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let path = entry.map_err(|e| io(dir, e))?.path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let len = std::fs::metadata(&path).map_err(|e| io(&path, e))?.len();
        let file = path.display().to_string();
        if len > MAX_SCHEMA_FILE_BYTES {
            return Err(SchemaError::Invalid {
                file,
                location: "file".into(),
                message: format!("{len} bytes, more than {MAX_SCHEMA_FILE_BYTES}"),
            });
        }
        let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        out.push(DocType::from_toml(&file, &text)?);
    }
    Ok(out)
}
