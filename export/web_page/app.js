// The page `gan-models export --web DIR` writes: runs model.onnx (described by model.json) with
// onnxruntime-web in the browser, offline. It draws a grid from a seed (8 x 8, or one labelled row
// of 8 per class), optionally truncated, and an animated latent walk between two of its samples.
//
// Images map to 0-255 as gan_models.data.to_uint8 does ((x + 1) * 127.5 in float32, rounded half
// to even, clipped), so the page's pixels are the ones PyTorch saves for the same latents.
// `?latents=FILE.json` ({"z": [[...nz], ...], "labels": [...]}) draws those latents instead of a
// seeded draw: that is how the browser test compares the page with PyTorch. The latents the grid
// was drawn from are kept in window.gridLatents, so the test can feed PyTorch the page's own draw.
"use strict";

const COLUMNS = 8;
const GRID_IMAGES = 64;
const WALK_FRAMES = 8;
const WALK_FPS = 6;
const NOISE_STD = { normal: 1, uniform: 1 / Math.sqrt(3) };  // as gan_models.noise.NOISE_STD

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
// With `psi`, the rule of gan_models.noise.sample_noise(truncation=psi): components beyond psi standard
// deviations are drawn again, in rounds, from the same seeded source until none is left.
function drawLatents(seed, n, nz, kind, psi = null) {
  const next = uniformSource(seed);
  const draw = () => (kind === "uniform" ? 2 * next() - 1
    : Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()));
  const z = new Float32Array(n * nz).map(draw);
  if (psi === null) return z;
  const bound = psi * NOISE_STD[kind];
  for (let outside = true; outside;) {  // a round redraws, in index order, every component still outside
    outside = false;
    for (let i = 0; i < z.length; i++) {
      if (Math.abs(z[i]) > bound) [z[i], outside] = [draw(), true];
    }
  }
  return z;
}

// Frames from latent a to b, endpoints included, as gan_models.noise.interpolate_latents walks them:
// along the great circle (slerp) for normal noise, along the straight line for uniform noise.
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

// The pair of the first `candidates` images that differ most (mean squared pixel difference): the walk's
// default endpoints, so that it does not run between two near-identical samples.
function mostDistantPair(data, imageSize, candidates) {
  let best = [0, 1], bestDistance = -1;
  for (let i = 0; i < candidates; i++) {
    for (let j = i + 1; j < candidates; j++) {
      let distance = 0;
      for (let p = 0; p < imageSize; p++) distance += (data[i * imageSize + p] - data[j * imageSize + p]) ** 2;
      if (distance > bestDistance) [best, bestDistance] = [[i, j], distance];
    }
  }
  return best;
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
  const imageSize = shape[0] * shape[1] * shape[2];
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
  const byRows = () => classes && picker.value === "rows";
  // The grid: one row of 8 per class (every class, labelled), else 8 x 8 of the picked class or of z alone.
  const gridSize = () => (byRows() ? classes.length * COLUMNS : GRID_IMAGES);
  const labelFor = (k) => (byRows() ? Math.floor(k / COLUMNS) : Number(picker.value));

  // images (n, C, H, W) for latents z (n * nz) and labels; a label outside the classes is refused, never another class.
  async function run(z, labels) {
    const n = z.length / meta.nz;
    const feeds = { z: new ort.Tensor("float32", z, [n, meta.nz]) };
    if (classes) feeds.labels = new ort.Tensor("int64", BigInt64Array.from(labels, BigInt), [n]);
    const images = (await session.run(feeds)).images.data;
    const invalid = [];
    for (let k = 0; k < n; k++) if (Number.isNaN(images[k * imageSize])) invalid.push(k);
    if (invalid.length) {  // model.json's invalid_labels: "nan" -- the graph draws NaN for a label out of range
      const given = invalid.map((k) => labels[k]).join(", ");
      throw new Error(`label ${given} of image ${invalid.map((k) => k + 1).join(", ")} is not a class of this ` +
                      `model (0 to ${classes.length - 1}): it drew no image (${meta.invalid_labels} images)`);
    }
    return images;
  }

  const rowLabels = document.getElementById("row-labels");
  function labelRows(labels, n) {
    rowLabels.replaceChildren(...Array.from({ length: Math.ceil(n / COLUMNS) }, (_, row) => {
      const label = document.createElement("span");
      label.textContent = classes ? classes[labels[row * COLUMNS]] : "";
      return label;
    }));
    rowLabels.hidden = !classes;
  }

  // The animated walk: the frames' canvas, and one frame at a time, back and forth, in #walk-frame.
  const walkCanvas = document.getElementById("walk"), frameCanvas = document.getElementById("walk-frame");
  let animation = null;
  function animate() {
    clearInterval(animation);
    let step = 0;
    const ctx = frameCanvas.getContext("2d");
    [frameCanvas.width, frameCanvas.height] = [shape[2], shape[1]];
    animation = setInterval(() => {
      const frame = step < WALK_FRAMES ? step : 2 * (WALK_FRAMES - 1) - step;  // 0..7..1, then again
      ctx.drawImage(walkCanvas, frame * shape[2], 0, shape[2], shape[1], 0, 0, shape[2], shape[1]);
      frameCanvas.dataset.frame = String(frame);
      step = (step + 1) % (2 * (WALK_FRAMES - 1));
    }, 1000 / WALK_FPS);
  }

  let grid = null;  // the latents and labels of the grid on show, and the walk's endpoints
  const markers = [document.getElementById("mark-a"), document.getElementById("mark-b")];
  async function walk(a, b) {
    grid.ends = [a, b];
    const z = walkLatents(grid.z.subarray(a * meta.nz, (a + 1) * meta.nz),
                          grid.z.subarray(b * meta.nz, (b + 1) * meta.nz), WALK_FRAMES, meta.noise);
    const label = grid.labels ? grid.labels[a] : 0;  // ONNX takes class indices: a walk keeps sample a's class
    drawImages(walkCanvas, await run(z, new Array(WALK_FRAMES).fill(label)), WALK_FRAMES, shape, WALK_FRAMES);
    const ofClass = classes ? `, class ${classes[label]}` : "";
    document.getElementById("walk-title").textContent =
      `latent walk from sample ${a + 1} to sample ${b + 1}${ofClass} (${meta.noise === "uniform" ? "linear" : "slerp"})`;
    [a, b].forEach((k, i) => {
      Object.assign(markers[i].style, { left: `${(k % COLUMNS) * 100 / COLUMNS}%`,
        top: `${Math.floor(k / COLUMNS) * 100 * COLUMNS / grid.n}%`, width: `${100 / COLUMNS}%`,
        height: `${100 * COLUMNS / grid.n}%` });
      markers[i].hidden = false;
    });
    animate();
  }

  async function render(z, labels) {
    document.body.dataset.state = "running";
    const n = z.length / meta.nz;
    const images = await run(z, labels);
    grid = { z, labels, n };
    window.gridLatents = { z: Array.from(z), labels };
    drawImages(document.getElementById("grid"), images, n, shape, COLUMNS);
    labelRows(labels, n);
    await walk(...mostDistantPair(images, imageSize, Math.min(COLUMNS, n)));
    document.getElementById("status").textContent =
      `${n} samples; click two samples to walk between them`;
    document.body.dataset.state = "ready";
  }

  const fixed = new URLSearchParams(location.search).get("latents");
  const seedInput = document.getElementById("seed");
  const truncate = document.getElementById("truncate"), psiInput = document.getElementById("psi");
  const psi = () => (truncate.checked ? Number(psiInput.value) : null);
  function showPsi() {
    document.getElementById("psi-value").textContent = truncate.checked ? `psi ${Number(psiInput.value).toFixed(1)}`
      : "off";
    psiInput.disabled = !truncate.checked;
  }
  async function fromSeed() {
    const n = gridSize();
    const z = drawLatents(Number(seedInput.value), n, meta.nz, meta.noise, psi());
    await render(z, classes ? Array.from({ length: n }, (_, k) => labelFor(k)) : null);
  }
  const guard = (action) => (event) => action(event).catch((err) => showError(err.message || String(err)));
  document.getElementById("random-seed").addEventListener("click", guard(async () => {
    let seed;
    do seed = Math.floor(Math.random() * 1e6); while (seed === Number(seedInput.value));
    seedInput.value = String(seed);
    await fromSeed();
  }));
  seedInput.addEventListener("change", guard(fromSeed));
  picker.addEventListener("change", guard(fromSeed));
  truncate.addEventListener("change", guard(async () => { showPsi(); await fromSeed(); }));
  psiInput.addEventListener("input", showPsi);
  psiInput.addEventListener("change", guard(fromSeed));
  showPsi();

  // Clicking two samples walks between them: the first click picks the start, the second the end.
  let start = null;
  document.getElementById("grid").addEventListener("click", guard(async (event) => {
    const box = event.currentTarget.getBoundingClientRect();
    const rows = grid.n / COLUMNS;
    const k = Math.floor((event.clientY - box.top) / box.height * rows) * COLUMNS +
      Math.floor((event.clientX - box.left) / box.width * COLUMNS);
    if (start === null || start === k) {
      start = k;
      Object.assign(markers[0].style, { left: `${(k % COLUMNS) * 100 / COLUMNS}%`,
        top: `${Math.floor(k / COLUMNS) * 100 / rows}%` });
      markers[1].hidden = true;
      document.getElementById("walk-title").textContent = `walk from sample ${k + 1}: click the sample to walk to`;
      return;
    }
    document.body.dataset.state = "running";
    const a = start;
    start = null;
    await walk(a, k);
    document.body.dataset.state = "ready";
  }));

  // The grid as a PNG, one pixel per image pixel, as the canvas holds it.
  document.getElementById("download").addEventListener("click", () => {
    const link = document.createElement("a");
    const source = fixed ? "latents" : `seed${seedInput.value}${psi() === null ? "" : `-psi${psi()}`}`;
    link.download = `${meta.model}-${meta.dataset}-${source}.png`;
    link.href = document.getElementById("grid").toDataURL("image/png");
    link.click();
  });

  if (fixed) {
    const given = await fetchJson(fixed);
    await render(Float32Array.from(given.z.flat()), given.labels || null);
  } else {
    await fromSeed();
  }
}

main().catch((err) => showError(err.message || String(err)));
