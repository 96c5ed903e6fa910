import type { Clock } from '../../core/clock.ts';
import { MemoryKeyValue } from './memory.ts';
import type { KeyValue } from './port.ts';
import { RedisKeyValue } from './redis.ts';

export type { KeyValue } from './port.ts';

export function openKeyValue(options: { redisUrl?: string | undefined; prefix?: string; clock: Clock }): KeyValue {
  return options.redisUrl
    ? new RedisKeyValue(options.redisUrl, options.prefix ? { prefix: options.prefix } : {})
    : new MemoryKeyValue(options.clock);
}
