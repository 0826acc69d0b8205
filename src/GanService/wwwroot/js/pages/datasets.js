// Uploaded datasets with their preview grids, and an upload by file input or drag and drop.
import { api, showImage } from '../api.js';
import { h } from '../dom.js';
import { uploadForm } from '../upload.js';

export async function render(view) {
  const list = h('div.datasets');
  const refresh = async () => {
    const { data } = await api('/api/datasets?pageSize=100');
    list.replaceChildren(...(data.items.length ? data.items.map(card)
      : [h('p.empty', { text: 'No uploaded datasets. Built-in ones (synthetic, mnist, ...) need no upload.' })]));
  };
  view.append(h('div.page-head', {}, h('h1', { text: 'Datasets' })),
    h('section', {}, h('h2', { text: 'Upload' }), uploadForm(refresh)),
    h('section', {}, h('h2', { text: 'Uploaded' }), list));
  await refresh();
}

/** A dataset with its preview grid, for this page and for the new-job form after an upload. */
export function card(d) {
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
