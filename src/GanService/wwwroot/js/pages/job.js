// One job: live loss curves, the checkpoint timeline, attempts, the recipe and warnings; Cancel, Make public,
// Continue, Export and Delete.
import { api, apiKey, request, problemOf, ApiError, showImage } from '../api.js';
import { follow } from '../sse.js';
import { LineChart } from '../chart.js';
import { h, number, progressBar, statusBadge, notice, isFinal } from '../dom.js';

const PreviewBox = 320;

export async function render(view, id) {
  const base = `/api/jobs/${id}`;
  let { data: job } = await api(base);
  const head = h('div.page-head');
  const actions = h('div.actions');
  const messages = h('div');
  const warnings = h('ul.warnings');
  const losses = h('canvas', { 'aria-label': 'Discriminator and generator loss by step', role: 'img' });
  const scores = h('canvas', { 'aria-label': 'D(x) and D(G(z)) by step', role: 'img' });
  const attempts = h('tbody');
  const recipe = h('pre.recipe');
  const timeline = timelineView(job);

  view.append(head, actions, messages, warnings,
    h('section', {}, h('h2', { text: 'Losses' }), losses, h('h2', { text: 'D(x) and D(G(z))' }), scores),
    h('section', {}, h('h2', { text: 'Checkpoints' }), timeline.element),
    h('section', {}, h('h2', { text: 'Attempts' }), h('div.scroll', {}, h('table.attempts', {},
      h('thead', {}, h('tr', {}, ['#', 'Worker', 'Started', 'Resumed from', 'Last step', 'Outcome']
        .map((t) => h('th', { scope: 'col', text: t })))), attempts))),
    h('section', {}, h('h2', { text: 'Recipe' }), recipe));

  const lossChart = new LineChart(losses, [
    { key: 'discriminatorLoss', label: 'D loss' }, { key: 'generatorLoss', label: 'G loss' }]);
  const scoreChart = new LineChart(scores, [
    { key: 'realScore', label: 'D(x)' }, { key: 'fakeScore', label: 'D(G(z))' }]);

  const fail = (error) => messages.replaceChildren(notice(error.message));
  const show = (next) => {
    job = next;
    head.replaceChildren(h('h1', { text: job.name }), statusBadge(job.status), progressBar(job),
      h('span.step', { text: `step ${job.step} / ${job.totalSteps}` }),
      job.latest ? h('span.latest', { text: `D ${number(job.latest.discriminatorLoss)}, `
        + `G ${number(job.latest.generatorLoss)}, D(x) ${number(job.latest.realScore)}, `
        + `D(G(z)) ${number(job.latest.fakeScore)}` }) : null);
    cancel.disabled = isFinal(job.status);
    more.disabled = !['Succeeded', 'Cancelled'].includes(job.status);
    stored.textContent = job.storedBytes == null ? '' : `${(job.storedBytes / 1048576).toFixed(1)} MB stored`;
    visibility.textContent = job.public ? 'Make private' : 'Make public';
    visibility.setAttribute('aria-pressed', String(job.public));
    const all = [job.warning, job.error, job.stopReason, ...(job.warnings ?? []).map((w) => w.message)];
    warnings.replaceChildren(...all.filter(Boolean).map((text) => h('li', { text })));
    recipe.textContent = JSON.stringify({ dataset: job.dataset, model: job.model, training: job.training,
      checkpointEvery: job.checkpointEvery, seed: job.seed, device: job.device, evaluation: job.evaluation }, null, 2);
  };

  const cancel = h('button', { type: 'button', text: 'Cancel job', onclick: async () => {
    cancel.disabled = true;
    try { show((await api(`${base}/cancel`, { method: 'POST' })).data); } catch (error) { fail(error); }
  } });
  const visibility = h('button', { type: 'button', onclick: async () => {
    try {
      show((await api(`${base}/visibility`, { method: 'PUT', body: { public: !job.public } })).data);
    } catch (error) { fail(error); }
  } });
  // Continuing queues the same job again: the page starts over to follow its new attempts live.
  const steps = h('input', { id: 'continue-steps', type: 'number', min: 1, value: job.training.steps,
    'aria-label': 'Steps to train further' });
  const more = h('button', { type: 'button', text: 'Continue training', onclick: async () => {
    more.disabled = true;
    try {
      await api(`${base}/continue`, { method: 'POST', body: { steps: Number(steps.value) } });
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (error) { fail(error); more.disabled = false; }
  } });
  // The checkpoint chosen on the timeline's slider is the one exported.
  const exporter = h('button', { type: 'button', text: 'Export for PyTorch', onclick: async () => {
    const step = timeline.selected();
    if (step === null) return fail(new Error('The job has no checkpoint to export yet.'));
    const url = `/api/generators/${id}/export.zip?step=${step}`;
    const download = `${job.model.family}-${id}-step-${step}.zip`; // the name the API gives it
    // A plain link lets the browser stream the zip to disk; only a key, which a link cannot send, needs a fetch
    // that holds the whole zip in memory.
    if (!apiKey() || job.public) return h('a', { href: url, download }).click();
    try {
      const response = await request(url);
      if (!response.ok) throw new ApiError(response, await problemOf(response));
      const link = h('a', { href: URL.createObjectURL(await response.blob()), download });
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    } catch (error) { fail(error); }
  } });
  const remove = h('button.danger', { type: 'button', text: 'Delete job', onclick: async () => {
    if (!window.confirm(`Delete ${job.name} with its checkpoints? This cannot be undone.`)) return;
    try {
      await api(base, { method: 'DELETE' });
      location.hash = '#/jobs';
    } catch (error) { fail(error); }
  } });
  const stored = h('span.stored');
  actions.append(cancel, visibility, h('a.button', { href: `#/explore/${id}`, text: 'Explore generator' }),
    h('span.continue', {}, steps, more), exporter, remove, stored);
  show(job);

  const loadAttempts = async () => {
    const { data } = await api(`${base}/attempts`);
    attempts.replaceChildren(...data.map((a) => h('tr', {}, [a.number, a.worker,
      new Date(a.startedAt).toLocaleString(), a.resumedFromStep ?? '', a.lastStep, a.outcome ?? 'running']
      .map((v) => h('td', { text: String(v) })))));
  };

  // Metric history a page at a time (a long run has many rows), then live rows from the stream.
  const loadMetrics = async () => {
    for (let page = 1; ; page++) {
      const { data, total } = await api(`${base}/metrics?page=${page}&pageSize=1000`);
      lossChart.add(data);
      scoreChart.add(data);
      if (data.length === 0 || lossChart.count >= total) break;
    }
  };
  const loadCheckpoints = async () => timeline.add((await api(`${base}/checkpoints`)).data);
  await Promise.all([loadMetrics(), loadCheckpoints(), loadAttempts()]).catch(fail);

  // Without Last-Event-ID the job's stream replays its history first; the chart and timeline keep one point per
  // step, so the replay only fills what the pages above missed.
  const stream = follow(`${base}/events`, ({ type, data }) => {
    if (data.job) show(data.job);
    if (type === 'metric' && data.metric) { lossChart.add([data.metric]); scoreChart.add([data.metric]); }
    if (type === 'checkpoint' && data.checkpoint) timeline.add([data.checkpoint]);
    if (type === 'status') loadAttempts().catch(fail);
    if (type === 'deleted') {
      messages.replaceChildren(notice('This job was deleted.'));
      for (const button of actions.querySelectorAll('button')) button.disabled = true;
    }
  }, {
    // A continued job's history holds an earlier final status: the stream ends when the job itself has ended.
    until: ({ type, data }) => type === 'deleted'
      || (type === 'status' && isFinal(data.status) && isFinal(data.job?.status ?? data.status)),
  });
  return () => stream.close();
}

/** Checkpoint previews in step order with a range slider, like TensorBoard's image step slider. */
function timelineView(job) {
  const checkpoints = [];
  const slider = h('input', { id: 'checkpoint-slider', type: 'range', min: 0, max: 0, value: 0, step: 1,
    disabled: true });
  const label = h('output', { htmlFor: slider.id, text: 'no checkpoints yet' });
  const img = h('img.preview', { width: PreviewBox, height: PreviewBox, alt: 'Checkpoint preview' });
  const link = h('a.url');
  const select = () => {
    const index = Number(slider.value);
    const c = checkpoints[index];
    if (!c) return;
    label.textContent = `step ${c.step}${c.best ? ', the best' : ''} (${index + 1} of ${checkpoints.length})`;
    img.alt = `Preview of the checkpoint at step ${c.step}`;
    img.dataset.step = String(c.step);
    link.href = c.links.preview;
    link.textContent = c.links.preview;
    showImage(img, c.links.preview).catch(() => {});
  };
  slider.addEventListener('input', select);
  const element = h('div.timeline', {},
    h('div.field', {}, h('label', { htmlFor: slider.id, text: 'Checkpoint step' }), slider, label),
    img, h('p', {}, 'Image URL: ', link));
  return {
    element,
    /** The step the slider shows, or null before the first checkpoint. */
    selected: () => checkpoints[Number(slider.value)]?.step ?? null,
    add(items) {
      const atEnd = Number(slider.value) >= checkpoints.length - 1;
      let added = false;
      for (const c of items) {
        if (checkpoints.some((k) => k.step === c.step)) continue;
        checkpoints.push(c);
        added = true;
      }
      if (!added) return;
      checkpoints.sort((a, b) => a.step - b.step);
      slider.max = String(checkpoints.length - 1);
      slider.disabled = false;
      element.dataset.count = String(checkpoints.length);
      if (atEnd) slider.value = slider.max;
      select();
    },
  };
}
