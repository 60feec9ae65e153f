// The 3D view of a comparison: both riders' fitted bodies in one scene on the shared clock (seconds from
// takeoff), B ghosted, B moved and turned so that at takeoff its hips and facing match A's.

import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { createStage } from "./scene3d.js";

const UP = new THREE.Vector3(0, 1, 0);

/** One loaded result.glb reduced to its rider: mixer, actions, skinned mesh, takeoff time. */
async function loadBody(url, riderNode, takeoff) {
  const gltf = await new GLTFLoader().loadAsync(url);
  const mixer = new THREE.AnimationMixer(gltf.scene);
  const actions = gltf.animations.map((clip) => {
    const a = mixer.clipAction(clip);
    a.play();
    return a;
  });
  let mesh = null;
  gltf.scene.traverse((obj) => {
    if (!obj.isSkinnedMesh) return;
    const name = obj.name.startsWith("track_") ? obj.name : obj.parent?.name;
    if (name === riderNode || (!riderNode && !mesh)) mesh = obj;
    else obj.visible = false; // only the riders are compared
    obj.frustumCulled = false;
  });
  const wrapper = new THREE.Group(); // carries B's alignment; the glTF scene inside keeps its own transforms
  wrapper.add(gltf.scene);
  return { root: gltf.scene, wrapper, mixer, actions, mesh, takeoff, node: riderNode };
}

function bone(body, name) {
  const want = THREE.PropertyBinding.sanitizeNodeName(`${body.node}/${name}`);
  return body.mesh?.skeleton?.bones.find((b) => b.name === want) || null;
}

function pose(body, r) {
  for (const a of body.actions) a.time = Math.max(0, body.takeoff + r);
  body.mixer.update(0);
  body.wrapper.updateMatrixWorld(true);
}

/** Hips (mid upper legs) and horizontal facing of a body as posed now, in world space. */
function hipsAndFacing(body) {
  const l = bone(body, "upperleg01.L");
  const r = bone(body, "upperleg01.R");
  if (!l || !r) return null;
  const pl = l.getWorldPosition(new THREE.Vector3());
  const pr = r.getWorldPosition(new THREE.Vector3());
  const facing = new THREE.Vector3().crossVectors(UP, pr.clone().sub(pl));
  facing.y = 0;
  return { hips: pl.add(pr).multiplyScalar(0.5), facing: facing.normalize() };
}

export class CompareScene {
  constructor(wrap) {
    this.wrap = wrap;
    Object.assign(this, createStage(wrap, "Both riders' 3D bodies at the same moment of their jumps; B is see-through", 45));
    this.controls.addEventListener("change", () => this.render());
    this.bodies = [];
    this.frames = 0;
    this.resizer = new ResizeObserver(() => this.resize());
    this.resizer.observe(wrap);
  }

  /** a, b: {url, riderNode, takeoff}; B is aligned to A at takeoff and drawn ghosted. */
  async load(a, b) {
    this.bodies = await Promise.all([a, b].map((s) => loadBody(s.url, s.riderNode, s.takeoff)));
    const [A, B] = this.bodies;
    A.mesh.material = new THREE.MeshStandardMaterial({ color: 0xff6a00, roughness: 0.7 });
    B.mesh.material = new THREE.MeshStandardMaterial({ color: 0x2a6fdb, roughness: 0.7, transparent: true,
      opacity: 0.38, depthWrite: false });
    for (const body of this.bodies) this.scene.add(body.wrapper);
    pose(A, 0);
    pose(B, 0);
    const ha = hipsAndFacing(A);
    const hb = hipsAndFacing(B);
    if (ha && hb) {
      // turn B about the vertical through its hips until it faces where A faces, then move its hips onto A's
      const angle = Math.atan2(hb.facing.x, hb.facing.z) - Math.atan2(ha.facing.x, ha.facing.z);
      const turn = new THREE.Matrix4().makeRotationY(-angle);
      const m = new THREE.Matrix4().makeTranslation(ha.hips.x, ha.hips.y, ha.hips.z).multiply(turn)
        .multiply(new THREE.Matrix4().makeTranslation(-hb.hips.x, -hb.hips.y, -hb.hips.z));
      B.wrapper.applyMatrix4(m);
      B.wrapper.updateMatrixWorld(true);
      this.alignment = { angleDeg: (angle * 180) / Math.PI };
    }
    const target = ha ? ha.hips : new THREE.Vector3(0, 0, -4);
    const side = ha ? new THREE.Vector3().crossVectors(UP, ha.facing).normalize() : new THREE.Vector3(1, 0, 0);
    this.controls.target.copy(target);
    this.camera.position.copy(target).addScaledVector(side, 4).addScaledVector(UP, 0.8);
    this.controls.update();
    this.resize();
    this.setTime(0);
    return this;
  }

  /** Hips of A and B now (world space), for checks: at takeoff they coincide. */
  hips() {
    return this.bodies.map((b) => hipsAndFacing(b)?.hips.toArray() || null);
  }

  /** Pose both bodies at r seconds from their takeoffs. */
  setTime(r) {
    this.r = r;
    for (const body of this.bodies) pose(body, r);
    this.render();
  }

  resize() {
    const w = Math.max(1, this.wrap.clientWidth);
    const h = Math.max(1, this.wrap.clientHeight);
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.render();
  }

  render() {
    this.renderer.render(this.scene, this.camera);
    this.frames++;
  }

  dispose() {
    this.resizer.disconnect();
    this.controls.dispose();
    this.renderer.dispose();
  }
}
