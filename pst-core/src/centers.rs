//! Centres detected in one frame.

use crate::time::Timestamp;

/// The centres a [`crate::Detector`] found in one frame, as columns.
///
/// Each centre has a position (degrees), the field value there (in the
/// source's units, after any sub-grid refinement) and the grid point it was
/// found at. The order is the detector's: deterministic, so linking is too.
///
/// ```
/// use pst_core::{FrameCenters, Timestamp};
/// let mut c = FrameCenters::new(0, Timestamp::from_ymdh(2025, 12, 1, 0)?);
/// c.push(52.5, 10.0, 97_800.0, (15, 4));
/// assert_eq!(c.len(), 1);
/// assert_eq!(c.lons()[0], 10.0);
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FrameCenters {
    frame_index: usize,
    time: Timestamp,
    lats: Vec<f64>,
    lons: Vec<f64>,
    values: Vec<f64>,
    grid_points: Vec<(usize, usize)>,
    columns: Vec<CenterColumn>,
}

/// A named per-centre quantity a detector reports besides the value (the
/// Hodges detector's `raw_value` and object statistics), carried by the
/// linker into a track variable of the same name.
#[derive(Debug, Clone, PartialEq)]
pub struct CenterColumn {
    /// The variable's name.
    pub name: String,
    /// Its units (`None`: the tracked field's).
    pub units: Option<String>,
    /// One value per centre.
    pub values: Vec<f64>,
}

impl FrameCenters {
    /// No centres yet, for frame `frame_index` valid at `time`.
    pub fn new(frame_index: usize, time: Timestamp) -> Self {
        FrameCenters {
            frame_index,
            time,
            lats: Vec::new(),
            lons: Vec::new(),
            values: Vec::new(),
            grid_points: Vec::new(),
            columns: Vec::new(),
        }
    }

    /// No centres yet, with extra columns `(name, units)` (units `None`:
    /// the tracked field's), filled by [`FrameCenters::push_with`].
    pub fn with_columns(frame_index: usize, time: Timestamp, columns: &[(String, Option<String>)]) -> Self {
        let mut centers = FrameCenters::new(frame_index, time);
        centers.columns = columns
            .iter()
            .map(|(name, units)| CenterColumn { name: name.clone(), units: units.clone(), values: Vec::new() })
            .collect();
        centers
    }

    /// Appends a centre with its values of the extra columns, in their
    /// order (missing ones NaN, extra ones ignored).
    pub fn push_with(&mut self, lat_deg: f64, lon_deg: f64, value: f64, grid_point: (usize, usize), extra: &[f64]) {
        self.lats.push(lat_deg);
        self.lons.push(lon_deg);
        self.values.push(value);
        self.grid_points.push(grid_point);
        for (k, column) in self.columns.iter_mut().enumerate() {
            column.values.push(extra.get(k).copied().unwrap_or(f64::NAN));
        }
    }

    /// Turns positions given in `grid`'s axis coordinates into latitude
    /// and longitude ([`crate::Grid::geographic`]): nothing to do on a
    /// latitude-longitude grid; the inverse projection on a projected one,
    /// which a detector calls once it has refined its centres on the plane.
    pub fn geolocate(&mut self, grid: &crate::Grid) {
        if grid.projection().is_none() {
            return;
        }
        for (lat, lon) in self.lats.iter_mut().zip(self.lons.iter_mut()) {
            (*lat, *lon) = grid.geographic(*lat, *lon);
        }
    }

    /// The extra columns.
    pub fn columns(&self) -> &[CenterColumn] {
        &self.columns
    }

    /// Room for `additional` more centres, so that pushing as many
    /// reallocates none of the columns.
    pub fn reserve(&mut self, additional: usize) {
        self.lats.reserve(additional);
        self.lons.reserve(additional);
        self.values.reserve(additional);
        self.grid_points.reserve(additional);
        for column in &mut self.columns {
            column.values.reserve(additional);
        }
    }

    /// Appends a centre at `(lat, lon)` degrees with its field value, found
    /// at grid point `(row, column)` (extra columns, if any, NaN).
    pub fn push(&mut self, lat_deg: f64, lon_deg: f64, value: f64, grid_point: (usize, usize)) {
        self.push_with(lat_deg, lon_deg, value, grid_point, &[]);
    }

    /// Index of the frame in its source.
    pub fn frame_index(&self) -> usize {
        self.frame_index
    }

    /// Sets the frame index (when a part of a series was detected as a
    /// source of its own).
    pub fn set_frame_index(&mut self, frame_index: usize) {
        self.frame_index = frame_index;
    }

    /// Valid time of the frame.
    pub fn time(&self) -> Timestamp {
        self.time
    }

    /// Number of centres.
    pub fn len(&self) -> usize {
        self.lats.len()
    }

    /// Whether no centre was found.
    pub fn is_empty(&self) -> bool {
        self.lats.is_empty()
    }

    /// Latitudes, degrees.
    pub fn lats(&self) -> &[f64] {
        &self.lats
    }

    /// Longitudes, degrees, in the grid's convention.
    pub fn lons(&self) -> &[f64] {
        &self.lons
    }

    /// Field values at the centres.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Grid points `(row, column)` the centres were found at.
    pub fn grid_points(&self) -> &[(usize, usize)] {
        &self.grid_points
    }

    /// Keeps the centres whose entry of `keep` (one per centre) is true,
    /// in order, with their extra columns.
    ///
    /// # Panics
    /// When `keep` has not one entry per centre.
    pub fn retain(&mut self, keep: &[bool]) {
        assert_eq!(keep.len(), self.len(), "one entry per centre");
        fn filter<T: Copy>(values: &mut Vec<T>, keep: &[bool]) {
            let mut k = 0;
            values.retain(|_| {
                k += 1;
                keep[k - 1]
            });
        }
        filter(&mut self.lats, keep);
        filter(&mut self.lons, keep);
        filter(&mut self.values, keep);
        filter(&mut self.grid_points, keep);
        for column in &mut self.columns {
            filter(&mut column.values, keep);
        }
    }
}
