"""backend="dask": detection of slabs of frames as tasks on the current distributed.Client, linked once here."""

from __future__ import annotations

import numpy as np

from . import _pst
from ._data import as_frame

#: Tasks per worker: enough to balance uneven slabs, few enough that each
#: task's start (opening the input, planning transforms) stays small.
TASKS_PER_WORKER = 4


def _client():
    try:
        from distributed import get_client
    except ImportError:
        raise ImportError('backend="dask" needs distributed: pip install "pst-storm[dask]"') from None
    try:
        return get_client()
    except ValueError:
        raise ValueError(
            'backend="dask" runs on the current distributed.Client: start one first, '
            "e.g. Client(LocalCluster(n_workers=2, threads_per_worker=1))"
        ) from None


def _slabs(frames: int, tasks: int, chunk_bounds=None) -> list[tuple[int, int]]:
    """Contiguous slabs covering 0..frames: at chunk boundaries when given (each chunk decoded by one task)."""
    if frames == 0:
        return [(0, 0)]
    if chunk_bounds is not None:
        # Chunk boundaries within the run (a frame limit may end it early).
        bounds = [int(b) for b in chunk_bounds if b < frames] + [frames]
        step = max(1, round((len(bounds) - 1) / tasks))
        cuts = bounds[::step]
        if cuts[-1] != frames:
            cuts.append(frames)
    else:
        cuts = sorted({frames * k // tasks for k in range(tasks)} | {frames})
    return [(a, b) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]


def detect_paths(options: dict, start: int, end: int) -> bytes:
    """A task: the centres of frames start..end of the files of `options`."""
    return _pst.detect(options, start, end)


def detect_and_link_paths(options: dict, first: int, end: int) -> bytes:
    """A task: the centres of link parts first..end of the files of `options`, and those parts linked."""
    return _pst.detect_and_link(options, first, end)


def detect_array(options: dict, meta: dict, values: np.ndarray, start: int) -> bytes:
    """A task: the centres of an array's frames start..start+len(values), given as `values`."""
    values = np.asarray(values)
    array = _pst.ArrayInput(
        meta["variable"],
        meta["lats"],
        meta["lons"],
        meta["times"],
        lambda i: as_frame(values[i]),
        units=meta["units"],
        long_name=meta["long_name"],
        calendar=meta["calendar"],
        origin=meta["origin"],
    )
    return _pst.detect(options, start, start + len(values), array=array, offset=start)


def track(options: dict, array_data=None, workers=None):
    """Detects slabs on the cluster (one thread per task), links them here: the serial run's tracks.

    From files, a Hodges run's MGE segments are linked in the tasks too; from arrays, here.
    """
    client = _client()
    n_workers = workers or max(1, len(client.scheduler_info().get("workers", {})))
    tasks = TASKS_PER_WORKER * n_workers
    task_options = dict(options, threads=1)
    if array_data is None:
        link_parts = _pst.link_parts(options)
        if link_parts:
            # Hodges: tasks detect and link consecutive MGE segments; only the splice is left here.
            groups = _slabs(len(link_parts), min(tasks, len(link_parts)))
            futures = [client.submit(detect_and_link_paths, task_options, a, b, pure=False) for a, b in groups]
        else:
            slabs = _slabs(_pst.frame_count(options), tasks)
            futures = [client.submit(detect_paths, task_options, a, b, pure=False) for a, b in slabs]
        return _pst.link(options, client.gather(futures))
    import dask

    da = array_data.da
    # The run's frames (after a frame limit); the tasks take their slabs as
    # given, so the limit is not applied again within each.
    frames = _pst.frame_count(options, array_data.input(read=_never_read))
    task_options.pop("n_frames", None)
    if da.chunks is None and not getattr(da.variable, "_in_memory", True):
        # A file opened without chunks: chunk it, so workers read their own slabs.
        da = da.chunk({array_data.time_dim: max(1, -(-frames // tasks))})
    bounds = np.cumsum((0,) + tuple(da.chunks[0])) if da.chunks is not None else None
    slabs = _slabs(frames, tasks, bounds)
    delayed = []
    for a, b in slabs:
        meta = {
            "variable": array_data.variable,
            "lats": array_data.lats,
            "lons": array_data.lons,
            "times": array_data.times[a:b],
            "units": array_data.units,
            "long_name": array_data.long_name,
            "calendar": array_data.calendar,
            "origin": array_data.origin,
        }
        delayed.append(dask.delayed(detect_array, pure=False)(task_options, meta, da.data[a:b], a))
    parts = client.gather(client.compute(delayed))
    return _pst.link(options, parts, array=array_data.input(read=_never_read))


def _never_read(i):
    raise RuntimeError(f"linking read frame {i}: it reads none")
