import { readFileSync, writeFileSync } from 'node:fs';
import { configurationDoc, errorsDoc, operationsDoc } from './reference-docs.ts';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), configurationDoc());
writeFileSync(new URL('../docs/errors.md', import.meta.url), errorsDoc());
const operations = new URL('../docs/operations.md', import.meta.url);
writeFileSync(operations, operationsDoc(readFileSync(operations, 'utf8')));
console.log('wrote docs/configuration.md, docs/errors.md and the configuration section of docs/operations.md');
