//! The human page: the root fingerprints (to compare with the ones the operator publishes on
//! its own website, policy §2.2), and links to every artifact. Static HTML, no scripts, every
//! certificate-derived string escaped.

use std::fmt::Write as _;

use super::index::{rfc3339, FileRef, Listing};

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `AB:CD:…`, the form people compare by eye.
fn colon_hex(fingerprint: &str) -> String {
    fingerprint
        .as_bytes()
        .chunks(2)
        .map(|p| String::from_utf8_lossy(p).to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(":")
}

fn link(f: &Option<FileRef>, label: &str) -> String {
    f.as_ref().map_or_else(String::new, |f| {
        format!("<a href=\"{}\">{label}</a>", escape(&f.url))
    })
}

pub(crate) fn render(l: &Listing) -> Vec<u8> {
    let mut h = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Digital Trust Service</title>\n</head>\n<body>\n<h1>Digital Trust Service</h1>\n\
         <p>Root (IACA) certificates, link certificates, CRLs and the VICAL of this mobile \
         document PKI. Before trusting a root, compare its SHA-256 fingerprint with the one the \
         operator publishes on its own website. Machine-readable: ",
    );
    let _ = write!(
        h,
        "<a href=\"{}index.json\">index.json</a>.</p>\n<h2>Roots</h2>\n<table>\n\
         <tr><th>Subject</th><th>SHA-256 fingerprint</th><th>Valid</th><th>Certificate</th>\
         <th>CRL</th></tr>\n",
        escape(&l.public_url)
    );
    for r in &l.roots {
        let crl = l.crls.iter().find(|c| c.root == r.fingerprint);
        let crl_cell = crl.map_or_else(
            || "none held".to_owned(),
            |c| {
                format!(
                    "<a href=\"{}\">number {}</a>, {} to {}",
                    escape(&r.crl_url),
                    escape(&c.number),
                    rfc3339(c.this_update),
                    rfc3339(c.next_update)
                )
            },
        );
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td>{} to {}</td><td>{} {}</td><td>{}</td></tr>",
            escape(&r.subject),
            colon_hex(&r.fingerprint),
            rfc3339(r.not_before),
            rfc3339(r.not_after),
            link(&r.der, "DER"),
            link(&r.pem, "PEM"),
            crl_cell
        );
    }
    h.push_str("</table>\n");
    if !l.links.is_empty() {
        h.push_str(
            "<h2>Link certificates</h2>\n<table>\n<tr><th>SHA-256</th><th>From root</th>\
             <th>To root</th><th>Valid</th><th>Certificate</th></tr>\n",
        );
        for k in &l.links {
            let _ = writeln!(
                h,
                "<tr><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td>\
                 <td>{} to {}</td><td>{} {}</td></tr>",
                escape(&k.fingerprint),
                escape(&k.issuer_root),
                escape(&k.subject_root),
                rfc3339(k.not_before),
                rfc3339(k.not_after),
                link(&k.der, "DER"),
                link(&k.pem, "PEM"),
            );
        }
        h.push_str("</table>\n");
    }
    if let Some(v) = &l.vical {
        let _ = writeln!(
            h,
            "<h2>VICAL</h2>\n<p>{} (issue {}, {} to {})</p>",
            link(&v.file, "vical.cbor"),
            v.issue_id,
            rfc3339(v.date),
            rfc3339(v.next_update)
        );
    }
    h.push_str("</body>\n</html>\n");
    h.into_bytes()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn certificate_text_is_escaped() {
        assert_eq!(escape("<script>&\"'"), "&lt;script&gt;&amp;&quot;&#39;");
        assert_eq!(colon_hex("abcd"), "AB:CD");
    }
}
