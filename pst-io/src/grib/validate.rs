//! Locating GRIB messages and checking their structure before `gribberish`
//! sees them: it trusts section lengths and packing descriptors, and corrupt
//! ones make it panic, loop forever or allocate without bound.

/// Refuse grids larger than a frame pst reads (a corrupt count would make
/// the decoder allocate that many values).
const MAX_POINTS: usize = pst_core::MAX_FRAME_POINTS;

/// Checks a reference time (the decoder panics on one that does not
/// exist): GRIB's times are proleptic Gregorian.
fn check_date(year: u32, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Result<(), String> {
    let calendar = pst_core::Calendar::ProlepticGregorian;
    let year = i32::try_from(year).unwrap_or(i32::MAX);
    pst_core::Timestamp::new(year, month, day, hour, minute, second, 0)
        .ok()
        .filter(|_| day <= calendar.days_in_month(year, month))
        .map(drop)
        .ok_or_else(|| {
            format!("reference time {year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02} does not exist")
        })
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4).map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

pub(super) fn be_u24(b: &[u8], at: usize) -> Option<usize> {
    b.get(at..at + 3).map(|s| (s[0] as usize) << 16 | (s[1] as usize) << 8 | s[2] as usize)
}

/// Byte ranges, relative to the message start, of the sections one GRIB2
/// field uses.
#[derive(Clone, Debug, Default)]
pub(super) struct Grib2Sections {
    s1: (usize, usize),
    s2: Option<(usize, usize)>,
    pub(super) s3: (usize, usize),
    s4: (usize, usize),
    pub(super) s5: (usize, usize),
    s6: (usize, usize),
    s7: (usize, usize),
}

/// Walks the sections of a GRIB2 message, bounds-checked: one entry per
/// field (each section 7 closes one; sections 2–7 may repeat).
pub(super) fn grib2_fields(msg: &[u8]) -> Result<Vec<Grib2Sections>, String> {
    if msg.len() < 20 || &msg[0..4] != b"GRIB" || msg[7] != 2 {
        return Err("not a GRIB2 message".into());
    }
    let mut pos = 16;
    let mut cur = Grib2Sections::default();
    let mut last_bitmap = None;
    let mut out = Vec::new();
    loop {
        if pos + 4 > msg.len() {
            return Err(format!("truncated: section header at byte {pos} past the end"));
        }
        if &msg[pos..pos + 4] == b"7777" {
            break;
        }
        let len = be_u32(msg, pos).unwrap_or(0) as usize;
        if len < 5 || pos + len > msg.len() {
            return Err(format!("bad section length {len} at byte {pos}"));
        }
        let r = (pos, pos + len);
        match msg[pos + 4] {
            1 => cur.s1 = r,
            2 => cur.s2 = Some(r),
            3 => cur.s3 = r,
            4 => cur.s4 = r,
            5 => cur.s5 = r,
            6 => match msg.get(pos + 5).copied().ok_or("short section 6")? {
                0 => {
                    last_bitmap = Some(r);
                    cur.s6 = r;
                }
                // 254: the bitmap defined earlier in the message applies.
                254 => cur.s6 = last_bitmap.ok_or("bitmap 254 without an earlier bitmap")?,
                _ => cur.s6 = r,
            },
            7 => {
                cur.s7 = r;
                if cur.s3.1 == 0 || cur.s4.1 == 0 || cur.s5.1 == 0 || cur.s6.1 == 0 {
                    return Err("section 7 before sections 3 to 6".into());
                }
                out.push(cur.clone());
            }
            n => return Err(format!("unexpected section number {n} at byte {pos}")),
        }
        pos += len;
    }
    if out.is_empty() {
        return Err("message has no data section".into());
    }
    Ok(out)
}

/// A stand-alone single-field GRIB2 message for field `f` of a multi-field
/// message (the decoder reads only a message's first field).
pub(super) fn grib2_single_field(msg: &[u8], f: &Grib2Sections) -> Vec<u8> {
    let parts: Vec<(usize, usize)> =
        [Some(f.s1), f.s2, Some(f.s3), Some(f.s4), Some(f.s5), Some(f.s6), Some(f.s7)].into_iter().flatten().collect();
    let total = 16 + parts.iter().map(|(a, b)| b - a).sum::<usize>() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&msg[0..16]);
    out[8..16].copy_from_slice(&(total as u64).to_be_bytes());
    for (a, b) in parts {
        out.extend_from_slice(&msg[a..b]);
    }
    out.extend_from_slice(b"7777");
    out
}

/// Checks the sections of a GRIB1 message fit it and hold enough packed
/// bits for their grid.
fn validate_grib1(msg: &[u8]) -> Result<(), String> {
    let len = msg.len();
    let pds = be_u24(msg, 8).ok_or("no product definition section")?;
    if pds < 28 || 8 + pds > len - 4 {
        return Err(format!("bad product definition section length {pds}"));
    }
    let pdsb = &msg[8..8 + pds];
    // Octets 13–17 and 25: year of the century (1–100), month, day, hour,
    // minute, century.
    let year = (u32::from(pdsb[24]).max(1) - 1) * 100 + u32::from(pdsb[12]);
    check_date(year, pdsb[13], pdsb[14], pdsb[15], pdsb[16], 0)?;
    let flags = msg[8 + 7];
    let mut pos = 8 + pds;
    let mut points = None;
    if flags & 0x80 != 0 {
        let gds = be_u24(msg, pos).ok_or("no grid description section")?;
        if gds < 32 || pos + gds > len - 4 {
            return Err(format!("bad grid description section length {gds}"));
        }
        let ni = u16::from_be_bytes([msg[pos + 6], msg[pos + 7]]) as usize;
        let nj = u16::from_be_bytes([msg[pos + 8], msg[pos + 9]]) as usize;
        if ni * nj > MAX_POINTS {
            return Err(format!("{ni}×{nj} grid points exceed the limit of {MAX_POINTS}"));
        }
        points = Some(ni * nj);
        pos += gds;
    }
    let mut packed = points;
    if flags & 0x40 != 0 {
        let bms = be_u24(msg, pos).ok_or("no bitmap section")?;
        if bms < 6 || pos + bms > len - 4 {
            return Err(format!("bad bitmap section length {bms}"));
        }
        if let Some(n) = points {
            if (bms - 6) * 8 < n {
                return Err(format!("bitmap has {} bits for {n} points", (bms - 6) * 8));
            }
            packed = Some((0..n).filter(|&i| msg[pos + 6 + i / 8] & (0x80 >> (i % 8)) != 0).count());
        }
        pos += bms;
    }
    let bds = be_u24(msg, pos).ok_or("no binary data section")?;
    if bds < 11 || pos + bds > len - 4 {
        return Err(format!("bad binary data section length {bds}"));
    }
    let bits = msg[pos + 10] as usize;
    if let Some(n) = packed
        && msg[pos + 3] & 0xC0 == 0
        && bits * n > (bds - 11) * 8
    {
        return Err(format!("data section holds {} bits, {n} values of {bits} bits need more", (bds - 11) * 8));
    }
    Ok(())
}

/// Checks a GRIB2 message's sections, bitmap and packing; returns its number
/// of fields.
fn validate_grib2(msg: &[u8]) -> Result<usize, String> {
    let fields = grib2_fields(msg)?;
    for f in &fields {
        // Section 1, octets 13–19: year (2 octets), month, day, hour,
        // minute, second.
        let s1 = msg.get(f.s1.0..f.s1.1).filter(|s| s.len() >= 19).ok_or("section 1 missing or too short")?;
        check_date(u32::from(u16::from_be_bytes([s1[12], s1[13]])), s1[14], s1[15], s1[16], s1[17], s1[18])?;
        let (s3, s5, s6, s7) = (&msg[f.s3.0..f.s3.1], &msg[f.s5.0..f.s5.1], &msg[f.s6.0..f.s6.1], &msg[f.s7.0..f.s7.1]);
        if s3.len() < 14 || s5.len() < 11 || s6.len() < 6 {
            return Err("section 3, 5 or 6 too short".into());
        }
        let points = be_u32(s3, 6).unwrap_or(0) as usize;
        if points > MAX_POINTS {
            return Err(format!("{points} grid points exceed the limit of {MAX_POINTS}"));
        }
        let template = u16::from_be_bytes([s3[12], s3[13]]);
        if (template == 0 || template == 40) && s3.len() >= 72 {
            let (ni, nj) = (be_u32(s3, 30).unwrap_or(0) as u64, be_u32(s3, 34).unwrap_or(0) as u64);
            // A reduced grid lists its points per row instead of Ni: it is
            // refused later, with a message saying so.
            let reduced = ni == u64::from(u32::MAX) && s3[10] != 0;
            if !reduced && ni * nj != points as u64 {
                return Err(format!("Ni×Nj = {ni}×{nj} but the grid has {points} points"));
            }
        }
        let packed = be_u32(s5, 5).unwrap_or(0) as usize;
        match s6[5] {
            0 => {
                if (s6.len() - 6) * 8 < points {
                    return Err(format!("bitmap has {} bits for {points} points", (s6.len() - 6) * 8));
                }
                let ones = (0..points).filter(|&i| s6[6 + i / 8] & (0x80 >> (i % 8)) != 0).count();
                if ones != packed {
                    return Err(format!("bitmap marks {ones} points but section 5 has {packed} values"));
                }
            }
            255 if packed != points => {
                return Err(format!("no bitmap but {packed} packed values for {points} points"));
            }
            _ => {}
        }
        let drt = u16::from_be_bytes([s5[9], s5[10]]);
        if (drt == 2 || drt == 3) && s5.len() >= if drt == 3 { 49 } else { 47 } {
            check_complex_packing(s5, &s7[5..], packed, drt)?;
        }
        if drt == 0 && s5.len() > 19 {
            let bits = s5[19] as usize;
            if bits * packed > (s7.len() - 5) * 8 {
                return Err(format!(
                    "data section holds {} bits, {packed} values of {bits} bits need more",
                    (s7.len() - 5) * 8
                ));
            }
        }
    }
    Ok(fields.len())
}

/// `n` (≤ 32) bits, big-endian, at bit offset `at`.
fn read_bits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    if n == 0 {
        return Some(0);
    }
    if n > 32 || at + n > b.len() * 8 {
        return None;
    }
    let mut v: u64 = 0;
    for k in 0..n {
        let bit = at + k;
        v = v << 1 | u64::from((b[bit / 8] >> (7 - bit % 8)) & 1);
    }
    Some(v as u32)
}

/// Complex packing (templates 5.2 and 5.3): group widths of at most 32 bits,
/// group descriptors and packed values inside the data section, group
/// lengths adding up to the number of values.
fn check_complex_packing(s5: &[u8], data: &[u8], packed: usize, drt: u16) -> Result<(), String> {
    let groups = be_u32(s5, 31).unwrap_or(0) as usize;
    if groups == 0 {
        return Ok(());
    }
    let (ref_bits, width_ref, width_bits) = (s5[19] as usize, s5[35] as usize, s5[36] as usize);
    let (len_ref, len_inc) = (be_u32(s5, 37).unwrap_or(0) as usize, s5[41] as usize);
    let (len_last, len_bits) = (be_u32(s5, 42).unwrap_or(0) as usize, s5[46] as usize);
    if ref_bits > 32 || width_bits > 32 || len_bits > 32 || groups > packed {
        return Err(format!(
            "complex packing: bad descriptors ({groups} groups, {ref_bits}/{width_bits}/{len_bits} bits)"
        ));
    }
    if drt == 3 && s5[48] > 4 {
        return Err("complex packing: more than 4 octets of spatial differencing".into());
    }
    let start = if drt == 3 { (if s5[47] == 2 { 3 } else { 2 }) * s5[48] as usize * 8 } else { 0 };
    let widths = start + (groups * ref_bits).div_ceil(8) * 8;
    let lengths = widths + (groups * width_bits).div_ceil(8) * 8;
    let values = lengths + (groups * len_bits).div_ceil(8) * 8;
    if values > data.len() * 8 {
        return Err("complex packing: group descriptors run past the data".into());
    }
    let (mut total, mut bits) = (0usize, 0usize);
    for g in 0..groups {
        let w = width_ref + read_bits(data, widths + g * width_bits, width_bits).ok_or("group width")? as usize;
        let l = if g == groups - 1 {
            len_last
        } else {
            len_ref + len_inc * read_bits(data, lengths + g * len_bits, len_bits).ok_or("group length")? as usize
        };
        if w > 32 {
            return Err(format!("complex packing: group {g} is {w} bits wide"));
        }
        total += l;
        bits += w * l;
        if total > packed {
            return Err(format!("complex packing: groups hold more than {packed} values"));
        }
    }
    if total != packed {
        return Err(format!("complex packing: groups hold {total} values, expected {packed}"));
    }
    if values + bits > data.len() * 8 {
        return Err("complex packing: packed values run past the data".into());
    }
    Ok(())
}

/// Validates a candidate message; returns its number of fields.
pub(super) fn validate(msg: &[u8]) -> Result<usize, String> {
    if msg.len() < 20 || &msg[msg.len() - 4..] != b"7777" {
        return Err("no 7777 end marker".into());
    }
    match msg[7] {
        1 => validate_grib1(msg).map(|()| 1),
        2 => validate_grib2(msg),
        e => Err(format!("unknown GRIB edition {e}")),
    }
}

/// The total length a GRIB message header declares.
pub(super) fn declared_length(header: &[u8]) -> Option<usize> {
    match header.get(7)? {
        1 => be_u24(header, 4),
        2 => header.get(8..16).map(|b| u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as usize),
        _ => None,
    }
}
