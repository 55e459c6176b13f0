// The page `gan-models export --web DIR` writes: runs model.onnx (described by model.json) with
// onnxruntime-web in the browser, offline, and draws an 8 x 8 grid from a seed and a latent walk.
//
// Images map to 0-255 as gan_models.data.to_uint8 does ((x + 1) * 127.5 in float32, rounded half
// to even, clipped), so the page's pixels are the ones PyTorch saves for the same latents.
// `?latents=FILE.json` ({"z": [[...nz], ...], "labels": [...]}) draws those latents instead of a
// seeded draw: that is how the browser test compares the page with PyTorch.
"use strict";

const COLUMNS = 8;
const GRID_IMAGES = 64;
const WALK_FRAMES = 8;

// A small seeded generator of uniform floats in [0, 1) (mulberry32): the page's draws are reproducible per seed.
function uniformSource(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// n latents (n * nz floats) of the generator's noise kind: standard normal (Box-Muller) or uniform on [-1, 1].
function drawLatents(seed, n, nz, kind) {
  const next = uniformSource(seed);
  const z = new Float32Array(n * nz);
  for (let i = 0; i < z.length; i++) {
    z[i] = kind === "uniform" ? 2 * next() - 1
      : Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  }
  return z;
}

// Frames from latent a to b, endpoints included, as gan_models.noise.interpolate_latents walks them:
// along the great circle for normal noise, along the straight line for uniform noise.
function walkLatents(a, b, frames, kind) {
  const nz = a.length;
  const out = new Float32Array(frames * nz);
  const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
  let cos = 0;
  for (let i = 0; i < nz; i++) cos += (a[i] / norm(a)) * (b[i] / norm(b));
  const omega = Math.acos(Math.min(Math.max(cos, -1 + 1e-7), 1 - 1e-7));
  for (let f = 0; f < frames; f++) {
    const t = f / (frames - 1);
    const wa = kind === "uniform" ? 1 - t : Math.sin((1 - t) * omega) / Math.sin(omega);
    const wb = kind === "uniform" ? t : Math.sin(t * omega) / Math.sin(omega);
    for (let i = 0; i < nz; i++) out[f * nz + i] = wa * a[i] + wb * b[i];
  }
  return out;
}

// One value in [-1, 1] -> 0..255, in float32 steps and rounding half to even like torch.round.
function toByte(x) {
  const scaled = Math.fround(Math.fround(x + 1) * 127.5);
  let rounded = Math.round(scaled);
  if (rounded - scaled === 0.5 && rounded % 2 !== 0) rounded -= 1;
  return Math.min(255, Math.max(0, rounded));
}

// Draw n images (n, C, H, W) in [-1, 1] into `canvas`, `columns` per row, one canvas pixel per image pixel.
function drawImages(canvas, data, n, [channels, height, width], columns) {
  const rows = Math.ceil(n / columns);
  canvas.width = columns * width;
  canvas.height = rows * height;
  const ctx = canvas.getContext("2d");
  const pixels = ctx.createImageData(canvas.width, canvas.height);
  const plane = height * width;
  for (let k = 0; k < n; k++) {
    const left = (k % columns) * width, top = Math.floor(k / columns) * height;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const at = ((top + y) * canvas.width + left + x) * 4;
        for (let c = 0; c < 3; c++) {
          pixels.data[at + c] = toByte(data[k * channels * plane + (channels === 3 ? c : 0) * plane + y * width + x]);
        }
        pixels.data[at + 3] = 255;
      }
    }
  }
  ctx.putImageData(pixels, 0, 0);
}

async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
  return response.json();
}

function showError(message) {
  document.body.dataset.state = "error";
  document.getElementById("status").hidden = true;
  document.getElementById("output").hidden = true;
  const error = document.getElementById("error");
  error.textContent = `Error: ${message}`;
  error.hidden = false;
}

async function main() {
  const meta = await fetchJson("model.json");
  const shape = meta.image_shape;
  const classes = meta.classes || null;
  document.getElementById("title").textContent = `gan-models ${meta.model} generator`;
  document.getElementById("about").textContent =
    `trained on ${meta.dataset}; z (${meta.nz}, ${meta.noise} noise) -> ${shape.join(" x ")} images; ` +
    `${meta.onnx_precision} ONNX from the ${meta.exporter} exporter, run by onnxruntime-web ${ort.env.versions.web}`;

  ort.env.wasm.wasmPaths = new URL("./", location.href).href;  // the runtime's .wasm beside the page: offline
  ort.env.wasm.numThreads = 1;  // threads need cross-origin isolation, which a plain static server does not give
  let session;
  try {
    session = await ort.InferenceSession.create("model.onnx", { executionProviders: ["wasm"] });
  } catch (err) {
    throw new Error(`onnxruntime-web cannot load model.onnx: ${err.message || err}`);
  }

  const picker = document.getElementById("class");
  if (classes) {
    picker.add(new Option("one class per row", "rows"));
    classes.forEach((name, index) => picker.add(new Option(name, String(index))));
    document.getElementById("class-picker").hidden = false;
  }
  // Class of image k: the picked class, or row k / 8 cycling through the classes.
  const labelFor = (k) => (picker.value === "rows" ? Math.floor(k / COLUMNS) % classes.length : Number(picker.value));

  async function run(z, labels) {
    const n = z.length / meta.nz;
    const feeds = { z: new ort.Tensor("float32", z, [n, meta.nz]) };
    if (classes) feeds.labels = new ort.Tensor("int64", BigInt64Array.from(labels, BigInt), [n]);
    return (await session.run(feeds)).images.data;
  }

  async function render(z, labels) {
    document.body.dataset.state = "running";
    const n = z.length / meta.nz;
    drawImages(document.getElementById("grid"), await run(z, labels), n, shape, COLUMNS);
    const walk = walkLatents(z.subarray(0, meta.nz), z.subarray(meta.nz, 2 * meta.nz), WALK_FRAMES, meta.noise);
    const walkLabels = new Array(WALK_FRAMES).fill(labels ? labels[0] : 0);
    drawImages(document.getElementById("walk"), await run(walk, walkLabels), WALK_FRAMES, shape, WALK_FRAMES);
    document.getElementById("status").textContent = `${n} samples`;
    document.body.dataset.state = "ready";
  }

  const fixed = new URLSearchParams(location.search).get("latents");
  const seedInput = document.getElementById("seed");
  async function fromSeed() {
    const z = drawLatents(Number(seedInput.value), GRID_IMAGES, meta.nz, meta.noise);
    await render(z, classes ? Array.from({ length: GRID_IMAGES }, (_, k) => labelFor(k)) : null);
  }
  const guard = (action) => () => action().catch((err) => showError(err.message || String(err)));
  document.getElementById("new-samples").addEventListener("click", guard(async () => {
    seedInput.value = String(Number(seedInput.value) + 1);
    await fromSeed();
  }));
  seedInput.addEventListener("change", guard(fromSeed));
  picker.addEventListener("change", guard(fromSeed));

  if (fixed) {
    const given = await fetchJson(fixed);
    await render(Float32Array.from(given.z.flat()), given.labels || null);
  } else {
    await fromSeed();
  }
}

main().catch((err) => showError(err.message || String(err)));
