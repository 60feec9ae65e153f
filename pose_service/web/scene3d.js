// The 3D view: every fitted body from result.glb, animated at the video's time, with orbit controls, a ground
// plane, the video's own viewpoint and a camera behind the rider.

import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";

const UP = new THREE.Vector3(0, 1, 0);
const GROUND_SAMPLES = 40;

/** What every 3D view here starts from: a renderer in `wrap`, a lit scene, a camera with orbit controls. */
export function createStage(wrap, label, fov) {
  const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  renderer.domElement.setAttribute("aria-label", label);
  renderer.domElement.setAttribute("role", "img");
  wrap.append(renderer.domElement);
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0xdfe7f1);
  scene.add(new THREE.HemisphereLight(0xffffff, 0x8090a0, 2.2));
  const sun = new THREE.DirectionalLight(0xffffff, 1.6);
  sun.position.set(3, 6, 4);
  scene.add(sun);
  const camera = new THREE.PerspectiveCamera(fov, 4 / 3, 0.05, 500);
  const controls = new OrbitControls(camera, renderer.domElement);
  return { renderer, scene, camera, controls };
}

export class Scene3D {
  /** wrap: the element to fill; riderNode: glb node name of the rider (e.g. "track_1") or null. */
  constructor(wrap, riderNode) {
    this.wrap = wrap;
    this.riderNode = riderNode;
    Object.assign(this, createStage(wrap, "3D view of the fitted bodies: drag to orbit, scroll to zoom", 50));
    this.controls.addEventListener("change", () => this.render());
    this.actions = [];
    this.bodies = new Map(); // node name -> Object3D
    this.chase = false;
    this.time = 0;
    this.frames = 0;
    this.bonesAnimated = 0;
    this.resizer = new ResizeObserver(() => this.resize());
    this.resizer.observe(wrap);
    // off screen (a phone scrolled to the plots) the view is not drawn at every video frame, only when seen again
    this.onScreen = true;
    this.stale = false;
    this.seen = new IntersectionObserver(([entry]) => {
      this.onScreen = entry.isIntersecting;
      if (this.onScreen && this.stale) this.render();
    });
    this.seen.observe(wrap);
  }

  async load(url) {
    const gltf = await new GLTFLoader().loadAsync(url);
    this.root = gltf.scene;
    this.scene.add(this.root);
    this.mixer = new THREE.AnimationMixer(this.root);
    const animated = new Set();
    for (const clip of gltf.animations) {
      const action = this.mixer.clipAction(clip);
      action.play();
      this.actions.push(action);
      for (const track of clip.tracks) if (track.name.endsWith(".quaternion")) animated.add(track.name);
    }
    this.bonesAnimated = animated.size;
    this.videoCamera = gltf.cameras[0] || null;
    this.root.traverse((obj) => {
      if (obj.isSkinnedMesh || obj.isMesh) {
        obj.frustumCulled = false; // the rest pose's bounds say nothing about where the animation takes it
        const rider = this.riderNode && (obj.name === this.riderNode || obj.parent?.name === this.riderNode);
        obj.material = obj.material.clone();
        obj.material.color = new THREE.Color(rider ? 0xff6a00 : 0x5c8cd1);
        const name = obj.name.startsWith("track_") ? obj.name : obj.parent?.name;
        if (name) this.bodies.set(name, obj);
      }
    });
    this.addGround();
    this.setTime(0, false);
    this.videoView();
    this.resize();
    return this;
  }

  /** Bones of the rider (or of every body) in world space at the current time. */
  bonePositions(onlyRider = true) {
    const out = [];
    const v = new THREE.Vector3();
    for (const [name, mesh] of this.bodies) {
      if (onlyRider && this.riderNode && name !== this.riderNode) continue;
      if (!mesh.skeleton) continue;
      for (const bone of mesh.skeleton.bones) out.push(bone.getWorldPosition(v).clone());
    }
    return out;
  }

  /** The rider's bone `name` (as Anny calls it); GLTFLoader strips "/" and "." from node names. */
  bone(name) {
    const [node, mesh] = this.bodies.has(this.riderNode) ? [this.riderNode, this.bodies.get(this.riderNode)]
      : [...this.bodies.entries()][0] || [];
    const want = THREE.PropertyBinding.sanitizeNodeName(`${node}/${name}`);
    return mesh?.skeleton?.bones.find((b) => b.name === want) || null;
  }

  /** A ground plane under the lowest bone over the clip (a level camera sees a level slope). */
  addGround() {
    const duration = Math.max(0, ...this.actions.map((a) => a.getClip().duration));
    let minY = Infinity;
    const centre = new THREE.Vector3();
    let n = 0;
    for (let i = 0; i <= GROUND_SAMPLES; i++) {
      this.setTime((duration * i) / GROUND_SAMPLES, false);
      for (const p of this.bonePositions(false)) {
        minY = Math.min(minY, p.y);
        centre.add(p);
        n++;
      }
    }
    if (!n) return;
    centre.divideScalar(n);
    this.centre = centre;
    const y = minY - 0.03; // toe joints sit a little above the sole
    const plane = new THREE.Mesh(
      new THREE.PlaneGeometry(60, 60),
      new THREE.MeshStandardMaterial({ color: 0xf7f9fc, roughness: 1 }),
    );
    plane.rotation.x = -Math.PI / 2;
    plane.position.set(centre.x, y, centre.z);
    this.scene.add(plane);
    const grid = new THREE.GridHelper(60, 60, 0x9fb0c4, 0xc9d3df);
    grid.position.set(centre.x, y + 0.002, centre.z);
    this.scene.add(grid);
    this.groundY = y;
  }

  /** Look through the video's camera (the origin, looking along -z), orbiting around the rider. */
  videoView() {
    this.chase = false;
    const target = this.hips() || this.centre || new THREE.Vector3(0, 0, -4);
    this.camera.position.set(0, 0, 0);
    if (this.videoCamera) {
      this.camera.fov = this.videoCamera.fov; // GLTFLoader gives degrees
      this.videoCamera.getWorldPosition(this.camera.position);
    }
    this.controls.target.copy(target);
    this.camera.updateProjectionMatrix();
    this.controls.update();
    this.render();
  }

  hips() {
    const bone = this.bone("root");
    return bone ? bone.getWorldPosition(new THREE.Vector3()) : null;
  }

  /** The rider's facing direction (horizontal): up x (right hip - left hip). */
  facing() {
    const l = this.bone("upperleg01.L"); // the hip joints (Anny's pelvis bones start at the same point)
    const r = this.bone("upperleg01.R");
    if (!l || !r) return new THREE.Vector3(0, 0, 1);
    const right = r.getWorldPosition(new THREE.Vector3()).sub(l.getWorldPosition(new THREE.Vector3()));
    const f = new THREE.Vector3().crossVectors(UP, right);
    f.y = 0;
    return f.lengthSq() > 1e-8 ? f.normalize() : new THREE.Vector3(0, 0, 1);
  }

  /** Put the camera behind the rider's back, looking where they look; it follows while `chase` is on. */
  behindRider() {
    this.chase = true;
    this.placeBehind();
  }

  placeBehind() {
    const hips = this.hips();
    if (!hips) return;
    const f = this.facing();
    this.controls.target.copy(hips).addScaledVector(UP, 0.2);
    this.camera.position.copy(hips).addScaledVector(f, -3.2).addScaledVector(UP, 1.0);
    this.controls.update();
    this.render();
  }

  setVisible(name, visible) {
    const body = this.bodies.get(name);
    if (body) body.visible = visible;
    this.render();
  }

  /** Pose every body at media time t (seconds). */
  setTime(t, draw = true) {
    this.time = t;
    if (!this.mixer) return;
    // with a zero step the mixer neither wraps nor clamps: past a clip's end it holds the last key, which for
    // the STEP scale channel is 0 (the body is hidden once its person is no longer tracked)
    for (const action of this.actions) action.time = Math.max(t, 0);
    this.mixer.update(0);
    this.root.updateMatrixWorld(true);
    if (draw) {
      if (this.chase) this.placeBehind();
      else this.render();
    }
  }

  /** A number that changes when any bone moves (for tests and checks). */
  poseSignature() {
    let s = 0;
    this.bonePositions(false).forEach((p, i) => { s += (i % 7 + 1) * (p.x + 2 * p.y + 3 * p.z); });
    return s;
  }

  resize() {
    const w = Math.max(1, this.wrap.clientWidth);
    const h = Math.max(1, this.wrap.clientHeight);
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.render();
  }

  render(force = false) {
    if (!this.onScreen && !force) {
      this.stale = true;
      return;
    }
    this.stale = false;
    this.renderer.render(this.scene, this.camera);
    this.frames++;
  }

  dispose() {
    this.resizer.disconnect();
    this.seen.disconnect();
    this.controls.dispose();
    this.renderer.dispose();
  }
}
