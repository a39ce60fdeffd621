"""Mesh-renderer photos: a kiosk tray seen from above in perspective, and enrolment shots of one product
(a clerk's phone photo, or the product alone on the kiosk tray).

Items stand or lie, lean on each other, and may be hidden in part; every annotation is measured on the
rendered id buffer: the box is the item's whole silhouette (drawn alone), the visible fraction the share of
it that the finished scene shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from trayscan.synth.mesh import geometry as g
from trayscan.synth.mesh.catalog import NON_PRODUCTS
from trayscan.synth.mesh.gl import Camera, Draw, look_at, perspective, project, renderer
from trayscan.synth.mesh.objects import MATERIALS, SceneObject, non_product_object, product_object
from trayscan.synth.mesh.optics import develop
from trayscan.synth.mesh.styles import BY_NAME, STANDARD, Style, lighting, surface
from trayscan.synth.world import Product

REPEAT_PROB = 0.35  # the next item is another unit of an SKU already on the tray
TOUCH_PROB = 0.5  # such a repeat is put flush against its twin
LEAN_PROB = 0.3  # an item may rest partly on others
MIN_VISIBLE = 0.5  # items hidden more than this are taken off the tray before the photo
CELL_CM = 0.5  # placement grid
PLACEMENT_TRIES = 40


@dataclass(frozen=True)
class Item:
    product: Product | None  # None: a non-product (phone, keys, ...)
    kind: str  # pack shape or non-product kind
    box: tuple[int, int, int, int]  # x1, y1, x2, y2 (exclusive), whole item, clipped to the photo
    visible_fraction: float


@dataclass
class _Placed:
    obj: SceneObject
    matrix: np.ndarray
    footprint: np.ndarray  # bool grid cells covered
    top: float  # highest point, cm


# ---------------------------------------------------------------- poses

def _pose(obj: SceneObject, rng: np.random.Generator) -> np.ndarray:
    """A resting rotation for the object's shape (lying on the front, standing, rolled onto its side)."""
    kind = obj.kind
    yaw = g.rotation([0, 0, 1], rng.uniform(0, 2 * np.pi))
    roll = g.rotation([0, 0, 1], rng.uniform(0, 2 * np.pi))
    tip = g.rotation([1, 0, 0], np.pi / 2)
    face_up = g.rotation([1, 0, 0], -np.pi / 2)  # the box's front (-y face) turned to the camera
    u = rng.random()
    if kind == "box":
        if u < 0.55:
            rot = face_up
        elif u < 0.7:
            rot = g.rotation([1, 0, 0], np.pi / 2)
        elif u < 0.85:
            rot = g.rotation([0, 1, 0], np.pi / 2) @ face_up
        else:
            rot = np.eye(4)
    elif kind in ("can", "jar", "cup"):
        standing = {"can": 0.35, "jar": 0.65, "cup": 0.75}[kind]
        rot = np.eye(4) if u < standing else tip @ roll
    elif kind in ("bottle", "tube"):
        rot = np.eye(4) if (kind == "bottle" and u < 0.12) else tip @ roll
    elif kind in ("pouch", "coin purse"):
        rot = np.eye(4) if u < 0.75 else g.rotation([0, 1, 0], np.pi)
    else:
        rot = np.eye(4)
    return yaw @ rot


def _vertices(obj: SceneObject, matrix: np.ndarray) -> np.ndarray:
    pts = np.concatenate([mesh[:, :3] for mesh, _, _ in obj.parts])
    return pts @ matrix[:3, :3].T + matrix[:3, 3]


def _settle(obj: SceneObject, rot: np.ndarray) -> np.ndarray:
    """The rotation followed by the shift that centres the object on the origin, resting on z = 0."""
    pts = _vertices(obj, rot)
    lo, hi = pts.min(0), pts.max(0)
    return g.translation(-(lo[0] + hi[0]) / 2, -(lo[1] + hi[1]) / 2, -lo[2]) @ rot


# ---------------------------------------------------------------- placement on a grid of cells

class _Tray:
    def __init__(self, half_w: float, half_h: float):
        self.half_w, self.half_h = half_w, half_h
        self.shape = (int(2 * half_h / CELL_CM) + 1, int(2 * half_w / CELL_CM) + 1)
        self.height = np.zeros(self.shape, np.float32)

    def footprint(self, pts: np.ndarray) -> np.ndarray | None:
        cells = np.stack([(pts[:, 0] + self.half_w) / CELL_CM, (self.half_h - pts[:, 1]) / CELL_CM], 1)
        if (cells < 0).any() or (cells[:, 0] >= self.shape[1]).any() or (cells[:, 1] >= self.shape[0]).any():
            return None
        hull = cv2.convexHull(cells.astype(np.float32)).astype(np.int32)
        mask = np.zeros(self.shape, np.uint8)
        cv2.fillConvexPoly(mask, hull, 1)
        return mask.astype(bool)


def _place(obj: SceneObject, tray: _Tray, placed: list[_Placed], rng: np.random.Generator) -> _Placed | None:
    base = _settle(obj, _pose(obj, rng))
    twins = [p for p in placed if obj.product is not None and p.obj.product == obj.product]
    touching = bool(twins) and rng.random() < TOUCH_PROB
    may_lean = rng.random() < LEAN_PROB
    local = _vertices(obj, base)
    extent = local[:, :2].max(0)
    for attempt in range(PLACEMENT_TRIES):
        if touching and attempt < PLACEMENT_TRIES // 3:
            twin = twins[-1]
            base = _settle(obj, _rotation_of(twin.matrix))  # the twin's pose, side by side with it
            across = g.rotation([0, 0, 1], np.pi / 2)[:3, :3] @ twin.matrix[:3, :3] @ np.array([1.0, 0, 0])
            step = (extent[0] if abs(across[0]) >= abs(across[1]) else extent[1]) * 2 + rng.uniform(-0.1, 0.3)
            side = 1 if rng.random() < 0.5 else -1
            x, y = twin.matrix[0, 3] + side * across[0] * step, twin.matrix[1, 3] + side * across[1] * step
        else:
            x = rng.uniform(-tray.half_w + extent[0], tray.half_w - extent[0])
            y = rng.uniform(-tray.half_h + extent[1], tray.half_h - extent[1])
        matrix = g.translation(x, y, 0) @ base
        pts = _vertices(obj, matrix)
        mask = tray.footprint(pts)
        if mask is None or not mask.any():
            continue
        under = tray.height[mask]
        overlap = float((under > 0).mean())
        if overlap > 0 and not (may_lean and overlap <= 0.4):
            continue
        if overlap > 0:
            matrix = _lean(obj, matrix, mask, tray, float(under.max()))
            pts = _vertices(obj, matrix)
        top = float(pts[:, 2].max())
        tray.height[mask] = np.maximum(tray.height[mask], top)
        return _Placed(obj, matrix, mask, top)
    return None


def _rotation_of(matrix: np.ndarray) -> np.ndarray:
    rot = np.eye(4)
    rot[:3, :3] = matrix[:3, :3]
    return rot


def _lean(obj: SceneObject, matrix: np.ndarray, mask: np.ndarray, tray: _Tray, under_top: float) -> np.ndarray:
    """Tilts the object so that its side over other items rests on them, the other side on the tray."""
    rows, cols = np.nonzero(mask & (tray.height > 0))
    cx = cols.mean() * CELL_CM - tray.half_w
    cy = tray.half_h - rows.mean() * CELL_CM
    centre = matrix[:3, 3]
    d = np.array([cx - centre[0], cy - centre[1], 0.0])
    if np.linalg.norm(d) < 1e-6:
        d = np.array([1.0, 0.0, 0.0])
    d /= np.linalg.norm(d)
    pts = _vertices(obj, matrix)
    span = float(np.ptp(pts[:, :2] @ d[:2])) + 1e-6
    angle = float(np.arcsin(min(0.6, under_top / span)))
    axis = np.cross(d, [0.0, 0.0, 1.0])
    tilted = g.translation(*centre) @ g.rotation(axis, -angle) @ g.translation(*(-centre)) @ matrix
    lift = -_vertices(obj, tilted)[:, 2].min()
    return g.translation(0, 0, lift) @ tilted


# ---------------------------------------------------------------- rendering

def _draws(placed: list[_Placed], tray_mesh: np.ndarray, tray_tex: np.ndarray) -> list[Draw]:
    draws = [Draw(tray_mesh, tray_tex, MATERIALS["board"], 0)]
    for object_id, p in enumerate(placed, start=1):
        for mesh, tex, mat in p.obj.posed(p.matrix):
            draws.append(Draw(mesh, tex, MATERIALS[mat], object_id, blended=bool((tex[..., 3] < 255).any())))
    return draws


def tray_plane(half_w: float, half_h: float) -> np.ndarray:
    """The tray surface, four times the seen half-extent each way: under the strongest barrel distortion the
    photo's corners look far outside the undistorted view, and must still see the tray."""
    return g.plane(half_w * 8.0, half_h * 8.0, 40, 32)


def _kiosk_camera(rng: np.random.Generator, style: Style, width: int, height: int) -> tuple[Camera, float, float]:
    """A camera above the tray, slightly off-centre and tilted; returns it and the half-extent seen (cm)."""
    cam_h = rng.uniform(55, 75)
    fov = np.deg2rad(rng.uniform(38, 48))
    aspect = width / height
    half_h = cam_h * np.tan(fov / 2)
    half_w = half_h * aspect
    eye = np.array([rng.uniform(-0.06, 0.06) * half_w, rng.uniform(-0.06, 0.06) * half_h, cam_h])
    target = np.array([rng.uniform(-0.08, 0.08) * half_w, rng.uniform(-0.08, 0.08) * half_h, 0.0])
    yaw = rng.uniform(-0.08, 0.08) + (np.pi if rng.random() < 0.5 else 0.0)
    up = np.array([np.sin(yaw), np.cos(yaw), 0.0])
    view_proj = perspective(fov, aspect, 5.0, 300.0) @ look_at(eye, target, up)
    camera = Camera(view_proj, eye, float(rng.uniform(*style.distortion_k1)), float(rng.uniform(-0.02, 0.02)))
    return camera, half_w, half_h


def _annotate(draws: list[Draw], camera: Camera, n_objects: int, width: int,
              height: int) -> tuple[list[tuple[int, int, int, int] | None], np.ndarray]:
    """Each object's whole-silhouette box (None when it is out of the picture) and its visible fraction."""
    r = renderer()
    seen = np.bincount(r.object_ids(draws, camera, width, height).ravel(), minlength=n_objects + 1)
    boxes: list[tuple[int, int, int, int] | None] = []
    visible = np.zeros(n_objects + 1)
    for k in range(1, n_objects + 1):
        pts = np.concatenate([d.mesh[:, :3] for d in draws if d.object_id == k])
        xy = project(pts, camera, width, height)
        # The projected vertices bound the silhouette; the id pass inside that window gives it exactly.
        x1, y1 = (int(np.clip(np.floor(v) - 2, 0, lim)) for v, lim in zip(xy.min(0), (width, height), strict=True))
        x2, y2 = (int(np.clip(np.ceil(v) + 2, 0, lim)) for v, lim in zip(xy.max(0), (width, height), strict=True))
        alone = (r.object_ids(draws, camera, width, height, only=k, window=(x1, y1, x2, y2)) == k
                 if x2 > x1 and y2 > y1 else np.zeros((0, 0), bool))
        area = int(alone.sum())
        if area == 0:
            boxes.append(None)
            continue
        ys, xs = np.nonzero(alone)
        boxes.append((x1 + int(xs.min()), y1 + int(ys.min()), x1 + int(xs.max()) + 1, y1 + int(ys.max()) + 1))
        visible[k] = seen[k] / area
    return boxes, visible


def render_tray(products: list[Product], rng: np.random.Generator, width: int, height: int, min_items: int,
                max_items: int, style: str) -> tuple[np.ndarray, list[Item]]:
    """A tray photo (RGB uint8) and its items (products and non-products), every box on a visible item."""
    st = BY_NAME[style]
    camera, half_w, half_h = _kiosk_camera(rng, st, width, height)
    n_items = int(rng.integers(min_items, max_items + 1))
    objects: list[SceneObject] = []
    chosen: list[Product] = []
    for _ in range(n_items):
        if chosen and rng.random() < REPEAT_PROB:
            product = chosen[int(rng.integers(len(chosen)))]
        else:
            product = products[int(rng.integers(len(products)))]
        chosen.append(product)
        objects.append(product_object(product))
    if rng.random() < st.non_product_prob:
        for _ in range(int(rng.integers(1, 3))):
            objects.insert(int(rng.integers(len(objects) + 1)),
                           non_product_object(str(rng.choice(NON_PRODUCTS)), rng))
    tray = _Tray(half_w * 0.86, half_h * 0.86)
    placed: list[_Placed] = []
    for obj in objects:
        p = _place(obj, tray, placed, rng)
        if p is not None:
            placed.append(p)
    tray_mesh = tray_plane(half_w, half_h)
    tray_tex = surface(st, rng)
    light = lighting(st, rng, max(half_w, half_h) * 1.6)
    draws = _draws(placed, tray_mesh, tray_tex)
    boxes, visible = _annotate(draws, camera, len(placed), width, height)
    keep = [k for k in range(len(placed)) if boxes[k] is not None and visible[k + 1] >= MIN_VISIBLE]
    if len(keep) < len(placed):  # take the buried items away and measure again
        placed = [placed[k] for k in keep]
        draws = _draws(placed, tray_mesh, tray_tex)
        boxes, visible = _annotate(draws, camera, len(placed), width, height)
    photo = develop(renderer().photo(draws, camera, light, width, height), rng, st.sensor)
    items = []
    for k, p in enumerate(placed):
        box = boxes[k]
        if box is None or visible[k + 1] <= 0:
            continue
        items.append(Item(p.obj.product, p.obj.kind, box, round(float(min(visible[k + 1], 1.0)), 4)))
    return photo, items


def render_enrolment(product: Product, rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int, int, int], str]:
    """An enrolment photo of one product, its box and where it was taken: `phone` or `kiosk`.

    phone: a clerk's hand-held shot, 640x480, from any side at an angle, on a plain or cluttered surface;
    kiosk: the product alone on the tray under the kiosk camera, 1280x960.
    """
    if rng.random() < 0.25:
        photo, items = render_tray([product], rng, 1280, 960, 1, 1, STANDARD.name)
        for item in items:
            if item.product == product:
                return photo, item.box, "kiosk"
    width, height = 640, 480
    obj = product_object(product)
    rot = _settle(obj, _pose(obj, rng))
    held = rng.random() < 0.3
    lift = rng.uniform(5, 25) if held else 0.0
    matrix = g.translation(0, 0, lift) @ (g.rotation(rng.normal(size=3), rng.uniform(0, 0.6)) if held else np.eye(4)) @ rot
    pts = _vertices(obj, matrix)
    size = float(np.linalg.norm(np.ptp(pts, 0)))
    centre = (pts.min(0) + pts.max(0)) / 2
    fov = np.deg2rad(rng.uniform(50, 64))
    distance = size / 2 / np.tan(fov / 2) / rng.uniform(0.55, 0.9)
    elev = np.deg2rad(rng.uniform(35, 88))
    azim = rng.uniform(0, 2 * np.pi)
    eye = centre + distance * np.array([np.cos(elev) * np.cos(azim), np.cos(elev) * np.sin(azim), np.sin(elev)])
    up = np.array([0.0, 0.0, 1.0]) if elev < np.deg2rad(80) else np.array([np.cos(azim), np.sin(azim), 0.0])
    camera = Camera(perspective(fov, width / height, 1.0, 500.0) @ look_at(eye, centre, up), eye,
                    float(rng.uniform(-0.06, 0.02)))
    placed = [_Placed(obj, matrix, np.zeros((1, 1), bool), float(pts[:, 2].max()))]
    if rng.random() < 0.4:  # clutter: the desk holds other things around the product
        for _ in range(int(rng.integers(1, 4))):
            other = non_product_object(str(rng.choice(NON_PRODUCTS)), rng)
            ang = rng.uniform(0, 2 * np.pi)
            dist = size * rng.uniform(0.7, 1.3)
            placed.append(_Placed(other, g.translation(centre[0] + dist * np.cos(ang), centre[1] + dist * np.sin(ang), 0)
                                  @ _settle(other, _pose(other, rng)), np.zeros((1, 1), bool), 0.0))
    desk = surface(STANDARD, rng, (512, 512))
    extent = size * 6
    light = lighting(STANDARD, rng, extent)
    draws = _draws(placed, g.plane(extent * 4, extent * 4, 16, 16), desk)
    boxes, _ = _annotate(draws, camera, 1, width, height)
    photo = develop(renderer().photo(draws, camera, light, width, height), rng, STANDARD.sensor)
    box = boxes[0] or (0, 0, width, height)
    return photo, box, "phone"
