// The fake upstream's Responses (HTTP + WebSocket) and Gemini modules, driven by real clients:
// the official SDKs and `ws`. The agent tests rely on this tool-call-then-answer behaviour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { GoogleGenAI } from '@google/genai';
import WebSocket from 'ws';
import { startFakeLlm } from '../../src/fake-llm/server.js';

test('Responses API: the OpenAI SDK stream gets a function call, then a final answer quoting the tool output', async () => {
  const fake = await startFakeLlm();
  try {
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: `${fake.url}/v1` });
    const tools = [{ type: 'function' as const, name: 'shell', description: 'run', strict: false, parameters: { type: 'object', properties: { command: { type: 'array', items: { type: 'string' } } }, required: ['command'] } }];
    const first = await client.responses.stream({ model: 'gpt-5', input: 'list files', tools }).finalResponse();
    const call = first.output.find((o) => o.type === 'function_call');
    assert.equal(call?.type === 'function_call' && call.name, 'shell');
    assert.deepEqual(call?.type === 'function_call' && JSON.parse(call.arguments), { command: ['echo', 'agenttap-tool-ok'] });
    assert.ok((first.usage?.input_tokens ?? 0) > 0);
    const second = await client.responses.create({
      model: 'gpt-5',
      tools,
      input: [{ type: 'function_call_output', call_id: call?.type === 'function_call' ? call.call_id : '', output: 'agenttap-tool-ok\n' }],
    });
    assert.match(second.output_text, /Done\. The tool said: agenttap-tool-ok/);
  } finally {
    await fake.close();
  }
});

test('Responses over WebSocket: response.create up, response.* events down; a warm-up (generate:false) gets an empty response', async () => {
  const fake = await startFakeLlm();
  const ws = new WebSocket(`${fake.url.replace('http', 'ws')}/v1/responses`);
  try {
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const next = (): Promise<Record<string, unknown>[]> =>
      new Promise((resolve) => {
        const got: Record<string, unknown>[] = [];
        const on = (d: WebSocket.RawData): void => {
          const ev = JSON.parse(d.toString()) as Record<string, unknown>;
          got.push(ev);
          if (ev['type'] === 'response.completed') {
            ws.off('message', on);
            resolve(got);
          }
        };
        ws.on('message', on);
      });
    let events = next();
    ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-5', input: [], generate: false }));
    const warm = await events;
    assert.deepEqual(warm.map((e) => e['type']), ['response.created', 'response.completed']);
    events = next();
    ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-5', input: [{ type: 'message', role: 'user', content: 'hi' }], tools: [{ type: 'function', name: 'exec_command', parameters: { type: 'object', properties: { cmd: { type: 'string' } }, required: ['cmd'] } }] }));
    const turn = await events;
    const done = turn.find((e) => e['type'] === 'response.output_item.done') as { item: { type: string; name: string; arguments: string } };
    assert.equal(done.item.type, 'function_call');
    assert.deepEqual(JSON.parse(done.item.arguments), { cmd: 'echo agenttap-tool-ok' });
    assert.deepEqual(turn.map((e) => e['sequence_number']), turn.map((_, i) => i));
  } finally {
    ws.close();
    await fake.close();
  }
});

test('Gemini: the GenAI SDK stream gets a functionCall, then a final text; JSON-schema requests get JSON', async () => {
  const fake = await startFakeLlm();
  try {
    const ai = new GoogleGenAI({ apiKey: 'AIza-test', httpOptions: { baseUrl: fake.url } });
    const config = { tools: [{ functionDeclarations: [{ name: 'list_directory', parameters: { type: 'OBJECT', properties: { dir_path: { type: 'STRING' } }, required: ['dir_path'] } }] }] } as never;
    let calls: { name?: string; args?: unknown }[] = [];
    for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'list', config })) calls.push(...(chunk.functionCalls ?? []));
    assert.deepEqual(calls.map((c) => [c.name, c.args]), [['list_directory', { dir_path: '.' }]]);
    let text = '';
    const contents = [
      { role: 'user', parts: [{ text: 'list' }] },
      { role: 'model', parts: [{ functionCall: { name: 'list_directory', args: { dir_path: '.' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'list_directory', response: { output: 'agenttap-tool-ok' } } }] },
    ];
    calls = [];
    for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents, config })) text += chunk.text ?? '';
    assert.match(text, /Done\. The tool said: \{"output":"agenttap-tool-ok"\}/);
    const json = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'who speaks next?',
      config: { responseMimeType: 'application/json', responseJsonSchema: { type: 'object', properties: { next_speaker: { type: 'string', enum: ['user', 'model'] }, reasoning: { type: 'string' } }, required: ['reasoning', 'next_speaker'] } },
    });
    assert.deepEqual(JSON.parse(json.text ?? ''), { reasoning: 'agenttap-tool-ok', next_speaker: 'user' });
  } finally {
    await fake.close();
  }
});
