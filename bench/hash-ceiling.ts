// The hash ceiling of `npm run bench`: argon2id hashes per second through the product's own hasher, in
// a process of its own with the servers' environment (so the same UV_THREADPOOL_SIZE), keeping twice
// as many hashes in flight as the pool has threads so no thread ever waits. Prints one JSON line.
//
//   node bench/hash-ceiling.ts <seconds> <memoryKib> <iterations>
import { createPasswordHasher } from '../src/passwords/hasher.ts';

const [seconds = 5, memoryKib = 19456, iterations = 2] = process.argv.slice(2).map(Number);
const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
const hasher = await createPasswordHasher({ memoryKib, iterations });
const warmEnd = performance.now() + 1000;
const end = warmEnd + seconds * 1000;
let counted = 0;
const loop = async (): Promise<void> => {
  while (performance.now() < end) {
    await hasher.hash('correct horse battery staple');
    if (performance.now() > warmEnd && performance.now() <= end) counted += 1;
  }
};
await Promise.all(Array.from({ length: threads * 2 }, () => loop()));
console.log(JSON.stringify({ perSecond: counted / seconds, threads, inFlight: threads * 2 }));
