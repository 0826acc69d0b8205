// The generator explorer: a samples grid with its controls, an interpolation GIF, StyleGAN's mixing table, and
// translation of an uploaded image for pix2pix and cyclegan. Every image is an API URL, shown for copying.
import { api, apiKey, request, problemOf, ApiError, showImage } from '../api.js';
import { h, field, notice } from '../dom.js';

const Conditional = ['conditional-dcgan', 'biggan'];
const Truncation = ['biggan', 'stylegan'];
const Translating = ['pix2pix', 'cyclegan'];
const Padding = 2; // the grey border the API draws around each image of a grid

export async function render(view, id) {
  // A public generator's page is for anyone, key or not: it asks only for the generator, and lists the caller's
  // jobs only where the caller has a key to list them with.
  const generator = id ? (await api(`/api/generators/${id}`)).data : null;
  const list = generator?.public && !apiKey() ? null : await api('/api/jobs?pageSize=100');
  const usable = (list?.data.items ?? []).filter((j) => j.step > 0 || j.status === 'Succeeded');
  if (generator && !usable.some((j) => j.id === id)) {
    usable.unshift({ id, name: generator.name, model: generator, step: generator.step }); // someone else's, public
  }
  const chooser = h('select', { onchange: () => (location.hash = `#/explore/${chooser.value}`) },
    h('option', { value: '', text: 'Choose a job' }),
    usable.map((j) => h('option', { value: j.id, text: `${j.name} (${j.model.family}, step ${j.step})` })));
  chooser.value = id ?? '';
  view.append(h('div.page-head', {}, h('h1', { text: 'Generator explorer' })), field('Generator (job)', chooser));
  if (!id) {
    if (!usable.length) view.append(h('p.empty', { text: 'No job has a checkpoint yet.' }));
    return;
  }
  const family = generator.family;
  const side = generator.imageSize;
  const base = `/api/generators/${id}`;
  if (Translating.includes(family)) view.append(translateSection(base, generator));
  else {
    view.append(samplesSection(base, family, side), interpolationSection(base, side));
    if (family === 'stylegan') view.append(mixingSection(base, side));
  }
}

const input = (props) => h('input', { type: 'number', inputMode: 'numeric', ...props });
const gridSize = (columns, rows, side) =>
  [columns * side + (columns + 1) * Padding, rows * side + (rows + 1) * Padding];

/** An <img> with the URL it shows beside it; errors go to the section's message line. */
function picture(alt) {
  const img = h('img.generated', { alt });
  const link = h('a.url', { target: '_blank', rel: 'noopener' });
  const message = h('div');
  return {
    element: h('figure', {}, img, h('figcaption', {}, 'URL: ', link), message),
    img,
    async show(url, [width, height]) {
      img.width = width;
      img.height = height;
      link.href = url;
      link.textContent = url;
      message.replaceChildren();
      img.onerror = async () => {
        // An <img> does not say why it failed: ask again to show the ProblemDetails.
        const response = await request(url).catch(() => null);
        message.replaceChildren(notice(response && !response.ok
          ? explain(new ApiError(response, await problemOf(response))) : 'The image did not load.'));
      };
      await showImage(img, url).catch((error) => message.replaceChildren(notice(explain(error))));
    },
  };
}

function explain(error) {
  const errors = error.problem?.errors;
  return errors ? Object.entries(errors).map(([k, v]) => `${k}: ${v.join(' ')}`).join('; ') : error.message;
}

function samplesSection(base, family, side) {
  const seed = input({ value: 1, min: 0 });
  const count = input({ value: 16, min: 1, max: 256 });
  const columns = input({ value: 4, min: 1, max: 64 });
  const label = h('input', { type: 'text', placeholder: 'e.g. 3 or 0,1,2' });
  const truncation = input({ step: 'any', min: 0, placeholder: family === 'stylegan' ? 'psi, 0 to 2' : 'e.g. 0.5' });
  const pic = picture('Generated samples');
  const update = () => {
    const q = new URLSearchParams({ seed: seed.value, count: count.value, columns: columns.value });
    if (label.value.trim()) q.set('label', label.value.trim());
    if (truncation.value) q.set('truncation', truncation.value);
    const cols = Math.max(1, Number(columns.value));
    const labels = label.value.includes(',') ? label.value.split(',').length : 0;
    const rows = labels || Math.ceil(Number(count.value) / cols);
    pic.show(`${base}/samples.png?${q}`, gridSize(labels ? cols : Math.min(cols, Number(count.value)), rows, side));
  };
  const form = h('form.controls', { onsubmit: (e) => { e.preventDefault(); update(); }, onchange: update },
    field('Seed', seed), field('Count', count), field('Columns', columns),
    Conditional.includes(family) ? field('Label', label, 'a class, or classes separated by commas') : null,
    Truncation.includes(family) ? field('Truncation', truncation) : null,
    h('div.buttons', {}, h('button', { type: 'submit', text: 'Show' }),
      h('button', { type: 'button', text: 'New seeds', onclick: () => {
        seed.value = String(Math.floor(Math.random() * 1e9));
        update();
      } })));
  update();
  return h('section', {}, h('h2', { text: 'Samples' }), form, pic.element);
}

function interpolationSection(base, side) {
  const from = input({ value: 1, min: 0 });
  const to = input({ value: 2, min: 0 });
  const steps = input({ value: 8, min: 2, max: 64 });
  const pic = picture('Interpolation between two seeds (animated)');
  const update = () => {
    const q = new URLSearchParams({ from: from.value, to: to.value, steps: steps.value });
    pic.show(`${base}/interpolation.gif?${q}`, [side, side]);
  };
  const form = h('form.controls', { onsubmit: (e) => { e.preventDefault(); update(); } },
    field('From seed', from), field('To seed', to), field('Frames', steps),
    h('div.buttons', {}, h('button', { type: 'submit', text: 'Interpolate' })));
  update();
  return h('section', {}, h('h2', { text: 'Interpolation' }), form, pic.element);
}

function mixingSection(base, side) {
  const rows = h('input', { type: 'text', value: '1,2,3' });
  const columns = h('input', { type: 'text', value: '4,5,6,7' });
  const mixFrom = input({ value: '', min: 0, placeholder: 'layer' });
  const pic = picture('Style-mixing table');
  const update = () => {
    const q = new URLSearchParams({ rows: rows.value, columns: columns.value });
    if (mixFrom.value) q.set('mixFrom', mixFrom.value);
    const [r, c] = [rows.value.split(',').length, columns.value.split(',').length];
    pic.show(`${base}/mixing.png?${q}`, gridSize(c + 1, r + 1, side));
  };
  const form = h('form.controls', { onsubmit: (e) => { e.preventDefault(); update(); } },
    field('Row seeds', rows), field('Column seeds', columns), field('Mix from layer', mixFrom),
    h('div.buttons', {}, h('button', { type: 'submit', text: 'Mix' })));
  update();
  return h('section', {}, h('h2', { text: 'Style mixing' }), form, pic.element);
}

function translateSection(base, generator) {
  const file = h('input', { type: 'file', accept: 'image/png,image/jpeg' });
  const direction = h('select', {}, h('option', { value: 'AtoB', text: 'A to B' }),
    h('option', { value: 'BtoA', text: 'B to A' }));
  const side = generator.imageSize;
  const output = h('img.generated', { width: side, height: side, alt: 'Translation' });
  const message = h('div');
  const url = () => `${base}/translate${generator.family === 'cyclegan' ? `?direction=${direction.value}` : ''}`;
  const run = async () => {
    if (!file.files.length) return;
    message.replaceChildren();
    const body = new FormData();
    body.append('image', file.files[0]);
    const response = await request(url(), { method: 'POST', body });
    if (!response.ok) {
      message.replaceChildren(notice(explain(new ApiError(response, await problemOf(response)))));
      return;
    }
    if (output.src.startsWith('blob:')) URL.revokeObjectURL(output.src);
    output.src = URL.createObjectURL(await response.blob());
  };
  const form = h('form.controls', { onsubmit: (e) => { e.preventDefault(); run(); }, onchange: run },
    field('Image to translate', file),
    generator.family === 'cyclegan' ? field('Direction', direction) : null);
  return h('section', {}, h('h2', { text: 'Translate an image' }), form,
    h('p', {}, `POST ${url()} with the image as multipart field "image".`), output, message);
}
