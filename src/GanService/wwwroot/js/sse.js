// Server-Sent Events read with fetch, since EventSource cannot send the X-Api-Key header. Reconnects after a
// dropped connection with Last-Event-ID, so the server replays the stored events that were missed.
import { request } from './api.js';

/** Splits a text/event-stream body into events: { type, id, data }. Exported for reuse by other pages. */
export function createParser(onEvent) {
  let buffer = '';
  let event = { type: 'message', data: [], id: null };
  const dispatch = () => {
    if (event.data.length) onEvent({ type: event.type, id: event.id, data: event.data.join('\n') });
    event = { type: 'message', data: [], id: null };
  };
  return (chunk) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') { dispatch(); continue; }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') event.type = value;
      else if (field === 'data') event.data.push(value);
      else if (field === 'id') event.id = value;
    }
  };
}

/**
 * Follows a stream until `close()` is called or `until(event)` says the stream is done. `onEvent` gets
 * { type, id, data } with data parsed from JSON. Returns { close }.
 */
export function follow(url, onEvent, { until = () => false, onState = () => {} } = {}) {
  const controller = new AbortController();
  let lastId = null;
  let done = false;
  let delay = 1000;

  const run = async () => {
    while (!done) {
      try {
        // Problem JSON accepted too: the host answers a refused stream (401, 404, 503) with ProblemDetails.
        const headers = { Accept: 'text/event-stream, application/problem+json;q=0.9' };
        if (lastId) headers['Last-Event-ID'] = lastId;
        const answer = request(url, { headers, signal: controller.signal });
        onState('listening');
        const response = await answer;
        if (!response.ok || !response.body) throw new Error(`${url}: ${response.status}`);
        onState('open');
        delay = 1000;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        const parse = createParser((raw) => {
          if (raw.id) lastId = raw.id;
          const event = { type: raw.type, id: raw.id, data: JSON.parse(raw.data) };
          onEvent(event);
          if (until(event)) done = true;
        });
        for (;;) {
          const { value, done: ended } = await reader.read();
          if (ended || done) break;
          parse(value);
        }
        if (done) break;
      } catch (error) {
        if (controller.signal.aborted) return;
      }
      if (done) break;
      onState('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 15000);
    }
    onState('closed');
  };
  run();
  return {
    close() {
      done = true;
      controller.abort();
    },
  };
}
