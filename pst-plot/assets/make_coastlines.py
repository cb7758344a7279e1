"""Coastlines for pst-plot from Natural Earth 1:110m land (public domain), as
packaged in TopoJSON by the npm package world-atlas 2.0.2 (ISC):

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python3 make_coastlines.py package/land-110m.json coastlines_110m.txt

Every arc of the land polygons, decoded from TopoJSON's quantised deltas to
degrees (two decimals), one polyline per line as `lon,lat` pairs; segments
that only close the polygons along the antimeridian or along the bottom of
Antarctica are dropped, since they are no coast.
"""
import json
import sys

topo = json.load(open(sys.argv[1]))
(sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]


def artificial(a, b):
    on_meridian = abs(abs(a[0]) - 180) < 1e-6 and abs(abs(b[0]) - 180) < 1e-6
    on_bottom = a[1] < -84.0 and b[1] < -84.0
    return on_meridian or on_bottom


lines = []
for arc in topo["arcs"]:
    x = y = 0
    points = []
    for dx, dy in arc:
        x += dx
        y += dy
        points.append((x * sx + tx, y * sy + ty))
    current = [points[0]]
    for a, b in zip(points, points[1:]):
        if artificial(a, b):
            if len(current) > 1:
                lines.append(current)
            current = [b]
        else:
            current.append(b)
    if len(current) > 1:
        lines.append(current)

with open(sys.argv[2], "w") as f:
    for line in lines:
        f.write(" ".join(f"{lon:.2f},{lat:.2f}" for lon, lat in line) + "\n")
print(len(lines), "polylines,", sum(len(l) for l in lines), "points", file=sys.stderr)
