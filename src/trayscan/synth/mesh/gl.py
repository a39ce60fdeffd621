"""Software OpenGL (Mesa llvmpipe through EGL, no GPU or display) that shades a scene of textured meshes.

Shading: one key light with a shadow map (PCF softness set per scene), a fill light, a sky/ground ambient, and
Blinn-Phong highlights whose colour follows the material's metalness. Transparent parts are blended after the
opaque ones. The camera is a pinhole with radial lens distortion applied per vertex, so every pass (the photo
and the item id pass that gives the annotations) sees the same bent geometry.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trayscan.synth.mesh.geometry import Mesh

_VERTEX = """
#version 330
uniform mat4 view_proj;
uniform mat4 light_vp;
uniform vec3 distortion;  // k1, k2, aspect
uniform int distort;
in vec3 in_pos; in vec3 in_nrm; in vec2 in_uv;
out vec3 v_pos; out vec3 v_nrm; out vec2 v_uv; out vec4 v_light;
void main() {
    vec4 clip = view_proj * vec4(in_pos, 1.0);
    if (distort == 1 && clip.w > 0.0) {
        vec2 ndc = clip.xy / clip.w;
        vec2 q = vec2(ndc.x * distortion.z, ndc.y);
        // r2 = 1 at the image corners; held at 1.5 beyond them so that far geometry never folds back in.
        float r2 = min(dot(q, q) / (1.0 + distortion.z * distortion.z), 1.5);
        ndc *= 1.0 + distortion.x * r2 + distortion.y * r2 * r2;
        clip.xy = ndc * clip.w;
    }
    gl_Position = clip;
    v_pos = in_pos; v_nrm = in_nrm; v_uv = in_uv;
    v_light = light_vp * vec4(in_pos, 1.0);
}
"""

_SHADE = """
#version 330
uniform sampler2D tex;
uniform sampler2DShadow shadow_map;
uniform vec3 eye;
uniform vec3 key_dir; uniform vec3 key_col;
uniform vec3 fill_dir; uniform vec3 fill_col;
uniform vec3 sky; uniform vec3 ground;
uniform float spec; uniform float shininess; uniform float metallic; uniform float opacity;
uniform vec3 tint;
uniform float pcf;  // softness radius in shadow-map texels
uniform float exposure;
in vec3 v_pos; in vec3 v_nrm; in vec2 v_uv; in vec4 v_light;
out vec4 frag;
float lit() {
    vec3 p = v_light.xyz / v_light.w * 0.5 + 0.5;
    if (p.x < 0.0 || p.x > 1.0 || p.y < 0.0 || p.y > 1.0) return 1.0;
    float texel = 1.0 / float(textureSize(shadow_map, 0).x);
    // 8 taps on a rotated ring, each a bilinear 2x2 comparison: soft edges at a fraction of a full PCF grid.
    const vec2 taps[8] = vec2[](vec2(-0.94, -0.34), vec2(0.94, 0.34), vec2(-0.34, 0.94), vec2(0.34, -0.94),
                                vec2(-0.5, -0.2), vec2(0.5, 0.2), vec2(-0.2, 0.5), vec2(0.2, -0.5));
    float s = 0.0;
    for (int i = 0; i < 8; i++)
        s += texture(shadow_map, vec3(p.xy + taps[i] * pcf * texel, p.z - 0.0015));
    return s / 8.0;
}
void main() {
    vec4 t = texture(tex, v_uv);
    vec3 albedo = t.rgb * t.rgb * tint;  // sRGB to linear, close enough for synthetic art
    vec3 n = normalize(v_nrm);
    vec3 v = normalize(eye - v_pos);
    if (dot(n, v) < 0.0) n = -n;  // thin sheets are seen from both sides; winding is not relied on
    float shadow = lit();
    float ndl = max(dot(n, key_dir), 0.0);
    float fdl = max(dot(n, fill_dir), 0.0);
    vec3 ambient = mix(ground, sky, 0.5 + 0.5 * n.z);
    vec3 diffuse = albedo * (1.0 - 0.7 * metallic) * (ambient + key_col * ndl * shadow + fill_col * fdl);
    vec3 spec_col = mix(vec3(1.0), albedo * 1.5, metallic);
    float fresnel = 0.04 + 0.96 * pow(1.0 - max(dot(n, v), 0.0), 5.0);
    vec3 h = normalize(key_dir + v);
    vec3 hf = normalize(fill_dir + v);
    float norm = (shininess + 8.0) / 25.0;
    vec3 highlight = spec * norm * spec_col * (key_col * pow(max(dot(n, h), 0.0), shininess) * shadow * step(0.0, ndl)
                                               + fill_col * pow(max(dot(n, hf), 0.0), shininess));
    // A crude environment: metal mirrors the sky above it, more at grazing angles.
    vec3 env = metallic * albedo * mix(ground, sky, 0.5 + 0.5 * reflect(-v, n).z) * (0.6 + fresnel);
    vec3 colour = (diffuse + highlight + env + spec * fresnel * ambient * 0.3) * exposure;
    colour = colour / (1.0 + 0.15 * colour);  // soft shoulder instead of hard clipping
    frag = vec4(sqrt(clamp(colour, 0.0, 1.0)), t.a * opacity);
}
"""

_ID = """
#version 330
uniform float object_id;
out vec4 frag;
void main() { frag = vec4(object_id / 255.0, 0.0, 0.0, 1.0); }
"""

_DEPTH = """
#version 330
void main() {}
"""

_DEPTH_VERTEX = """
#version 330
uniform mat4 light_vp;
in vec3 in_pos;
void main() { gl_Position = light_vp * vec4(in_pos, 1.0); }
"""

SHADOW_SIZE = 2048
TEXTURE_CACHE = 512


@dataclass(frozen=True)
class Material:
    spec: float
    shininess: float
    metallic: float = 0.0
    opacity: float = 1.0  # < 1, or a texture alpha < 1: drawn in the blended pass

    @property
    def transparent(self) -> bool:
        return self.opacity < 1.0


@dataclass
class Draw:
    """One part of one scene object, in world coordinates."""

    mesh: Mesh
    texture: np.ndarray  # RGBA uint8, cached on the GPU by identity
    material: Material
    object_id: int  # 1..255 for annotated objects, 0 for the tray and anything not annotated
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)
    blended: bool = False  # draw after the opaque parts with alpha blending (texture alpha < 1)


@dataclass(frozen=True)
class Camera:
    view_proj: np.ndarray  # 4x4
    eye: np.ndarray  # world position
    k1: float = 0.0  # radial distortion (negative: barrel)
    k2: float = 0.0


@dataclass(frozen=True)
class Lighting:
    key_dir: np.ndarray  # unit vector towards the key light
    key_col: tuple[float, float, float]
    fill_dir: np.ndarray
    fill_col: tuple[float, float, float]
    sky: tuple[float, float, float]
    ground: tuple[float, float, float]
    softness: float  # PCF radius in shadow-map texels
    exposure: float = 1.0
    light_vp: np.ndarray = field(default_factory=lambda: np.eye(4))


def _mat(m: np.ndarray) -> bytes:
    return np.ascontiguousarray(m.T, dtype="f4").tobytes()


class Renderer:
    """One GL context for the process, with cached programs, targets and textures."""

    def __init__(self) -> None:
        import moderngl  # imported here: only the mesh renderer needs it

        self._mgl: Any = moderngl
        self.ctx: Any = moderngl.create_standalone_context(backend="egl")  # type: ignore[arg-type]
        self.shade: Any = self.ctx.program(vertex_shader=_VERTEX, fragment_shader=_SHADE)
        self.ids: Any = self.ctx.program(vertex_shader=_VERTEX, fragment_shader=_ID)
        self.depth: Any = self.ctx.program(vertex_shader=_DEPTH_VERTEX, fragment_shader=_DEPTH)
        self.shadow_tex = self.ctx.depth_texture((SHADOW_SIZE, SHADOW_SIZE))
        self.shadow_tex.compare_func = "<="
        self.shadow_tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
        self.shadow_fbo = self.ctx.framebuffer(depth_attachment=self.shadow_tex)
        self._targets: dict[tuple[int, int], Any] = {}
        self._textures: OrderedDict[int, tuple[np.ndarray, Any]] = OrderedDict()

    def _target(self, width: int, height: int) -> Any:
        key = (width, height)
        if key not in self._targets:
            ctx = self.ctx
            self._targets[key] = ctx.framebuffer(color_attachments=[ctx.renderbuffer((width, height), 4)],
                                                 depth_attachment=ctx.depth_renderbuffer((width, height)))
        return self._targets[key]

    def _texture(self, rgba: np.ndarray) -> Any:
        key = id(rgba)
        hit = self._textures.get(key)
        if hit is not None and hit[0] is rgba:
            self._textures.move_to_end(key)
            return hit[1]
        h, w = rgba.shape[:2]
        # Row 0 of the array is texture coordinate v = 0: meshes put v = 0 at the top of their art.
        tex = self.ctx.texture((w, h), 4, np.ascontiguousarray(rgba).tobytes())
        tex.build_mipmaps()
        tex.filter = (self._mgl.LINEAR_MIPMAP_LINEAR, self._mgl.LINEAR)
        tex.anisotropy = 4.0
        self._textures[key] = (rgba, tex)
        while len(self._textures) > TEXTURE_CACHE:
            _, (_, old) = self._textures.popitem(last=False)
            old.release()
        return tex

    def _vao(self, program: Any, mesh: Mesh, position_only: bool = False) -> tuple[Any, Any]:
        vbo = self.ctx.buffer(np.ascontiguousarray(mesh, dtype="f4").tobytes())
        if position_only:
            return vbo, self.ctx.vertex_array(program, [(vbo, "3f 20x", "in_pos")])
        return vbo, self.ctx.vertex_array(program, [(vbo, "3f 3f 2f", "in_pos", "in_nrm", "in_uv")])

    def _camera_uniforms(self, program: Any, camera: Camera, width: int, height: int) -> None:
        program["view_proj"].write(_mat(camera.view_proj))
        program["distortion"].value = (camera.k1, camera.k2, width / height)
        program["distort"].value = 1

    def photo(self, draws: list[Draw], camera: Camera, light: Lighting, width: int, height: int) -> np.ndarray:
        """The shaded scene as RGB float32 0..255 (no antialiasing: the camera's blur softens edges)."""
        ctx, mgl = self.ctx, self._mgl
        released: list[Any] = []
        # Shadow map from the key light.
        self.shadow_fbo.use()
        self.shadow_fbo.clear(depth=1.0)
        ctx.enable(mgl.DEPTH_TEST)
        ctx.disable(mgl.BLEND)
        self.depth["light_vp"].write(_mat(light.light_vp))
        for d in draws:
            if d.object_id == 0 and d.mesh[:, 2].max() < 1e-3:
                continue  # the tray itself casts nothing
            vbo, vao = self._vao(self.depth, d.mesh, position_only=True)
            vao.render()
            released += [vao, vbo]
        target = self._target(width, height)
        target.use()
        target.clear(0.0, 0.0, 0.0, 1.0, depth=1.0)
        p = self.shade
        self._camera_uniforms(p, camera, width, height)
        p["light_vp"].write(_mat(light.light_vp))
        p["eye"].value = tuple(float(v) for v in camera.eye)
        p["key_dir"].value = tuple(float(v) for v in light.key_dir)
        p["key_col"].value = light.key_col
        p["fill_dir"].value = tuple(float(v) for v in light.fill_dir)
        p["fill_col"].value = light.fill_col
        p["sky"].value = light.sky
        p["ground"].value = light.ground
        p["pcf"].value = light.softness
        p["exposure"].value = light.exposure
        p["tex"].value = 0
        p["shadow_map"].value = 1
        self.shadow_tex.use(location=1)
        # Opaque parts nearest first, so that early depth testing skips shading what is hidden (the tray under
        # the items); see-through parts after them, farthest first, blended over what they cover.
        opaque = sorted((d for d in draws if not d.blended), key=lambda d: -float(d.mesh[:, 2].max()))
        ordered = opaque + sorted((d for d in draws if d.blended), key=lambda d: float(d.mesh[:, 2].max()))
        for d in ordered:
            if d.blended:
                ctx.enable(mgl.BLEND)
                ctx.blend_func = mgl.SRC_ALPHA, mgl.ONE_MINUS_SRC_ALPHA
            self._texture(d.texture).use(location=0)
            p["spec"].value = d.material.spec
            p["shininess"].value = d.material.shininess
            p["metallic"].value = d.material.metallic
            p["opacity"].value = d.material.opacity
            p["tint"].value = d.tint
            vbo, vao = self._vao(p, d.mesh)
            vao.render()
            released += [vao, vbo]
        ctx.disable(mgl.BLEND)
        data = target.read(components=3, alignment=1)
        for obj in released:
            obj.release()
        img = np.frombuffer(data, np.uint8).reshape(height, width, 3)[::-1]
        return img.astype(np.float32)

    def object_ids(self, draws: list[Draw], camera: Camera, width: int, height: int, only: int | None = None,
                   window: tuple[int, int, int, int] | None = None) -> np.ndarray:
        """uint8 [height, width]: which object each pixel shows (0: none). `only` draws that object alone;
        `window` (x1, y1, x2, y2 in pixels, y down) limits clearing, drawing and reading to that region, and
        the answer is that region only."""
        ctx, mgl = self.ctx, self._mgl
        target = self._target(width, height)
        target.use()
        x1, y1, x2, y2 = window or (0, 0, width, height)
        gl_window = (x1, height - y2, x2 - x1, y2 - y1)  # GL's origin is the bottom-left corner
        target.scissor = gl_window
        target.clear(0.0, 0.0, 0.0, 1.0, depth=1.0)
        ctx.enable(mgl.DEPTH_TEST)
        ctx.disable(mgl.BLEND)
        p = self.ids
        self._camera_uniforms(p, camera, width, height)
        released: list[Any] = []
        for d in draws:
            if only is not None and d.object_id != only:
                continue
            p["object_id"].value = float(d.object_id)
            vbo, vao = self._vao(p, d.mesh, position_only=True)
            vao.render()
            released += [vao, vbo]
        data = target.read(viewport=gl_window, components=1, alignment=1)
        target.scissor = None
        for obj in released:
            obj.release()
        return np.frombuffer(data, np.uint8).reshape(y2 - y1, x2 - x1)[::-1].copy()


_RENDERER: Renderer | None = None


def renderer() -> Renderer:
    """The process's renderer, made on first use (each worker process makes its own)."""
    global _RENDERER
    if _RENDERER is None:
        os.environ.setdefault("EGL_PLATFORM", "surfaceless")
        _RENDERER = Renderer()
    return _RENDERER


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    f = target - eye
    f = f / np.linalg.norm(f)
    s = np.cross(f, up)
    s = s / np.linalg.norm(s)
    u = np.cross(s, f)
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = s, u, -f
    m[:3, 3] = -m[:3, :3] @ eye
    return m


def perspective(fov_y: float, aspect: float, near: float, far: float) -> np.ndarray:
    f = 1 / np.tan(fov_y / 2)
    m = np.zeros((4, 4))
    m[0, 0], m[1, 1] = f / aspect, f
    m[2, 2], m[2, 3] = (far + near) / (near - far), 2 * far * near / (near - far)
    m[3, 2] = -1
    return m


def orthographic(half_w: float, half_h: float, near: float, far: float) -> np.ndarray:
    m = np.eye(4)
    m[0, 0], m[1, 1] = 1 / half_w, 1 / half_h
    m[2, 2], m[2, 3] = -2 / (far - near), -(far + near) / (far - near)
    return m


def project(points: np.ndarray, camera: Camera, width: int, height: int) -> np.ndarray:
    """World points [n, 3] -> pixel coordinates [n, 2] (x right, y down), with the same lens distortion."""
    hom = np.concatenate([points, np.ones((len(points), 1))], 1) @ camera.view_proj.T
    ndc = hom[:, :2] / hom[:, 3:4]
    aspect = width / height
    q = ndc * [aspect, 1.0]
    r2 = np.minimum((q ** 2).sum(1, keepdims=True) / (1 + aspect * aspect), 1.5)
    ndc = ndc * (1 + camera.k1 * r2 + camera.k2 * r2 * r2)
    return np.stack([(ndc[:, 0] + 1) / 2 * width, (1 - ndc[:, 1]) / 2 * height], 1)
