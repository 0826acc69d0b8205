// Every call to the API goes through here: the key (if the host asks for one) rides along as X-Api-Key, and a
// 401 asks for it once per tab. The key lives in sessionStorage, never in a URL.
const KeyName = 'ganservice.apiKey';
let asking = null;

export const apiKey = () => sessionStorage.getItem(KeyName);

/** Shows the key dialog; resolves with the key, or null when cancelled. One dialog for concurrent 401s. */
export function askForKey() {
  if (asking) return asking;
  const dialog = document.getElementById('key-dialog');
  const input = document.getElementById('key-input');
  input.value = '';
  asking = new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const key = dialog.returnValue === 'ok' ? input.value.trim() : '';
      if (key) sessionStorage.setItem(KeyName, key);
      asking = null;
      resolve(key || null);
    }, { once: true });
    dialog.showModal();
  });
  return asking;
}

export function withKey(headers = {}) {
  const key = apiKey();
  return key ? { ...headers, 'X-Api-Key': key } : headers;
}

/** An error carrying the ProblemDetails body, so forms can show `errors` next to their fields. */
export class ApiError extends Error {
  constructor(response, problem) {
    super(problem?.detail || problem?.title || `${response.status} ${response.statusText}`);
    this.status = response.status;
    this.problem = problem;
  }
}

/** fetch with the key; on a 401 asks for a key once and retries. Returns the Response. */
export async function request(url, options = {}) {
  let response = await fetch(url, { ...options, headers: withKey(options.headers) });
  if (response.status === 401 && (await askForKey())) {
    response = await fetch(url, { ...options, headers: withKey(options.headers) });
  }
  return response;
}

async function problemOf(response) {
  const type = response.headers.get('Content-Type') || '';
  return type.includes('json') ? response.json().catch(() => null) : null;
}

/** JSON in, JSON out; throws ApiError on a non-2xx answer. */
export async function api(url, { method = 'GET', body } = {}) {
  const options = { method, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  const response = await request(url, options);
  if (!response.ok) throw new ApiError(response, await problemOf(response));
  const data = response.status === 204 ? null : await response.json();
  return { data, total: Number(response.headers.get('X-Total-Count') ?? NaN), response };
}

export { problemOf };

/**
 * Points an <img> at an API image URL. Without a key the URL is the src itself (copyable, cacheable); with one,
 * the image is fetched with the header and shown from a blob, since an <img> cannot send headers.
 */
export async function showImage(img, url) {
  img.dataset.url = url;
  if (!apiKey()) {
    img.src = url;
    return;
  }
  const response = await request(url);
  if (!response.ok) throw new ApiError(response, await problemOf(response));
  const old = img.src;
  img.src = URL.createObjectURL(await response.blob());
  if (old.startsWith('blob:')) URL.revokeObjectURL(old);
}
