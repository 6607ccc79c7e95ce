//! Portrait images: the structure of a JPEG (ISO/IEC 10918-1) or JPEG 2000 (ISO/IEC 15444-1)
//! file, checked before it is signed into a document. Magic bytes are not enough (`FF D8 FF`
//! alone once passed as a JPEG): the file must parse up to its first scan with a frame of
//! non-zero size and end where the format says it ends. The image data itself is not
//! decoded, so the check costs microseconds.

use zune_core::bytestream::ZCursor;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

/// Largest width or height accepted, in pixels (a portrait is a few hundred).
pub const MAX_DIMENSION: usize = 16_384;

const SOI: [u8; 2] = [0xFF, 0xD8];
const EOI: [u8; 2] = [0xFF, 0xD9];
/// JPEG 2000 codestream: start of codestream, then the SIZ marker.
const SOC_SIZ: [u8; 4] = [0xFF, 0x4F, 0xFF, 0x51];
/// JPEG 2000 end of codestream.
const EOC: [u8; 2] = [0xFF, 0xD9];
/// The JP2 signature box.
const JP2_SIGNATURE: [u8; 12] = [
    0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A,
];

/// Checks that `bytes` is a JPEG file: SOI, markers that parse up to the first scan with a
/// frame of at most [`MAX_DIMENSION`] pixels a side, and EOI last. Returns (width, height).
pub fn check_jpeg(bytes: &[u8]) -> Result<(usize, usize), String> {
    if !bytes.starts_with(&SOI) {
        return Err("no JPEG start-of-image marker".into());
    }
    if bytes.len() < 4 || !bytes.ends_with(&EOI) {
        return Err("no JPEG end-of-image marker at the end".into());
    }
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(MAX_DIMENSION)
        .set_max_height(MAX_DIMENSION);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder
        .decode_headers()
        .map_err(|e| format!("the JPEG structure does not parse: {e}"))?;
    match decoder.dimensions() {
        Some((w, h)) if w > 0 && h > 0 => Ok((w, h)),
        _ => Err("the JPEG has no frame of non-zero size".into()),
    }
}

/// Checks that `bytes` is a JPEG 2000 file, a JP2 file (signature box, `ftyp` box, boxes up
/// to a contiguous codestream box) or a raw codestream: SOC, a SIZ segment whose length
/// matches its components and whose image area is non-empty and at most [`MAX_DIMENSION`]
/// a side, and EOC last. Returns (width, height).
pub fn check_jpeg2000(bytes: &[u8]) -> Result<(usize, usize), String> {
    if bytes.starts_with(&JP2_SIGNATURE) {
        let codestream = jp2_codestream(bytes)?;
        return codestream_size(codestream);
    }
    codestream_size(bytes)
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// The contents of the first `jp2c` box, after a signature box and an `ftyp` box.
fn jp2_codestream(bytes: &[u8]) -> Result<&[u8], String> {
    let mut at = JP2_SIGNATURE.len();
    let mut first = true;
    let mut header = false;
    while at < bytes.len() {
        let short = || format!("a JP2 box at byte {at} is truncated");
        let lbox = be32(bytes, at).ok_or_else(short)? as usize;
        let tbox = bytes.get(at + 4..at + 8).ok_or_else(short)?;
        let (start, end) = match lbox {
            0 => (at + 8, bytes.len()),
            1 => {
                let hi = be32(bytes, at + 8).ok_or_else(short)? as u64;
                let lo = be32(bytes, at + 12).ok_or_else(short)? as u64;
                let len = usize::try_from((hi << 32) | lo).map_err(|_| short())?;
                (at + 16, at.checked_add(len).ok_or_else(short)?)
            }
            2..=7 => return Err(format!("a JP2 box at byte {at} has length {lbox}")),
            n => (at + 8, at.checked_add(n).ok_or_else(short)?),
        };
        if end > bytes.len() || start > end {
            return Err(short());
        }
        if first && tbox != b"ftyp" {
            return Err("the JP2 signature box is not followed by a file type box".into());
        }
        first = false;
        match tbox {
            b"jp2h" => header = true,
            b"jp2c" if header => return bytes.get(start..end).ok_or_else(short),
            b"jp2c" => return Err("the JP2 codestream comes before its header box".into()),
            _ => {}
        }
        at = end;
    }
    Err("the JP2 file has no codestream box".into())
}

/// The image size of a raw JPEG 2000 codestream.
fn codestream_size(cs: &[u8]) -> Result<(usize, usize), String> {
    if !cs.starts_with(&SOC_SIZ) {
        return Err("no JPEG 2000 start-of-codestream and SIZ markers".into());
    }
    if !cs.ends_with(&EOC) || cs.len() < SOC_SIZ.len() + EOC.len() + 38 {
        return Err("no JPEG 2000 end-of-codestream marker at the end".into());
    }
    let truncated = || "the JPEG 2000 SIZ segment is truncated".to_owned();
    // SIZ (ISO/IEC 15444-1 A.5.1), after the marker: Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz,
    // XTsiz, YTsiz, XTOsiz, YTOsiz, Csiz, then 3 bytes per component.
    let siz = 4;
    let lsiz = usize::from(be16(cs, siz).ok_or_else(truncated)?);
    let x = be32(cs, siz + 4).ok_or_else(truncated)?;
    let y = be32(cs, siz + 8).ok_or_else(truncated)?;
    let xo = be32(cs, siz + 12).ok_or_else(truncated)?;
    let yo = be32(cs, siz + 16).ok_or_else(truncated)?;
    let csiz = usize::from(be16(cs, siz + 36).ok_or_else(truncated)?);
    if csiz == 0 || csiz > 16_384 || lsiz != 38 + 3 * csiz || cs.len() < siz + lsiz + EOC.len() {
        return Err(format!(
            "the JPEG 2000 SIZ segment is malformed (length {lsiz}, {csiz} components)"
        ));
    }
    let width = x.checked_sub(xo).filter(|w| *w > 0);
    let height = y.checked_sub(yo).filter(|h| *h > 0);
    match (width, height) {
        (Some(w), Some(h)) if w as usize <= MAX_DIMENSION && h as usize <= MAX_DIMENSION => {
            Ok((w as usize, h as usize))
        }
        _ => Err(format!(
            "the JPEG 2000 image area is empty or larger than {MAX_DIMENSION} pixels a side"
        )),
    }
}

/// A structurally valid baseline JPEG of one 8×8 grey block, padded with comment segments to
/// `len` bytes (to within 3 bytes, and at least its 169-byte minimum): a stand-in portrait for
/// development samples and tests, never for a real document.
pub fn sample_jpeg(len: usize) -> Vec<u8> {
    let mut v = SOI.to_vec();
    // APP0 JFIF 1.01, no density, no thumbnail.
    v.extend_from_slice(&[
        0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00,
        0x01, 0x00, 0x00,
    ]);
    // DQT: table 0, all ones.
    v.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x43, 0x00]);
    v.extend_from_slice(&[1u8; 64]);
    // SOF0: 8-bit, 8×8, one component (id 1, no subsampling, table 0).
    v.extend_from_slice(&[
        0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00,
    ]);
    // DHT: DC table 0 and AC table 0, each one 1-bit code for symbol 0 (DC difference 0; EOB).
    for class in [0x00u8, 0x10] {
        v.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x14, class, 1]);
        v.extend_from_slice(&[0u8; 15]);
        v.push(0x00);
    }
    // Comment segments padding the file to `len`: the rest (SOS, one block, EOI) is 14 bytes.
    let mut pad = len.saturating_sub(v.len() + 14);
    while pad >= 4 {
        let body = (pad - 4).min(65_533);
        let seg = u16::try_from(body + 2).unwrap_or(u16::MAX);
        v.extend_from_slice(&[0xFF, 0xFE]);
        v.extend_from_slice(&seg.to_be_bytes());
        v.extend(std::iter::repeat_n(b' ', body));
        pad -= body + 4;
    }
    // SOS: one component, tables 0/0, full spectral range; then the block: DC code 0, EOB
    // code 0, padded with ones.
    v.extend_from_slice(&[
        0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0x3F,
    ]);
    v.extend_from_slice(&EOI);
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_jpeg_parses_and_decodes_at_any_padding() {
        for len in [0, 170, 171, 172, 173, 174, 1000, 20 * 1024, 70_000, 200_000] {
            let j = sample_jpeg(len);
            assert!(
                j.len() <= len.max(169) && len.saturating_sub(j.len()) < 4,
                "{len}: {}",
                j.len()
            );
            assert_eq!(check_jpeg(&j), Ok((8, 8)), "{len}");
            let pixels = JpegDecoder::new(ZCursor::new(&j)).decode().unwrap();
            assert_eq!(pixels.len(), 8 * 8 * 3, "{len}");
        }
    }

    #[test]
    fn magic_bytes_alone_are_not_a_jpeg() {
        let good = sample_jpeg(400);
        for bad in [
            vec![0xFF, 0xD8, 0xFF],
            vec![0xFF, 0xD8, 0xFF, 0xD9],
            [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[0x42; 100], &EOI].concat(),
            good[..good.len() - 2].to_vec(),
            // No frame: SOI, APP0, EOI.
            [&good[..20], &EOI[..]].concat(),
        ] {
            assert!(check_jpeg(&bad).is_err(), "{bad:02x?}");
        }
    }

    fn codestream(w: u32, h: u32, components: u16) -> Vec<u8> {
        let mut c = SOC_SIZ.to_vec();
        c.extend_from_slice(&(38 + 3 * components).to_be_bytes());
        c.extend_from_slice(&[0, 0]);
        for v in [w, h, 0, 0, w, h, 0, 0] {
            c.extend_from_slice(&v.to_be_bytes());
        }
        c.extend_from_slice(&components.to_be_bytes());
        for _ in 0..components {
            c.extend_from_slice(&[7, 1, 1]);
        }
        c.extend_from_slice(&[0xFF, 0x90, 0, 0]); // stand-in for the tile data
        c.extend_from_slice(&EOC);
        c
    }

    fn jp2_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut b = u32::try_from(body.len() + 8)
            .unwrap()
            .to_be_bytes()
            .to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(body);
        b
    }

    fn jp2(codestream: &[u8]) -> Vec<u8> {
        [
            JP2_SIGNATURE.to_vec(),
            jp2_box(b"ftyp", b"jp2 \0\0\0\0jp2 "),
            jp2_box(b"jp2h", &jp2_box(b"ihdr", &[0; 14])),
            jp2_box(b"jp2c", codestream),
        ]
        .concat()
    }

    #[test]
    fn jpeg2000_codestreams_and_jp2_files_parse() {
        assert_eq!(check_jpeg2000(&codestream(300, 400, 3)), Ok((300, 400)));
        assert_eq!(
            check_jpeg2000(&jp2(&codestream(300, 400, 1))),
            Ok((300, 400))
        );
    }

    #[test]
    fn jpeg2000_magic_bytes_alone_are_refused() {
        let good = codestream(300, 400, 3);
        let mut wrong_length = good.clone();
        wrong_length[5] += 1;
        for bad in [
            SOC_SIZ.to_vec(),
            JP2_SIGNATURE.to_vec(),
            good[..good.len() - 2].to_vec(),
            wrong_length,
            codestream(0, 400, 3),
            codestream(300, 400, 0),
            codestream(100_000, 10, 1),
            // A JP2 whose codestream box is cut short, or has no header box first.
            jp2(&good)[..60].to_vec(),
            [
                JP2_SIGNATURE.to_vec(),
                jp2_box(b"ftyp", b"jp2 "),
                jp2_box(b"jp2c", &good),
            ]
            .concat(),
            [JP2_SIGNATURE.to_vec(), jp2_box(b"jp2c", &good)].concat(),
        ] {
            assert!(check_jpeg2000(&bad).is_err(), "{bad:02x?}");
        }
    }
}
