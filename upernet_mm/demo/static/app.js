'use strict';
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
