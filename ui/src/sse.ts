// A display-side SSE splitter for the Response tab's raw event list (the merged view comes
// from the server's LLM layer). Handles \n, \r\n and \r line ends, multi-line data, comments.
export interface SseEvent {
  event?: string;
  id?: string;
  data: string;
}

export function parseSse(text: string, limit = 5000): { events: SseEvent[]; more: boolean } {
  const events: SseEvent[] = [];
  let cur: SseEvent | undefined;
  let data: string[] = [];
  const push = (): void => {
    if (cur || data.length) {
      events.push({ ...(cur ?? {}), data: data.join('\n') });
    }
    cur = undefined;
    data = [];
  };
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      push();
      if (events.length >= limit) return { events, more: true };
      continue;
    }
    if (line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i === -1 ? line : line.slice(0, i);
    let value = i === -1 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    cur ??= { data: '' };
    if (field === 'data') data.push(value);
    else if (field === 'event') cur.event = value;
    else if (field === 'id') cur.id = value;
  }
  push();
  return { events, more: false };
}
