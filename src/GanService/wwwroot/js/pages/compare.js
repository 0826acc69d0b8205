// Compare runs: the G and D losses of two or more jobs overlaid, each job a colour, and their fd_resnet18 per
// evaluation where they were scored. The jobs are in the URL (#/compare/ID,ID), so a comparison can be shared.
import { api } from '../api.js';
import { LineChart } from '../chart.js';
import { h, field, notice } from '../dom.js';

const MaxJobs = 5; // one colour each in the chart's palette

export async function render(view, idsText) {
  const ids = (idsText ?? '').split(',').filter(Boolean).slice(0, MaxJobs);
  const { data } = await api('/api/jobs?pageSize=100');
  const boxes = data.items.map((job) =>
    h('label.pick', {}, h('input', { type: 'checkbox', value: job.id, checked: ids.includes(job.id) }),
      ` ${job.name} (${job.model.family}, ${job.status})`));
  const go = h('button', { type: 'submit', text: 'Compare' });
  view.append(
    h('div.page-head', {}, h('h1', { text: 'Compare runs' })),
    h('form.compare-pick', {
      onsubmit: (e) => {
        e.preventDefault();
        const picked = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
        location.hash = `#/compare/${picked.slice(0, MaxJobs).join(',')}`;
      },
    }, h('fieldset', {}, h('legend', { text: `Jobs to compare (up to ${MaxJobs})` }), boxes), go),
  );
  if (ids.length === 0) return;

  const jobs = await Promise.all(ids.map((id) => api(`/api/jobs/${id}`).then((r) => r.data)));
  const series = (prefix, what) => jobs.map((job, i) => ({ key: `${prefix}${i}`, label: `${job.name} ${what}` }));
  const canvas = (label) => h('canvas', { role: 'img', 'aria-label': label });
  const charts = {
    g: new LineChart(canvas('Generator losses of the compared jobs'), series('g', 'G')),
    d: new LineChart(canvas('Discriminator losses of the compared jobs'), series('d', 'D')),
    fd: new LineChart(canvas('fd_resnet18 of the compared jobs by step'), series('fd', 'FD')),
  };
  view.append(
    h('ul.compared', {}, jobs.map((job) => h('li', {}, h('a', { href: `#/jobs/${job.id}`, text: job.name })))),
    h('h2', { text: 'Generator loss' }), charts.g.canvas,
    h('h2', { text: 'Discriminator loss' }), charts.d.canvas,
    h('h2', { text: 'fd_resnet18 (lower is better; only runs scored on the same sample count compare)' }),
    charts.fd.canvas,
  );
  try {
    await Promise.all(jobs.map(async (job, i) => {
      for (let page = 1; ; page++) {
        const { data: rows, total } = await api(`/api/jobs/${job.id}/metrics?page=${page}&pageSize=1000`);
        charts.g.add(rows.map((m) => ({ step: m.step, [`g${i}`]: m.generatorLoss })), true);
        charts.d.add(rows.map((m) => ({ step: m.step, [`d${i}`]: m.discriminatorLoss })), true);
        if (rows.length === 0 || page * 1000 >= total) break;
      }
      const { data: scored } = await api(`/api/jobs/${job.id}/evaluations`);
      charts.fd.add(scored.filter((e) => e.fd !== null).map((e) => ({ step: e.step, [`fd${i}`]: e.fd })), true);
    }));
  } catch (error) {
    view.append(notice(error.message));
  }
}
