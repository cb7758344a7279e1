//! Colour scales.

use plotters::style::RGBColor;

/// A sequential colour scale, from its low end (0) to its high end (1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColourScale {
    /// Perceptually uniform dark purple → blue → green → yellow (the
    /// anchors of matplotlib's viridis).
    #[default]
    Viridis,
    /// viridis backwards: yellow → dark purple, for "stronger is darker".
    ViridisReversed,
    /// Pale yellow → orange → red → dark red, for densities (ColorBrewer's
    /// YlOrRd anchors).
    YellowOrangeRed,
}

const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

const YL_OR_RD: [(u8, u8, u8); 9] = [
    (255, 255, 204),
    (255, 237, 160),
    (254, 217, 118),
    (254, 178, 76),
    (253, 141, 60),
    (252, 78, 42),
    (227, 26, 28),
    (189, 0, 38),
    (128, 0, 38),
];

impl ColourScale {
    /// The colour at `t` in [0, 1] (clamped; NaN is the low end).
    pub fn at(self, t: f64) -> RGBColor {
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let (anchors, t) = match self {
            ColourScale::Viridis => (&VIRIDIS, t),
            ColourScale::ViridisReversed => (&VIRIDIS, 1.0 - t),
            ColourScale::YellowOrangeRed => (&YL_OR_RD, t),
        };
        let position = t * (anchors.len() - 1) as f64;
        let k = (position.floor() as usize).min(anchors.len() - 2);
        let f = position - k as f64;
        let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
        let (a, b) = (anchors[k], anchors[k + 1]);
        RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn ends_and_clamping() {
        assert_eq!(ColourScale::Viridis.at(0.0), RGBColor(68, 1, 84));
        assert_eq!(ColourScale::Viridis.at(1.0), RGBColor(253, 231, 37));
        assert_eq!(ColourScale::ViridisReversed.at(0.0), RGBColor(253, 231, 37));
        assert_eq!(ColourScale::YellowOrangeRed.at(2.0), RGBColor(128, 0, 38));
        assert_eq!(ColourScale::Viridis.at(f64::NAN), RGBColor(68, 1, 84));
        assert_eq!(ColourScale::Viridis.at(0.0625), RGBColor(70, 23, 103));
    }
}
