// The submit form: the family decides the fields' defaults; a 400's ProblemDetails errors appear beside the
// fields they name (training.steps beside Steps), the rest above the button.
import { api, ApiError } from '../api.js';
import { h, field, notice } from '../dom.js';
import { uploadForm } from '../upload.js';
import { card } from './datasets.js';

const BuiltIn = ['synthetic', 'synthetic-pairs', 'synthetic-unpaired', 'mnist', 'fashion-mnist', 'cifar10'];
const Sizes = { classic: [28, 32, 64], translation: [64, 128, 256], modern: [32, 64, 128, 256] };
const Families = {
  dcgan: { sizes: Sizes.classic, dataset: 'synthetic', channels: 1, loss: true },
  'conditional-dcgan': { sizes: Sizes.classic, dataset: 'synthetic', channels: 1, loss: true },
  biggan: { sizes: Sizes.modern, dataset: 'synthetic', channels: 1 },
  progan: { sizes: Sizes.modern, dataset: 'synthetic', channels: 1 },
  stylegan: { sizes: Sizes.modern, dataset: 'synthetic', channels: 1 },
  pix2pix: { sizes: Sizes.translation, dataset: 'synthetic-pairs', channels: 3, translates: true },
  cyclegan: { sizes: Sizes.translation, dataset: 'synthetic-unpaired', channels: 3, translates: true },
};
const Losses = ['bce', 'bce-minimax', 'lsgan', 'wgan-gp', 'hinge'];

export async function render(view, presetDataset) {
  const uploaded = await api('/api/datasets?pageSize=100').then(({ data }) => data.items).catch(() => []);
  const options = h('datalist', { id: 'dataset-options' },
    BuiltIn.map((name) => h('option', { value: name })),
    uploaded.map((d) => h('option', { value: d.id, label: `${d.name} (uploaded, ${d.kind})` })));
  const select = (values) => h('select', {}, values.map((v) => h('option', { value: v, text: String(v) })));
  const num = (props) => h('input', { type: 'number', ...props });
  const controls = {
    name: h('input', { type: 'text', placeholder: 'optional' }),
    'model.family': select(Object.keys(Families)),
    dataset: h('input', { type: 'text', required: true, autocomplete: 'off' }),
    'model.imageSize': select(Sizes.classic),
    'model.channels': select([1, 3]),
    'training.steps': num({ min: 1, step: 1 }),
    'training.batchSize': num({ min: 1, step: 1, placeholder: 'family default' }),
    'training.learningRate': num({ min: 0, step: 'any', placeholder: '0.0002' }),
    'training.loss': select(Losses),
    checkpointEvery: num({ min: 1, step: 1 }),
    seed: num({ min: 0, step: 1 }),
    device: select(['cpu', 'auto', 'cuda']),
    public: h('input', { type: 'checkbox' }),
  };
  controls.dataset.setAttribute('list', 'dataset-options');
  const labels = {
    name: 'Name', 'model.family': 'Family', dataset: 'Dataset', 'model.imageSize': 'Image size (pixels)',
    'model.channels': 'Channels', 'training.steps': 'Steps', 'training.batchSize': 'Batch size',
    'training.learningRate': 'Learning rate', 'training.loss': 'Loss', checkpointEvery: 'Checkpoint every (steps)',
    seed: 'Seed', device: 'Device', public: 'Public generator (samples need no key)',
  };
  const hints = { dataset: 'a built-in name or an uploaded dataset\'s id' };
  const fields = {};
  for (const [path, control] of Object.entries(controls)) {
    control.name = path;
    fields[path] = field(labels[path], control, hints[path]);
  }
  fields.public.classList.add('check');

  const defaults = () => {
    const family = Families[controls['model.family'].value];
    controls['model.imageSize'].replaceChildren(...family.sizes.map((v) => h('option', { value: v, text: v })));
    controls['model.channels'].value = String(family.channels);
    if (!presetDataset || controls.dataset.value === '') controls.dataset.value = family.dataset;
    controls['training.steps'].value = family.translates ? '100' : '300';
    controls['training.batchSize'].value = family.translates ? '' : '64';
    controls.checkpointEvery.value = family.translates ? '50' : '100';
    controls.seed.value ||= '1';
    fields['training.loss'].hidden = !family.loss;
  };
  controls['model.family'].addEventListener('change', () => { presetDataset = null; defaults(); });
  controls.device.value = 'cpu';
  if (presetDataset) controls.dataset.value = presetDataset;
  defaults();

  const general = h('div.general-errors');
  const submit = h('button', { type: 'submit', text: 'Submit job' });
  const form = h('form.submit', { noValidate: true, onsubmit: async (e) => {
    e.preventDefault();
    clearErrors(form, general);
    submit.disabled = true;
    try {
      const { data } = await api('/api/jobs', { method: 'POST', body: body(controls) });
      location.hash = `#/jobs/${data.id}`;
    } catch (error) {
      showErrors(error, fields, general);
    } finally {
      submit.disabled = false;
    }
  } }, Object.values(fields), options, general, submit);
  // A dataset uploaded here is chosen at once, its preview shown beside the form.
  const uploadedPreview = h('div.datasets');
  const uploader = h('details.upload-here', {}, h('summary', { text: 'Upload a dataset for this job' }),
    uploadForm((d) => {
      controls.dataset.value = d.id;
      options.append(h('option', { value: d.id, label: `${d.name} (uploaded, ${d.kind})` }));
      uploadedPreview.replaceChildren(card(d));
    }), uploadedPreview);
  view.append(h('div.page-head', {}, h('h1', { text: 'New job' })), uploader, form);
}

/** The request body: only fields the user can see and has filled in, so the API's defaults apply to the rest. */
function body(controls) {
  const out = { model: {}, training: {} };
  for (const [path, control] of Object.entries(controls)) {
    if (control.closest('[hidden]')) continue;
    let value = control.type === 'checkbox' ? control.checked : control.value.trim();
    if (value === '') continue;
    if (control.type === 'number' || path.endsWith('imageSize') || path.endsWith('channels')) value = Number(value);
    const [group, key] = path.includes('.') ? path.split('.') : [null, path];
    if (group) out[group][key] = value;
    else out[key] = value;
  }
  return out;
}

function clearErrors(form, general) {
  for (const error of form.querySelectorAll('.field-error')) error.textContent = '';
  for (const control of form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
  general.replaceChildren();
}

/** Puts each `errors` entry beside the field it names; entries with no field on the form go above the button. */
function showErrors(error, fields, general) {
  const errors = error instanceof ApiError ? error.problem?.errors : null;
  if (!errors) {
    general.replaceChildren(notice(error.message));
    return;
  }
  const byPath = new Map(Object.keys(fields).map((p) => [p.toLowerCase(), fields[p]]));
  let first = null;
  for (const [key, messages] of Object.entries(errors)) {
    const target = byPath.get(key.toLowerCase().replace(/^\$\./, ''));
    if (target && !target.hidden) {
      target.querySelector('.field-error').textContent = messages.join(' ');
      const control = target.querySelector('input, select');
      control.setAttribute('aria-invalid', 'true');
      first ??= control;
    } else {
      general.append(notice(`${key}: ${messages.join(' ')}`));
    }
  }
  first?.focus();
}
