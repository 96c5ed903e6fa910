// Loaded into a `twostep serve` process by the soak with `--expose-gc --import` (never in production):
// it answers the parent's `memory` message over the IPC channel with the process's memory after a full
// garbage collection. RSS alone cannot tell a leak from data: the embedded PGlite is Postgres compiled
// to WebAssembly, and its WebAssembly memory lives in the same process, only grows (a WebAssembly
// memory cannot shrink) and is counted in V8's `external`, not its heap. So the probe also reports the
// size of every live WebAssembly memory, tracked from its construction (PGlite's Emscripten module
// creates its memory with `new WebAssembly.Memory`).
import { readFileSync } from 'node:fs';

export interface MemorySample {
  /** The full garbage collection ran before the figures were read (the process has `--expose-gc`). */
  collected: boolean;
  gcMs: number;
  rss: number;
  /** RSS split by the kernel: anonymous (heaps, WebAssembly memory) and file-backed (code, mapped files). */
  rssAnon: number;
  rssFile: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** Bytes of the WebAssembly memories alive now, and how many there are. */
  wasm: number;
  wasmMemories: number;
}

const memories: WeakRef<WebAssembly.Memory>[] = [];
const NativeMemory = WebAssembly.Memory;
class TrackedMemory extends NativeMemory {
  constructor(descriptor: WebAssembly.MemoryDescriptor) {
    super(descriptor);
    memories.push(new WeakRef(this));
  }
}
WebAssembly.Memory = TrackedMemory;

function statusBytes(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

export function sampleMemory(): MemorySample {
  const started = performance.now();
  const collect = globalThis.gc;
  if (collect) collect();
  const gcMs = performance.now() - started;
  const usage = process.memoryUsage();
  const status = readFileSync('/proc/self/status', 'utf8');
  let wasm = 0;
  let wasmMemories = 0;
  for (const ref of memories) {
    const memory = ref.deref();
    if (!memory) continue;
    wasm += memory.buffer.byteLength;
    wasmMemories += 1;
  }
  return {
    collected: collect !== undefined,
    gcMs: Math.round(gcMs),
    rss: usage.rss,
    rssAnon: statusBytes(status, 'RssAnon'),
    rssFile: statusBytes(status, 'RssFile'),
    heapTotal: usage.heapTotal,
    heapUsed: usage.heapUsed,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
    wasm,
    wasmMemories,
  };
}

if (process.send) {
  process.on('message', (message: unknown) => {
    if (message === 'memory') process.send?.({ memory: sampleMemory() });
  });
  // The channel must not keep a server alive that is shutting down.
  process.channel?.unref();
}
