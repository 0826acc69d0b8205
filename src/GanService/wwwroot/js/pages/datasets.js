// Uploaded datasets with their preview grids, and an upload by file input or drag and drop, with a progress bar
// fed by XMLHttpRequest's upload events (fetch reports no upload progress).
import { api, apiKey, askForKey, showImage } from '../api.js';
import { h, field, notice } from '../dom.js';

export async function render(view) {
  const list = h('div.datasets');
  const file = h('input', { type: 'file', accept: '.zip,.tar,.tgz,.gz,.bin,application/zip' });
  const name = h('input', { type: 'text', placeholder: 'default: the file name' });
  const imageSize = h('input', { type: 'number', min: 8, max: 256, placeholder: '64 for archives' });
  const channels = h('select', {}, h('option', { value: '', text: 'native (RGB for archives)' }),
    h('option', { value: '1', text: '1 (grey)' }), h('option', { value: '3', text: '3 (RGB)' }));
  const bar = h('progress', { max: 100, value: 0, 'aria-label': 'Upload progress', hidden: true });
  const result = h('div', { role: 'status' });
  const drop = h('div.drop', {}, 'Drop an archive here, or choose it above.');
  const form = h('form.upload', { onsubmit: (e) => { e.preventDefault(); upload(); } },
    field('Archive (zip, tar, tar.gz of PNG/JPEG; class folders label it)', file),
    field('Name', name), field('Image size', imageSize), field('Channels', channels), drop,
    h('button', { type: 'submit', text: 'Upload' }), bar, result);

  const refresh = async () => {
    const { data } = await api('/api/datasets?pageSize=100');
    list.replaceChildren(...(data.items.length ? data.items.map(card)
      : [h('p.empty', { text: 'No uploaded datasets. Built-in ones (synthetic, mnist, ...) need no upload.' })]));
  };

  const upload = async (dropped) => {
    const chosen = dropped ?? file.files[0];
    if (!chosen) {
      result.replaceChildren(notice('Choose a file first.'));
      return;
    }
    const body = new FormData();
    body.append('file', chosen);
    if (name.value.trim()) body.append('name', name.value.trim());
    if (imageSize.value) body.append('imageSize', imageSize.value);
    if (channels.value) body.append('channels', channels.value);
    bar.hidden = false;
    bar.value = 0;
    result.replaceChildren();
    let answer = await send(body, bar);
    if (answer.status === 401 && (await askForKey())) answer = await send(body, bar);
    if (answer.status >= 200 && answer.status < 300) {
      result.replaceChildren(notice(`Uploaded "${answer.body.name}": ${answer.body.count} images, id `
        + answer.body.id, 'ok'));
      form.reset();
      await refresh();
    } else {
      const errors = answer.body?.errors;
      result.replaceChildren(notice(errors ? Object.entries(errors).map(([k, v]) => `${k}: ${v.join(' ')}`)
        .join('; ') : answer.body?.detail || answer.body?.title || `Upload failed (${answer.status}).`));
    }
  };

  for (const type of ['dragenter', 'dragover']) drop.addEventListener(type, (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer.files.length) upload(e.dataTransfer.files[0]);
  });

  view.append(h('div.page-head', {}, h('h1', { text: 'Datasets' })),
    h('section', {}, h('h2', { text: 'Upload' }), form), h('section', {}, h('h2', { text: 'Uploaded' }), list));
  await refresh();
}

/** POST /api/datasets by XMLHttpRequest for its upload progress; resolves with { status, body }. */
function send(body, bar) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/datasets');
    xhr.setRequestHeader('Accept', 'application/json');
    const key = apiKey();
    if (key) xhr.setRequestHeader('X-Api-Key', key);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
    });
    xhr.addEventListener('load', () => {
      bar.value = 100;
      let parsed = null;
      try { parsed = JSON.parse(xhr.responseText); } catch { /* not JSON: the status says enough */ }
      resolve({ status: xhr.status, body: parsed });
    });
    xhr.addEventListener('error', () => resolve({ status: 0, body: { title: 'The upload did not reach the host.' } }));
    xhr.send(body);
  });
}

function card(d) {
  const img = h('img.preview', { width: 256, height: 256, alt: `Preview of ${d.name}`, loading: 'lazy' });
  showImage(img, d.links.preview).catch(() => {});
  const classes = d.classes.length ? d.classes.map((c) => `${c.name} (${c.count})`).join(', ') : 'unlabelled';
  return h('article.dataset', { dataset: { id: d.id } },
    h('h3', { text: d.name }), img,
    h('dl', {},
      h('dt', { text: 'Id' }), h('dd', {}, h('code', { text: d.id })),
      h('dt', { text: 'Kind' }), h('dd', { text: `${d.kind}, ${d.format}` }),
      h('dt', { text: 'Images' }), h('dd', { text: `${d.count}${d.countB ? ` + ${d.countB}` : ''}, `
        + `${d.imageSize}x${d.imageSize}, ${d.channels === 1 ? 'grey' : 'RGB'}` }),
      h('dt', { text: 'Classes' }), h('dd', { text: classes })),
    h('p.preview-url', {}, 'Preview: ', h('a.url', { href: d.links.preview, text: d.links.preview })),
    h('a.button', { href: `#/submit/${d.id}`, text: 'Train on it' }));
}
