// The soak's memory probe (test/helpers/memory-probe.ts) measures what the soak judges: memory a
// process keeps shows in the heap after a collection, memory it lets go does not, and WebAssembly
// memory (PGlite's Postgres, in the server) is counted apart from the heap. A process with a
// deliberate leak, not the server: a leak there is what the soak must be able to see.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import type { MemorySample } from '../helpers/memory-probe.ts';
import { within } from '../helpers/server-process.ts';

const PROBE = new URL('../helpers/memory-probe.ts', import.meta.url).pathname;
const MiB = 1024 * 1024;
const WASM_PAGES = 160; // 10 MiB in 64 KiB pages

// Keeps ~32 MiB of small arrays and a WebAssembly memory on `leak`, lets both go on `free`.
const LEAKY = `
let kept = [];
let memory;
process.on('message', (message) => {
  if (message === 'leak') {
    for (let i = 0; i < 32 * 1024; i += 1) kept.push(new Array(128).fill(i));
    memory = new WebAssembly.Memory({ initial: ${WASM_PAGES} });
    process.send('done');
  } else if (message === 'free') {
    kept = [];
    memory = undefined;
    process.send('done');
  }
});
// The probe lets go of the IPC channel (a server must be free to exit): a timer keeps this one alive.
setInterval(() => {}, 1000);
process.send('ready');
`;

let child: ChildProcess;

function ask<T>(message: string, pick: (answer: unknown) => T | undefined): Promise<T> {
  const answer = new Promise<T>((resolve) => {
    const onMessage = (reply: unknown): void => {
      const found = pick(reply);
      if (found === undefined) return;
      child.off('message', onMessage);
      resolve(found);
    };
    child.on('message', onMessage);
  });
  child.send(message);
  return within(answer, 10_000, `an answer to ${message}`);
}

const sample = (): Promise<MemorySample> =>
  ask('memory', (reply) => (reply as { memory?: MemorySample } | null)?.memory);
const run = (step: 'leak' | 'free'): Promise<string> => ask(step, (reply) => (reply === 'done' ? reply : undefined));

before(async () => {
  child = spawn(process.execPath, ['--expose-gc', '--import', PROBE, '--eval', LEAKY], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await within(new Promise((resolve) => child.once('message', resolve)), 10_000, 'the process to start');
});

after(() => {
  child.kill();
});

test('kept memory shows in the heap after a collection, freed memory does not, WebAssembly memory apart', async () => {
  const before = await sample();
  assert.equal(before.collected, true, 'the probe ran a full collection');
  assert.equal(before.wasmMemories, 0);

  await run('leak');
  const leaked = await sample();
  const heapGrowth = (leaked.heapUsed - before.heapUsed) / MiB;
  assert.ok(heapGrowth > 30, `heap after GC grew ${heapGrowth.toFixed(1)} MiB with ~32 MiB kept`);
  assert.equal(leaked.wasm - before.wasm, WASM_PAGES * 64 * 1024);
  assert.equal(leaked.wasmMemories, 1);
  assert.ok(leaked.rss >= leaked.wasm, 'RSS and WebAssembly memory read from the same process');

  await run('free');
  const freed = await sample();
  const left = (freed.heapUsed - before.heapUsed) / MiB;
  assert.ok(left < 4, `heap after GC is ${left.toFixed(1)} MiB above the start once the arrays are let go`);
  assert.equal(freed.wasmMemories, 0, 'a WebAssembly memory nobody holds is not counted');
});
