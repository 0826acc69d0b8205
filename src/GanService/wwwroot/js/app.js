// The router: one page per hash route, each a module with render(view, params) that may return a cleanup
// function (to close its event streams) run when the user leaves the page.
import * as jobs from './pages/jobs.js';
import * as job from './pages/job.js';
import * as explore from './pages/explore.js';
import * as submit from './pages/submit.js';
import * as datasets from './pages/datasets.js';
import * as compare from './pages/compare.js';
import { notice } from './dom.js';

const routes = [
  [/^#\/jobs\/([0-9a-f-]{36})$/, job, 'jobs'],
  [/^#\/explore(?:\/([0-9a-f-]{36}))?$/, explore, 'explore'],
  [/^#\/submit(?:\/([0-9a-f-]{36}))?$/, submit, 'submit'],
  [/^#\/datasets$/, datasets, 'datasets'],
  [/^#\/compare(?:\/([0-9a-f,-]+))?$/, compare, 'compare'],
  [/^#\/jobs$/, jobs, 'jobs'],
];

let cleanup = null;
let generation = 0;

async function route() {
  const hash = location.hash || '#/jobs';
  const [pattern, page, name] = routes.find(([p]) => p.test(hash)) ?? routes[routes.length - 1];
  const params = (hash.match(pattern) ?? []).slice(1);
  if (typeof cleanup === 'function') cleanup();
  cleanup = null;
  const mine = ++generation;
  for (const link of document.querySelectorAll('nav a[data-page]')) {
    if (link.dataset.page === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const view = document.getElementById('view');
  view.replaceChildren();
  view.dataset.page = name;
  delete view.dataset.ready;
  try {
    const done = await page.render(view, ...params);
    // The user may have moved on while this page loaded: close what it opened at once.
    if (mine === generation) cleanup = done;
    else if (typeof done === 'function') done();
  } catch (error) {
    if (mine === generation) view.append(notice(error.message));
  }
  if (mine === generation) view.dataset.ready = 'true';
}

window.addEventListener('hashchange', route);
route();
