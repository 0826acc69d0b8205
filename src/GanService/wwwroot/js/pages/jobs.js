// The jobs list: newest first, filtered by text and status, kept current by the all-jobs event stream.
import { api } from '../api.js';
import { follow } from '../sse.js';
import { h, field, number, progressBar, statusBadge, notice } from '../dom.js';

const Statuses = ['Queued', 'Running', 'Succeeded', 'Failed', 'Cancelled'];
const PageSize = 100;

export async function render(view) {
  const text = h('input', { type: 'search', placeholder: 'name, id, family or dataset' });
  const status = h('select', {}, h('option', { value: '', text: 'Any status' }),
    Statuses.map((s) => h('option', { value: s, text: s })));
  const live = h('span.live', { role: 'status', text: 'live updates: connecting' });
  const body = h('tbody');
  const empty = h('p.empty', { text: 'No jobs yet. Submit one from "New job".', hidden: true });
  const older = h('button', { type: 'button', hidden: true });
  view.append(
    h('div.page-head', {}, h('h1', { text: 'Jobs' }), live),
    h('form.filters', { onsubmit: (e) => e.preventDefault() },
      field('Filter', text), field('Status', status)),
    h('table.jobs', {},
      h('thead', {}, h('tr', {}, ['Job', 'Status', 'Progress', 'Family', 'Dataset', 'Step', 'Best']
        .map((t) => h('th', { scope: 'col', text: t })))),
      body),
    empty,
    older,
  );

  const jobs = new Map();
  const apply = () => {
    const needle = text.value.trim().toLowerCase();
    let shown = 0;
    for (const row of body.rows) {
      const job = jobs.get(row.dataset.id);
      const haystack = [job.name, job.id, job.model.family, job.dataset].join(' ').toLowerCase();
      row.hidden = (needle && !haystack.includes(needle)) || (status.value && job.status !== status.value);
      if (!row.hidden) shown++;
    }
    empty.hidden = shown > 0;
    empty.textContent = jobs.size ? 'No job matches the filter.' : 'No jobs yet. Submit one from "New job".';
  };
  text.addEventListener('input', apply);
  status.addEventListener('change', apply);

  const upsert = (job, atTop) => {
    jobs.set(job.id, job);
    const row = row_(job);
    const old = body.querySelector(`tr[data-id="${job.id}"]`);
    if (old) old.replaceWith(row);
    else if (atTop) body.prepend(row);
    else body.append(row);
  };

  // Listening before the list is read, so a job created meanwhile is not missed.
  const stream = follow('/api/events', (event) => {
    if (event.type === 'deleted') {
      jobs.delete(event.data.jobId);
      body.querySelector(`tr[data-id="${event.data.jobId}"]`)?.remove();
    } else if (event.data.job) upsert(event.data.job, true);
    else return;
    apply();
  }, { onState: (state) => (live.textContent =
    `live updates: ${['open', 'listening'].includes(state) ? 'on' : state}`) });
  // Newest first, a page at a time; the filter applies to the jobs loaded so far.
  let pages = 0;
  const loadPage = async () => {
    const { data } = await api(`/api/jobs?pageSize=${PageSize}&page=${pages + 1}`);
    pages++;
    for (const job of data.items) upsert(job, false);
    const left = data.total - (data.page - 1) * data.pageSize - data.items.length;
    older.hidden = left <= 0;
    older.textContent = `Show older jobs (${left} more)`;
    apply();
  };
  older.addEventListener('click', () => loadPage().catch((error) => view.append(notice(error.message))));
  try {
    await loadPage();
  } catch (error) {
    view.append(notice(error.message));
  }
  apply();

  return () => stream.close();
}

function row_(job) {
  const link = h('a', { href: `#/jobs/${job.id}`, text: job.name });
  return h('tr', { dataset: { id: job.id, status: job.status } },
    h('td', { dataset: { label: 'Job' } }, link, h('small.id', { text: `…${job.id.slice(-8)}` })),
    h('td', { dataset: { label: 'Status' } }, statusBadge(job.status)),
    h('td', { dataset: { label: 'Progress' } }, progressBar(job)),
    h('td', { dataset: { label: 'Family' }, text: job.model.family }),
    h('td', { dataset: { label: 'Dataset' }, text: job.dataset }),
    h('td.step', { dataset: { label: 'Step' }, text: `${job.step} / ${job.totalSteps}` }),
    h('td', { dataset: { label: 'Best' }, text: job.best ? `${number(job.best.value)} @${job.best.step}` : '' }));
}
