//! The contracts of detectors, linkers and trackers.

use std::sync::Arc;

use ndarray::Array2;

use crate::conformance::{Violation, ensure, unexpected};
use crate::synthetic::Uniforms;
use crate::{
    Calendar, CancelFlag, DetectionMode, Detector, Error, FieldSource, Frame, FrameCenters, Grid, Linker, NoProgress,
    Result, SourceInfo, SyntheticSeries, TrackSink, Tracker, Tracks, great_circle_angle_deg, normalize_lon_360,
};

/// A noise-free 2.5° global series of `frames` 6-hourly frames with eight
/// storms planted from `seed` (lows and highs alternately, apart), on a
/// background of 101 325 Pa: the input of [`check_tracker`] and
/// [`check_recovers_planted_storms`] for pressure trackers.
pub fn planted_series(seed: u64, frames: usize) -> crate::Result<SyntheticSeries> {
    SyntheticSeries::builder(Grid::regular_global(2.5)?).frames(frames).random_storms(8, seed).build()
}

/// `frames` frames 6 hours apart of up to `max_centres` random centres
/// each (latitudes within ±80°), from `seed`; a centre's value encodes its
/// frame and position, `1000 × frame + index`. The input of
/// [`check_linker`].
pub fn random_frames(seed: u64, frames: usize, max_centres: usize) -> Vec<FrameCenters> {
    let mut rng = Uniforms(seed);
    (0..frames)
        .map(|k| {
            let mut f = FrameCenters::new(k, Calendar::Standard.from_millis(k as i64 * 6 * 3_600_000));
            let n = (rng.next() * (max_centres + 1) as f64) as usize;
            for i in 0..n.min(max_centres) {
                f.push(rng.range(-80.0, 80.0), rng.range(0.0, 360.0), (k * 1000 + i) as f64, (0, 0));
            }
            f
        })
        .collect()
}

/// Checks a detector on every frame of `source`: detection is a function
/// of the frame alone — the same centres when a frame is detected again,
/// in reverse frame order, or on another thread at the same time —
/// records the frame's index and time, and places centres at finite
/// positions on the globe.
pub fn check_detector(detector: &dyn Detector, source: &dyn FieldSource) -> Result<(), Violation> {
    let frames: Vec<Frame> = (0..source.len())
        .map(|k| source.read_frame(k))
        .collect::<Result<_>>()
        .map_err(unexpected("detector: source"))?;
    let detect = |k: usize| detector.detect(&frames[k], k).map_err(unexpected("detector: detect"));
    let forward: Vec<FrameCenters> = (0..frames.len()).map(detect).collect::<Result<_, _>>()?;
    for (k, centers) in forward.iter().enumerate() {
        ensure(centers.frame_index() == k && centers.time() == frames[k].time(), "detector: frame", || {
            format!(
                "frame {k} at {} came back as frame {} at {}",
                frames[k].time(),
                centers.frame_index(),
                centers.time()
            )
        })?;
        let bad = (0..centers.len())
            .find(|&i| !(centers.lons()[i].is_finite() && (-90.0..=90.0).contains(&centers.lats()[i])));
        ensure(bad.is_none(), "detector: positions", || {
            let i = bad.unwrap_or_default();
            format!("frame {k}: a centre at ({}, {})", centers.lats()[i], centers.lons()[i])
        })?;
    }
    for k in (0..frames.len()).rev() {
        ensure(detect(k)? == forward[k], "detector: determinism", || format!("frame {k} detected again differs"))?;
    }
    let parallel = std::thread::scope(|scope| {
        let frames = &frames;
        let handles: Vec<_> = (0..frames.len()).map(|k| scope.spawn(move || detector.detect(&frames[k], k))).collect();
        handles.into_iter().map(|h| h.join().ok()).collect::<Vec<_>>()
    });
    for (k, result) in parallel.into_iter().enumerate() {
        let centers = result
            .ok_or_else(|| Violation { check: "detector: threads", message: format!("frame {k}: a thread panicked") })?
            .map_err(unexpected("detector: threads"))?;
        ensure(centers == forward[k], "detector: threads", || format!("frame {k} detected on its own thread differs"))?;
    }
    Ok(())
}

/// Checks a linker on `frames` (in time order): linking is deterministic;
/// linking frame by frame through [`Linker::start`], taking finished tracks
/// after every frame, gives [`Linker::link`]'s tracks with the same ids, in
/// batches whose ids increase; every point of every track is a centre of
/// its frame, used once; times increase along tracks; no frames link to
/// nothing.
pub fn check_linker(linker: &dyn Linker, frames: &[FrameCenters], calendar: Calendar) -> Result<(), Violation> {
    check_linker_sharing(linker, frames, calendar, false)
}

/// [`check_linker`] for a linker whose tracks may meet: several tracks may
/// end at one centre (TempestExtremes' stitching, where paths that reach a
/// centre already taken end there), but a centre continues at most one
/// track.
pub fn check_merging_linker(linker: &dyn Linker, frames: &[FrameCenters], calendar: Calendar) -> Result<(), Violation> {
    check_linker_sharing(linker, frames, calendar, true)
}

fn check_linker_sharing(
    linker: &dyn Linker,
    frames: &[FrameCenters],
    calendar: Calendar,
    ends_shared: bool,
) -> Result<(), Violation> {
    let link = || linker.link(frames, calendar).map_err(unexpected("linker: link"));
    let whole = link()?;
    ensure(link()? == whole, "linker: determinism", || "linking the same frames again differs".into())?;
    let times: Vec<_> = frames.iter().map(FrameCenters::time).collect();
    let mut stream = linker.start(&times, calendar).map_err(unexpected("linker: start"))?;
    let mut streamed: Option<Tracks> = None;
    let take = |batch: Tracks, streamed: &mut Option<Tracks>| match streamed {
        Some(held) => held.append(batch).map_err(|e| Violation { check: "linker: batches", message: e.to_string() }),
        None => {
            *streamed = Some(batch);
            Ok(())
        }
    };
    for frame in frames {
        stream.push(frame).map_err(unexpected("linker: push"))?;
        take(stream.take_finished().map_err(unexpected("linker: take_finished"))?, &mut streamed)?;
    }
    take(stream.finish().map_err(unexpected("linker: finish"))?, &mut streamed)?;
    let streamed = streamed.unwrap_or_default();
    ensure(
        streamed.ids() == whole.ids()
            && streamed.offsets() == whole.offsets()
            && streamed.times() == whole.times()
            && streamed.lats() == whole.lats()
            && streamed.lons() == whole.lons(),
        "linker: streaming",
        || format!("{} tracks linked frame by frame, {} at once, or they differ", streamed.len(), whole.len()),
    )?;
    // Centres in a track other than as its last point (or at all, when
    // tracks may not meet).
    let mut used = std::collections::HashSet::new();
    for track in whole.iter() {
        let last_time = track.end_time();
        ensure(track.times().windows(2).all(|w| w[0] < w[1]), "linker: time order", || {
            format!("track {} goes back in time", track.id())
        })?;
        let values = track.variable("value").ok_or_else(|| Violation {
            check: "linker: values",
            message: "the tracks have no `value` variable".into(),
        })?;
        for (((&time, &lat), &lon), &value) in track.times().iter().zip(track.lats()).zip(track.lons()).zip(values) {
            // Longitudes come back in [-180, 180): equal up to that
            // wrapping's rounding.
            let is_point = |f: &FrameCenters, i: usize| {
                f.lats()[i] == lat
                    && crate::lon_difference(f.lons()[i], lon).abs() < 1e-9
                    && f.values()[i].to_bits() == value.to_bits()
            };
            let centre = frames
                .iter()
                .filter(|f| f.time() == time)
                .find_map(|f| (0..f.len()).find(|&i| is_point(f, i)).map(|i| (f.frame_index(), i)));
            let Some(centre) = centre else {
                return Err(Violation {
                    check: "linker: points",
                    message: format!("track {} has a point that is no centre of its frame", track.id()),
                });
            };
            // Tracks that may meet may end together at a centre.
            if !(ends_shared && time == last_time) {
                ensure(used.insert(centre), "linker: points", || format!("centre {centre:?} is in two tracks"))?;
            }
        }
    }
    let none = linker.link(&[], calendar).map_err(unexpected("linker: no frames"))?;
    ensure(none.is_empty(), "linker: no frames", || format!("{} tracks from no frames", none.len()))
}

/// A sink that records the protocol: batches, and whether and when it was
/// finished.
#[derive(Default)]
struct Recorder {
    tracks: Option<Tracks>,
    batches: usize,
    finished: usize,
    after_finish: bool,
}

impl TrackSink for Recorder {
    fn accept(&mut self, tracks: Tracks) -> Result<()> {
        self.batches += 1;
        self.after_finish |= self.finished > 0;
        match &mut self.tracks {
            Some(held) => held.append(tracks),
            None => {
                self.tracks = Some(tracks);
                Ok(())
            }
        }
    }

    fn finish(&mut self) -> Result<()> {
        self.finished += 1;
        Ok(())
    }
}

/// Checks a tracker on `source`, `make(threads)` building it for a number
/// of worker threads: the tracks do not depend on the threads (1, 2, 3);
/// [`Tracker::track_into`] hands them over in batches whose ids increase
/// (at least one batch) and finishes the sink once, after the last; its
/// tracks are [`Tracker::track`]'s; and a run whose [`crate::Progress`]
/// asks to stop ends in [`Error::Cancelled`] without finishing the sink.
pub fn check_tracker(make: &dyn Fn(usize) -> Box<dyn Tracker>, source: &dyn FieldSource) -> Result<(), Violation> {
    let one = make(1).track(source).map_err(unexpected("tracker: track"))?;
    for threads in [2, 3] {
        let other = make(threads).track(source).map_err(unexpected("tracker: track"))?;
        ensure(other == one, "tracker: threads", || format!("{threads} threads give other tracks than one"))?;
    }
    let mut recorder = Recorder::default();
    make(2)
        .track_into(source, &mut recorder, &NoProgress)
        .map_err(|e| Violation { check: "tracker: sink", message: e.to_string() })?;
    ensure(recorder.batches >= 1, "tracker: sink", || "no batch was handed over".into())?;
    ensure(recorder.finished == 1 && !recorder.after_finish, "tracker: sink", || {
        format!("finished {} times, batches after finishing: {}", recorder.finished, recorder.after_finish)
    })?;
    ensure(recorder.tracks.as_ref() == Some(&one), "tracker: sink", || "the batches are not track()'s tracks".into())?;

    let cancel = CancelFlag::default();
    cancel.cancel();
    let mut recorder = Recorder::default();
    let result = make(2).track_into(source, &mut recorder, &cancel);
    ensure(matches!(result.as_ref().map_err(Error::root), Err(Error::Cancelled)), "tracker: cancellation", || {
        format!("a cancelled run ended with {:?}", result.as_ref().map(|_| ()))
    })?;
    ensure(recorder.finished == 0, "tracker: cancellation", || "a cancelled run finished its sink".into())
}

/// Checks that `tracker` finds every storm planted in `series` (of its
/// `mode`) as one track: starting at the storm's first time, as long as it
/// lives, each point within `tolerance_deg` of the planted centre.
pub fn check_recovers_planted_storms(
    tracker: &dyn Tracker,
    series: &SyntheticSeries,
    mode: DetectionMode,
    tolerance_deg: f64,
) -> Result<(), Violation> {
    let found = tracker.track(series).map_err(unexpected("planted storms: track"))?;
    for planted in series.planted_tracks(Some(mode)).iter() {
        let close = |lat: f64, lon: f64, k: usize| {
            great_circle_angle_deg(lat, lon, planted.lats()[k], planted.lons()[k]) <= tolerance_deg
        };
        let hit = found.iter().find(|t| t.start_time() == planted.start_time() && close(t.lats()[0], t.lons()[0], 0));
        let Some(hit) = hit else {
            return Err(Violation {
                check: "planted storms",
                message: format!(
                    "the storm starting at {} ({:.2}, {:.2}) was not found",
                    planted.start_time(),
                    planted.lats()[0],
                    planted.lons()[0]
                ),
            });
        };
        ensure(hit.len() == planted.len(), "planted storms", || {
            format!(
                "the storm starting at {} lives {} frames, its track {}",
                planted.start_time(),
                planted.len(),
                hit.len()
            )
        })?;
        for k in 0..hit.len() {
            ensure(close(hit.lats()[k], hit.lons()[k], k), "planted storms", || {
                format!("track {} point {k} is more than {tolerance_deg}° from the planted centre", hit.id())
            })?;
        }
    }
    Ok(())
}

/// Checks that tracking commutes with turning the globe: `source` with
/// every frame rolled east by `columns` grid columns gives the same tracks
/// moved east by as many grid steps. `source` must be on a regular global
/// grid. Exact distance ties are broken by position, which a rotation
/// changes: use fields without them (noise-free planted storms).
pub fn check_rotation_invariance(
    tracker: &dyn Tracker,
    source: Arc<dyn FieldSource>,
    columns: usize,
) -> Result<(), Violation> {
    let info = source.info();
    let nlon = info.grid.nlon();
    let step = 360.0 / nlon as f64;
    let plain = tracker.track(source.as_ref()).map_err(unexpected("rotation: track"))?;
    let rolled = Rolled { info: info.clone(), inner: Arc::clone(&source), columns: columns % nlon };
    let turned = tracker.track(&rolled).map_err(unexpected("rotation: track"))?;
    ensure(shapes(&plain, 0.0) == shapes(&turned, columns as f64 * step), "rotation", || {
        format!("rolling the grid {columns} columns east changes the tracks ({} and {})", plain.len(), turned.len())
    })
}

/// Tracks as sorted point sequences `(time, lat, lon − shift mod 360)`,
/// rounded to 1e-6°, ids ignored.
fn shapes(tracks: &Tracks, lon_shift: f64) -> Vec<Vec<(i64, i64, i64)>> {
    let calendar = tracks.metadata().calendar;
    let mut out: Vec<Vec<(i64, i64, i64)>> = tracks
        .iter()
        .map(|t| {
            (0..t.len())
                .map(|k| {
                    let ms = calendar.to_millis(t.times()[k]).unwrap_or_default();
                    let lon = normalize_lon_360(t.lons()[k] - lon_shift);
                    (ms, (t.lats()[k] * 1e6).round() as i64, ((lon * 1e6).round() as i64) % 360_000_000)
                })
                .collect()
        })
        .collect();
    out.sort();
    out
}

/// A source whose frames are another's rolled east by `columns` columns.
struct Rolled {
    inner: Arc<dyn FieldSource>,
    columns: usize,
    info: SourceInfo,
}

impl FieldSource for Rolled {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_frame(&self, index: usize) -> Result<Frame> {
        let frame = self.inner.read_frame(index)?;
        let (nlat, nlon) = frame.grid().shape();
        let v = frame.values();
        let rolled = Array2::from_shape_fn((nlat, nlon), |(i, j)| v[[i, (j + nlon - self.columns) % nlon]]);
        Frame::new(Arc::clone(frame.grid()), frame.time(), rolled)
    }
}
