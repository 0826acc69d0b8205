// Small DOM helpers shared by the pages: element creation, formatting, field errors.

/** h('div.card', { id: 'x', onclick }, child, ...) */
export function h(spec, props = {}, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag || 'div');
  if (classes.length) el.className = classes.join(' ');
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key in el && key !== 'list' && key !== 'form') el[key] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false)
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

let ids = 0;
/** A labelled field: <label for> and its control, with a slot for the field's error below it. */
export function field(label, control, hint) {
  control.id ||= `f${++ids}`;
  const error = h('p.field-error', { id: `${control.id}-error`, role: 'alert' });
  control.setAttribute('aria-describedby', error.id);
  return h('div.field', {}, h('label', { htmlFor: control.id, text: label }), control,
    hint ? h('small.hint', { text: hint }) : null, error);
}

export function eta(seconds) {
  if (seconds === null || seconds === undefined) return '';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s left`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s left`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min left`;
}

export const number = (value, digits = 3) =>
  value === null || value === undefined ? '' : Number(value).toPrecision(digits);

export function progressBar(job) {
  const bar = h('progress', { max: 100, value: job.percent ?? 0, 'aria-label': `Progress of ${job.name}` });
  return h('div.progress', {}, bar, h('span.eta', { text: progressText(job) }));
}

export function progressText(job) {
  const pct = `${Math.round(job.percent ?? 0)}%`;
  return job.status === 'Running' && job.etaSeconds != null ? `${pct}, ${eta(job.etaSeconds)}` : pct;
}

export function statusBadge(status) {
  return h(`span.badge.s-${String(status).toLowerCase()}`, { text: status });
}

/** A message area for errors the page cannot tie to a field. */
export function notice(text, kind = 'error') {
  return h(`p.notice.${kind}`, { role: kind === 'error' ? 'alert' : 'status', text });
}

export const isFinal = (status) => ['Succeeded', 'Failed', 'Cancelled'].includes(status);
