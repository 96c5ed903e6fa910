import { writeFileSync } from 'node:fs';
import { configurationDoc, errorsDoc } from './reference-docs.ts';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), configurationDoc());
writeFileSync(new URL('../docs/errors.md', import.meta.url), errorsDoc());
console.log('wrote docs/configuration.md and docs/errors.md');
