"""Numpy buffers behind the timeline: lanes, nesting rows and per-pixel aggregation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from monitor_gui.core.extent import MIN_CLUSTER_GAP_NS, bulk_extent

DEPTH_CAP = 6  # deeper nesting is drawn on the last sub-row of a lane
NO_MARK = 127  # lane_min of a lane with no mark yet (above any sub-row)
ITEM_LIMIT = 3_000  # above this many visible marks, draw per-pixel aggregates instead
# A gap between marks this many times longer than the span of the marks around it is
# not idle time but a clock jump (Django's test suite mocks time.time: the real
# recording holds dispatches stamped 1999 and 2016 among ones from a one-minute run).


@dataclass
class Visible:
    """What to paint for one view window: individual marks, or a coverage image."""

    t0: float
    t1: float
    width: int
    row0: int
    row1: int
    items: np.ndarray | None = None  # buffer indices of individual marks
    coverage: np.ndarray | None = None  # (rows, width) count of marks covering each pixel
    errors: np.ndarray | None = None  # (rows, width) count of raising marks per pixel
    total: int = 0  # marks in the time window (and, when few, on the visible rows)


class TimelineData:
    """Growable column buffers for the dispatches the timeline shows (one filter's rows).

    Times are kept as float64 nanoseconds relative to the first dispatch seen so the
    per-paint arithmetic is one subtraction and one multiply per mark.
    """

    def __init__(self, name_of: Callable[[int], str],
                 lane_label: Callable[[int], str] | None = None, capacity: int = 1024) -> None:
        self.name_of = name_of  # interned string id -> text (signal names of marks)
        self.lane_label = lane_label or name_of  # lane key -> lane title
        self.lane_mode = "signal"  # or "thread", "request", "proc", "flame"
        # Sized once for the store (plus headroom): growing by doubling near 1M marks
        # would copy ~40 MB inside one GUI slice; compaction then happens in place,
        # once per ``capacity - live`` appends.
        self.capacity = max(1024, capacity)
        self.clear()

    def clear(self) -> None:
        cap = self.capacity
        self.rows = np.zeros(cap, np.int64)
        self.ts = np.zeros(cap, np.float64)
        self.end = np.zeros(cap, np.float64)
        self.key = np.zeros(cap, np.int64)  # lane key: the id of signal/thread/request/process
        self.lane = np.zeros(cap, np.int32)
        self.depth = np.zeros(cap, np.int8)  # sub-row within the lane (see ``flame``)
        self.raised = np.zeros(cap, np.bool_)
        self.signal = np.zeros(cap, np.int32)
        self.drow = np.zeros(cap, np.int32)  # display row of each mark (lane row + nesting)
        self.lo = self.hi = 0
        self.base: int | None = None
        self.lane_names: list[str] = []
        self._lane_of: dict[int, int] = {}
        self.lane_depth = np.zeros(16, np.int32)  # max sub-row seen per lane
        # min sub-row seen per lane: a lane whose marks are all nested (post_log is only
        # ever sent inside another receiver) starts at its first used row, not an empty one
        self.lane_min = np.full(16, NO_MARK, np.int32)
        self.lane_row0 = np.zeros(16, np.int32)  # first display row of each lane
        self.lane_order: list[int] = []
        self.total_rows = 0
        self.t_min = np.inf
        self.t_max = -np.inf
        self.t_live = -np.inf  # where follow-live looks: the newest batch, clock jumps aside
        self.version = 0

    @property
    def flame(self) -> bool:
        """Flame chart: a lane's sub-rows alternate dispatch depth d (row 2d) and the
        receivers that dispatch ran (row 2d + 1), under which its nested sends stack."""
        return self.lane_mode == "flame"

    def __len__(self) -> int:
        return self.hi - self.lo

    # ------------------------------------------------------------------ updates
    def _grow(self, need: int) -> None:
        n = self.hi - self.lo
        if self.hi + need <= len(self.rows):
            return
        fits = n + need <= len(self.rows)
        cap = len(self.rows) if fits else max(1024, 2 * (n + need))
        for name in ("rows", "ts", "end", "key", "lane", "depth", "raised", "signal", "drow"):
            old = getattr(self, name)
            if fits:
                old[:n] = old[self.lo:self.hi]  # compact in place (numpy handles the overlap)
            else:
                new = np.zeros(cap, old.dtype)
                new[:n] = old[self.lo:self.hi]
                setattr(self, name, new)
        self.lo, self.hi = 0, n

    def append(self, rows: np.ndarray, ts: np.ndarray, dur: np.ndarray, key: np.ndarray,
               depth: np.ndarray, raised: np.ndarray, signal: np.ndarray) -> None:
        """Add dispatches (absolute rows ascending, all after the rows already held)."""
        n = len(rows)
        if not n:
            return
        if self.base is None:
            self.base = int(ts.min())
        self._grow(n)
        s = slice(self.hi, self.hi + n)
        self.rows[s] = rows
        self.ts[s] = ts - self.base
        self.end[s] = self.ts[s] + dur
        self.key[s] = key
        self.depth[s] = self._sub_row(depth)
        self.raised[s] = raised
        self.signal[s] = signal
        new_lanes = False
        uniq, inverse = np.unique(key, return_inverse=True)
        for k in uniq.tolist():
            if k not in self._lane_of:
                self._lane_of[k] = len(self.lane_names)
                self.lane_names.append(self.lane_label(k))
                new_lanes = True
        lanes = np.fromiter((self._lane_of[k] for k in uniq.tolist()), np.int32,
                            len(uniq))[inverse.reshape(-1)]
        self.lane[s] = lanes
        if len(self.lane_depth) < len(self.lane_names):
            grown = np.zeros(2 * len(self.lane_names), np.int32)
            grown[:len(self.lane_depth)] = self.lane_depth
            self.lane_depth = grown
            grown = np.full(2 * len(self.lane_names), NO_MARK, np.int32)
            grown[:len(self.lane_min)] = self.lane_min
            self.lane_min = grown
        deeper = self._deepen_lanes(lanes, self.depth[s])
        self.t_min = min(self.t_min, float(self.ts[s].min()))
        self.t_max = max(self.t_max, float(self.end[s].max()))
        # Follow the bulk of the newest batch: a mark stamped by a mocked clock (years
        # ahead) would otherwise drag the live window, and t_max never comes back.
        ends = self.end[s]
        typical = float(np.median(ends))
        self.t_live = float(ends[np.abs(ends - typical) <= MIN_CLUSTER_GAP_NS].max())
        if new_lanes or deeper:
            self._assign_rows()  # lane offsets moved: every mark's display row changes
            self.hi += n
            every = slice(self.lo, self.hi)
            self.drow[every] = self.display_row(every)
        else:
            self.drow[s] = self.display_row(s)
            self.hi += n
        self.version += 1

    def set_depth(self, rows: np.ndarray, depth: np.ndarray) -> None:
        """Re-nest marks of absolute ``rows`` (ascending) whose depth the core changed later."""
        held = self.rows[self.lo:self.hi]
        pos = np.searchsorted(held, rows)
        found = pos < len(held)
        found[found] = held[pos[found]] == rows[found]
        if not found.any():
            return
        idx = pos[found] + self.lo
        self.depth[idx] = self._sub_row(depth[found])
        if self._deepen_lanes(self.lane[idx], self.depth[idx]):
            self._assign_rows()  # lane offsets moved: every mark's display row changes
            every = slice(self.lo, self.hi)
            self.drow[every] = self.display_row(every)
        else:
            self.drow[idx] = self.display_row(idx)
        self.version += 1

    def _sub_row(self, depth: np.ndarray) -> np.ndarray:
        capped = np.minimum(depth, DEPTH_CAP - 1)
        return 2 * capped if self.flame else capped

    def _deepen_lanes(self, lanes: np.ndarray, depth: np.ndarray) -> bool:
        """Widen each lane's sub-row range to the depths given; True if any lane grew."""
        before, before_min = self.lane_depth.copy(), self.lane_min.copy()
        # In a flame chart every dispatch row has its receivers' row below it.
        np.maximum.at(self.lane_depth, lanes, depth + 1 if self.flame else depth)
        np.minimum.at(self.lane_min, lanes, depth)
        return not (np.array_equal(before, self.lane_depth)
                    and np.array_equal(before_min, self.lane_min))

    def lane_rows(self, lane: int) -> int:
        """How many display rows ``lane`` takes (its sub-rows from the first one used)."""
        return int(self.lane_depth[lane]) - int(self.lane_min[lane]) + 1

    def _assign_rows(self) -> None:
        n = len(self.lane_names)
        order = list(range(n))
        if self.lane_mode == "signal":  # thread/request lanes keep arrival order
            order.sort(key=lambda i: self.lane_names[i])
        self.lane_order = order
        row0 = np.zeros(max(n, 1), np.int32)
        r = 0
        for lane in order:
            row0[lane] = r
            r += self.lane_rows(lane)
        self.lane_row0 = row0
        self.total_rows = r

    def evict_before(self, first_row: int) -> None:
        """Drop marks whose absolute row the store has evicted."""
        cut = int(np.searchsorted(self.rows[self.lo:self.hi], first_row))
        if cut:
            self.lo += cut
            self.version += 1

    # ------------------------------------------------------------------ queries
    def index_of(self, row: int) -> int | None:
        """Buffer index of the mark of absolute store row ``row``, if this filter holds it."""
        held = self.rows[self.lo:self.hi]
        pos = int(np.searchsorted(held, row))
        return pos + self.lo if pos < len(held) and held[pos] == row else None

    def core_extent(self) -> tuple[float, float, int]:
        """(start, end, marks left out) of the bulk of the marks: ``core.extent``."""
        return bulk_extent(self.ts[self.lo:self.hi], self.end[self.lo:self.hi])

    def display_row(self, idx: np.ndarray | int) -> np.ndarray:
        lane = self.lane[idx]
        return (self.lane_row0[lane] + np.minimum(self.depth[idx], self.lane_depth[lane])
                - self.lane_min[lane])

    def lane_at_row(self, row: int) -> int | None:
        for lane in self.lane_order:
            if self.lane_row0[lane] <= row < self.lane_row0[lane] + self.lane_rows(lane):
                return lane
        return None

    def visible(self, t0: float, t1: float, width: int, row0: int = 0,
                row1: int | None = None) -> Visible:
        """Marks overlapping [t0, t1) on display rows [row0, row1), reduced to <= width px."""
        row1 = self.total_rows if row1 is None else min(row1, self.total_rows)
        vis = Visible(t0, t1, width, row0, row1)
        if self.hi == self.lo or width <= 0 or row1 <= row0 or t1 <= t0:
            return vis
        s = slice(self.lo, self.hi)
        ts, end, drow, raised = self.ts[s], self.end[s], self.drow[s], self.raised[s]
        if not (t0 <= self.t_min and t1 >= self.t_max):  # zoomed out: no time mask at all
            idx = np.flatnonzero((ts < t1) & (end > t0))
            ts, end, drow, raised = ts[idx], end[idx], drow[idx], raised[idx]
        else:
            idx = None
        stride = width + 1
        # Aggregating every row and slicing afterwards is cheaper than masking marks by
        # row, unless there are very many rows (request lanes) or few marks.
        clip = len(ts) <= 4 * ITEM_LIMIT or self.total_rows * stride > 4_000_000
        if clip and (row0 > 0 or row1 < self.total_rows):
            keep = (drow >= row0) & (drow < row1)
            idx = np.flatnonzero(keep) if idx is None else idx[keep]
            ts, end, drow, raised = ts[keep], end[keep], drow[keep], raised[keep]
        vis.total = len(ts)
        if vis.total <= ITEM_LIMIT:
            vis.items = (np.arange(vis.total) if idx is None else idx) + self.lo
            return vis
        first, rows = (row0, row1 - row0) if clip else (0, self.total_rows)
        k = width / (t1 - t0)
        x1 = ((ts - t0) * k).astype(np.int64)
        np.clip(x1, 0, width - 1, out=x1)
        x2 = ((end - t0) * k).astype(np.int64)
        np.clip(x2, 0, width - 1, out=x2)
        x2 += 1  # a mark always covers at least the pixel it starts in
        flat = (drow - first) * stride if first else drow * stride
        x1 += flat
        x2 += flat
        size = rows * stride
        cov = np.bincount(x1, minlength=size) - np.bincount(x2, minlength=size)
        cov = cov.reshape(rows, stride).cumsum(axis=1)[:, :width]
        vis.coverage = cov if clip else cov[row0:row1]
        if raised.any():
            err = (np.bincount(x1[raised], minlength=size)
                   - np.bincount(x2[raised], minlength=size))
            err = err.reshape(rows, stride).cumsum(axis=1)[:, :width]
            vis.errors = err if clip else err[row0:row1]
        return vis

    def hit(self, t: float, row: int, tolerance: float) -> int | None:
        """The innermost (shortest) mark on display row ``row`` covering time ``t``."""
        if self.hi == self.lo:
            return None
        s = slice(self.lo, self.hi)
        idx = np.flatnonzero((self.ts[s] <= t + tolerance) & (self.end[s] >= t - tolerance))
        if not len(idx):
            return None
        idx = idx[self.drow[s][idx] == row]
        if not len(idx):
            return None
        best = idx[np.argmin(self.end[s][idx] - self.ts[s][idx])]
        return int(self.rows[self.lo + best])
