"""Triangle meshes of packs and tray objects, in centimetres, z up, resting on z = 0 when standing.

A mesh is a float32 array [n_vertices, 8]: position (3), normal (3), texture uv (2); every three rows are a
triangle. Faces are subdivided finely enough that the lens distortion applied per vertex (gl.py) bends them
smoothly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

Mesh = np.ndarray


@dataclass(frozen=True)
class Part:
    """One draw of an object: its mesh, which texture it samples and its material."""

    mesh: Mesh
    texture: str  # key into the object's textures ("front", "side", "label", "plain", ...)
    material: str  # key into materials.MATERIALS


def _grid(nu: int, nv: int) -> tuple[np.ndarray, np.ndarray]:
    u, v = np.meshgrid(np.linspace(0, 1, nu + 1), np.linspace(0, 1, nv + 1), indexing="xy")
    return u, v


def _triangulate(pos: np.ndarray, nrm: np.ndarray, uv: np.ndarray) -> Mesh:
    """Grid arrays [nv+1, nu+1, k] -> triangle list."""
    rows, cols = pos.shape[:2]
    a = np.arange(rows * cols).reshape(rows, cols)
    quads = np.stack([a[:-1, :-1], a[:-1, 1:], a[1:, 1:], a[1:, :-1]], -1).reshape(-1, 4)
    tri = np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]]).reshape(-1)
    flat = np.concatenate([pos.reshape(-1, 3), nrm.reshape(-1, 3), uv.reshape(-1, 2)], 1)
    return flat[tri].astype(np.float32)


def plane(width: float, height: float, nu: int = 24, nv: int = 18) -> Mesh:
    """A flat rectangle in z = 0 centred on the origin, facing up; uv 0..1 across it."""
    u, v = _grid(nu, nv)
    pos = np.stack([(u - 0.5) * width, (0.5 - v) * height, np.zeros_like(u)], -1)
    nrm = np.broadcast_to([0.0, 0.0, 1.0], pos.shape)
    return _triangulate(pos, nrm, np.stack([u, v], -1))


def _face(origin: np.ndarray, du: np.ndarray, dv: np.ndarray, n: int = 6) -> Mesh:
    """A parallelogram origin + u*du + v*dv, uv (u, v); its normal is du x dv."""
    u, v = _grid(n, n)
    pos = origin + u[..., None] * du + v[..., None] * dv
    normal = np.cross(du, dv)
    normal = normal / np.linalg.norm(normal)
    return _triangulate(pos, np.broadcast_to(normal, pos.shape), np.stack([u, v], -1))


def box(w: float, d: float, h: float) -> list[Part]:
    """A carton w (x) by d (y) by h (z): front/back faces carry the design, the rest side and top art."""
    x, y, z = w / 2, d / 2, h
    e = np.eye(3)
    front = _face(np.array([-x, -y, z]), e[0] * w, -e[2] * h)  # -y side, seen when lying on its back
    back = _face(np.array([x, y, z]), -e[0] * w, -e[2] * h)
    left = _face(np.array([-x, y, z]), -e[1] * d, -e[2] * h)
    right = _face(np.array([x, -y, z]), e[1] * d, -e[2] * h)
    top = _face(np.array([-x, y, z]), e[0] * w, -e[1] * d)
    bottom = _face(np.array([-x, -y, 0]), e[0] * w, e[1] * d)
    return [Part(front, "front", "board"), Part(back, "back", "board"),
            Part(np.concatenate([left, right]), "side", "board"),
            Part(np.concatenate([top, bottom]), "top", "board")]


def lathe(profile: list[tuple[float, float]], segments: int = 48, v_range: tuple[float, float] = (0.0, 1.0)) -> Mesh:
    """A surface of revolution about z from a profile of (radius, z) points, bottom to top.

    u runs once around, v along the profile from v_range[0] to v_range[1].
    """
    prof = np.asarray(profile, np.float64)
    r, z = prof[:, 0], prof[:, 1]
    seg = np.hypot(np.diff(r), np.diff(z))
    arc = np.concatenate([[0.0], np.cumsum(seg)]) / max(seg.sum(), 1e-9)
    v = v_range[0] + arc * (v_range[1] - v_range[0])
    # Profile tangent -> normal pointing outwards (dz, -dr).
    dr, dz = np.gradient(r), np.gradient(z)
    nr, nz = dz, -dr
    length = np.hypot(nr, nz) + 1e-12
    nr, nz = nr / length, nz / length
    theta = np.linspace(0, 2 * np.pi, segments + 1)
    ct, st = np.cos(theta)[None, :], np.sin(theta)[None, :]
    pos = np.stack([r[:, None] * ct, r[:, None] * st, np.broadcast_to(z[:, None], (len(r), segments + 1))], -1)
    nrm = np.stack([nr[:, None] * ct, nr[:, None] * st, np.broadcast_to(nz[:, None], (len(r), segments + 1))], -1)
    # u runs against the angle: seen from outside, the art then reads left to right, not mirrored.
    uv = np.stack([np.broadcast_to(1 - theta[None, :] / (2 * np.pi), pos.shape[:2]),
                   np.broadcast_to(v[:, None], pos.shape[:2])], -1)
    # Grid rows run bottom to top; flip v so the texture's top row is the pack's top.
    uv[..., 1] = 1 - uv[..., 1]
    return _triangulate(pos, nrm, uv)


def disk(radius: float, z: float, up: bool = True, segments: int = 48) -> Mesh:
    """A flat disk at height z (a lid or a base), uv mapped as a square around it."""
    profile = [(0.0, z), (radius, z)] if not up else [(radius, z), (0.0, z)]
    mesh = lathe(profile, segments)
    mesh[:, 3:6] = [0.0, 0.0, 1.0 if up else -1.0]
    mesh[:, 6] = 0.5 + mesh[:, 0] / (2 * radius)
    mesh[:, 7] = 0.5 - mesh[:, 1] / (2 * radius)
    return mesh


def can(radius: float, height: float) -> list[Part]:
    rim = 0.06 * radius
    body = [(radius * 0.9, 0.0), (radius, 0.05 * height), (radius, 0.92 * height), (radius * 0.88, 0.985 * height)]
    lid = [(radius * 0.88, 0.985 * height), (radius * 0.86, height), (radius * 0.8, height - rim)]
    return [Part(lathe(body, v_range=(0.0, 1.0)), "label", "metal_print"),
            Part(np.concatenate([lathe(lid), disk(radius * 0.8, height - rim), disk(radius * 0.9, 0.0, up=False)]),
                 "plain", "metal")]


def bottle(radius: float, height: float, rng: np.random.Generator) -> list[Part]:
    neck = radius * rng.uniform(0.28, 0.4)
    shoulder = rng.uniform(0.55, 0.72)
    body_prof = [(radius * 0.92, 0.0), (radius, 0.03 * height), (radius, shoulder * height)]
    steps = np.linspace(0, 1, 7)[1:]
    body_prof += [(neck + (radius - neck) * np.cos(t * np.pi / 2), (shoulder + t * (0.86 - shoulder)) * height)
                  for t in steps]
    cap = [(neck * 1.1, 0.86 * height), (neck * 1.1, height), (0.0, height)]
    return [Part(lathe(body_prof), "label", "bottle"),
            Part(np.concatenate([lathe(cap), disk(radius * 0.92, 0.0, up=False)]), "cap", "plastic")]


def jar(radius: float, height: float) -> list[Part]:
    body = [(radius * 0.95, 0.0), (radius, 0.04 * height), (radius, 0.8 * height), (radius * 0.92, 0.84 * height)]
    lid = [(radius * 0.97, 0.84 * height), (radius * 0.97, height), (0.0, height)]
    return [Part(lathe(body), "label", "glass"),
            Part(np.concatenate([lathe(lid), disk(radius * 0.95, 0.0, up=False)]), "cap", "metal")]


def cup(radius: float, height: float) -> list[Part]:
    """A yoghurt or noodle cup: tapered, a printed foil lid on top."""
    body = [(radius * 0.72, 0.0), (radius, height * 0.97), (radius * 1.03, height)]
    return [Part(lathe(body), "label", "film"),
            Part(np.concatenate([disk(radius * 1.03, height), disk(radius * 0.72, 0.0, up=False)]), "top", "foil")]


def tube(radius: float, length: float) -> list[Part]:
    """A squeeze tube: round at the cap, pressed flat at the crimped end."""
    prof = [(radius * 0.45, 0.0), (radius, length * 0.08), (radius, length)]
    mesh = lathe(prof, segments=40)
    t = np.clip(mesh[:, 2] / length, 0, 1)
    flatten = 1 - 0.85 * t ** 1.5  # y squashed towards the crimp
    widen = 1 + 0.35 * t ** 1.5
    mesh[:, 0] *= widen
    mesh[:, 1] *= flatten
    mesh[:, 4] /= np.maximum(flatten, 0.15)
    mesh[:, 3:6] /= np.linalg.norm(mesh[:, 3:6], axis=1, keepdims=True) + 1e-9
    cap = np.concatenate([lathe([(radius * 0.5, -length * 0.12), (radius * 0.5, 0.0)], 32),
                          disk(radius * 0.5, -length * 0.12, up=False)])
    mesh[:, 2] += length * 0.12
    cap[:, 2] += length * 0.12
    return [Part(mesh, "label", "film"), Part(cap, "cap", "plastic")]


def pouch(w: float, h: float, thickness: float, rng: np.random.Generator, n: int = 20) -> list[Part]:
    """A pillow bag lying flat: a bulging front and back, sealed flat strips at both ends, a few wrinkles."""
    u, v = _grid(n, n)
    seal = 0.07
    bulge = np.sin(np.pi * u) ** 0.6 * np.clip(np.sin(np.pi * np.clip((v - seal) / (1 - 2 * seal), 0, 1)), 0, 1) ** 0.5
    phases = rng.uniform(0, 2 * np.pi, 3)
    wrinkle = 0.08 * thickness * (np.sin(9 * u + phases[0]) * np.sin(7 * v + phases[1])
                                  + 0.5 * np.sin(17 * (u + v) + phases[2]))
    z = thickness / 2 * bulge + wrinkle * bulge
    x, y = (u - 0.5) * w * (1 - 0.04 * bulge), (0.5 - v) * h

    def surface(sign: float, tex_flip: bool) -> Mesh:
        pos = np.stack([x, y, thickness / 2 + sign * z], -1)
        gy, gx = np.gradient(pos[..., 2], axis=(0, 1))
        du = np.gradient(x, axis=1)
        dv = np.gradient(y, axis=0)
        nrm = np.stack([-gx / (du + 1e-9) * sign, -gy / (dv - 1e-9) * sign, np.full_like(x, sign)], -1)
        nrm /= np.linalg.norm(nrm, axis=-1, keepdims=True)
        uv = np.stack([1 - u if tex_flip else u, v], -1)
        mesh = _triangulate(pos, nrm, uv)
        if sign < 0:  # keep the winding outward-facing
            mesh = mesh.reshape(-1, 3, 8)[:, ::-1].reshape(-1, 8)
        return mesh

    return [Part(surface(1.0, False), "front", "film"), Part(surface(-1.0, True), "back", "film")]


def curled_sheet(w: float, h: float, curl: float, n: int = 16) -> Mesh:
    """A paper receipt: a thin sheet whose long side curls up."""
    u, v = _grid(4, n)
    y = (0.5 - v) * h
    z = curl * (1 - np.cos(np.pi * np.clip(v - 0.55, 0, 1) / 0.9)) + 0.02
    pos = np.stack([(u - 0.5) * w, y, z], -1)
    nrm = np.broadcast_to([0.0, 0.0, 1.0], pos.shape)
    return _triangulate(pos, nrm, np.stack([u, v], -1))


def transform(mesh: Mesh, matrix: np.ndarray) -> Mesh:
    """Applies a 4x4 rigid transform to positions and normals."""
    out = mesh.copy()
    out[:, :3] = mesh[:, :3] @ matrix[:3, :3].T + matrix[:3, 3]
    out[:, 3:6] = mesh[:, 3:6] @ matrix[:3, :3].T
    return out


def rotation(axis: ArrayLike, angle: float) -> np.ndarray:
    """4x4 rotation about a unit axis through the origin (Rodrigues)."""
    a = np.asarray(axis, np.float64)
    a = a / (np.linalg.norm(a) + 1e-12)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    r = np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k
    m = np.eye(4)
    m[:3, :3] = r
    return m


def translation(x: float, y: float, z: float) -> np.ndarray:
    m = np.eye(4)
    m[:3, 3] = [x, y, z]
    return m
