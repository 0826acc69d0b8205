// The dataset upload, by file input or drag and drop, with a progress bar fed by XMLHttpRequest's upload events
// (fetch reports no upload progress). Used by the datasets page and by the new-job form.
import { apiKey, askForKey } from './api.js';
import { h, field, notice } from './dom.js';

/** An upload form; `onUploaded(dataset)` runs with the API's answer after each successful upload. */
export function uploadForm(onUploaded) {
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
    field('Dataset name', name), field('Dataset image size', imageSize), field('Dataset channels', channels), drop,
    h('button', { type: 'submit', text: 'Upload' }), bar, result);

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
      await onUploaded(answer.body);
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
  return form;
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
