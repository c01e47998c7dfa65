"""The demo page: plain HTML, CSS and JavaScript, all served by the demo
server itself (no fonts, scripts or styles from another origin, no
analytics), so it works with no network."""

INDEX_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>upernet_mm demo</title>
<link rel="stylesheet" href="style.css">
<script src="app.js" defer></script>
</head>
<body>
<header>
  <h1>upernet_mm demo</h1>
  <p id="model">loading the model description&hellip;</p>
</header>
<main>
<section id="input">
  <div id="drop" tabindex="0">
    <p>Drop an image here, or
      <label class="button">choose a file<input id="file" type="file"
        accept="image/*"></label></p>
    <p class="hint">PNG, JPEG, BMP, WebP, TIFF or GIF; it stays on this
      machine.</p>
  </div>
  <div id="examples-box">
    <h2>Examples</h2>
    <p class="hint">SyntheticScenes validation scenes; click one.</p>
    <div id="examples"></div>
  </div>
</section>
<p id="status" role="status"></p>
<p id="error" role="alert" hidden></p>
<section id="result" hidden>
  <div id="controls">
    <label for="opacity">overlay opacity</label>
    <input id="opacity" type="range" min="0" max="1" step="0.05"
      value="0.5">
    <output id="opacity-value" for="opacity">0.50</output>
    <span id="pointer" aria-live="polite"></span>
  </div>
  <div id="views"></div>
  <div id="scores"></div>
</section>
</main>
</body>
</html>
"""

STYLE_CSS = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1400px;
  padding: 0 1em 2em; color: #222; }
header h1 { margin: 0.6em 0 0.1em; font-size: 1.5em; }
#model { color: #555; margin: 0 0 1em; }
#input { display: flex; gap: 1.5em; flex-wrap: wrap; align-items: stretch; }
#drop { border: 2px dashed #999; border-radius: 8px; padding: 1em 1.5em;
  min-width: 18em; display: flex; flex-direction: column;
  justify-content: center; }
#drop.over { border-color: #1a73e8; background: #eef4fd; }
.button { display: inline-block; padding: 0.3em 0.8em; border-radius: 4px;
  background: #1a73e8; color: #fff; cursor: pointer; }
.button input { display: none; }
.hint { color: #666; font-size: 0.9em; margin: 0.3em 0; }
#examples-box h2 { font-size: 1em; margin: 0; }
#examples img { width: 72px; height: 72px; margin: 4px 4px 0 0;
  cursor: pointer; border: 2px solid transparent; image-rendering: pixelated; }
#examples img:hover { border-color: #1a73e8; }
#status { color: #555; min-height: 1.2em; }
#error { color: #b00020; font-weight: 600; }
#controls { display: flex; gap: 0.7em; align-items: center;
  flex-wrap: wrap; margin-bottom: 0.7em; }
#pointer { margin-left: 1em; min-width: 12em; }
#pointer .where { color: #666; margin-right: 0.6em; }
#pointer .level { font-weight: 600; margin-right: 1em; }
#views { display: flex; gap: 1.5em; flex-wrap: wrap; align-items: flex-start; }
.view h3 { margin: 0 0 0.3em; font-size: 1.05em; }
.view-body { display: flex; gap: 1em; align-items: flex-start; }
.stage { position: relative; }
.stage canvas, canvas.image { display: block; image-rendering: pixelated; }
.stage canvas.overlay { position: absolute; left: 0; top: 0;
  cursor: crosshair; }
table.legend { border-collapse: collapse; font-size: 0.9em; }
table.legend td { padding: 1px 6px; }
table.legend td.share { text-align: right;
  font-variant-numeric: tabular-nums; }
table.legend tr.hover { background: #fff3c4; }
.swatch { display: inline-block; width: 1em; height: 1em;
  border: 1px solid #0003; vertical-align: middle; }
#scores { display: flex; gap: 2em; flex-wrap: wrap; margin-top: 1em; }
.score-list h3 { margin: 0 0 0.3em; font-size: 1.05em; }
.score-list li { list-style: none; margin: 2px 0; }
.bar { display: inline-block; height: 0.8em; background: #1a73e8;
  vertical-align: middle; margin-right: 0.4em; }
"""

APP_JS = r"""'use strict';
const $ = (id) => document.getElementById(id);
let info = null;
let views = [];

function setStatus(text) { $('status').textContent = text; }
function showError(text) {
  $('error').textContent = text;
  $('error').hidden = !text;
}

async function init() {
  const resp = await fetch('api/info');
  info = await resp.json();
  $('model').textContent = info.title + ' on ' + info.device + ' \u2014 ' +
    info.levels.map((l) => l.name + ' (' + l.classes.length + ' classes)')
      .join(', ');
  for (const ex of info.examples) {
    const img = document.createElement('img');
    img.src = ex.url;
    img.alt = ex.name;
    img.title = ex.name;
    img.className = 'example';
    img.addEventListener('click', () => submitUrl(ex.url, ex.name + '.png'));
    $('examples').appendChild(img);
  }
  $('file').addEventListener('change', (e) => {
    const f = e.target.files[0];
    if (f) submit(f, f.name);
    e.target.value = '';
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('keydown', (e) => {  // keyboard: open the chooser
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      $('file').click();
    }
  });
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer.files[0];
    if (f) submit(f, f.name);
  });
  $('opacity').addEventListener('input', applyOpacity);
  setStatus('Ready: drop an image or pick an example.');
}

async function submitUrl(url, name) {
  const resp = await fetch(url);
  submit(await resp.blob(), name);
}

let pending = 0;
async function submit(blob, name) {
  const ticket = ++pending;
  showError('');
  setStatus('Segmenting ' + name + '\u2026');
  let resp, data;
  try {
    resp = await fetch('api/segment?name=' + encodeURIComponent(name), {
      method: 'POST', body: blob,
      headers: {'Content-Type': 'application/octet-stream'}});
    data = await resp.json();
  } catch (err) {
    if (ticket !== pending) return;
    setStatus('');
    showError('The demo server did not answer: ' + err);
    return;
  }
  if (ticket !== pending) return;  // a newer upload superseded this one
  if (!resp.ok) {
    setStatus('');
    showError(data.error || ('error ' + resp.status));
    return;
  }
  await render(data);
  setStatus(data.name + ': ' + data.width + 'x' + data.height +
    ' pixels, segmented in ' + data.seconds.toFixed(2) + ' s.');
  document.body.dataset.state = 'done';
}

async function inflate(b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream()
    .pipeThrough(new DecompressionStream('deflate'));
  return new Response(stream).arrayBuffer();
}

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = reject;
    img.src = src;
  });
}

function displaySize(w, h) {
  // small images are enlarged (pixelated), large ones shrunk
  const scale = Math.min(640 / w, 480 / h, Math.max(1, 320 / Math.max(w, h)));
  return [Math.round(w * scale), Math.round(h * scale)];
}

async function render(data) {
  const image = await loadImage(data.image);
  const [dw, dh] = displaySize(data.width, data.height);
  const container = $('views');
  container.replaceChildren();
  views = [];
  // the image itself
  const imageView = document.createElement('div');
  imageView.className = 'view';
  imageView.dataset.level = 'image';
  const imageTitle = document.createElement('h3');
  imageTitle.textContent = 'image';
  const imageCanvas = document.createElement('canvas');
  imageCanvas.className = 'image';
  imageCanvas.width = data.width;
  imageCanvas.height = data.height;
  imageCanvas.style.width = dw + 'px';
  imageCanvas.style.height = dh + 'px';
  imageCanvas.getContext('2d').drawImage(image, 0, 0);
  imageView.append(imageTitle, imageCanvas);
  container.append(imageView);
  for (const level of data.levels) {
    const meta = info.levels.find((l) => l.name === level.name) ||
      {classes: [], palette: []};
    const buf = await inflate(level.labels.data);
    const labels = level.labels.dtype === 'uint16' ?
      new Uint16Array(buf) : new Uint8Array(buf);
    const view = document.createElement('div');
    view.className = 'view';
    view.dataset.level = level.name;
    const title = document.createElement('h3');
    title.textContent = level.name;
    const body = document.createElement('div');
    body.className = 'view-body';
    const stage = document.createElement('div');
    stage.className = 'stage';
    const base = document.createElement('canvas');
    const overlay = document.createElement('canvas');
    overlay.className = 'overlay';
    for (const c of [base, overlay]) {
      c.width = data.width;
      c.height = data.height;
      c.style.width = dw + 'px';
      c.style.height = dh + 'px';
    }
    base.getContext('2d').drawImage(image, 0, 0);
    const ctx = overlay.getContext('2d');
    const pixels = ctx.createImageData(data.width, data.height);
    const palette = meta.palette;
    for (let i = 0; i < labels.length; i++) {
      const c = palette[labels[i]] || [0, 0, 0];
      pixels.data[4 * i] = c[0];
      pixels.data[4 * i + 1] = c[1];
      pixels.data[4 * i + 2] = c[2];
      pixels.data[4 * i + 3] = 255;
    }
    ctx.putImageData(pixels, 0, 0);
    const table = document.createElement('table');
    table.className = 'legend';
    const rows = {};
    for (const entry of level.legend) {
      const tr = document.createElement('tr');
      tr.dataset.index = entry.index;
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = 'rgb(' + entry.color.join(',') + ')';
      const c0 = document.createElement('td');
      c0.append(sw);
      const c1 = document.createElement('td');
      c1.className = 'name';
      c1.textContent = entry.name;
      const c2 = document.createElement('td');
      c2.className = 'share';
      c2.textContent = formatShare(entry.share);
      tr.append(c0, c1, c2);
      table.append(tr);
      rows[entry.index] = tr;
    }
    const v = {level: level.name, labels, classes: meta.classes,
               width: data.width, height: data.height, overlay, rows};
    overlay.addEventListener('mousemove', (e) => pointAt(v, e));
    overlay.addEventListener('mouseleave', () => pointAt(v, null));
    stage.append(base, overlay);
    body.append(stage, table);
    view.append(title, body);
    container.append(view);
    views.push(v);
  }
  const scores = $('scores');
  scores.replaceChildren();
  for (const task of data.scores) {
    const box = document.createElement('div');
    box.className = 'score-list';
    box.dataset.task = task.name;
    const h = document.createElement('h3');
    h.textContent = task.name + ' (top ' + task.top.length + ')';
    const ol = document.createElement('ol');
    for (const item of task.top) {
      const li = document.createElement('li');
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = Math.round(120 * item.score) + 'px';
      li.append(bar, item.name + ' ' + (100 * item.score).toFixed(1) + '%');
      ol.append(li);
    }
    box.append(h, ol);
    scores.append(box);
  }
  applyOpacity();
  $('result').hidden = false;
}

function formatShare(share) {
  const pct = 100 * share;
  return (pct > 0 && pct < 0.1) ? '<0.1%' : pct.toFixed(1) + '%';
}

function applyOpacity() {
  const value = parseFloat($('opacity').value);
  $('opacity-value').textContent = value.toFixed(2);
  for (const v of views) v.overlay.style.opacity = value;
}

function pointAt(v, e) {
  // the class of every level at the pixel under the pointer (all views
  // show the same image)
  const pointer = $('pointer');
  pointer.replaceChildren();
  for (const w of views) {
    for (const tr of Object.values(w.rows)) tr.classList.remove('hover');
  }
  if (!e) return;
  const rect = v.overlay.getBoundingClientRect();
  const x = Math.min(v.width - 1,
    Math.floor((e.clientX - rect.left) * v.width / rect.width));
  const y = Math.min(v.height - 1,
    Math.floor((e.clientY - rect.top) * v.height / rect.height));
  if (x < 0 || y < 0) return;
  const where = document.createElement('span');
  where.className = 'where';
  where.textContent = '(x ' + x + ', y ' + y + ')';
  pointer.append(where);
  for (const w of views) {
    const index = w.labels[y * w.width + x];
    const name = w.classes[index] !== undefined ? w.classes[index] :
      String(index);
    const span = document.createElement('span');
    span.className = 'level';
    span.dataset.level = w.level;
    span.textContent = w.level + ': ' + name;
    pointer.append(span);
    if (w.rows[index]) w.rows[index].classList.add('hover');
  }
}

init().catch((err) => showError('Cannot reach the demo server: ' + err));
"""
