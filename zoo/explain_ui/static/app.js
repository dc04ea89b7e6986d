// The live explainer's page: plain JavaScript, no library, no build step, nothing fetched from
// outside this server. The server sends numbers (zoo.explain.Explainer); this file draws them.
"use strict";

const $ = (id) => document.getElementById(id);
const COLOURMAPS = {  // anchors, interpolated linearly: matplotlib's viridis, RdBu_r, grey
  viridis: [[68, 1, 84], [72, 40, 120], [59, 82, 139], [44, 114, 142], [33, 145, 140],
            [40, 174, 128], [94, 201, 98], [173, 220, 48], [253, 231, 37]],
  rdbu: [[5, 48, 97], [67, 147, 195], [247, 247, 247], [214, 96, 77], [103, 0, 31]],
  grey: [[0, 0, 0], [255, 255, 255]],
};
const LUTS = {};
for (const [name, stops] of Object.entries(COLOURMAPS)) {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let v = 0; v < 256; v++) {
    const t = (v / 255) * (stops.length - 1), i = Math.min(Math.floor(t), stops.length - 2);
    for (let c = 0; c < 3; c++) lut[3 * v + c] = stops[i][c] + (stops[i + 1][c] - stops[i][c]) * (t - i);
  }
  LUTS[name] = lut;
}

const state = { models: [], model: null, source: null, asked: 0, answers: 0, inked: false,
                mnist: { available: true, why: "" } };

function bytesOf(grid) {  // base64 -> Uint8Array, once per grid
  if (!grid.bytes) {
    const s = atob(grid.data);
    grid.bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) grid.bytes[i] = s.charCodeAt(i);
  }
  return grid.bytes;
}

// Draw map j of a grid {shape: [h, w, n], data, cmap} on a canvas, one canvas pixel a value
function paint(canvas, grid, j) {
  const [h, w, n] = grid.shape, bytes = bytesOf(grid), lut = LUTS[grid.cmap];
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(w, h);
  for (let p = 0; p < h * w; p++) {
    const v = bytes[p * n + j];
    img.data.set([lut[3 * v], lut[3 * v + 1], lut[3 * v + 2], 255], 4 * p);
  }
  ctx.putImageData(img, 0, 0);
  canvas.onclick = () => zoom(grid, j, canvas.dataset.title || "");
}

function zoom(grid, j, title) {
  paint($("zoom-view"), grid, j);
  $("zoom-view").onclick = null;
  const [h, w] = grid.shape;
  $("zoom-caption").textContent = `${title} (${h}x${w}; colour scale ${grid.lo.toPrecision(3)}` +
    ` to ${grid.hi.toPrecision(3)})`;
  $("zoom").hidden = false;
}
$("zoom").onclick = () => { $("zoom").hidden = true; };

function bars(box, labels, values, { best = -1, format = (v) => v.toFixed(3), scale } = {}) {
  box.replaceChildren();
  const top = scale || Math.max(...values.map(Math.abs), 1e-9);
  values.forEach((v, i) => {
    const label = document.createElement("span"), track = document.createElement("div"),
      bar = document.createElement("div"), value = document.createElement("span");
    label.textContent = labels[i];
    bar.className = "bar" + (i === best ? " best" : "") + (v < 0 ? " negative" : "");
    bar.style.width = `${(100 * Math.abs(v)) / top}%`;
    value.textContent = format(v);
    track.append(bar);
    box.append(label, track, value);
  });
}

function mapsRow(className, title, text, grid, count, name) {
  const section = document.createElement("section"), h = document.createElement("h3"),
    p = document.createElement("p"), maps = document.createElement("div");
  section.className = className;
  section.dataset.layer = name;
  h.textContent = title;
  p.textContent = text;
  maps.className = "maps";
  for (let j = 0; j < count; j++) {
    const c = document.createElement("canvas");
    c.dataset.title = `${title}, map ${j + 1}`;
    paint(c, grid, j);
    maps.append(c);
  }
  section.append(h, p, maps);
  return section;
}

function show(answer) {
  const classes = answer.classes, winner = answer.prediction;
  const input = $("input-view");
  input.dataset.title = "the input";
  paint(input, answer.input, 0);
  const [h, w] = answer.input.shape;
  $("caption").textContent = `${answer.caption}: ${h}x${w}` +
    (answer.truth !== null ? `, true class ${classes[answer.truth]}` : "");
  $("prediction").textContent = `${classes[winner]} (${(100 * answer.probabilities[winner]).toFixed(1)}%)`;
  bars($("probabilities"), classes, answer.probabilities,
       { best: winner, scale: 1, format: (v) => `${(100 * v).toFixed(1)}%` });
  $("filters").replaceChildren(...answer.filters.map((f) => mapsRow(
    "filter-row", `Filters of ${f.layer}`,
    `${f.grid.shape[2]} masks of ${f.grid.shape[0]}x${f.grid.shape[1]}` +
      (f.averaged ? " (averaged over the input maps)" : ""),
    f.grid, f.grid.shape[2], f.layer)));
  $("filters-section").hidden = answer.filters.length === 0;
  $("layers").replaceChildren(...answer.layers.map((l) => mapsRow(
    "layer", `After ${l.layer}`,
    `${l.caption}; ${l.total} maps of ${l.grid.shape[0]}x${l.grid.shape[1]}` +
      (l.total > l.grid.shape[2] ? `, the first ${l.grid.shape[2]} shown` : ""),
    l.grid, l.grid.shape[2], l.layer)));
  $("layers-section").hidden = answer.layers.length === 0;
  const vote = answer.vote;
  $("vote-caption").textContent = `In the last layer (${vote.layer}), each input unit adds ` +
    `its activation x its weight to each class's total; the softmax turns the totals into the ` +
    `probabilities above. ` +
    `The winner, ${vote.winner}, gets most from units ${vote.top.slice(0, 3).map((t) => t.unit).join(", ")}.`;
  bars($("scores"), classes, vote.scores, { best: winner, format: (v) => v.toFixed(2) });
  bars($("contributions"), vote.top.map((t) => `unit ${t.unit}`), vote.top.map((t) => t.value),
       { format: (v) => v.toFixed(2) });
  if (answer.index !== undefined) $("mnist-index").value = answer.index;
}

function message(text) {
  $("message").textContent = text || "";
  $("message").hidden = !text;
}

async function ask(source) {
  state.source = source;
  const asked = ++state.asked, sent = performance.now();
  document.body.dataset.state = "busy";
  let answer, status = 0;
  try {
    const response = await fetch("/api/explain", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ model: state.model, input: source }),
    });
    status = response.status;
    answer = await response.json().catch(() => ({ error: `the server answered ${status}` }));
  } catch (err) {
    answer = { error: `no answer from the server (${err.message}); is zoo explain --serve running?` };
  }
  if (asked !== state.asked) return;  // a newer question is on its way: this answer is stale
  document.body.dataset.status = status;
  if (answer.error) {
    message(answer.error);
    document.body.dataset.state = "error";
  } else {
    message("");
    show(answer);
    $("timing").textContent = `answered in ${answer.server_ms} ms on the server, ` +
      `${Math.round(performance.now() - sent)} ms in all (sent, computed, drawn)`;
    document.body.dataset.state = "ready";
  }
  document.body.dataset.answers = ++state.answers;
}

// Drawing: pointer events cover mouse, pen and finger alike
const pad = $("pad"), pen = pad.getContext("2d");
function clearPad() {
  pen.fillStyle = "white";
  pen.fillRect(0, 0, pad.width, pad.height);
  state.inked = false;
}
function at(event) {
  const r = pad.getBoundingClientRect();
  return [(event.clientX - r.left) * (pad.width / r.width), (event.clientY - r.top) * (pad.height / r.height)];
}
let drawing = false, timer = null;
const explainDrawing = () => ask({ kind: "picture", value: pad.toDataURL("image/png") });
pad.addEventListener("pointerdown", (e) => {
  drawing = true;
  pad.setPointerCapture(e.pointerId);
  pen.lineWidth = 20; pen.lineCap = "round"; pen.lineJoin = "round"; pen.strokeStyle = "black";
  pen.beginPath();
  pen.moveTo(...at(e));
  pen.lineTo(...at(e));
  pen.stroke();
  state.inked = true;
  clearTimeout(timer);
});
pad.addEventListener("pointermove", (e) => {
  if (!drawing) return;
  pen.lineTo(...at(e));
  pen.stroke();
});
const endStroke = () => {
  if (!drawing) return;
  drawing = false;
  clearTimeout(timer);
  timer = setTimeout(explainDrawing, 150);  // debounced: a quick next stroke sends once
};
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);
$("clear").onclick = () => { clearTimeout(timer); clearPad(); message(""); };
$("explain").onclick = explainDrawing;

$("upload").onchange = () => {
  const file = $("upload").files[0];
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => ask({ kind: "picture", value: reader.result });
  reader.readAsDataURL(file);
};
$("mnist-show").onclick = () => ask({ kind: "mnist", value: Number($("mnist-index").value) });
$("mnist-wrong").onclick = () => ask({ kind: "mnist", value: "misclassified" });
for (const v of ["X", "O", "generated"]) $(`xo-${v}`).onclick = () => ask({ kind: "xo", value: v });
$("fsdd").onchange = () => {
  $("fsdd-audio").src = `/api/fsdd/${encodeURIComponent($("fsdd").value)}`;
  ask({ kind: "fsdd", value: $("fsdd").value });
};

function kindOf(name) {
  const m = state.models.find((m) => m.name === name);
  return m ? m.kind : "mnist";
}

// A new model: the same input where it fits, else that model's first example
function useModel(name) {
  state.model = name;
  const kind = kindOf(name);
  document.body.className = `kind-${kind}`;
  const url = new URL(location.href);
  url.searchParams.set("model", name);
  history.replaceState(null, "", url);
  const source = state.source;
  if (kind === "mnist" && source && (source.kind === "picture" || source.kind === "mnist")) {
    ask(source.kind === "mnist" && source.value === "misclassified"
      ? { kind: "mnist", value: Number($("mnist-index").value) } : source);
  } else if (kind === "mnist" && (state.inked || state.mnist.available)) {
    ask(state.inked ? { kind: "picture", value: pad.toDataURL("image/png") }
                    : { kind: "mnist", value: Number($("mnist-index").value) });
  } else if (kind === "mnist") {
    // no data set here: drawing and uploading need none, so wait for the first stroke
    message("");
    document.body.dataset.state = "idle";
  } else if (kind === "xo") {
    ask(source && source.kind === "xo" ? source : { kind: "xo", value: "X" });
  } else if ($("fsdd").value) {
    $("fsdd").onchange();
  } else {
    message("no FSDD recordings found under $ZOO_DATA_DIR/fsdd/recordings");
  }
}

// Molecules: their own weights and answer, beside whatever the digit model shows
async function askMolecule() {
  const sent = performance.now();
  let answer;
  try {
    const response = await fetch("/api/molecule", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ model: $("molecule-model").value, smiles: $("smiles").value }),
    });
    answer = await response.json().catch(() => ({ error: `the server answered ${response.status}` }));
  } catch (err) {
    answer = { error: `no answer from the server (${err.message}); is zoo explain --serve running?` };
  }
  if (answer.error) {
    message(answer.error);
    document.body.dataset.molecule = "error";
    return;
  }
  message("");
  $("molecule-said").textContent = `${answer.smiles}: ${answer.said}`;
  $("molecule-string").innerHTML = answer.string;  // built and escaped by the server
  $("molecule-picture").src = answer.png;
  $("molecule-result").hidden = false;
  $("timing").textContent = `answered in ${answer.server_ms} ms on the server, ` +
    `${Math.round(performance.now() - sent)} ms in all`;
  document.body.dataset.molecule = "ready";
}

async function startMolecules() {
  const listed = await fetch("/api/molecules").then((r) => r.json());
  for (const m of listed.molecules) {
    $("molecule-model").append(new Option(`${m.name}  (${m.figure})`, m.name));
  }
  $("molecule-controls").hidden = listed.molecules.length === 0;
  $("molecule-explain").onclick = askMolecule;
  $("smiles").onkeydown = (e) => { if (e.key === "Enter") askMolecule(); };
}

async function start() {
  clearPad();
  const [models, examples] = await Promise.all(
    ["/api/models", "/api/examples"].map((u) => fetch(u).then((r) => r.json())));
  state.models = models.models;
  for (const m of state.models) {
    const option = new Option(`${m.name}  (${(100 * m.accuracy).toFixed(2)}% on ${m.dataset})`, m.name);
    $("model").append(option);
  }
  for (const name of examples.fsdd) $("fsdd").append(new Option(name.replace(".wav", ""), name));
  state.mnist = examples.mnist || { available: true, why: "" };
  if (!state.mnist.available) {
    // only the pickers that need MNIST are off, each saying why; the pad and upload still work
    for (const id of ["mnist-index", "mnist-show", "mnist-wrong"]) {
      $(id).disabled = true;
      $(id).title = `No MNIST here: ${state.mnist.why}`;
    }
    $("mnist-missing").textContent = `No MNIST test images here (${state.mnist.why}); drawing ` +
      "and uploading a picture work without them.";
    $("mnist-missing").hidden = false;
  }
  const wanted = new URLSearchParams(location.search).get("model") || models.default;
  $("model").value = wanted;  // an unknown name selects nothing; the server says why
  $("model").onchange = () => useModel($("model").value);
  useModel(wanted);
}
start().catch((err) => message(`the page could not start: ${err.message}`));
startMolecules().catch((err) => message(`the molecules could not start: ${err.message}`));
