//! Pictures decoded and looked at: their size, and pixels where tracks,
//! coastlines, empty ocean and dense storm tracks should be.
#![allow(clippy::unwrap_used, clippy::panic)]

use pst_core::{Timestamp, Tracks, TracksBuilder};
use pst_plot::{ColourBy, DensityMap, ImageFormat, MapProjection, TrackDensity, TrackMap};

/// An RGB picture.
struct Picture {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl Picture {
    fn decode(png_bytes: &[u8]) -> Picture {
        let decoder = png::Decoder::new(png_bytes);
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        pixels.truncate(info.buffer_size());
        Picture { width: info.width, height: info.height, pixels }
    }

    fn at(&self, (x, y): (f64, f64)) -> (u8, u8, u8) {
        let k = (y.round() as usize * self.width as usize + x.round() as usize) * 3;
        (self.pixels[k], self.pixels[k + 1], self.pixels[k + 2])
    }

    /// Whether any pixel within `r` of `p` satisfies `test`.
    fn near(&self, p: (f64, f64), r: i32, test: impl Fn((u8, u8, u8)) -> bool) -> bool {
        (-r..=r).any(|dy| (-r..=r).any(|dx| test(self.at((p.0 + dx as f64, p.1 + dy as f64)))))
    }
}

const OCEAN: (u8, u8, u8) = (246, 249, 252);

/// One low deepening eastwards along 45°N across the North Atlantic.
fn atlantic_low() -> Tracks {
    let mut b = TracksBuilder::new(["msl"]);
    b.begin_track(1);
    for (k, lon) in [300.0, 310.0, 320.0, 330.0, 340.0].into_iter().enumerate() {
        b.push(Timestamp::from_ymdh(2026, 1, 1 + k as u8, 0).unwrap(), 45.0, lon, &[99_000.0 - 1_000.0 * k as f64])
            .unwrap();
    }
    b.end_track().unwrap();
    b.units("msl", "Pa").unwrap();
    b.finish().unwrap()
}

fn is_track_colour((r, g, b): (u8, u8, u8)) -> bool {
    // viridis: never grey (the graticule, coasts, text) nor the ocean.
    let grey = r.abs_diff(g) < 12 && g.abs_diff(b) < 12;
    !grey
}

#[test]
fn a_track_is_drawn_where_it_is_and_nowhere_else() {
    let map = TrackMap::default().width_px(1200);
    let picture = Picture::decode(&map.render(&atlantic_low(), ImageFormat::Png).unwrap());
    assert_eq!((picture.width, picture.height), map.size_px().unwrap());
    for lon in [305.0, 315.0, 335.0] {
        let p = map.pixel(45.0, lon).unwrap().unwrap();
        assert!(picture.near(p, 1, is_track_colour), "no track at 45°N {lon}°E: {:?}", picture.at(p));
    }
    // Open ocean far from the track, coasts and the graticule.
    let pacific = map.pixel(-12.0, 200.0).unwrap().unwrap();
    assert_eq!(picture.at(pacific), OCEAN);
    assert!(!picture.near(map.pixel(20.0, 320.0).unwrap().unwrap(), 3, is_track_colour));
    // Start and end markers (on for one track) are dark.
    let start = map.pixel(45.0, 300.0).unwrap().unwrap();
    assert!(picture.near(start, 4, |(r, g, b)| r < 60 && g < 60 && b < 60));
    // The deepest end is the darkest colour, the shallowest start the
    // brightest: stronger darker.
    let (deep, shallow) =
        (picture.at(map.pixel(45.0, 338.0).unwrap().unwrap()), picture.at(map.pixel(45.0, 302.0).unwrap().unwrap()));
    let luminance = |(r, g, b): (u8, u8, u8)| r as u32 + g as u32 + b as u32;
    assert!(luminance(deep) < luminance(shallow), "{deep:?} vs {shallow:?}");
}

#[test]
fn coastlines_are_drawn() {
    let map = TrackMap::default().width_px(1600);
    let picture = Picture::decode(&map.render(&atlantic_low(), ImageFormat::Png).unwrap());
    // The coast of Portugal at 39°N 9.4°W, and of Chile at 30°S 71.5°W.
    for (lat, lon) in [(39.0, -9.4), (-30.0, -71.5)] {
        let p = map.pixel(lat, lon).unwrap().unwrap();
        assert!(picture.near(p, 3, |(r, g, b)| r == 90 && g == 90 && b == 90), "no coast at {lat}, {lon}");
    }
}

#[test]
fn polar_views_and_regions() {
    let north = TrackMap::default().projection(MapProjection::NorthPolarStereographic).colour_by(ColourBy::Time);
    let picture = Picture::decode(&north.render(&atlantic_low(), ImageFormat::Png).unwrap());
    assert_eq!((picture.width, picture.height), north.size_px().unwrap());
    assert!(picture.near(north.pixel(45.0, 320.0).unwrap().unwrap(), 1, is_track_colour));
    assert_eq!(north.pixel(-10.0, 0.0).unwrap(), None);
    // Outside the disc is white paper.
    assert_eq!(picture.at((3.0, picture.height as f64 / 2.0)), (255, 255, 255));
    // A region across the antimeridian keeps the track whole.
    let pacific = TrackMap::default().region("120,-100,0,70".parse().unwrap());
    let mut b = TracksBuilder::new(["msl"]);
    b.begin_track(7);
    for (k, lon) in [170.0, 178.0, 186.0, 194.0].into_iter().enumerate() {
        b.push(Timestamp::from_ymdh(2026, 1, 1, 6 * k as u8).unwrap(), 40.0, lon, &[99_000.0]).unwrap();
    }
    b.end_track().unwrap();
    let picture = Picture::decode(&pacific.render(&b.finish().unwrap(), ImageFormat::Png).unwrap());
    assert!(picture.near(pacific.pixel(40.0, 180.0).unwrap().unwrap(), 1, is_track_colour));
}

#[test]
fn svg_holds_the_title_and_the_lines() {
    let svg = String::from_utf8(TrackMap::default().render(&atlantic_low(), ImageFormat::Svg).unwrap()).unwrap();
    assert!(svg.contains("1 tracks of msl, 2026-01-01 to 2026-01-05"), "{}", &svg[..400]);
    assert!(svg.contains("msl at the centre (hPa)"));
    assert!(svg.matches("<polyline").count() > 100, "coastlines, graticule and the track");
}

#[test]
fn bad_settings_are_refused_with_reasons() {
    let tracks = atlantic_low();
    let e = TrackMap::default().variable("vo").render(&tracks, ImageFormat::Png).unwrap_err();
    assert!(e.to_string().contains("no variable `vo`"), "{e}");
    let e = TrackMap::default()
        .projection(MapProjection::SouthPolarStereographic)
        .region("0,10,0,10".parse().unwrap())
        .render(&tracks, ImageFormat::Png)
        .unwrap_err();
    assert!(e.to_string().contains("equirectangular"), "{e}");
    assert!("0,10,20,10".parse::<pst_plot::MapRegion>().is_err());
    assert!(TrackMap::default().width_px(50).size_px().is_err());
    assert!(
        DensityMap::default().density(TrackDensity::default().grid_deg(7.0)).render(&tracks, ImageFormat::Png).is_err()
    );
}

/// PyStormTracker 0.8.0's Hodges T5–42 tracks of the DJF msl series: the
/// density peaks in the storm tracks, not under the subtropical highs, and
/// the picture shows it.
#[test]
fn density_of_real_tracks() {
    let Some(path) =
        pst_testkit::data_file("../reference/pst-0.8.0-output/era5_msl_djf_hodges_t5-42_bspline.imilast.txt")
    else {
        return;
    };
    let tracks = pst_io::read_tracks(&path, None).unwrap();
    let grid = TrackDensity::default().compute(&tracks).unwrap();
    assert!((grid.months - 90.0 / pst_plot::DAYS_PER_MONTH).abs() < 1e-9, "{}", grid.months);
    let (atlantic, southern_ocean) = (grid.value(51.25, 331.25).unwrap(), grid.value(-58.75, 61.25).unwrap());
    let (south_pacific_high, sahara) = (grid.value(-28.75, 261.25).unwrap(), grid.value(23.75, 1.25).unwrap());
    assert!(atlantic > 4.0 && southern_ocean > 4.0, "{atlantic} {southern_ocean}");
    assert!(south_pacific_high < atlantic / 2.0 && sahara < atlantic / 2.0, "{south_pacific_high} {sahara}");
    let map = DensityMap::default();
    let picture = Picture::decode(&map.render(&tracks, ImageFormat::Png).unwrap());
    let reddish = |(r, g, b): (u8, u8, u8)| r > 200 && g < 200 && b < 120;
    assert!(picture.near(map.pixel(-58.75, 61.25).unwrap().unwrap(), 2, reddish));
}
