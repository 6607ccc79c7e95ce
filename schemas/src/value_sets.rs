//! Named value sets used by definition files (`value_set = "..."`).

use crate::model::ValueSet;

/// The 249 officially assigned ISO 3166-1 alpha-2 codes, sorted. Reserved and user-assigned
/// codes (`EU`, `UK`, `XK`, ...) are not included; a definition that needs one lists its values
/// with `allowed` or `pattern` instead.
pub const ISO3166_ALPHA2: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// ISO/IEC 5218 sex codes: 0 not known, 1 male, 2 female, 9 not applicable.
pub const ISO5218: [u64; 4] = [0, 1, 2, 9];

/// Whether `code` is an officially assigned ISO 3166-1 alpha-2 code.
pub fn is_iso3166_alpha2(code: &str) -> bool {
    ISO3166_ALPHA2.binary_search(&code).is_ok()
}

/// Whether `code` has the ISO 3166-2 shape `CC-XXX` with an assigned alpha-2 country `CC` and
/// 1–3 upper-case letters or digits after the hyphen. Returns the reason when it does not.
pub fn check_iso3166_2(code: &str) -> Result<(), String> {
    let Some((country, sub)) = code.split_once('-') else {
        return Err(format!(
            "{code:?} is not an ISO 3166-2 code (expected CC-XXX)"
        ));
    };
    let shape_ok = country.len() == 2
        && country.bytes().all(|b| b.is_ascii_uppercase())
        && (1..=3).contains(&sub.len())
        && sub
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if !shape_ok {
        return Err(format!(
            "{code:?} is not an ISO 3166-2 code (expected CC-XXX)"
        ));
    }
    if !is_iso3166_alpha2(country) {
        return Err(format!(
            "{country:?} in {code:?} is not an ISO 3166-1 alpha-2 country code"
        ));
    }
    Ok(())
}

impl ValueSet {
    /// The name used in definition files.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueSet::Iso3166Alpha2 => "iso3166_alpha2",
            ValueSet::Iso3166_2 => "iso3166_2",
            ValueSet::Iso5218 => "iso5218",
        }
    }
}
